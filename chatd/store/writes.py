"""The writer's side of the history: where the history ends (to number new events after it),
the channels' last topics, inserting events in one transaction, retention and the size quota.
Only the writer process calls these, on the read-write connection from chatd/store/schema.py."""

from __future__ import annotations

import sqlite3

from chatd.events import ACCOUNT_KIND, BAN_KIND, READ_KIND, StoreRow, owner_of_timeline
from chatd.store import accounts, bans, read_markers
from chatd.store.reader import CLASS_MESSAGE, conversations_with_prefix, timeline_class

# meta keys of ids given out that have no message row: they must never be given out again
UNSTORED_ID_KEYS = ("retention_floor_id", "last_account_id", "last_ban_id", "last_unstored_id")


def last_id_and_time(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event's id and time (0, 0 for an empty history)."""
    row = conn.execute("SELECT id, ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
    last_id, last_ts = (row[0], row[1]) if row else (0, 0)
    # Retention may have deleted the newest events too; their ids must never be given out
    # again (a msgid is stable forever), so count from the highest id ever deleted as well,
    # from the last account or K-line write and from the last event relayed but not stored
    # (a typing notification): each had an id but has no message row.
    for key in UNSTORED_ID_KEYS:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row:
            last_id = max(last_id, int(row[0]))
    return last_id, last_ts


def latest_topics(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(channel, topic text, setter source, ts_ms) of each channel's newest TOPIC event."""
    return conn.execute(
        "SELECT m.target, m.text, m.source, m.ts FROM messages m"
        " JOIN (SELECT max(id) AS id FROM messages WHERE kind='TOPIC' GROUP BY target) t"
        " ON m.id = t.id").fetchall()


def insert_events(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Insert rows in one transaction. Rows already stored (same id: a batch resent after a
    writer restart) are skipped. Account and K-line writes (kinds ACCOUNT_KIND, BAN_KIND) in
    the batch are applied in the same transaction, and so are read-marker writes (READ_KIND,
    which have no timeline: their ids are recorded as below). A row of no timeline (a typing
    notification, a QUIT of someone in no channel) is not stored — no query could find it —
    but its id is recorded."""
    account_rows = [row for row in rows if row.kind == ACCOUNT_KIND]
    ban_rows = [row for row in rows if row.kind == BAN_KIND]
    events = [row for row in rows if row.kind not in (ACCOUNT_KIND, BAN_KIND)]
    stored = [row for row in events if row.convs]
    unstored = [row.event_id for row in events if not row.convs]
    conn.execute("BEGIN")
    try:
        # Read markers before accounts: an account deleted in this batch loses them all.
        read_rows = [row for row in events if row.kind == READ_KIND]
        if read_rows:
            read_markers.apply_rows(conn, read_rows)
        if account_rows:
            accounts.apply_rows(conn, account_rows)
        if ban_rows:
            bans.apply_rows(conn, ban_rows)
        conn.executemany(
            "INSERT OR IGNORE INTO messages (id, ts, kind, source, target, text, tags, account)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(row.event_id, row.ts_ms, row.kind, row.source, row.target, row.text, row.tags,
              row.account) for row in stored])
        conn.executemany(
            "INSERT OR IGNORE INTO timeline (conv, id, chat) VALUES (?, ?, ?)",
            [(conv, row.event_id, timeline_class(row.kind)) for row in stored
             for conv in row.convs])
        _note_private_latest(conn, stored)
        if unstored:
            _raise_meta_id(conn, "last_unstored_id", max(unstored))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
            conn.execute("ROLLBACK")
        raise


def _note_private_latest(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Each private timeline's latest PRIVMSG/NOTICE, for CHATHISTORY TARGETS (rows come in
    id order, so the last one written for a timeline is its latest)."""
    latest = [(conv, owner, row.event_id, row.ts_ms) for row in rows
              if timeline_class(row.kind) == CLASS_MESSAGE for conv in row.convs
              if (owner := owner_of_timeline(conv))]
    if latest:
        conn.executemany(
            "INSERT INTO private_latest (conv, owner, id, ts) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (conv) DO UPDATE SET id = excluded.id, ts = excluded.ts"
            " WHERE excluded.id > private_latest.id", latest)


def _raise_meta_id(conn: sqlite3.Connection, key: str, event_id: int) -> None:
    conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                 " SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
                 (key, str(event_id), event_id))


def delete_before(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    """Retention: delete events older than `cutoff_ms`. Returns how many were deleted."""
    row = conn.execute("SELECT max(id) FROM messages WHERE ts < ?", (cutoff_ms,)).fetchone()
    if row is None or row[0] is None:
        return 0
    return delete_up_to(conn, row[0])


def delete_up_to(conn: sqlite3.Connection, floor: int) -> int:
    """Delete every event with an id up to `floor`, and remember the floor so readers can say
    that history before it is gone. Returns how many events were deleted."""
    conn.execute("BEGIN")
    try:
        # Per conversation, so each delete is a range of the (conv, id) key, not a scan.
        for conv in conversations_with_prefix(conn, ""):
            conn.execute("DELETE FROM timeline WHERE conv = ? AND id <= ?", (conv, floor))
        deleted = conn.execute("DELETE FROM messages WHERE id <= ?", (floor,)).rowcount
        # A conversation whose latest message is gone has none left.
        conn.execute("DELETE FROM private_latest WHERE id <= ?", (floor,))
        _raise_meta_id(conn, "retention_floor_id", floor)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
            conn.execute("ROLLBACK")
        raise
    return deleted


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the file that hold data (free pages, which new rows reuse, not counted)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return (pages - free) * conn.execute("PRAGMA page_size").fetchone()[0]


def trim_to_quota(conn: sqlite3.Connection, max_bytes: int, keep_fraction: float,
                  max_events: int) -> int:
    """The size quota: when the history's data passes `max_bytes`, delete its oldest events,
    about enough to bring it down to `keep_fraction` of the quota (estimated from the bytes
    per id) but at most `max_events` of them; the next call deletes more if that was not
    enough. Returns how many were deleted."""
    used = used_bytes(conn)
    if used <= max_bytes:
        return 0
    first, last = conn.execute("SELECT min(id), max(id) FROM messages").fetchone()
    if first is None:
        return 0
    share = (used - max_bytes * keep_fraction) / used
    count = min(max_events, max(1, int((last - first + 1) * share)))
    return delete_up_to(conn, first + count - 1)
