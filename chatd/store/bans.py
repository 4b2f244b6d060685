"""K-lines in the history database: their table, applying the KLINE/UNKLINE writes that reach
the writer in the ordered stream (rows of kind BAN_KIND, chatd/events.py) inside its
group-commit transaction, and loading those in force at start (the master learns them from
the writer's Ready). Each write sets the final state it names (add = the whole record, del),
so replaying an uncommitted tail after a writer restart ends in the same state. Only the
writer calls these.

Schema (added in schema version 5, chatd/store/schema.py): one row per mask, the normalized
text chatd/hub/server_bans.py keys its table by.
"""

from __future__ import annotations

import json
import sqlite3

from chatd.events import StoreRow

TABLE = "server_bans"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    mask       TEXT PRIMARY KEY,       -- user@host or $a:account, normalized
    reason     TEXT NOT NULL,
    setter     TEXT NOT NULL,          -- the [opers] name of whoever set it
    set_ms     INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL DEFAULT 0  -- 0: never
) WITHOUT ROWID;
"""

# A K-line as the master learns it at start (frames.Ready.bans):
# (mask, reason, setter, set_ms, expires_ms)
BanRow = tuple[str, str, str, int, int]


def apply_rows(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """K-line writes from the ordered stream (a StoreRow's source is "add" or "del", target
    the mask, text the JSON payload), inside the caller's transaction; remembers the last id
    so it is never given out again (a write has an id but no message row)."""
    for row in rows:
        if row.source == "add":
            ban = json.loads(row.text)
            conn.execute(f"INSERT OR REPLACE INTO {TABLE} (mask, reason, setter, set_ms,"
                         " expires_ms) VALUES (?, ?, ?, ?, ?)",
                         (row.target, ban["reason"], ban["setter"], ban["set_ms"],
                          ban["expires_ms"]))
        elif row.source == "del":
            conn.execute(f"DELETE FROM {TABLE} WHERE mask = ?", (row.target,))
        else:
            raise ValueError(f"unknown K-line operation {row.source!r}")
    if rows:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_ban_id', ?)",
                     (str(max(row.event_id for row in rows)),))


def load_in_force(conn: sqlite3.Connection, now_ms: int) -> list[BanRow]:
    """The K-lines in force; the expired ones are deleted (they would only grow the file)."""
    conn.execute(f"DELETE FROM {TABLE} WHERE expires_ms != 0 AND expires_ms <= ?", (now_ms,))
    return conn.execute(f"SELECT mask, reason, setter, set_ms, expires_ms FROM {TABLE}"
                        " ORDER BY mask").fetchall()
