"""`chatd -c chatd.conf backup FILE` against a real chatd under continuous traffic: the copy
holds every message committed (echoed) before the backup started, is one snapshot (another
client's stream appears in it as an unbroken prefix), passes an integrity check, is private,
and the server keeps serving. Failures are one line and exit status 1."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import threading
import unittest
from pathlib import Path

from tests.support.chatd_process import chatd_command, chatd_env, start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until

RUN_TIMEOUT_S = 60
BEFORE = 200  # messages echoed (so stored) before the backup starts
MOST_DURING = 50_000  # bounds the stream while the backup runs


def texts_in(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute(
            "SELECT text FROM messages WHERE kind = 'PRIVMSG' ORDER BY id")]
    finally:
        conn.close()


class BackupTest(unittest.TestCase):
    def run_backup(self, server, target: Path) -> subprocess.CompletedProcess:
        return subprocess.run(chatd_command("-c", str(server.conf_path), "backup", str(target)),
                              cwd=server.workdir, env=chatd_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)

    def test_a_copy_under_traffic_holds_everything_committed_before_it(self) -> None:
        server = start_chatd(self)
        alice = open_client(self, server.port, "alice", caps=("echo-message",))
        bob = open_client(self, server.port, "bob")
        for i in range(BEFORE):
            alice.send(f"PRIVMSG #lobby :before-{i}")
        alice.expect(rf"PRIVMSG #lobby :before-{BEFORE - 1}$")

        # bob streams into a channel of its own (nobody has to read it) until the backup ends.
        bob.send("JOIN #load")
        bob.expect(r" 366 bob #load ")
        stop, sent = threading.Event(), [0]

        def stream() -> None:
            while not stop.is_set() and sent[0] < MOST_DURING:
                bob.send(f"PRIVMSG #load :during-{sent[0]}")
                sent[0] += 1
        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        wait_until(lambda: sent[0] >= 100, 10, message="the stream under way")
        target = server.workdir / "copies" / "history-backup.db"
        target.parent.mkdir()
        result = self.run_backup(server, target)
        stop.set()
        streamer.join(RUN_TIMEOUT_S)

        self.assertEqual(0, result.returncode, result.stderr)
        texts = texts_in(target)
        self.assertEqual([f"before-{i}" for i in range(BEFORE)],
                         [t for t in texts if t.startswith("before-")])
        during = [t for t in texts if t.startswith("during-")]
        self.assertEqual([f"during-{i}" for i in range(len(during))], during)  # one snapshot
        self.assertLess(0, len(during))  # taken while the stream was being stored
        self.assertLessEqual(len(during), sent[0])
        conn = sqlite3.connect(target)
        try:
            self.assertEqual("ok", conn.execute("PRAGMA integrity_check").fetchone()[0])
            events = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        finally:
            conn.close()
        self.assertEqual(f"chatd: backup: {target}: {events} events from {server.db_path}",
                         result.stdout.strip())
        self.assertEqual(0o600, stat.S_IMODE(os.stat(target).st_mode))
        self.assertEqual([target.name], os.listdir(target.parent))  # no temporary left
        alice.send("PING :still-here")
        alice.expect(r"PONG \S+ :?still-here$")

    def test_failures_are_one_line_and_exit_1(self) -> None:
        server = start_chatd(self)
        open_client(self, server.port, "carol").send("PRIVMSG #lobby :hi")
        cases = {
            "no such folder": (server.workdir / "missing" / "copy.db", "No such file"),
            "the live file": (server.db_path, "that is the live history file"),
        }
        for case, (target, expected) in cases.items():
            with self.subTest(case=case):
                result = self.run_backup(server, target)
                self.assertEqual(1, result.returncode, result.stdout)
                self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
                self.assertIn(expected, result.stderr)


if __name__ == "__main__":
    unittest.main()
