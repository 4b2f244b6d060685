"""The writer's side of the history: where the history ends (to number new events after it),
the channels' last topics, inserting events in one transaction, and retention. Only the
writer process calls these, on the read-write connection from chatd/store/schema.py."""

from __future__ import annotations

import sqlite3

from chatd.events import ACCOUNT_KIND, BAN_KIND, StoreRow
from chatd.store import accounts, bans
from chatd.store.reader import CHAT_KINDS, conversations_with_prefix


def last_id_and_time(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event's id and time (0, 0 for an empty history)."""
    row = conn.execute("SELECT id, ts FROM messages ORDER BY id DESC LIMIT 1").fetchone()
    last_id, last_ts = (row[0], row[1]) if row else (0, 0)
    # Retention may have deleted the newest events too; their ids must never be given out
    # again (a msgid is stable forever), so count from the highest id ever deleted as well,
    # and from the last account or K-line write (which have an id but no message row).
    for key in ("retention_floor_id", "last_account_id", "last_ban_id"):  # no message row
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
    the batch are applied in the same transaction."""
    account_rows = [row for row in rows if row.kind == ACCOUNT_KIND]
    ban_rows = [row for row in rows if row.kind == BAN_KIND]
    if account_rows or ban_rows:
        rows = [row for row in rows if row.kind not in (ACCOUNT_KIND, BAN_KIND)]
    conn.execute("BEGIN")
    try:
        if account_rows:
            accounts.apply_rows(conn, account_rows)
        if ban_rows:
            bans.apply_rows(conn, ban_rows)
        conn.executemany(
            "INSERT OR IGNORE INTO messages (id, ts, kind, source, target, text, tags, account)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(row.event_id, row.ts_ms, row.kind, row.source, row.target, row.text, row.tags,
              row.account) for row in rows])
        conn.executemany(
            "INSERT OR IGNORE INTO timeline (conv, id, chat) VALUES (?, ?, ?)",
            [(conv, row.event_id, row.kind in CHAT_KINDS) for row in rows for conv in row.convs])
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
