"""The history holds private messages: chatd creates it and its -wal/-shm for its own user
only (0600), and warns at start about an existing history file others can read."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import unittest
from pathlib import Path

from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class PrivateFilesTest(unittest.TestCase):
    def test_history_and_wal_are_created_0600(self) -> None:
        old_umask = os.umask(0o022)  # what a login shell usually has: files would be 0644
        self.addCleanup(os.umask, old_umask)
        server = start_chatd(self)
        alice = open_client(self, server.port, "alice")
        bob = open_client(self, server.port, "bob")
        alice.send("PRIVMSG bob :a secret")
        bob.expect(r"PRIVMSG bob :a secret")  # delivered, so committed: the -wal exists
        wal = Path(f"{server.db_path}-wal")
        self.assertTrue(wal.exists())
        for path in (server.db_path, wal, Path(f"{server.db_path}-shm")):
            with self.subTest(file=path.name):
                self.assertEqual(mode_of(path), 0o600)
        self.assertEqual(server.stop(), 0)
        self.assertEqual(mode_of(server.db_path), 0o600)
        self.assertNotRegex(server.log_text(), r"readable by other users")

    def test_warns_about_an_existing_history_others_can_read(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-test-")
        self.addCleanup(tmp.cleanup)
        server = ChatdProcess(Path(tmp.name))
        self.addCleanup(server.kill)
        server.db_path.touch()  # an empty file is a new SQLite database
        os.chmod(server.db_path, 0o644)
        server.start()
        wait_until(lambda: re.search(r"history files readable by other users: history\.db "
                                     r"\(-rw-r--r--\)", server.log_text()), 5.0,
                   message="the warning line")
        self.assertEqual(len(re.findall(r"readable by other users", server.log_text())), 1)


if __name__ == "__main__":
    unittest.main()
