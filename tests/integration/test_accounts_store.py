"""Accounts in the history file: the migration from schema 2 (on a schema-2 file built here),
account writes applied with the events (idempotently, as after a writer restart)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import unittest
from pathlib import Path

from chatd import events
from chatd.store import accounts, schema, writes

SCHEMA_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_ts ON messages (ts);
CREATE TABLE timeline (conv TEXT NOT NULL, id INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (conv, id)) WITHOUT ROWID;
CREATE INDEX timeline_chat ON timeline (conv, id) WHERE chat = 1;
INSERT INTO meta VALUES ('schema_version', '2');
INSERT INTO messages VALUES (1, 1000, 'PRIVMSG', 'a!a@h', '#lobby', 'hello', '');
INSERT INTO timeline VALUES ('#lobby', 1, 1);
"""


def account_row(event_id: int, op: str, name: str, payload: dict) -> tuple:
    return (event_id, 2000, events.ACCOUNT_KIND, op, name, json.dumps(payload), "", ())


class SchemaTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-acct-")
        self.addCleanup(tmp.cleanup)
        self.path = Path(tmp.name) / "history.db"

    def test_migration_from_schema_2(self) -> None:
        old = sqlite3.connect(self.path)
        old.executescript(SCHEMA_2)
        old.close()
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], "3")
        self.assertEqual(db.execute("SELECT text FROM messages").fetchall(), [("hello",)])
        self.assertEqual(accounts.load_all(db), [])
        self.assertEqual(writes.last_id_and_time(db), (1, 1000))

    def test_account_rows_with_events_and_replayed(self) -> None:
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        creds = {"email": "", "password_hash": "scrypt$h", "scram": "scram-sha-256$s"}
        rows = [
            (1, 2000, "PRIVMSG", "a!a@h", "#lobby", "hi", "", ("#lobby",)),
            account_row(2, "create", "Alice", creds),
            account_row(3, "cert-add", "alice", {"fingerprint": "ab" * 32}),
            account_row(4, "create", "bob", creds),
            account_row(5, "delete", "bob", {}),
        ]
        writes.insert_events(db, rows)
        writes.insert_events(db, rows[1:])  # a writer restart re-sends: same end state
        self.assertEqual(accounts.load_all(db),
                         [("Alice", "scrypt$h", "scram-sha-256$s", ("ab" * 32,))])
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (1,))
        self.assertEqual(writes.last_id_and_time(db)[0], 5)  # account ids are never reused


if __name__ == "__main__":
    unittest.main()
