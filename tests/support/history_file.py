"""A fresh history file for each test of the store (removed at cleanup), opened the way the
writer opens it."""

from __future__ import annotations

import sqlite3
import tempfile
import unittest
from pathlib import Path

from chatd.store import schema


class HistoryFileTestCase(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-store-")
        self.addCleanup(tmp.cleanup)
        self.path = Path(tmp.name) / "history.db"

    def open(self) -> sqlite3.Connection:
        """The history as the writer opens it (created, or checked and brought up to date)."""
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        return db
