"""The kernel-name part of chatd/proctitle.py: what fits in 15 bytes."""

import unittest

from chatd.proctitle import argv_block, comm_name


class CommNameTest(unittest.TestCase):
    def test_titles_that_fit_are_kept(self) -> None:
        self.assertEqual(b"chatd: master", comm_name("chatd: master"))
        self.assertEqual(b"chatd: worker 9", comm_name("chatd: worker 9"))

    def test_a_long_title_loses_its_space_before_its_number(self) -> None:
        self.assertEqual(b"chatd:worker 12", comm_name("chatd: worker 12"))

    def test_never_more_than_fifteen_bytes(self) -> None:
        self.assertEqual(15, len(comm_name("chatd: worker 12345")))


class ArgvBlockTest(unittest.TestCase):
    def test_this_process_has_one(self) -> None:
        start, end = argv_block() or (0, 0)
        self.assertLess(0, start)
        self.assertLess(start, end)


if __name__ == "__main__":
    unittest.main()
