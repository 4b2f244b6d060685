"""Read markers in the history file (chatd/store/read_markers.py): the upgrade of a schema-9
file, writes applied with the events in one group commit and again (as after a writer
restart) to the same end, values that only move forward, their ids never given out again, the
cap on targets per account, an account's rows gone with the account, and what a worker reads
back for the JOIN replay (the bound, the page after it, the bounded count before it)."""

from __future__ import annotations

import json
import sqlite3
import unittest
from unittest import mock

from chatd import events
from chatd.events import StoreRow
from chatd.store import read_markers, schema, writes
from chatd.store.reader import HistoryReader
from tests.support.history_file import HistoryFileTestCase

NOW_MS = 1_700_000_000_000


def marker(event_id: int, account: str, target: str, ts: int) -> StoreRow:
    return StoreRow(event_id, NOW_MS, events.READ_KIND, events.MARKER_OP, account,
                    json.dumps({"target": target, "ts": ts}), "", ())


def seen(event_id: int, account: str, *pairs: tuple[str, int]) -> StoreRow:
    return StoreRow(event_id, NOW_MS, events.READ_KIND, events.SEEN_OP, account,
                    json.dumps({"seen": [list(pair) for pair in pairs]}), "", ())


def message(event_id: int, text: str, conv: str = "#c") -> StoreRow:
    return StoreRow(event_id, NOW_MS + event_id, "PRIVMSG", "a!a@h", conv, text, "", (conv,))


class ReadMarkersStoreTest(HistoryFileTestCase):
    def rows(self, db: sqlite3.Connection) -> list[tuple]:
        return db.execute("SELECT account, target, read_ts, seen_id FROM read_markers"
                          " ORDER BY account, target").fetchall()

    def test_upgrade_from_schema_9(self) -> None:
        # Schema 10 only adds the table: a schema-9 file is today's without it.
        db = schema.open_for_writing(self.path, "full")
        writes.insert_events(db, [message(1, "kept")])
        db.executescript("DROP TABLE read_markers;"
                         " UPDATE meta SET value = '9' WHERE key = 'schema_version';")
        db.close()
        self.assertNotIn(read_markers.TABLE, schema.check_existing(self.path))
        db = self.open()
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], str(schema.SCHEMA_VERSION))
        self.assertGreaterEqual(schema.SCHEMA_VERSION, 10)
        writes.insert_events(db, [marker(2, "alice", "#c", 5)])
        self.assertEqual(self.rows(db), [("alice", "#c", 5, 0)])
        self.assertEqual(db.execute("SELECT text FROM messages").fetchall(), [("kept",)])
        db.close()
        self.assertIn(read_markers.TABLE, schema.check_existing(self.path))  # chatd's file

    def test_writes_only_move_forward_and_replay_to_the_same_end(self) -> None:
        db = self.open()
        batch = [message(1, "hi"), marker(2, "alice", "#c", 500),
                 marker(3, "alice", "#c", 400),  # older: the stored time stays
                 seen(4, "alice", ("#c", 1), ("#d", 7)), seen(5, "alice", ("#d", 3)),
                 marker(6, "bob", "alice", 900)]
        for _ in range(2):  # a writer restart sends the same rows again
            writes.insert_events(db, batch)
            self.assertEqual(self.rows(db), [("alice", "#c", 500, 1), ("alice", "#d", 0, 7),
                                             ("bob", "alice", 900, 0)])
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (1,))
        self.assertEqual(writes.last_id_and_time(db)[0], 6)  # a write's id is never reused

    def test_an_account_keeps_at_most_the_cap_and_forgets_the_least_recent(self) -> None:
        db = self.open()
        with mock.patch.object(read_markers, "READ_MARKER_TARGETS", 3):
            writes.insert_events(db, [marker(1, "alice", "#a", 1), marker(2, "alice", "#b", 1),
                                      marker(3, "alice", "#c", 1), marker(4, "bob", "#z", 1),
                                      marker(5, "alice", "#a", 2),  # #b is now the oldest
                                      marker(6, "alice", "#d", 1)])
        self.assertEqual([row[:2] for row in self.rows(db)],
                         [("alice", "#a"), ("alice", "#c"), ("alice", "#d"), ("bob", "#z")])

    def test_a_deleted_account_takes_its_markers_along(self) -> None:
        db = self.open()
        create = StoreRow(1, NOW_MS, events.ACCOUNT_KIND, "create", "Alice",
                          json.dumps({"password_hash": "x", "scram": "y"}), "", ())
        writes.insert_events(db, [create, marker(2, "alice", "#c", 5), marker(3, "bob", "#c", 5)])
        delete = StoreRow(5, NOW_MS, events.ACCOUNT_KIND, "delete", "Alice", "{}", "", ())
        # A marker decided before the deletion, in the same group commit, goes too.
        writes.insert_events(db, [marker(4, "alice", "#d", 5), delete])
        self.assertEqual(self.rows(db), [("bob", "#c", 5, 0)])

    def test_what_a_worker_reads_back(self) -> None:
        db = self.open()
        writes.insert_events(db, [message(n, f"m{n}") for n in range(1, 11)]
                             + [seen(11, "alice", ("#c", 4)),
                                marker(12, "bob", "#c", NOW_MS + 6)])
        history = HistoryReader(self.path)
        self.addCleanup(history.close)
        reader = read_markers.MarkerReader(history)
        self.assertEqual(reader.marker("bob", "#c"), NOW_MS + 6)
        self.assertEqual(reader.marker("alice", "#c"), 0)
        self.assertIsNone(reader.seen_bound("carol", "#c"))  # nothing known: usual replay
        self.assertEqual(reader.seen_bound("alice", "#c"), 4)
        self.assertEqual(reader.seen_bound("bob", "#c"), 6)  # up to the marked time
        rows, skipped = reader.replay_after("#c", 4, 10, 3, 100)
        self.assertEqual(([row[events.TEXT] for row in rows], skipped), (["m7", "m8", "m9"], 2))
        rows, skipped = reader.replay_after("#c", 0, 11, 3, 4)  # counted up to the cap + 1
        self.assertEqual(skipped, 5)
        self.assertEqual(reader.replay_after("#c", 7, 11, 3, 100)[1], 0)


if __name__ == "__main__":
    unittest.main()
