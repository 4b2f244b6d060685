"""A history file of its own for a test of chatd/store (the writer's side, no server): a fresh
temporary folder per test, and the file opened read-write as the writer opens it."""

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
        """The history at self.path, as the writer opens it (closed at cleanup)."""
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        return db
