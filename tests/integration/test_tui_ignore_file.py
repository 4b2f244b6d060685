"""tui.ignore_file on a real file system, in a temporary HOME: the ignore list kept per server
under the XDG data directory, private (0600 in a 0700 directory), a bad file reported and
replaced, not fatal."""

import stat
import unittest
from pathlib import PurePath

from tests.support.home import temporary_home
from tui import ignore_file


class IgnoreFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.home = temporary_home(self)

    def test_kept_per_server_private_and_read_back(self) -> None:
        path = ignore_file.default_path()
        self.assertEqual(path, self.home / ".local" / "share" / "tui" / "ignores.json")
        ignore_file.save(path, "chat.test:6667", ("bob!*@*", "*!*@spam.example"))
        ignore_file.save(path, "other:6697", ("eve!*@*",))
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(path.parent.stat().st_mode), 0o700)
        self.assertEqual(ignore_file.load(path, "chat.test:6667"),
                         (("bob!*@*", "*!*@spam.example"), None))
        ignore_file.save(path, "other:6697", ())  # an empty list leaves no entry
        self.assertEqual(ignore_file.load(path, "other:6697"), ((), None))
        self.assertNotIn("other", path.read_text(encoding="utf-8"))
        self.assertEqual([p.name for p in path.parent.iterdir()], ["ignores.json"])

    def test_a_missing_file_is_empty_a_bad_one_is_reported_and_replaced(self) -> None:
        path = ignore_file.default_path()
        self.assertEqual(ignore_file.load(path, "a:1"), ((), None))
        path.parent.mkdir(parents=True)
        path.write_text("[not an object]", encoding="utf-8")
        masks, warning = ignore_file.load(path, "a:1")
        self.assertEqual(masks, ())
        self.assertIn("cannot read the ignore list", warning)
        self.assertIsNone(ignore_file.save_default("a:1", ("x!*@*",)))
        self.assertEqual(ignore_file.load(path, "a:1"), (("x!*@*",), None))

    def test_xdg_data_home(self) -> None:
        cases = [({"XDG_DATA_HOME": "/data"}, PurePath("/data/tui")),
                 ({"XDG_DATA_HOME": "relative"}, PurePath("/home/u/.local/share/tui")),
                 ({}, PurePath("/home/u/.local/share/tui"))]
        for environ, expected in cases:
            with self.subTest(environ=environ):
                self.assertEqual(ignore_file.data_dir(environ, "/home/u"), expected)


if __name__ == "__main__":
    unittest.main()
