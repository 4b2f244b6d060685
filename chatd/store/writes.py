"""The writer's side of the history: where the history ends (to number new events after it),
the channels' last topics, inserting events in one transaction (with their full-text index
entries and the tombstones their REDACTs make), retention and the size quota (which record
each timeline's floor: how far back its history was deleted). Only the writer process calls
these, on the read-write connection from chatd/store/schema.py."""

from __future__ import annotations

import sqlite3

from chatd.events import (ACCOUNT_KIND, BAN_KIND, CHANNEL_KIND, MESSAGE_KINDS, READ_KIND,
                          REDACT_KIND, StoreRow, owner_of_timeline)
from chatd.store import accounts, bans, channels, members, read_markers, search_index, tombstones
from chatd.store.reader import CLASS_MESSAGE, conversations_with_prefix, timeline_class

# writes applied to a table of their own, not stored as messages
_WRITE_KINDS = (ACCOUNT_KIND, BAN_KIND, CHANNEL_KIND)
# Kinds that change a table beside the events, rare next to messages: one pass picks them out,
# so a batch of messages is walked no more often for them.
_SIDE_KINDS = frozenset({*_WRITE_KINDS, REDACT_KIND, READ_KIND}) | members.MEMBERSHIP_KINDS

# meta keys of ids given out that have no message row: they must never be given out again
UNSTORED_ID_KEYS = ("retention_floor_id", "last_account_id", "last_ban_id", "last_channel_id",
                    "last_unstored_id")


def last_id_and_time(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event's id and time (0, 0 for an empty history)."""
    row = conn.execute("SELECT id, ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
    last_id, last_ts = (row[0], row[1]) if row else (0, 0)
    # Retention may have deleted the newest events too; their ids must never be given out
    # again (a msgid is stable forever), so count from the highest id ever deleted as well,
    # from the last account, K-line or channel write and from the last event relayed but not
    # stored (a typing notification): each had an id but has no message row.
    for key in UNSTORED_ID_KEYS:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row:
            last_id = max(last_id, int(row[0]))
    return last_id, last_ts


def insert_events(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Insert rows in one transaction. Rows already stored (same id: a batch resent after a
    writer restart) are skipped. Account, K-line and channel writes (_WRITE_KINDS) in the
    batch, read-marker writes (READ_KIND, no timeline: their ids are recorded as below), and
    what JOIN, PART, KICK, NICK and QUIT change in `live_members` (chatd/store/members.py),
    are applied in the same transaction. A row of no timeline (a
    typing notification, a QUIT of someone in no channel) is not stored — no query could find
    it — but its id is recorded. New messages go into the full-text index (if the history has
    one), and a REDACT makes a tombstone of the message it names (chatd/store/tombstones.py)."""
    side = [row for row in rows if row.kind in _SIDE_KINDS]
    account_rows = [row for row in side if row.kind == ACCOUNT_KIND]
    ban_rows = [row for row in side if row.kind == BAN_KIND]
    channel_rows = [row for row in side if row.kind == CHANNEL_KIND]
    events = ([row for row in rows if row.kind not in _WRITE_KINDS]
              if account_rows or ban_rows or channel_rows else rows)
    stored = [row for row in events if row.convs]
    unstored = [row.event_id for row in events if not row.convs]
    conn.execute("BEGIN")
    try:
        # Read markers before accounts: an account deleted in this batch loses them all.
        read_rows = [row for row in side if row.kind == READ_KIND]
        if read_rows:
            read_markers.apply_rows(conn, read_rows)
        if account_rows:
            accounts.apply_rows(conn, account_rows)
        if ban_rows:
            bans.apply_rows(conn, ban_rows)
        if channel_rows:
            channels.apply_rows(conn, channel_rows)
        # Rows at or below the last stored id were stored, and indexed, before (a batch
        # resent after a writer restart): they are not indexed again.
        last_stored = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
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
        membership = [row for row in side if row.kind in members.MEMBERSHIP_KINDS and row.convs]
        if membership:
            members.apply_rows(conn, membership)
        if search_index.exists(conn):
            search_index.add(conn, [(search_index.Indexed(row.event_id, row.kind, row.source,
                                                          row.target, row.text), row.convs)
                                    for row in stored if row.event_id > last_stored
                                    and row.kind in MESSAGE_KINDS])
        redactions = [row for row in side if row.kind == REDACT_KIND and row.convs]
        if redactions:
            tombstones.apply(conn, redactions)
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
    """Delete every event with an id up to `floor`, and remember, for each timeline that lost
    events, the highest id it lost (its floor: readers say that history before it is gone).
    Returns how many events were deleted."""
    conn.execute("BEGIN")
    try:
        if search_index.exists(conn):  # while the rows and their timelines are still there
            first = conn.execute("SELECT min(id) FROM messages").fetchone()[0]
            if first is not None:
                search_index.remove(conn, search_index.messages_between(conn, first, floor))
        # Per conversation, so each step is a range of the (conv, id) key, not a scan: first
        # the timeline's own floor (its last event to go; none if it loses nothing), then
        # the delete.
        ranges = [(conv, floor) for conv in conversations_with_prefix(conn, "")]
        conn.executemany(
            "INSERT INTO history_floors (conv, id) SELECT conv, max(id) FROM timeline"
            " WHERE conv = ? AND id <= ? GROUP BY conv"
            " ON CONFLICT (conv) DO UPDATE SET id = max(history_floors.id, excluded.id)", ranges)
        conn.executemany("DELETE FROM timeline WHERE conv = ? AND id <= ?", ranges)
        deleted = conn.execute("DELETE FROM messages WHERE id <= ?", (floor,)).rowcount
        # A conversation whose latest message is gone has none left.
        conn.execute("DELETE FROM private_latest WHERE id <= ?", (floor,))
        _raise_meta_id(conn, "retention_floor_id", floor)  # ids never given out again
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
