"""chatd.writer.Committer with a real SQLite file: commits are acknowledged; an error that
cannot pass by itself (here: a read-only database) is raised so the writer is replaced,
instead of being retried forever."""

from __future__ import annotations

import sqlite3
import tempfile
import unittest
from pathlib import Path

from chatd.events import StoreRow
from chatd.store import schema
from chatd.ipc import frames as ipc
from chatd.writer import Committer

ROW = StoreRow(1, 1_700_000_000_000, "PRIVMSG", "a!a@h", "#c", "hi", "", ("#c",))


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def send(self, frame: tuple) -> None:
        self.sent.append(frame)


class CommitterTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.path = Path(tmp.name) / "h.db"
        schema.open_for_writing(self.path, "full").close()

    def test_a_commit_is_acknowledged(self) -> None:
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        channel = FakeChannel()
        committer = Committer(db, channel)
        committer.rows.append(ROW)
        committer.commit(now=1.0)
        self.assertEqual(channel.sent, [ipc.Committed(1)])
        self.assertEqual(committer.rows, [])

    def test_an_error_that_will_not_pass_is_raised_not_retried(self) -> None:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        self.addCleanup(db.close)
        channel = FakeChannel()
        committer = Committer(db, channel)
        committer.rows.append(ROW)
        with self.assertRaises(sqlite3.OperationalError):
            committer.commit(now=1.0)
        self.assertEqual(channel.sent, [])  # no STALLED: the master replaces this writer
