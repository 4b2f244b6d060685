"""Who is in which channel, in the history file (chatd/store/members.py): `live_members` kept by
JOIN, PART, KICK, NICK and QUIT in the same transaction as the events, untouched by messages;
the QUITs a crash left owed (one per nick, in each of its channels, numbered after the last
event), which empty it; and the upgrade of a schema-6 file."""

from __future__ import annotations

import sqlite3
import unittest

from chatd.events import StoreRow
from chatd.store import channels, members, schema, writes
from tests.support.history_file import HistoryFileTestCase

NOW_MS = 1_700_000_000_000


def event(event_id: int, kind: str, source: str, target: str, text: str = "",
          convs: tuple[str, ...] | None = None, account: str = "") -> StoreRow:
    return StoreRow(event_id, NOW_MS + event_id, kind, source, target, text, "",
                    (target.lower(),) if convs is None else convs, account)


class MembersStoreTest(HistoryFileTestCase):
    @staticmethod
    def table(db: sqlite3.Connection) -> list[tuple]:
        return db.execute(f"SELECT nick, conv, source, account FROM {members.TABLE}"
                          " ORDER BY nick, conv").fetchall()

    def test_membership_events_keep_the_table(self) -> None:
        db = self.open()
        writes.insert_events(db, [
            event(1, "JOIN", "Alice!a@h", "#One", account="alice"),
            event(2, "JOIN", "Alice!a@h", "#two"),
            event(3, "JOIN", "bob!b@h", "#one"),
            event(4, "JOIN", "carol!c@h", "#one"),
            event(5, "JOIN", "dave!d@h", "#one"),
            event(6, "PRIVMSG", "bob!b@h", "#one", "hello"),
            event(7, "PART", "carol!c@h", "#one", "bye"),
            event(8, "KICK", "Alice!a@h", "#one", "Dave :out"),
            event(9, "NICK", "bob!b@h", "Robert", convs=("#one",), account="bobacct"),
        ])
        self.assertEqual([("alice", "#one", "Alice!a@h", "alice"),
                          ("alice", "#two", "Alice!a@h", ""),
                          ("robert", "#one", "Robert!b@h", "bobacct")], self.table(db))
        writes.insert_events(db, [event(10, "QUIT", "Alice!a@h", "", "gone",
                                        convs=("#one", "#two"))])
        self.assertEqual([("robert", "#one", "Robert!b@h", "bobacct")], self.table(db))

    def test_messages_leave_the_table_alone(self) -> None:
        db = self.open()
        writes.insert_events(db, [event(1, "JOIN", "a!a@h", "#c")])
        before = self.table(db)
        writes.insert_events(db, [event(n, kind, "a!a@h", "#c", "x") for n, kind in
                                  ((2, "PRIVMSG"), (3, "NOTICE"), (4, "TOPIC"), (5, "MODE"))])
        self.assertEqual(before, self.table(db))

    def test_a_nick_taking_rows_it_somehow_had_is_no_error(self) -> None:
        """A stale row of the new nick (never made by chatd's own stream) must not make every
        later commit fail: it gives way."""
        db = self.open()
        writes.insert_events(db, [event(1, "JOIN", "a!a@h", "#c"), event(2, "JOIN", "b!b@h", "#c"),
                                  event(3, "NICK", "a!a@h", "b", convs=("#c",))])
        self.assertEqual([("b", "#c", "b!a@h", "")], self.table(db))

    def test_a_crash_leaves_quits_owed_which_empty_the_table(self) -> None:
        db = self.open()
        self.assertEqual([], members.crash_departures(db, 1, NOW_MS))  # a clean end: nothing
        writes.insert_events(db, [event(1, "JOIN", "zed!z@h", "#b", account="zacct"),
                                  event(2, "JOIN", "amy!a@h", "#a"),
                                  event(3, "JOIN", "zed!z@h", "#a", account="zacct"),
                                  event(4, "JOIN", "amy!a@h", "#c")])
        owed = members.crash_departures(db, 5, NOW_MS + 99)
        self.assertEqual([
            StoreRow(5, NOW_MS + 99, "QUIT", "amy!a@h", "", members.CRASH_REASON, "",
                     ("#a", "#c"), ""),
            StoreRow(6, NOW_MS + 99, "QUIT", "zed!z@h", "", members.CRASH_REASON, "",
                     ("#a", "#b"), "zacct")], owed)
        writes.insert_events(db, owed)
        self.assertEqual([], self.table(db))
        self.assertEqual([], members.crash_departures(db, 7, NOW_MS))  # owed once only
        self.assertEqual((6, NOW_MS + 99), writes.last_id_and_time(db))
        in_a = db.execute("SELECT m.kind, m.source FROM timeline t JOIN messages m"
                          " ON m.id = t.id WHERE t.conv = '#a' ORDER BY t.id").fetchall()
        self.assertEqual([("JOIN", "amy!a@h"), ("JOIN", "zed!z@h"), ("QUIT", "amy!a@h"),
                          ("QUIT", "zed!z@h")], in_a)

    def test_the_table_and_the_events_commit_together(self) -> None:
        db = self.open()
        db.execute(f"CREATE TEMP TRIGGER failing BEFORE INSERT ON {members.TABLE}"
                   " BEGIN SELECT RAISE(ABORT, 'the disk failed'); END")
        with self.assertRaises(sqlite3.IntegrityError):
            writes.insert_events(db, [event(1, "PRIVMSG", "a!a@h", "#c", "x"),
                                      event(2, "JOIN", "a!a@h", "#c")])
        self.assertFalse(db.in_transaction)
        self.assertEqual((0,), db.execute("SELECT count(*) FROM messages").fetchone())
        db.execute("DROP TRIGGER failing")
        writes.insert_events(db, [event(1, "PRIVMSG", "a!a@h", "#c", "x"),
                                  event(2, "JOIN", "a!a@h", "#c")])
        self.assertEqual([("a", "#c", "a!a@h", "")], self.table(db))

    def test_a_schema_6_file_gains_the_table_at_open(self) -> None:
        db = schema.open_for_writing(self.path, "full")
        writes.insert_events(db, [event(1, "JOIN", "a!a@h", "#c"),
                                  event(2, "PRIVMSG", "a!a@h", "#c", "kept")])
        # What chatd of schema 6 left: the same file without the tables of 7 and 8, marked 6.
        db.executescript(f"DROP TABLE {members.TABLE}; DROP TABLE {channels.TABLE};"
                         " DROP TABLE history_floors;"
                         " UPDATE meta SET value = '6' WHERE key = 'schema_version';")
        db.close()
        self.assertNotIn(members.TABLE, schema.check_existing(self.path))
        db = self.open()
        self.assertEqual((str(schema.SCHEMA_VERSION),), db.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone())
        self.assertEqual([], self.table(db))  # nobody owed a QUIT: as after a clean stop
        self.assertEqual([("JOIN",), ("PRIVMSG",)],
                         db.execute("SELECT kind FROM messages ORDER BY id").fetchall())
        writes.insert_events(db, [event(3, "JOIN", "b!b@h", "#c")])
        self.assertEqual([("b", "#c", "b!b@h", "")], self.table(db))
        db.close()
        self.assertIn(members.TABLE, schema.check_existing(self.path))  # still chatd's file


if __name__ == "__main__":
    unittest.main()
