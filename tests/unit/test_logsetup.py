"""The journal formatter of chatd/logsetup.py: a priority on every line of a record."""

import logging
import unittest

from chatd.logsetup import JournalFormatter


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("chatd.x", level, __file__, 1, message, None, None)


class JournalFormatterTest(unittest.TestCase):
    def test_each_level_has_its_syslog_priority(self) -> None:
        formatter = JournalFormatter("%(message)s")
        cases = {logging.ERROR: "<3>m", logging.WARNING: "<4>m", logging.INFO: "<6>m",
                 logging.DEBUG: "<7>m", logging.CRITICAL: "<2>m"}
        for level, expected in cases.items():
            self.assertEqual(expected, formatter.format(record(level, "m")))

    def test_every_line_of_a_record_is_prefixed(self) -> None:
        self.assertEqual("<3>first\n<3>second",
                         JournalFormatter("%(message)s").format(record(logging.ERROR,
                                                                       "first\nsecond")))


if __name__ == "__main__":
    unittest.main()
