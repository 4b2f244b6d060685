"""tui.credentials_file on a real file system, in a temporary HOME: created mode 0600 in a
directory created 0700, keyed by server, and not used when others can read it."""

import os
import stat
import unittest
from unittest import mock

from tests.support.home import temporary_home
from tui import credentials_file
from tui.sasl import Credentials


class CredentialsFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.home = temporary_home(self)

    def test_saved_private_and_read_back(self) -> None:
        path = credentials_file.default_path()
        self.assertEqual(path, self.home / ".config" / "tui" / "credentials.ini")
        credentials_file.save(path, "chat.test:6697", Credentials("alice", "s3cret"))
        credentials_file.save(path, "other:6667", Credentials("bob", "pw"))
        credentials_file.save(path, "chat.test:6697", Credentials("alice", "new"))
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(path.parent.stat().st_mode), 0o700)
        self.assertEqual(credentials_file.load(path, "chat.test:6697"),
                         (Credentials("alice", "new"), None))
        self.assertEqual(credentials_file.load(path, "other:6667"),
                         (Credentials("bob", "pw"), None))
        self.assertEqual(credentials_file.load(path, "none:1"), (None, None))
        self.assertEqual([p.name for p in path.parent.iterdir()], ["credentials.ini"])

    def test_xdg_config_home(self) -> None:
        with mock.patch.dict(os.environ, {"XDG_CONFIG_HOME": str(self.home / "cfg")}):
            self.assertEqual(credentials_file.default_path(),
                             self.home / "cfg" / "tui" / "credentials.ini")

    def test_readable_by_others_is_refused(self) -> None:
        path = credentials_file.default_path()
        credentials_file.save(path, "h:1", Credentials("alice", "s3cret"))
        path.chmod(0o644)
        creds, warning = credentials_file.load(path, "h:1")
        self.assertIsNone(creds)
        self.assertIn("chmod 600", warning)
        self.assertNotIn("s3cret", warning)
        credentials_file.save(path, "h:1", Credentials("alice", "s3cret"))  # saving fixes it
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)

    def test_missing_and_garbage(self) -> None:
        path = credentials_file.default_path()
        self.assertEqual(credentials_file.load(path, "h:1"), (None, None))
        path.parent.mkdir(parents=True)
        path.write_text("no section here\n")
        path.chmod(0o600)
        creds, warning = credentials_file.load(path, "h:1")
        self.assertIsNone(creds)
        self.assertIn("cannot read", warning)


if __name__ == "__main__":
    unittest.main()
