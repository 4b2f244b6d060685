"""What the history file keeps per account and conversation: the IRCv3 read marker
(draft/read-marker: the time of the last message the user read) and how far the account's
connections that cannot ask for history were shown a channel (the JOIN replay leaves that
out: docs/history.md). One table, one row per (account, target), at most
READ_MARKER_TARGETS rows per account.

Writes reach the writer in the ordered stream like account writes (rows of kind READ_KIND,
chatd/events.py, applied inside its group-commit transaction): each only ever moves a value
forward (max), so replaying an uncommitted tail after a writer restart ends in the same
state. Workers read the table through `MarkerReader`, on their read-only connection: a value
they read after a frame was released includes every write decided before that frame
(commit-before-send).

Schema (added in schema version 7, chatd/store/schema.py).
"""

from __future__ import annotations

import json
import sqlite3

from chatd.events import ID, MARKER_OP, MESSAGE_KINDS, SEEN_OP, HistoryUnavailable, StoreRow
from chatd.store.reader import HistoryReader

TABLE = "read_markers"
READ_MARKER_TARGETS = 1000  # rows per account; past it the least recently touched goes
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    account    TEXT NOT NULL,              -- folded account name
    target     TEXT NOT NULL,              -- folded channel or nick
    read_ts    INTEGER NOT NULL DEFAULT 0, -- MARKREAD: time of the last message read (0: none)
    seen_id    INTEGER NOT NULL DEFAULT 0, -- every message of the channel up to this id was
                                           -- shown to a connection of the account (0: none)
    updated_id INTEGER NOT NULL,           -- the write that last touched it: past the cap,
                                           -- the least recently touched row goes
    PRIMARY KEY (account, target)
) WITHOUT ROWID;
"""


def apply_rows(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Read-marker writes from the ordered stream, inside the caller's transaction. A row's
    source is the operation, target the folded account, text the JSON payload: MARKER_OP
    {"target": t, "ts": ms}, SEEN_OP {"seen": [[channel, id], ...]}."""
    for row in rows:
        payload = json.loads(row.text)
        if row.source == MARKER_OP:
            _raise(conn, row.target, payload["target"], payload["ts"], 0, row.event_id)
        elif row.source == SEEN_OP:
            for channel, seen_id in payload["seen"]:
                _raise(conn, row.target, channel, 0, seen_id, row.event_id)
        else:
            raise ValueError(f"unknown read-marker operation {row.source!r}")


def _raise(conn: sqlite3.Connection, account: str, target: str, read_ts: int, seen_id: int,
           event_id: int) -> None:
    """Move (account, target) forward to these values, never back; make room first if it
    is a new target of an account at its cap (the least recently touched row is forgotten)."""
    known = conn.execute(f"SELECT 1 FROM {TABLE} WHERE account = ? AND target = ?",
                         (account, target)).fetchone()
    if known is None:
        count = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE account = ?",
                             (account,)).fetchone()[0]
        if count >= READ_MARKER_TARGETS:  # one at a time: the cap is never passed
            conn.execute(
                f"DELETE FROM {TABLE} WHERE account = ? AND target = (SELECT target FROM"
                f" {TABLE} WHERE account = ? ORDER BY updated_id LIMIT 1)", (account, account))
    conn.execute(
        f"INSERT INTO {TABLE} (account, target, read_ts, seen_id, updated_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, target) DO UPDATE SET"
        " read_ts = max(read_ts, excluded.read_ts), seen_id = max(seen_id, excluded.seen_id),"
        " updated_id = max(updated_id, excluded.updated_id)",
        (account, target, read_ts, seen_id, event_id))


def forget_account(conn: sqlite3.Connection, account: str) -> None:
    """A deleted account's markers go with it (whoever registers the name next must not
    inherit them: read markers are never shown to another user)."""
    conn.execute(f"DELETE FROM {TABLE} WHERE account = ?", (account,))


class MarkerReader:
    """A worker's reads of the table and of what the JOIN replay of an account needs, on the
    worker's read-only history connection. Every method raises HistoryUnavailable, never
    sqlite3.Error (chatd/session/ is pure and does not import sqlite3)."""

    def __init__(self, history: HistoryReader) -> None:
        self.history = history

    def _row(self, account: str, target: str) -> tuple[int, int] | None:
        try:
            return self.history.conn.execute(
                f"SELECT read_ts, seen_id FROM {TABLE} WHERE account = ? AND target = ?",
                (account, target)).fetchone()
        except sqlite3.Error as exc:
            self.history.close()
            raise HistoryUnavailable(f"{self.history.path}: {exc}") from exc

    def marker(self, account: str, target: str) -> int:
        """The read marker's time in ms (0: none is set)."""
        row = self._row(account, target)
        return row[0] if row is not None else 0

    def seen_bound(self, account: str, channel: str) -> int | None:
        """The id up to which the account has been shown the channel (its read marker
        counts: every message up to the marked time was read), or None if nothing is known
        (the account's first JOIN there: the replay is the usual one)."""
        row = self._row(account, channel)
        if row is None:
            return None
        read_ts, seen_id = row
        if read_ts:
            seen_id = max(seen_id, self.history.last_id_at_or_before(read_ts))
        return seen_id

    def replay_after(self, channel: str, after_id: int, before_id: int,
                     limit: int, count_cap: int) -> tuple[list[tuple], int]:
        """The channel's last `limit` messages with after_id < id < before_id, oldest first,
        and how many more there are before them (counted up to count_cap + 1: the count is
        an index walk, bounded like every read; not counted when count_cap is 0)."""
        rows = self.history.select(channel, after_id, before_id, limit, True, MESSAGE_KINDS)
        if len(rows) < limit or count_cap <= 0:
            return rows, 0
        try:
            skipped = self.history.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM timeline INDEXED BY timeline_chat"
                " WHERE conv = ? AND id > ? AND id < ? AND chat = 1 LIMIT ?)",
                (channel, after_id, rows[0][ID], count_cap + 1)).fetchone()[0]
        except sqlite3.Error as exc:
            self.history.close()
            raise HistoryUnavailable(f"{self.history.path}: {exc}") from exc
        return rows, skipped
