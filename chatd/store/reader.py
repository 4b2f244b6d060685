"""Reading the history: `HistoryReader`, the read-only queries a worker makes for join replay,
CHATHISTORY, SEARCH and REDACT, on a read-only connection of its own. Every query is an index range walk that
stops after `limit` rows, whatever the history holds (chatd/store/schema.py): a page of
events walks the index that holds exactly the kinds the client may see — `timeline_chat`
(PRIVMSG, NOTICE), `timeline_events` (every kind but TAGMSG) or the timeline's primary key
(every kind) — so no row it skips is ever read; and TARGETS reads `private_latest` by time.
A redacted message (a tombstone, class CLASS_REDACTED) is in none of those walks. SEARCH reads
the full-text index (chatd/store/search_index.py) newest first, under a time limit."""

from __future__ import annotations

import functools
import sqlite3
import time
from pathlib import Path

from chatd.events import MESSAGE_KINDS, NO_UPPER_BOUND, HistoryUnavailable

CHAT_KINDS = frozenset(MESSAGE_KINDS)
# timeline.chat: which class of event a row is (chatd/store/schema.py), so that what each
# client may see is one index: its class set is one of VISIBLE_CLASSES. A redacted message
# (chatd/store/tombstones.py) becomes CLASS_REDACTED: no client sees it any more.
CLASS_EVENT, CLASS_MESSAGE, CLASS_TAGMSG, CLASS_REDACTED = 0, 1, 2, 3
# class set -> (the index that holds exactly those rows, or None for the primary key; the
# WHERE term that selects them)
_CLASS_INDEXES = {
    frozenset({CLASS_MESSAGE}): ("timeline_chat", "t.chat = 1"),
    frozenset({CLASS_EVENT, CLASS_MESSAGE}): ("timeline_events", "t.chat < 2"),
    frozenset({CLASS_EVENT, CLASS_MESSAGE, CLASS_TAGMSG}): (None, "t.chat < 3"),
}
SEARCH_TABLE = "message_search"  # chatd/store/search_index.py
SEARCH_STEPS = 1000  # SQLite VM steps between two looks at a search's time limit
_COLUMNS = "m.id, m.ts, m.kind, m.source, m.target, m.text, m.tags, m.account"


def timeline_class(kind: str) -> int:
    """The value of timeline.chat for an event of `kind`."""
    if kind in CHAT_KINDS:
        return CLASS_MESSAGE
    return CLASS_TAGMSG if kind == "TAGMSG" else CLASS_EVENT


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


def _reading(query):
    """A query of HistoryReader: any SQLite error becomes HistoryUnavailable, and the
    connection is dropped (the next query reopens the file, which may have been restored)."""
    @functools.wraps(query)
    def guarded(self, *args):
        try:
            return query(self, *args)
        except sqlite3.Error as exc:
            self.close()
            raise HistoryUnavailable(f"{self.path}: {exc}") from exc
    return guarded


def _walk(kinds: tuple[str, ...]) -> tuple[str, str]:
    """The INDEXED BY clause and its WHERE term that make a select walk exactly the rows of
    the classes of `kinds` (named: without statistics SQLite's planner prefers the primary
    key). Every set of kinds a client may see fills its classes; any other set (chatd asks
    none) is still answered right, filtered on m.kind as the primary key is walked."""
    index = _CLASS_INDEXES.get(frozenset(timeline_class(kind) for kind in kinds))
    if index is None:
        return "", " AND t.chat < 3"
    name, where = index
    return (f" INDEXED BY {name}" if name else ""), f" AND {where}"


def private_timelines_between(conn: sqlite3.Connection, low: int, high: int
                              ) -> dict[int, tuple[str, ...]]:
    """id -> the private timelines holding it, for the ids low..high: one range of the
    partial index `timeline_private_ids` (chatd/store/schema.py), which holds only private
    timelines' rows, so channel traffic is never read."""
    found: dict[int, tuple[str, ...]] = {}
    for event_id, conv in conn.execute(
            "SELECT id, conv FROM timeline INDEXED BY timeline_private_ids"
            " WHERE id BETWEEN ? AND ? AND substr(conv, 1, 1) IN ('~', '!')", (low, high)):
        found[event_id] = found.get(event_id, ()) + (conv,)
    return found


class HistoryReader:
    """Read-only queries for a worker. Rows are event tuples (see events.py). Every query
    raises HistoryUnavailable, never sqlite3.Error."""

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

    @_reading
    def select(self, conv: str, after_id: int, before_id: int, limit: int, newest: bool,
               kinds: tuple[str, ...]) -> list[tuple]:
        """Up to `limit` events of a timeline with after_id < id < before_id and a kind in
        `kinds`: the newest ones if `newest`, else the oldest ones; always oldest first."""
        if limit <= 0:
            return []
        marks = ",".join("?" * len(kinds))
        indexed_by, where = _walk(kinds)
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM timeline t{indexed_by} JOIN messages m ON m.id = t.id"
            f" WHERE t.conv = ? AND t.id > ? AND t.id < ?{where} AND m.kind IN ({marks})"
            f" ORDER BY t.id {'DESC' if newest else 'ASC'} LIMIT ?",
            (conv, after_id, before_id, *kinds, limit)).fetchall()
        if newest:
            rows.reverse()
        return rows

    # Both walk messages_ts to one end of the range: O(log n). (max(id)/min(id) with a WHERE
    # on ts would walk the rowids from the far end instead, row by row, until ts matched.)
    # Ordering by (ts, id) gives the same row as max/min of id, as ids and times grow together.
    @_reading
    def last_id_at_or_before(self, ts_ms: int) -> int:
        row = self.conn.execute("SELECT id FROM messages WHERE ts <= ?"
                                " ORDER BY ts DESC, id DESC LIMIT 1", (ts_ms,)).fetchone()
        return row[0] if row is not None else 0

    @_reading
    def first_id_at_or_after(self, ts_ms: int) -> int:
        row = self.conn.execute("SELECT id FROM messages WHERE ts >= ?"
                                " ORDER BY ts, id LIMIT 1", (ts_ms,)).fetchone()
        return row[0] if row is not None else NO_UPPER_BOUND

    @_reading
    def floor_id(self, conv: str) -> int:
        """The timeline's events with an id up to this one were deleted by retention or the
        size quota (0: none were)."""
        row = self.conn.execute("SELECT id FROM history_floors WHERE conv = ?",
                                (conv,)).fetchone()
        return row[0] if row else 0

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None:
        rows = self.select(conv, 0, NO_UPPER_BOUND, 1, True, kinds)
        return rows[0] if rows else None

    @_reading
    def private_latest(self, owner: str, after_ts: int, before_ts: int, limit: int,
                       newest: bool) -> list[tuple[str, tuple]]:
        """The private conversations of `owner` (events.history_owner) whose latest PRIVMSG
        or NOTICE has after_ts < ts < before_ts, as (timeline key, that message): the `limit`
        latest ones if `newest`, else the earliest ones; always oldest first. One walk of
        private_latest's (owner, ts) index, however many conversations the owner has."""
        if limit <= 0:
            return []
        order = "DESC" if newest else "ASC"
        rows = self.conn.execute(
            f"SELECT p.conv, {_COLUMNS} FROM private_latest p JOIN messages m ON m.id = p.id"
            f" WHERE p.owner = ? AND p.ts > ? AND p.ts < ?"
            f" ORDER BY p.ts {order}, p.conv {order} LIMIT ?",
            (owner, after_ts, before_ts, limit)).fetchall()
        found = [(row[0], row[1:]) for row in rows]
        if newest:
            found.reverse()
        return found

    @_reading
    def searchable(self) -> bool:
        """Whether the history has a full-text index (not without FTS5)."""
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                 (SEARCH_TABLE,)).fetchone() is not None

    @_reading
    def unindexed_up_to(self) -> int:
        """Messages with an id up to this one are not in the index yet (0: all are)."""
        row = self.conn.execute(
            "SELECT value FROM meta WHERE key = 'search_unindexed_up_to'").fetchone()
        return int(row[0]) if row else 0

    @_reading
    def search(self, match: str, after_id: int, before_id: int, limit: int, newest: bool,
               time_limit_s: float) -> tuple[list[tuple], bool]:
        """Up to `limit` indexed messages matching the FTS5 expression `match` (built by
        chatd/search_terms.py) with after_id < id < before_id: the newest if `newest`, else
        the oldest; always oldest first. One walk of the index in id order, stopped after
        `limit` rows or `time_limit_s`, whichever comes first: returns (rows, whether the
        walk finished), the rows found before the time ran out being the nearest ones."""
        if limit <= 0:
            return [], True
        deadline = time.monotonic() + time_limit_s
        rows: list[tuple] = []
        finished = True
        self.conn.set_progress_handler(lambda: time.monotonic() > deadline, SEARCH_STEPS)
        try:
            cursor = self.conn.execute(
                f"SELECT {_COLUMNS} FROM {SEARCH_TABLE} s JOIN messages m ON m.id = s.rowid"
                f" WHERE {SEARCH_TABLE} MATCH ? AND s.rowid > ? AND s.rowid < ?"
                f" AND m.text <> '' ORDER BY s.rowid {'DESC' if newest else 'ASC'} LIMIT ?",
                (match, after_id, before_id, limit))
            for row in cursor:
                rows.append(row)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) != sqlite3.SQLITE_INTERRUPT:
                raise
            finished = False
        finally:
            self.conn.set_progress_handler(None, 0)
        if newest:
            rows.reverse()
        return rows, finished

    @_reading
    def message_in(self, conv: str, event_id: int) -> tuple | None:
        """The event `event_id` if the timeline `conv` holds it and it is not redacted."""
        return self.conn.execute(
            f"SELECT {_COLUMNS} FROM timeline t JOIN messages m ON m.id = t.id"
            f" WHERE t.conv = ? AND t.id = ? AND t.chat < {CLASS_REDACTED}",
            (conv, min(event_id, NO_UPPER_BOUND))).fetchone()

    @_reading
    def private_timelines(self, event_id: int) -> tuple[str, ...]:
        """The private timelines that hold the event (each participant's)."""
        return private_timelines_between(self.conn, event_id, event_id).get(event_id, ())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def replay(reader: HistoryReader, conv: str, before_id: int, limit: int) -> list[tuple]:
    """The last `limit` messages (PRIVMSG/NOTICE) of a timeline before an id, oldest first."""
    return reader.select(conv, 0, before_id, limit, True, ("PRIVMSG", "NOTICE"))
