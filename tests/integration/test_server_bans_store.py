"""K-lines in the history file (chatd/store/bans.py): the migration from schema 4 (a schema-3
file of test_account_extensions.py given schema 4's column), K-line writes applied with the
events in one group commit (and again, as after a writer restart, to the same end), their
ids never given out again, and loading only those in force at start (the expired deleted)."""

from __future__ import annotations

import json
import sqlite3
import unittest

from chatd import events
from chatd.events import StoreRow
from chatd.store import bans, schema, writes
from tests.integration.test_account_extensions import SCHEMA_3_MESSAGES
from tests.support.history_file import HistoryFileTestCase

NOW_MS = 1_700_000_000_000

# A schema-4 file is a schema-3 one with messages.account (test_account_extensions.py).
SCHEMA_4 = SCHEMA_3_MESSAGES + """
ALTER TABLE messages ADD COLUMN account TEXT NOT NULL DEFAULT '';
UPDATE meta SET value = '4' WHERE key = 'schema_version';
"""


def kline_row(event_id: int, op: str, mask: str, expires_ms: int = 0) -> StoreRow:
    payload = {"reason": f"reason {event_id}", "setter": "operuser", "set_ms": NOW_MS,
               "expires_ms": expires_ms}
    return StoreRow(event_id, NOW_MS, events.BAN_KIND, op, mask,
                    json.dumps(payload) if op == "add" else "{}", "", ())


class BansStoreTest(HistoryFileTestCase):
    def test_migration_from_schema_4(self) -> None:
        old = sqlite3.connect(self.path)
        old.executescript(SCHEMA_4)
        old.close()
        db = self.open()
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], str(schema.SCHEMA_VERSION))
        self.assertGreaterEqual(schema.SCHEMA_VERSION, 5)  # 5 added server_bans
        self.assertEqual(bans.load_in_force(db, NOW_MS), [])
        self.assertEqual(db.execute("SELECT text FROM messages").fetchall(), [("hello",)])
        db.close()
        self.assertIn(bans.TABLE, schema.check_existing(self.path))  # still chatd's file

    def test_writes_ride_with_the_events_and_replay_to_the_same_end(self) -> None:
        db = self.open()
        batch = [
            StoreRow(1, NOW_MS, "PRIVMSG", "a!a@h", "#c", "hi", "", ("#c",)),
            kline_row(2, "add", "*@127.0.0.2"),
            kline_row(3, "add", "$a:eve"),
            kline_row(4, "add", "*@10.0.0.0/8"),
            kline_row(5, "del", "*@10.0.0.0/8"),
        ]
        for _ in range(2):  # a writer restart sends the same rows again
            writes.insert_events(db, batch)
            self.assertEqual(bans.load_in_force(db, NOW_MS), [
                ("$a:eve", "reason 3", "operuser", NOW_MS, 0),
                ("*@127.0.0.2", "reason 2", "operuser", NOW_MS, 0)])
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (1,))
        writes.insert_events(db, [kline_row(9, "del", "$a:eve")])
        self.assertEqual([row[0] for row in bans.load_in_force(db, NOW_MS)], ["*@127.0.0.2"])
        self.assertEqual(writes.last_id_and_time(db)[0], 9)  # a write's id is never reused

    def test_only_bans_in_force_are_loaded_and_the_expired_deleted(self) -> None:
        db = self.open()
        writes.insert_events(db, [kline_row(1, "add", "*@127.0.0.2", expires_ms=NOW_MS + 10),
                                  kline_row(2, "add", "*@127.0.0.3", expires_ms=NOW_MS + 99),
                                  kline_row(3, "add", "*@127.0.0.4")])
        self.assertEqual([row[0] for row in bans.load_in_force(db, NOW_MS + 10)],
                         ["*@127.0.0.3", "*@127.0.0.4"])
        self.assertEqual(db.execute(f"SELECT count(*) FROM {bans.TABLE}").fetchone(), (2,))

    def test_an_unknown_operation_is_refused(self) -> None:
        db = self.open()
        with self.assertRaises(ValueError):
            writes.insert_events(db, [kline_row(1, "frobnicate", "*@127.0.0.2")])
        self.assertFalse(db.in_transaction)  # rolled back


if __name__ == "__main__":
    unittest.main()
