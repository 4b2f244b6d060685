"""The writer's side of the full-text index of the history (SEARCH, chatd/session/search.py):
the FTS5 table, indexing messages in the transaction that stores them, removing them again
(redaction, retention, the quota), and indexing the messages a history held before it had an
index, a batch at a time between commits. Only the writer calls these.

`message_search` is a contentless FTS5 table (content=''): it holds the index and no copy of
the texts, which stay in `messages` only; its rowid is the message id. What it holds for a
message is chatd/search_terms.py's. A contentless table forgets by being told again what it
was given, so removing computes the same columns from the same row and the same timelines
(`timelines_of`: a channel message's timeline is its folded channel, a private message's
are read from the `timeline_private_ids` index). Only PRIVMSG and NOTICE with text are
indexed (a redacted message has none).

Building the index for an older history ("backfill"): when the table is created, every id up
to the newest one already stored is unindexed (meta `search_unindexed_up_to`). New messages
are indexed as they are stored; `backfill_step` indexes the newest BACKFILL_BATCH of the
unindexed ones and lowers the mark, in one short transaction, and the writer calls it while
it has nothing to commit, until the mark is 0. Meanwhile a search finds what is indexed (the
newest part of the history: a search, newest first, is right as far as it goes) and says
where the indexed part begins (chatd/session/search.py).

Without FTS5 in this Python's SQLite nothing here is created and chatd runs without search
(the workers then offer no draft/search).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from typing import Iterable, NamedTuple

from chatd.events import MESSAGE_KINDS
from chatd.limits import is_channel
from chatd.search_terms import scope_text
from chatd.store.reader import SEARCH_TABLE, private_timelines_between
from ircproto.casemap import casefold

log = logging.getLogger(__name__)

UNINDEXED_KEY = "search_unindexed_up_to"
# The table and the shadow tables FTS5 makes for it (contentless, no column sizes: no
# _content, no _docsize), for chatd/store/schema.py's list of chatd's own tables.
TABLES = (SEARCH_TABLE, f"{SEARCH_TABLE}_data", f"{SEARCH_TABLE}_idx", f"{SEARCH_TABLE}_config")
# unicode61 with diacritics folded away ("café" finds "cafe"); no column sizes: results are
# ordered by time, never by bm25 (which would need them).
_CREATE = (f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(text, scope, content='',"
           " columnsize=0, tokenize='unicode61 remove_diacritics 2')")
# Events looked at per backfill transaction: about 20 ms each (measured on a busy 2-core
# machine, bench/search.py), so a commit never waits long behind one.
BACKFILL_BATCH = 500


class Indexed(NamedTuple):
    """What the index needs of a stored message."""
    id: int
    kind: str
    source: str
    target: str
    text: str


def fts5_available(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:  # "no such module: fts5"
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def exists(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                        (SEARCH_TABLE,)).fetchone() is not None


class IndexUnusable(sqlite3.DatabaseError):
    """The history has a search index this Python's SQLite cannot keep (no FTS5)."""


def ensure(conn: sqlite3.Connection) -> bool:
    """Create the index if SQLite has FTS5 and the history has none yet, marking every
    message already stored as unindexed. Returns whether the history has an index. A history
    that has one where SQLite has no FTS5 is refused (IndexUnusable): no message could be
    stored without it, and storing them unindexed would leave holes in it for good."""
    if exists(conn):
        if not fts5_available(conn):
            raise IndexUnusable("the history has a search index (FTS5) but this Python's"
                                " SQLite has no FTS5: run chatd with a Python that has it")
        return True
    if not fts5_available(conn):
        log.warning("this Python's SQLite has no FTS5: chatd runs without SEARCH")
        return False
    conn.execute("BEGIN")
    try:
        conn.execute(_CREATE)
        last = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (UNINDEXED_KEY, str(last)))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if last:
        log.info("search index created; the %d events already stored are indexed in the"
                 " background, newest first", last)
    return True


def unindexed_up_to(conn: sqlite3.Connection) -> int:
    """Messages with an id up to this one are not indexed yet (0: all are)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (UNINDEXED_KEY,)).fetchone()
    return int(row[0]) if row else 0


def _is_searchable(row: Indexed) -> bool:
    return row.kind in MESSAGE_KINDS and row.text != ""


def _values(row: Indexed, convs: tuple[str, ...]) -> tuple:
    return (row.id, row.text, _scope(convs, row.source.split("!", 1)[0]))


# Most messages share their channel and sender with many others: each scope is built once.
_scope = functools.lru_cache(maxsize=4096)(scope_text)


def add(conn: sqlite3.Connection, rows: Iterable[tuple[Indexed, tuple[str, ...]]]) -> None:
    """Index messages (each with its timelines), inside the caller's transaction."""
    values = [_values(row, convs) for row, convs in rows if _is_searchable(row)]
    if values:
        conn.executemany(f"INSERT INTO {SEARCH_TABLE} (rowid, text, scope) VALUES (?, ?, ?)",
                         values)


def remove(conn: sqlite3.Connection, rows: list[Indexed]) -> None:
    """Take messages out of the index, inside the caller's transaction: those it holds
    (searchable, above the unindexed mark); the others are left alone, since telling a
    contentless table to forget what it was never given would corrupt it."""
    floor = unindexed_up_to(conn)
    held = [row for row in rows if row.id > floor and _is_searchable(row)]
    if not held:
        return
    convs = timelines_of(conn, held)
    conn.executemany(
        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, text, scope)"
        " VALUES ('delete', ?, ?, ?)", [_values(row, convs[row.id]) for row in held])


def timelines_of(conn: sqlite3.Connection, rows: list[Indexed]) -> dict[int, tuple[str, ...]]:
    """The timelines each message is in: its channel, or the private timelines that hold it
    (one indexed range read for all of them)."""
    found: dict[int, tuple[str, ...]] = {}
    private = [row.id for row in rows if not is_channel(row.target)]
    by_id = private_timelines_between(conn, min(private), max(private)) if private else {}
    for row in rows:
        found[row.id] = ((casefold(row.target),) if is_channel(row.target)
                         else tuple(by_id.get(row.id, ())))
    return found


def messages_between(conn: sqlite3.Connection, low: int, high: int) -> list[Indexed]:
    """The stored PRIVMSG and NOTICE rows with low <= id <= high (a range of the key)."""
    return [Indexed(*row) for row in conn.execute(
        "SELECT id, kind, source, target, text FROM messages WHERE id BETWEEN ? AND ?"
        " AND kind IN ('PRIVMSG', 'NOTICE')", (low, high))]


def backfill_step(conn: sqlite3.Connection, batch: int = BACKFILL_BATCH) -> bool:
    """Index the newest `batch` messages not indexed yet, in one transaction. Returns whether
    any are left."""
    mark = unindexed_up_to(conn)
    if mark <= 0:
        return False
    conn.execute("BEGIN")
    try:
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM messages WHERE id <= ? ORDER BY id DESC LIMIT ?", (mark, batch))]
        low = ids[-1] if len(ids) == batch else 0  # fewer: nothing older is left
        if ids:
            rows = [row for row in messages_between(conn, max(low, 1), mark)]
            convs = timelines_of(conn, rows) if rows else {}
            add(conn, [(row, convs[row.id]) for row in rows])
        new_mark = max(low - 1, 0)
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(new_mark), UNINDEXED_KEY))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if new_mark == 0:
        log.info("search index: every stored message is indexed")
    return new_mark > 0
