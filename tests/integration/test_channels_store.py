"""Kept channels in the history file (chatd/store/channels.py), on real SQLite files without a
server: the migration from schema 7 (a schema-8 file without its new tables: the latest topic
of each channel carried into `channels`, the one retention floor into `history_floors`),
channel writes applied with the events in one group commit (and again, as after a writer
restart, to the same end), their ids never given out again, founders and operator accounts
of deleted accounts dropped at load, and retention deleting events but never a channel's
state."""

from __future__ import annotations

import unittest

from chatd import events
from chatd.events import StoreRow
from chatd.store import accounts, channels, schema, writes
from chatd.store.reader import HistoryReader
from chatd.stored_channel import StoredChannel, to_json
from tests.support.history_file import HistoryFileTestCase

NOW_MS = 1_700_000_000_000
DAY_MS = 86_400_000


def state(name: str, founder: str = "alice", topic: str = "", **fields) -> StoredChannel:
    base = StoredChannel(name=name, founder=founder, created_s=NOW_MS // 1000, flags="nt",
                         key=None, limit=None, topic=topic, topic_setter="alice",
                         topic_ts_ms=NOW_MS, lists={}, operators=())
    return base._replace(**fields)


def channel_row(event_id: int, op: str, name: str, kept: StoredChannel | None = None) -> StoreRow:
    return StoreRow(event_id, NOW_MS, events.CHANNEL_KIND, op, name,
                    to_json(kept) if kept is not None else "", "", ())


def message(event_id: int, kind: str, target: str, text: str, ts_ms: int = NOW_MS,
            source: str = "alice!a@h") -> StoreRow:
    return StoreRow(event_id, ts_ms, kind, source, target, text, "", (target.lower(),))


class ChannelsStoreTest(HistoryFileTestCase):
    def make_schema_7(self, rows: list[StoreRow], floor_id: int) -> None:
        """A schema-7 history: today's file without the tables schema 8 added, holding
        `rows` and the one retention floor of schema 7."""
        db = schema.open_for_writing(self.path, "full")
        writes.insert_events(db, rows)
        db.executescript(f"""
            DROP TABLE {channels.TABLE}; DROP TABLE history_floors;
            INSERT INTO meta VALUES ('retention_floor_id', '{floor_id}');
            UPDATE meta SET value = '7' WHERE key = 'schema_version';""")
        db.close()

    def test_migration_from_schema_7_carries_the_topics_and_the_floor(self) -> None:
        self.make_schema_7([
            message(10, "TOPIC", "#a", "first"),
            message(11, "PRIVMSG", "#a", "hello"),
            message(12, "TOPIC", "#a", "second", NOW_MS + 5000, "bob!b@h"),
            message(13, "TOPIC", "#B", "spelled B"),
            message(14, "TOPIC", "#b", "spelled b, later", source="carol!c@h"),
            message(15, "TOPIC", "#c", "set"),
            message(16, "TOPIC", "#c", ""),  # cleared: nothing to keep
            message(17, "PRIVMSG", "#d", "no topic"),
        ], floor_id=9)
        self.assertNotIn(channels.TABLE, schema.check_existing(self.path))
        db = self.open()
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], str(schema.SCHEMA_VERSION))
        kept = {s.name: (s.founder, s.topic, s.topic_setter, s.topic_ts_ms, s.flags)
                for s in channels.load_all(db)}
        self.assertEqual(kept, {"#a": ("", "second", "bob", NOW_MS + 5000, ""),
                                "#b": ("", "spelled b, later", "carol", NOW_MS, "")})
        self.assertEqual(db.execute("SELECT name FROM channels ORDER BY name").fetchall(),
                         [("#a",), ("#b",)])  # keyed by the folded name
        floors = dict(db.execute("SELECT conv, id FROM history_floors").fetchall())
        self.assertEqual(floors, {conv: 9 for conv in ("#a", "#b", "#c", "#d")})
        db.close()
        self.assertIn(channels.TABLE, schema.check_existing(self.path))  # still chatd's file

    def test_writes_ride_with_the_events_and_replay_to_the_same_end(self) -> None:
        db = self.open()
        accounts.apply_now(db, "create", "alice", {"password_hash": "h", "scram": "s"}, NOW_MS)
        kept = state("#Keep", topic="hello", flags="imnt", key="sekrit", limit=5,
                     lists={"b": (("x!*@*", "alice!a@h", 7),)})
        batch = [message(1, "MODE", "#keep", "+r alice"), channel_row(2, "set", "#keep", kept),
                 channel_row(3, "set", "#gone", state("#gone")), channel_row(4, "del", "#gone")]
        for _ in range(2):  # a writer restart sends the same rows again
            writes.insert_events(db, batch)
            self.assertEqual(channels.load_all(db), [kept])
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (1,))
        self.assertEqual(writes.last_id_and_time(db)[0], 4)  # a write's id is never reused

    def test_deleted_accounts_found_and_opp_nothing_at_load(self) -> None:
        db = self.open()
        for name in ("alice", "bob"):
            accounts.apply_now(db, "create", name, {"password_hash": "h", "scram": "s"}, NOW_MS)
        writes.insert_events(db, [
            channel_row(1, "set", "#a", state("#a", operators=("bob", "carol"))),
            channel_row(2, "set", "#b", state("#b", founder="carol", topic="orphan"))])
        self.assertEqual([(s.founder, s.operators) for s in channels.load_all(db)],
                         [("alice", ("bob",)), ("", ())])
        accounts.apply_now(db, "delete", "alice", {}, NOW_MS)  # the admin command, offline
        self.assertEqual([(s.founder, s.operators, s.topic) for s in channels.load_all(db)],
                         [("", ("bob",), ""), ("", (), "orphan")])
        self.assertEqual(db.execute("SELECT founder FROM channels WHERE name = '#a'").fetchone(),
                         ("",))  # the row itself was corrected

    def test_retention_deletes_events_never_a_channels_state(self) -> None:
        db = self.open()
        old = NOW_MS - 10 * DAY_MS
        writes.insert_events(db, [
            message(1, "TOPIC", "#keep", "old topic", old),
            channel_row(2, "set", "#keep", state("#keep", topic="old topic", topic_ts_ms=old)),
            message(3, "PRIVMSG", "#keep", "old", old + 1),
            message(4, "PRIVMSG", "#other", "new", NOW_MS)])
        self.assertEqual(writes.delete_before(db, NOW_MS - DAY_MS), 2)
        self.assertEqual([s.topic for s in channels.load_all(db)], ["old topic"])
        reader = HistoryReader(self.path)
        self.addCleanup(reader.close)
        self.assertEqual((reader.floor_id("#keep"), reader.floor_id("#other")), (3, 0))


if __name__ == "__main__":
    unittest.main()
