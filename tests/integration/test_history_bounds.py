"""Every history read a client can cause is an index range walk bounded by its limit (issue 12,
point 4), proven on a history of about a million mixed events: every CHATHISTORY subcommand
and the JOIN replay, for each set of capabilities that changes what a client sees (none,
draft/event-playback, event-playback with message-tags), in a channel and in private
conversations, driven through the real command handler over the real reader.

Two proofs for each request:
- EXPLAIN QUERY PLAN of every statement it ran: each table is reached by SEARCH through an
  index (no SCAN, no temporary B-tree that would sort a whole range);
- the SQLite virtual-machine steps it took (a progress handler called at every step) stay
  under a small multiple of the limit, whatever lies around: a run of a million TAGMSGs, a
  storm of 20,000 JOINs, 50,000 private conversations. A walk over any of those would take
  tens of millions of steps.

The known bad case (issue 12): a client with event-playback but without message-tags asking
`CHATHISTORY LATEST #t * 100` in a channel holding a million TAGMSGs walked every one of them.

The history is written with INSERT ... SELECT from a recursive CTE (seconds for a million rows),
with the layout chatd's writer gives each row (chatd.store.writes, checked on a small sample).
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import unittest
from pathlib import Path

from chatd.events import NO_UPPER_BOUND, StoreRow
from chatd.store import schema, writes
from chatd.store.reader import HistoryReader, replay
from ircproto.servertime import format_server_time
from tests.unit.test_chathistory import ask, client

T = 1_700_000_000_000
MIXED = range(1, 20_001)           # every kind, in #t
PRIVATE = range(20_001, 70_001)    # one PRIVMSG to `victim` from each of 50,000 nicks
JOINS = range(70_001, 90_001)      # a JOIN storm in #t
TAGMSGS = range(90_001, 1_090_001)  # a million TAGMSGs in #t (a reaction each: stored)
LAST_ID = TAGMSGS[-1]
CYCLE = ("PRIVMSG", "NOTICE", "JOIN", "PART", "TAGMSG", "QUIT", "NICK", "TOPIC")

LIMIT = 100  # the most a request may ask (CHATHISTORY=100)
# Steps allowed for one request: per row returned (a join, eight columns) plus a fixed part
# (the retention floor, a timestamp lookup, each statement's setup). Measured: at most about
# 24 per row returned, 2,400 for a full page. Walking rows it skips costs about 10 steps each:
# the bound is crossed after a few hundred, and a walk of the TAGMSG run takes ten million.
STEPS_PER_ROW = 50
FIXED_STEPS = 1_000

CAPS = {
    "messages only": ("batch", "server-time", "draft/chathistory"),
    "event-playback": ("batch", "server-time", "draft/chathistory", "draft/event-playback"),
    "event-playback + message-tags": ("batch", "server-time", "message-tags",
                                      "draft/chathistory", "draft/event-playback"),
}


def ts(event_id: int) -> str:
    return "timestamp=" + format_server_time(T + event_id)


def requests() -> list[str]:
    """Every subcommand, with references where a walk over skipped rows would cost most: at
    the edges of the TAGMSG run and the JOIN storm, inside them, at both ends."""
    lines = []
    for target in ("#t", "u25000"):
        for ref in (f"msgid={MIXED[-1]}", f"msgid={JOINS[0]}", f"msgid={TAGMSGS[0]}",
                    f"msgid={TAGMSGS[len(TAGMSGS) // 2]}", f"msgid={LAST_ID}",
                    f"msgid={NO_UPPER_BOUND}", ts(JOINS[-1]), ts(TAGMSGS[1000]), ts(1)):
            lines += [f"LATEST {target} {ref} {LIMIT}", f"BEFORE {target} {ref} {LIMIT}",
                      f"AFTER {target} {ref} {LIMIT}", f"AROUND {target} {ref} {LIMIT}"]
        lines.append(f"LATEST {target} * {LIMIT}")
        for low, high in ((f"msgid={MIXED[-1]}", f"msgid={LAST_ID}"),
                          (ts(JOINS[0]), ts(LAST_ID)), ("msgid=0", ts(TAGMSGS[5000]))):
            lines += [f"BETWEEN {target} {low} {high} {LIMIT}",
                      f"BETWEEN {target} {high} {low} {LIMIT}"]
    for low, high in ((ts(0), ts(LAST_ID + 1)), (ts(PRIVATE[100]), ts(PRIVATE[-100]))):
        lines += [f"TARGETS {low} {high} {LIMIT}", f"TARGETS {high} {low} {LIMIT}"]
    return ["CHATHISTORY " + line for line in lines]


def build_history(path: Path) -> sqlite3.Connection:
    """The history described above, in chatd's current schema, as the writer lays it out."""
    db = schema.open_for_writing(path, "normal")
    db.execute("BEGIN")
    kinds = " ".join(f"WHEN {n} THEN '{kind}'" for n, kind in enumerate(CYCLE))
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO messages (id, ts, kind, source, target, text, tags, account)"
        f" SELECT i, {T} + i,"
        f"  CASE WHEN i <= ? THEN CASE i % {len(CYCLE)} {kinds} END"
        "        WHEN i <= ? THEN 'PRIVMSG' WHEN i <= ? THEN 'JOIN' ELSE 'TAGMSG' END,"
        "  CASE WHEN i > ? AND i <= ? THEN 'u' || i ELSE 'alice' END || '!a@h',"
        "  CASE WHEN i > ? AND i <= ? THEN 'victim' ELSE '#t' END,"
        "  CASE WHEN i <= ? THEN 'text ' || i ELSE '' END,"
        "  CASE WHEN i > ? THEN '+draft/react=x' ELSE '' END, ''"
        " FROM n",
        (LAST_ID, MIXED[-1], PRIVATE[-1], JOINS[-1], PRIVATE[0] - 1, PRIVATE[-1],
         PRIVATE[0] - 1, PRIVATE[-1], PRIVATE[-1], JOINS[-1]))
    # Channel rows in #t; each private message in the recipient's and the sender's timeline.
    db.execute("INSERT INTO timeline (conv, id, chat) SELECT '#t', id,"
               " CASE WHEN kind IN ('PRIVMSG', 'NOTICE') THEN 1"
               "      WHEN kind = 'TAGMSG' THEN 2 ELSE 0 END"
               " FROM messages WHERE target = '#t'")
    db.execute("INSERT INTO timeline (conv, id, chat) SELECT '~victim ' || substr(source, 1,"
               " instr(source, '!') - 1), id, 1 FROM messages WHERE target = 'victim'")
    db.execute("INSERT INTO timeline (conv, id, chat) SELECT '!1.' || id || ' victim', id, 1"
               " FROM messages WHERE target = 'victim'")
    db.execute("INSERT INTO private_latest (conv, owner, id, ts) SELECT conv,"
               " substr(conv, 1, instr(conv, ' ') - 1), id, ts FROM timeline"
               " JOIN messages USING (id) WHERE chat = 1 AND substr(conv, 1, 1) IN ('~', '!')")
    db.execute("COMMIT")
    return db


class Steps:
    """Counts the SQLite VM steps of a connection and records the statements it runs."""

    def __init__(self, conn: sqlite3.Connection):
        self.real = conn
        self.count = 0
        self.queries: list[tuple[str, tuple]] = []
        conn.set_progress_handler(self._tick, 1)

    def _tick(self) -> int:
        self.count += 1
        return 0

    def execute(self, sql: str, params=()):
        self.queries.append((sql, tuple(params)))
        return self.real.execute(sql, params)

    def close(self) -> None:
        self.real.close()


class BoundedReadsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = Path(cls.tmp.name) / "history.db"
        build_history(cls.path).close()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def reader(self) -> tuple[HistoryReader, Steps]:
        reader = HistoryReader(self.path)
        self.addCleanup(reader.close)
        steps = Steps(reader.conn)
        reader._conn = steps  # the reader's statements now go through the counter
        return reader, steps

    def check_plans(self, steps: Steps) -> None:
        for sql, params in set(steps.queries):
            plan = [row[3] for row in steps.real.execute("EXPLAIN QUERY PLAN " + sql, params)]
            for detail in plan:
                self.assertNotRegex(detail, r"^SCAN\b", (sql, plan))
                self.assertNotIn("TEMP B-TREE", detail, (sql, plan))
                if detail.startswith("SEARCH"):
                    self.assertRegex(detail, r" USING (COVERING INDEX|INDEX|PRIMARY KEY"
                                             r"|INTEGER PRIMARY KEY) ", (sql, plan))

    def test_every_request_walks_at_most_its_limit(self):
        for name, caps in CAPS.items():
            reader, steps = self.reader()
            session = client("victim", caps=caps, channels=("#t",), reader=reader)
            ask(session, f"CHATHISTORY LATEST #t * {LIMIT}")  # warm: schema read, statements
            for line in requests():
                with self.subTest(caps=name, request=line):
                    steps.count, steps.queries = 0, []
                    answer = ask(session, line)
                    self.assertNotIn("FAIL", [m.command for m in answer])
                    lines = sum(1 for m in answer if m.command not in ("BATCH", "NOTE"))
                    self.assertLessEqual(lines, LIMIT)
                    self.assertLess(steps.count, STEPS_PER_ROW * LIMIT + FIXED_STEPS,
                                    f"{steps.count} SQLite steps for {lines} lines")
                    self.check_plans(steps)

    def test_the_bad_case_answers_what_it_must(self):
        # event-playback without message-tags: the newest 100 events that are not TAGMSGs
        # are the last 100 JOINs of the storm, behind a million TAGMSGs.
        reader, steps = self.reader()
        session = client("victim", caps=CAPS["event-playback"], channels=("#t",),
                         reader=reader)
        answer = ask(session, f"CHATHISTORY LATEST #t * {LIMIT}")
        self.assertEqual([m.command for m in answer[1:-1]], ["JOIN"] * LIMIT)
        self.assertLess(steps.count, STEPS_PER_ROW * LIMIT + FIXED_STEPS)
        # The same page read by walking every row of the timeline, as before schema 5 (the
        # kinds filtered row by row), to show what the bound protects from.
        steps.count = 0
        rows = steps.real.execute(
            "SELECT m.id FROM timeline t JOIN messages m ON m.id = t.id WHERE t.conv = '#t'"
            " AND m.kind IN ('PRIVMSG','NOTICE','JOIN','PART','QUIT','NICK','TOPIC')"
            " ORDER BY t.id DESC LIMIT 100").fetchall()
        self.assertEqual([r[0] for r in rows], list(JOINS)[-100:][::-1])
        self.assertGreater(steps.count, 100 * (STEPS_PER_ROW * LIMIT + FIXED_STEPS))

    def test_join_replay(self):
        # A client without draft/chathistory gets the last messages on JOIN: after a JOIN
        # storm and a million TAGMSGs, still one short walk.
        reader, steps = self.reader()
        rows = replay(reader, "#t", NO_UPPER_BOUND, 50)
        messages = [i for i in MIXED if CYCLE[i % len(CYCLE)] in ("PRIVMSG", "NOTICE")]
        self.assertEqual([r[0] for r in rows], messages[-50:])
        self.assertLess(steps.count, STEPS_PER_ROW * 50 + FIXED_STEPS)
        self.check_plans(steps)

    def test_the_layout_is_the_writers(self):
        # A few rows of each part written by chatd's writer land exactly as build_history
        # lays them out (so the proof above is about what chatd writes).
        with tempfile.TemporaryDirectory() as tmp:
            db = schema.open_for_writing(Path(tmp) / "w.db", "normal")
            try:
                sample = [StoreRow(1, T + 1, "PRIVMSG", "alice!a@h", "#t", "text 1", "",
                                   ("#t",)),
                          StoreRow(4, T + 4, "TAGMSG", "alice!a@h", "#t", "", "+x", ("#t",)),
                          StoreRow(7, T + 7, "NICK", "alice!a@h", "#t", "", "", ("#t",)),
                          StoreRow(9, T + 9, "PRIVMSG", "u9!a@h", "victim", "", "",
                                   ("~victim u9", "!1.9 victim"))]
                writes.insert_events(db, sample)
                self.assertEqual(
                    db.execute("SELECT conv, id, chat FROM timeline ORDER BY id, conv").fetchall(),
                    [("#t", 1, 1), ("#t", 4, 2), ("#t", 7, 0), ("!1.9 victim", 9, 1),
                     ("~victim u9", 9, 1)])
                self.assertEqual(
                    db.execute("SELECT * FROM private_latest ORDER BY conv").fetchall(),
                    [("!1.9 victim", "!1.9", 9, T + 9), ("~victim u9", "~victim", 9, T + 9)])
            finally:
                db.close()


if __name__ == "__main__":
    unittest.main()
