"""Kept channels in the history database (docs/history.md, "Channels that are kept"): the
`channels` table, applying the writes of kind CHANNEL_KIND that reach the writer in the
ordered stream (inside its group-commit transaction), loading every row at start (the master
learns them from the writer's Ready), and carrying the topics of an older history — kept then
as TOPIC events only — into the table (the schema-8 migration). Only the writer calls these.

Each write sets the final state it names (set = the whole state, del), so replaying an
uncommitted tail after a writer restart ends in the same state. Retention and the size quota
delete events, never these rows: a kept channel's topic and modes outlive its history.
"""

from __future__ import annotations

import json
import sqlite3

from chatd.events import StoreRow
from chatd.stored_channel import StoredChannel, from_json, from_mapping
from ircproto.casemap import casefold

TABLE = "channels"
# A row holds up to 100 list entries: a table with a rowid (WITHOUT ROWID suits small rows).
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name         TEXT PRIMARY KEY,          -- folded (rfc1459)
    display      TEXT NOT NULL,             -- as first spelled
    founder      TEXT NOT NULL DEFAULT '',  -- folded account; '' none (an autojoin channel)
    created_s    INTEGER NOT NULL,
    flags        TEXT NOT NULL DEFAULT '',  -- the type D modes set
    key          TEXT,                      -- +k (NULL: none)
    user_limit   INTEGER,                   -- +l (NULL: none)
    topic        TEXT NOT NULL DEFAULT '',
    topic_setter TEXT NOT NULL DEFAULT '',  -- a nick
    topic_ms     INTEGER NOT NULL DEFAULT 0,
    lists        TEXT NOT NULL DEFAULT '{{}}',  -- JSON: letter -> [[mask, setter, set_s], ...]
    operators    TEXT NOT NULL DEFAULT '[]'   -- JSON: folded accounts opped on join
);
"""
_COLUMNS = ("name, display, founder, created_s, flags, key, user_limit, topic, topic_setter,"
            " topic_ms, lists, operators")


def apply_rows(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Channel writes from the ordered stream (a StoreRow's source is "set" or "del", target
    the folded name, text the state as JSON), inside the caller's transaction; remembers the
    last id so it is never given out again (a write has an id but no message row)."""
    for row in rows:
        if row.source == "set":
            _put(conn, row.target, from_json(row.text))
        elif row.source == "del":
            conn.execute(f"DELETE FROM {TABLE} WHERE name = ?", (row.target,))
        else:
            raise ValueError(f"unknown channel operation {row.source!r}")
    if rows:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_channel_id', ?)",
                     (str(max(row.event_id for row in rows)),))


def _put(conn: sqlite3.Connection, folded: str, state: StoredChannel) -> None:
    conn.execute(f"INSERT OR REPLACE INTO {TABLE} ({_COLUMNS})"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (folded, state.name, state.founder, state.created_s, state.flags, state.key,
                  state.limit, state.topic, state.topic_setter, state.topic_ts_ms,
                  json.dumps(state.lists), json.dumps(state.operators)))


def load_all(conn: sqlite3.Connection) -> list[StoredChannel]:
    """Every kept channel. A founder or operator account that no longer exists (deleted by
    the admin command while no server ran) is dropped from its rows first: a new account of
    that name must not inherit the channel."""
    known = {row[0] for row in conn.execute("SELECT name FROM accounts")}
    states = []
    for row in conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY name").fetchall():
        (folded, display, founder, created_s, flags, key, limit, topic, setter, topic_ms,
         lists, operators) = row
        state = from_mapping({
            "name": display, "founder": founder, "created_s": created_s, "flags": flags,
            "key": key, "limit": limit, "topic": topic, "topic_setter": setter,
            "topic_ts_ms": topic_ms, "lists": json.loads(lists),
            "operators": json.loads(operators)})
        kept = state._replace(founder=state.founder if state.founder in known else "",
                              operators=tuple(a for a in state.operators if a in known))
        if kept != state:
            _put(conn, folded, kept)
        states.append(kept)
    return states


def carry_topics(conn: sqlite3.Connection) -> None:
    """Schema 8: each channel's latest topic, found among the TOPIC events as chatd before
    schema 8 restored it at start, becomes a row without a founder (its topic alone), inside
    the caller's transaction. One pass over the history, once."""
    latest: dict[str, tuple] = {}  # folded -> (id, spelling, text, setter, ts)
    for event_id, target, text, source, ts in conn.execute(
            "SELECT m.id, m.target, m.text, m.source, m.ts FROM messages m JOIN"
            " (SELECT max(id) AS id FROM messages WHERE kind = 'TOPIC' GROUP BY target) t"
            " ON m.id = t.id"):
        folded = casefold(target)
        if folded not in latest or latest[folded][0] < event_id:
            latest[folded] = (event_id, target, text, source.split("!", 1)[0], ts)
    conn.executemany(
        f"INSERT OR IGNORE INTO {TABLE} (name, display, created_s, topic, topic_setter,"
        " topic_ms) VALUES (?, ?, ?, ?, ?, ?)",
        [(folded, target, ts // 1000, text, setter, ts)
         for folded, (_, target, text, setter, ts) in latest.items() if text])
