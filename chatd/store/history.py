"""The SQLite history: schema, the writer's inserts and retention, and the readers' queries.

Only the writer process opens the database read-write (`open_for_writing`); workers read it
through `HistoryReader` on a read-only connection. WAL mode lets readers run while the writer
commits.

Schema: `messages` holds one row per event with its id (the order of the history), time and
client-only tags; `timeline` lists which conversation(s) an event belongs to: a channel event
belongs to its channel, a QUIT or NICK to every channel the user was in, a private message to
both participants' keys ("alice bob" and "bob alice"). Queries walk `timeline`'s (conv, id)
primary key, so they stay O(log n) however long the history grows. Ids and times grow together
(the master assigns both), so a time bound becomes an id bound through the index on ts.

Most reads want only PRIVMSG/NOTICE (JOIN replay, CHATHISTORY without event-playback).
`timeline.chat` marks those rows and the partial index `timeline_chat` holds only them, so
"the last 50 messages" is an index walk of 50 entries even in a channel where thousands of
JOINs and QUITs came since the last message (a JOIN storm would otherwise make each joiner's
replay scan every earlier JOIN).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatd.events import MESSAGE_KINDS, NO_UPPER_BOUND

SCHEMA_VERSION = 2  # 2: timeline.chat and the timeline_chat index


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id     INTEGER PRIMARY KEY,
    ts     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text   TEXT NOT NULL,
    tags   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts);
CREATE TABLE IF NOT EXISTS timeline (
    conv TEXT NOT NULL,
    id   INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0,  -- 1 for PRIVMSG and NOTICE
    PRIMARY KEY (conv, id)
) WITHOUT ROWID;
"""
# Created after _add_missing_columns, which gives an older history its timeline.chat.
_INDEXES = """
CREATE INDEX IF NOT EXISTS timeline_chat ON timeline (conv, id) WHERE chat = 1;
"""
_CHAT_KINDS = frozenset(MESSAGE_KINDS)

_COLUMNS = "m.id, m.ts, m.kind, m.source, m.target, m.text, m.tags"


class HistoryError(Exception):
    """The history file cannot be used (wrong format, newer schema, unreadable)."""


def open_for_writing(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (creating if needed) the history for the writer process."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        conn.executescript(_SCHEMA)
        _add_missing_columns(conn)
        conn.executescript(_INDEXES)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise HistoryError(f"schema version {row[0]} is newer than this chatd")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(str(exc)) from None
    return conn


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring an older history up to this schema: messages.tags (client tags) and
    timeline.chat, marked on the rows already there (one pass, once)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    if "tags" not in columns:
        conn.execute("ALTER TABLE messages ADD COLUMN tags TEXT NOT NULL DEFAULT ''")
    if "chat" not in {row[1] for row in conn.execute("PRAGMA table_info(timeline)")}:
        conn.execute("BEGIN")
        conn.execute("ALTER TABLE timeline ADD COLUMN chat INTEGER NOT NULL DEFAULT 0")
        conn.execute("UPDATE timeline SET chat = 1 WHERE id IN"
                     " (SELECT id FROM messages WHERE kind IN ('PRIVMSG', 'NOTICE'))")
        conn.execute("COMMIT")


def last_id_and_time(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event's id and time (0, 0 for an empty history)."""
    row = conn.execute("SELECT id, ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
    last_id, last_ts = (row[0], row[1]) if row else (0, 0)
    # Retention may have deleted the newest events too; their ids must never be given out
    # again (a msgid is stable forever), so count from the highest id ever deleted as well.
    floor = conn.execute("SELECT value FROM meta WHERE key='retention_floor_id'").fetchone()
    return (max(last_id, int(floor[0])) if floor else last_id), last_ts


def latest_topics(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(channel, topic text, setter source, ts_ms) of each channel's newest TOPIC event."""
    return conn.execute(
        "SELECT m.target, m.text, m.source, m.ts FROM messages m"
        " JOIN (SELECT max(id) AS id FROM messages WHERE kind='TOPIC' GROUP BY target) t"
        " ON m.id = t.id").fetchall()


def insert_events(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Insert (id, ts, kind, source, target, text, tags, convs) rows in one transaction.
    Rows already stored (same id: a batch resent after a writer restart) are skipped."""
    conn.execute("BEGIN")
    try:
        conn.executemany(
            "INSERT OR IGNORE INTO messages (id, ts, kind, source, target, text, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", [row[:7] for row in rows])
        conn.executemany(
            "INSERT OR IGNORE INTO timeline (conv, id, chat) VALUES (?, ?, ?)",
            [(conv, row[0], row[2] in _CHAT_KINDS) for row in rows for conv in row[7]])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
            conn.execute("ROLLBACK")
        raise


def delete_before(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    """Retention: delete events older than `cutoff_ms`; remember the highest id deleted so
    readers can say that history before it is gone. Returns how many were deleted."""
    row = conn.execute("SELECT max(id) FROM messages WHERE ts < ?", (cutoff_ms,)).fetchone()
    if row is None or row[0] is None:
        return 0
    floor = row[0]
    conn.execute("BEGIN")
    try:
        # Per conversation, so each delete is a range of the (conv, id) key, not a scan.
        for conv in conversations_with_prefix(conn, ""):
            conn.execute("DELETE FROM timeline WHERE conv = ? AND id <= ?", (conv, floor))
        deleted = conn.execute("DELETE FROM messages WHERE id <= ?", (floor,)).rowcount
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('retention_floor_id', ?)", (str(floor),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
            conn.execute("ROLLBACK")
        raise
    return deleted


def conversations_with_prefix(conn: sqlite3.Connection, prefix: str) -> list[str]:
    """Timeline keys starting with `prefix`, found by hopping from key to key on the index
    (one seek per conversation, not one per message)."""
    found = []
    current = prefix
    while True:
        row = conn.execute("SELECT conv FROM timeline WHERE conv > ? ORDER BY conv LIMIT 1",
                           (current,)).fetchone()
        if row is None or not row[0].startswith(prefix):
            return found
        found.append(row[0])
        current = row[0]  # "conv > current" skips every row of this conversation


class HistoryReader:
    """Read-only queries for a worker. Rows are event tuples (see events.py)."""

    def __init__(self, path: Path):
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:  # opened lazily: the writer creates the file first
            self._conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True,
                                         isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=1")
        return self._conn

    def select(self, conv: str, after_id: int, before_id: int, limit: int, newest: bool,
               kinds: tuple[str, ...]) -> list[tuple]:
        """Up to `limit` events of a timeline with after_id < id < before_id and a kind in
        `kinds`: the newest ones if `newest`, else the oldest ones; always oldest first."""
        if limit <= 0:
            return []
        marks = ",".join("?" * len(kinds))
        # Only messages wanted: walk the timeline_chat index, which holds nothing else.
        # (Named: without statistics SQLite's planner prefers the primary key.)
        chat_only = _CHAT_KINDS.issuperset(kinds)
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM timeline t"
            f"{' INDEXED BY timeline_chat' if chat_only else ''} JOIN messages m ON m.id = t.id"
            f" WHERE t.conv = ? AND t.id > ? AND t.id < ?{' AND t.chat = 1' if chat_only else ''}"
            f" AND m.kind IN ({marks})"
            f" ORDER BY t.id {'DESC' if newest else 'ASC'} LIMIT ?",
            (conv, after_id, before_id, *kinds, limit)).fetchall()
        if newest:
            rows.reverse()
        return rows

    # Both walk messages_ts to one end of the range: O(log n). (max(id)/min(id) with a WHERE
    # on ts would walk the rowids from the far end instead, row by row, until ts matched.)
    # Ordering by (ts, id) gives the same row as max/min of id, as ids and times grow together.
    def last_id_at_or_before(self, ts_ms: int) -> int:
        row = self.conn.execute("SELECT id FROM messages WHERE ts <= ?"
                                " ORDER BY ts DESC, id DESC LIMIT 1", (ts_ms,)).fetchone()
        return row[0] if row is not None else 0

    def first_id_at_or_after(self, ts_ms: int) -> int:
        row = self.conn.execute("SELECT id FROM messages WHERE ts >= ?"
                                " ORDER BY ts, id LIMIT 1", (ts_ms,)).fetchone()
        return row[0] if row is not None else NO_UPPER_BOUND

    def floor_id(self) -> int:
        """Events with an id up to this one were deleted by retention (0: none were)."""
        row = self.conn.execute(
            "SELECT value FROM meta WHERE key='retention_floor_id'").fetchone()
        return int(row[0]) if row else 0

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None:
        rows = self.select(conv, 0, NO_UPPER_BOUND, 1, True, kinds)
        return rows[0] if rows else None

    def conversations_with_prefix(self, prefix: str) -> list[str]:
        return conversations_with_prefix(self.conn, prefix)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def replay(reader: HistoryReader, conv: str, before_id: int, limit: int) -> list[tuple]:
    """The last `limit` messages (PRIVMSG/NOTICE) of a timeline before an id, oldest first."""
    return reader.select(conv, 0, before_id, limit, True, ("PRIVMSG", "NOTICE"))
