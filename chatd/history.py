"""The SQLite history: schema, the writer's inserts and the readers' queries.

Only the writer process opens the database read-write (`open_for_writing`); workers open it
read-only (`open_for_reading`). WAL mode lets readers run while the writer commits.

Schema: `messages` holds one row per event with its id (the order of the history) and time;
`timeline` lists which conversation(s) an event belongs to: a channel message belongs to its
channel, a QUIT or NICK to every channel the user was in, a private message to the pair's
private timeline. Queries walk `timeline`'s (conv, id) primary key, so they stay O(log n).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id     INTEGER PRIMARY KEY,
    ts     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS timeline (
    conv TEXT NOT NULL,
    id   INTEGER NOT NULL,
    PRIMARY KEY (conv, id)
) WITHOUT ROWID;
"""


class HistoryError(Exception):
    """The history file cannot be used (wrong format, newer schema, unreadable)."""


def open_for_writing(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (creating if needed) the history for the writer process."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise HistoryError(f"schema version {row[0]} is newer than this chatd")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(str(exc)) from None
    return conn


def open_for_reading(path: Path) -> sqlite3.Connection:
    """Open the history read-only (workers)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    return conn


def last_id_and_time(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event's id and time (0, 0 for an empty history)."""
    row = conn.execute("SELECT id, ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, 0)


def latest_topics(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(channel, topic text, setter source, ts_ms) of each channel's newest TOPIC event."""
    return conn.execute(
        "SELECT m.target, m.text, m.source, m.ts FROM messages m"
        " JOIN (SELECT max(id) AS id FROM messages WHERE kind='TOPIC' GROUP BY target) t"
        " ON m.id = t.id").fetchall()


def insert_events(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Insert (id, ts, kind, source, target, text, convs) rows in one transaction.
    Rows already stored (same id: a batch resent after a writer restart) are skipped."""
    conn.execute("BEGIN")
    try:
        conn.executemany(
            "INSERT OR IGNORE INTO messages (id, ts, kind, source, target, text)"
            " VALUES (?, ?, ?, ?, ?, ?)", [row[:6] for row in rows])
        conn.executemany(
            "INSERT OR IGNORE INTO timeline (conv, id) VALUES (?, ?)",
            [(conv, row[0]) for row in rows for conv in row[6]])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def replay(conn: sqlite3.Connection, conv: str, before_id: int, limit: int) -> list[tuple]:
    """The last `limit` messages (PRIVMSG/NOTICE) of a timeline with id < before_id, oldest
    first, as event tuples (id, ts, kind, source, target, text)."""
    if limit <= 0:
        return []
    rows = conn.execute(
        "SELECT m.id, m.ts, m.kind, m.source, m.target, m.text"
        " FROM timeline t JOIN messages m ON m.id = t.id"
        " WHERE t.conv = ? AND t.id < ? AND m.kind IN ('PRIVMSG', 'NOTICE')"
        " ORDER BY t.id DESC LIMIT ?", (conv, before_id, limit)).fetchall()
    rows.reverse()
    return rows
