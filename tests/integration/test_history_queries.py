"""chatd.HistoryReader on a real SQLite file: every query it makes walks an index (the
timeline primary key, messages' rowid, messages_ts, meta's key), so CHATHISTORY stays O(log n)
however long the history grows; and it answers exactly as the in-memory reader the unit tests
use (tests/unit/fake_history.py), so those tests describe the real thing.

This is the one test outside the pure unit tests that opens SQLite directly (no server
process): a temporary file made with schema.open_for_writing, read through HistoryReader.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import unittest
from pathlib import Path

from chatd.events import StoreRow
from chatd.store import schema, writes
from chatd.store.reader import HistoryReader, replay
from chatd.config import Config
from chatd.events import MESSAGE_KINDS, NO_UPPER_BOUND, STORED_KINDS

# what a client with draft/event-playback but without message-tags sees
EVENT_PLAYBACK_KINDS = tuple(kind for kind in STORED_KINDS if kind != "TAGMSG")
from tests.unit.fake_history import FakeHistory

T = 1_700_000_000_000
FULL_SCAN = re.compile(r"^SCAN (timeline|t|messages|m)\b")


def make_rows(count: int) -> list[tuple]:
    """`count` stored rows over three channels and two private conversations; every id has
    a time, several ids share one (as events of the same millisecond do)."""
    rows = []
    kinds = ("PRIVMSG", "NOTICE", "JOIN", "TAGMSG", "PRIVMSG", "PART", "TOPIC")
    for i in range(1, count + 1):
        ts = T + (i // 3) * 1000
        kind = kinds[i % len(kinds)]
        if i % 11 == 0:
            convs = ("~alice bob", "~bob alice")
            kind, target = ("PRIVMSG", "TAGMSG")[i % 2], "bob"
        elif i % 13 == 0:
            convs = ("!1.2 carol",)
            kind, target = "NOTICE", "carol"
        else:
            target = ("#a", "#b", "#c")[i % 3]
            convs = (target,)
        rows.append((i, ts, kind, "alice!a@h", target, f"text {i}", "+x=1" if i % 4 else "",
                     convs))
    return rows


class Recorder:
    """Stands in for the reader's connection: records (sql, params) of every query."""

    def __init__(self, conn: sqlite3.Connection):
        self.real = conn
        self.queries: list[tuple[str, tuple]] = []

    def execute(self, sql: str, params=()):
        self.queries.append((sql, tuple(params)))
        return self.real.execute(sql, params)

    def close(self) -> None:
        self.real.close()


def every_reader_call(reader: HistoryReader, last_id: int, last_ts: int) -> None:
    """Call each query method of the reader, with arguments where a scan would cost most."""
    middle = last_id // 2
    for newest in (True, False):
        for kinds in (MESSAGE_KINDS, STORED_KINDS, EVENT_PLAYBACK_KINDS, ("PRIVMSG",)):
            reader.select("#a", 0, NO_UPPER_BOUND, 50, newest, kinds)
            reader.select("#b", middle, NO_UPPER_BOUND, 10, newest, kinds)
            reader.select("~alice bob", 0, middle, 10, newest, kinds)
            reader.select("#nowhere", 0, NO_UPPER_BOUND, 10, newest, kinds)
    reader.last_id_at_or_before(last_ts)         # the newest end: max(id) walked it all
    reader.last_id_at_or_before(T)
    reader.first_id_at_or_after(T)
    reader.first_id_at_or_after(last_ts)         # the newest end: min(id) walked it all
    reader.first_id_at_or_after(last_ts + 1)     # past the end
    reader.floor_id("#a")
    reader.latest("#c", MESSAGE_KINDS)
    reader.latest("!1.2 carol", STORED_KINDS)
    for newest in (True, False):
        reader.private_latest("~alice", 0, last_ts + 1, 10, newest)
        reader.private_latest("~zed", T, last_ts, 10, newest)
    replay(reader, "#a", middle, 50)


class HistoryFile(unittest.TestCase):
    def make_history(self, rows: list[tuple]) -> tuple[Path, sqlite3.Connection]:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = Path(tmp.name) / "history.db"
        db = schema.open_for_writing(path, "normal")
        self.addCleanup(db.close)
        if rows:
            writes.insert_events(db, [StoreRow(*row) for row in rows])
        return path, db

    def reader(self, path: Path) -> HistoryReader:
        reader = HistoryReader(path)
        self.addCleanup(reader.close)
        return reader


class QueryPlanTest(HistoryFile):
    def test_every_query_searches_an_index(self):
        rows = make_rows(3000)
        path, _db = self.make_history(rows)
        reader = self.reader(path)
        recorder = Recorder(reader.conn)
        reader._conn = recorder   # the reader's queries now go through the recorder
        every_reader_call(reader, rows[-1][0], rows[-1][1])
        queries = {(sql, params) for sql, params in recorder.queries
                   if not sql.lstrip().upper().startswith("PRAGMA")}
        self.assertGreaterEqual(len({sql for sql, _p in queries}), 6)
        for sql, params in sorted(queries):
            with self.subTest(sql=sql, params=params):
                plan = [row[3] for row in
                        recorder.real.execute("EXPLAIN QUERY PLAN " + sql, params)]
                text = "; ".join(plan)
                self.assertTrue(any(d.startswith("SEARCH") for d in plan), text)
                for detail in plan:
                    self.assertIsNone(FULL_SCAN.match(detail), text)
                    self.assertNotIn("TEMP B-TREE", detail, text)   # no sort of a whole range
                self.assertNotIn("SCAN timeline", text)
                self.assertNotIn("SCAN m", text)
                walked = re.search(r"FROM timeline t INDEXED BY (\w+) JOIN messages m", sql)
                if walked:
                    self.assertTrue(any(re.match(
                        rf"SEARCH t USING (COVERING )?INDEX {walked[1]} \(conv=\? AND id", d)
                        for d in plan), text)
                    self.assertIn("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", plan)
                elif "FROM timeline t JOIN messages m" in sql:
                    self.assertTrue(any(re.match(r"SEARCH t USING PRIMARY KEY \(conv=\? AND id", d)
                                        for d in plan), text)
                    self.assertIn("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", plan)
                elif "FROM private_latest p" in sql:
                    self.assertTrue(any(re.match(
                        r"SEARCH p USING INDEX private_latest_by_time \(owner=\? AND ts", d)
                        for d in plan), text)
                    self.assertIn("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", plan)
                elif "ts <=" in sql or "ts >=" in sql:
                    self.assertTrue(any("messages_ts" in d for d in plan), text)
                elif "FROM history_floors" in sql:
                    self.assertTrue(any(re.match(r"SEARCH history_floors USING PRIMARY KEY"
                                                 r" \(conv=\?\)", d) for d in plan), text)
                else:
                    self.assertRegex(sql, r"FROM meta WHERE key=")

    def test_work_does_not_grow_with_the_history(self):
        # SQLite virtual-machine steps per call, counted with a progress handler, on a history
        # 10 times longer: an index walk costs about the same, a scan (even one that says
        # SEARCH, such as max(id) with a WHERE on ts, which walks the rowids) ten times more.
        def steps(count: int) -> dict[str, int]:
            rows = make_rows(count)
            path, _db = self.make_history(rows)
            reader = self.reader(path)
            conn = reader.conn
            last_id, last_ts = rows[-1][0], rows[-1][1]
            calls = {
                "select newest": lambda: reader.select("#a", 0, NO_UPPER_BOUND, 20, True,
                                                       MESSAGE_KINDS),
                "select oldest above": lambda: reader.select("#a", last_id - 200, NO_UPPER_BOUND,
                                                             20, False, MESSAGE_KINDS),
                "select oldest below": lambda: reader.select("#b", 0, 100, 20, False,
                                                             MESSAGE_KINDS),
                "last_id_at_or_before newest": lambda: reader.last_id_at_or_before(last_ts),
                "last_id_at_or_before oldest": lambda: reader.last_id_at_or_before(T),
                "first_id_at_or_after oldest": lambda: reader.first_id_at_or_after(T),
                "first_id_at_or_after newest": lambda: reader.first_id_at_or_after(last_ts),
                "floor_id": lambda: reader.floor_id("#a"),
                "latest": lambda: reader.latest("!1.2 carol", MESSAGE_KINDS),
                "private_latest": lambda: reader.private_latest("~alice", 0, last_ts, 10, True),
            }
            counts = {}
            counter = [0]

            def tick() -> int:
                counter[0] += 1
                return 0

            for name, call in calls.items():
                call()   # warm: schema loaded, statement cached
                counter[0] = 0
                conn.set_progress_handler(tick, 1)
                try:
                    call()
                finally:
                    conn.set_progress_handler(None, 1)
                counts[name] = counter[0]
            return counts

        small, large = steps(2000), steps(20000)
        for name in small:
            with self.subTest(call=name):
                self.assertLess(large[name], 2 * small[name] + 100,
                                f"{small[name]} steps for 2000 rows, {large[name]} for 20000")

    def test_message_reads_skip_other_events(self):
        # A channel whose last messages lie behind thousands of JOINs (a JOIN storm): the
        # replay and a CHATHISTORY page of messages walk only messages (timeline_chat), so
        # ten times more JOINs in between cost about the same; all kinds still come in order.
        def history_with_joins(joins: int) -> tuple[HistoryReader, list[tuple]]:
            rows = [(i, T + i, "PRIVMSG", "a!a@h", "#s", f"m{i}", "", ("#s",))
                    for i in range(1, 61)]
            rows += [(i, T + i, "JOIN", f"u{i}!u@h", "#s", "", "", ("#s",))
                     for i in range(61, 61 + joins)]
            path, _db = self.make_history(rows)
            return self.reader(path), rows

        def replay_steps(reader: HistoryReader) -> int:
            replay(reader, "#s", NO_UPPER_BOUND, 50)  # warm
            counter = [0]

            def tick() -> int:
                counter[0] += 1
                return 0

            reader.conn.set_progress_handler(tick, 1)
            try:
                got = replay(reader, "#s", NO_UPPER_BOUND, 50)
            finally:
                reader.conn.set_progress_handler(None, 1)
            self.assertEqual([r[5] for r in got], [f"m{i}" for i in range(11, 61)])
            return counter[0]

        few, _ = history_with_joins(500)
        many, rows = history_with_joins(5000)
        small, large = replay_steps(few), replay_steps(many)
        self.assertLess(large, 2 * small + 100, f"{small} steps after 500 JOINs, {large} after 5000")
        everything = many.select("#s", 0, NO_UPPER_BOUND, 100, True, STORED_KINDS)
        self.assertEqual([r[0] for r in everything], [r[0] for r in rows[-100:]])

    def test_an_older_history_gets_its_chat_marks(self):
        # A file written by schema 1 (no timeline.chat): opening it for writing marks the
        # messages already there, so they are still found through timeline_chat.
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = Path(tmp.name) / "old.db"
        old = sqlite3.connect(path)
        old.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            INSERT INTO meta VALUES ('schema_version', '1');
            CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,
                kind TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
                text TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '');
            CREATE TABLE timeline (conv TEXT NOT NULL, id INTEGER NOT NULL,
                PRIMARY KEY (conv, id)) WITHOUT ROWID;""")
        old.executemany("INSERT INTO messages VALUES (?, ?, ?, 'a!a@h', '#o', ?, '')",
                        [(1, T, "PRIVMSG", "hello"), (2, T, "JOIN", ""), (3, T, "NOTICE", "n")])
        old.executemany("INSERT INTO timeline VALUES ('#o', ?)", [(1,), (2,), (3,)])
        old.commit()
        old.close()
        db = schema.open_for_writing(path, "normal")
        self.addCleanup(db.close)
        writes.insert_events(db, [StoreRow(4, T, "PRIVMSG", "b!b@h", "#o", "new", "", ("#o",))])
        reader = self.reader(path)
        self.assertEqual([r[0] for r in replay(reader, "#o", NO_UPPER_BOUND, 50)],
                         [1, 3, 4])


class SameAsFakeTest(HistoryFile):
    """The real reader and the unit tests' fake answer every call alike."""

    def calls(self, last_id: int, last_ts: int) -> list[tuple[str, tuple]]:
        calls = []
        for conv in ("#a", "#b", "~alice bob", "~bob alice", "!1.2 carol", "#nowhere"):
            for kinds in (MESSAGE_KINDS, STORED_KINDS, EVENT_PLAYBACK_KINDS, ("TAGMSG",)):
                for after, before in ((0, NO_UPPER_BOUND), (10, 60), (last_id - 5, NO_UPPER_BOUND),
                                      (0, 1), (30, 30), (40, 20)):
                    for limit in (0, 1, 7, 1000):
                        for newest in (True, False):
                            calls.append(("select", (conv, after, before, limit, newest, kinds)))
            calls.append(("latest", (conv, MESSAGE_KINDS)))
            calls.append(("latest", (conv, STORED_KINDS)))
        for ts in (0, T - 1, T, T + 999, T + 1000, T + 5500, last_ts - 1, last_ts, last_ts + 1):
            calls.append(("last_id_at_or_before", (ts,)))
            calls.append(("first_id_at_or_after", (ts,)))
        for owner in ("~alice", "~bob", "!1.2", "~al", "#", "~zed"):
            for after, before in ((0, NO_UPPER_BOUND), (T + 5000, last_ts), (last_ts, T)):
                for limit in (0, 1, 3, 100):
                    for newest in (True, False):
                        calls.append(("private_latest", (owner, after, before, limit, newest)))
        for conv in ("#a", "#b", "#c", "~alice bob", "!1.2 carol", "#nowhere"):
            calls.append(("floor_id", (conv,)))
        return calls

    def check_same(self, real: HistoryReader, fake: FakeHistory, last_id: int,
                   last_ts: int) -> None:
        for name, args in self.calls(last_id, last_ts):
            with self.subTest(call=name, args=args):
                got = getattr(real, name)(*args)
                if isinstance(got, list):
                    got = [tuple(r) if isinstance(r, tuple) else r for r in got]
                self.assertEqual(got, getattr(fake, name)(*args))

    def test_same_answers(self):
        rows = make_rows(150)
        path, _db = self.make_history(rows)
        self.check_same(self.reader(path), FakeHistory(rows), rows[-1][0], rows[-1][1])

    def test_same_answers_after_retention(self):
        rows = make_rows(150)
        path, db = self.make_history(rows)
        cutoff = T + 20_000
        deleted = writes.delete_before(db, cutoff)
        floor = max(r[0] for r in rows if r[1] < cutoff)
        self.assertEqual(deleted, floor)
        reader = self.reader(path)
        self.assertEqual(reader.floor_id("#a"), max(r[0] for r in rows
                                                     if r[1] < cutoff and "#a" in r[7]))
        self.check_same(reader, FakeHistory(rows, floor_id=floor), rows[-1][0], rows[-1][1])

    def test_empty_history(self):
        path, _db = self.make_history([])
        self.check_same(self.reader(path), FakeHistory([]), 0, T)

    def test_a_schema_4_history_is_brought_up_to_date(self):
        # A file written by chatd with schema 4 (TAGMSGs marked as any other event, no
        # timeline_events, no private_latest): opened for writing it gets schema 5, and then
        # answers every call as a history written with schema 5 does.
        rows = make_rows(150)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = Path(tmp.name) / "v4.db"
        old = sqlite3.connect(path)
        old.executescript(SCHEMA_4)
        old.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, '')",
                        [row[:7] for row in rows])
        old.executemany("INSERT INTO timeline VALUES (?, ?, ?)",
                        [(conv, row[0], int(row[2] in MESSAGE_KINDS))
                         for row in rows for conv in row[7]])
        old.commit()
        old.close()
        db = schema.open_for_writing(path, "normal")
        self.addCleanup(db.close)
        self.assertEqual(db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
                         .fetchone(), (str(schema.SCHEMA_VERSION),))
        self.assertEqual(db.execute("SELECT count(*) FROM timeline WHERE chat = 2").fetchone(),
                         (sum(len(row[7]) for row in rows if row[2] == "TAGMSG"),))
        self.check_same(self.reader(path), FakeHistory(rows), rows[-1][0], rows[-1][1])
        db.close()
        schema.check_existing(path)  # and the start-up checks take it as chatd's


# chatd's schema 4, as it created a new history (for the migration test)
SCHEMA_4 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '4');
CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '', account TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_ts ON messages (ts);
CREATE TABLE timeline (conv TEXT NOT NULL, id INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (conv, id)) WITHOUT ROWID;
CREATE TABLE accounts (name TEXT PRIMARY KEY, display TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL, scram TEXT NOT NULL,
    created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE account_certs (fingerprint TEXT PRIMARY KEY, account TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX timeline_chat ON timeline (conv, id) WHERE chat = 1;
"""


if __name__ == "__main__":
    unittest.main()


class DurabilityTest(unittest.TestCase):
    """`[history] synchronous` reaches SQLite, and the default is the power-loss-safe one."""

    def test_setting_is_applied(self):
        expected = {"full": 2, "normal": 1}  # PRAGMA synchronous values
        self.assertEqual(Config().history_synchronous, "full")
        for setting, value in expected.items():
            with self.subTest(setting=setting), tempfile.TemporaryDirectory() as tmp:
                db = schema.open_for_writing(Path(tmp) / "h.db", setting)
                try:
                    self.assertEqual(db.execute("PRAGMA synchronous").fetchone()[0], value)
                    self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
                finally:
                    db.close()
