"""Who is in which channel now, as the history knows it: the `live_members` table, kept by the
membership events (JOIN, PART, KICK, NICK, QUIT) in the same transaction that stores them, so
that the table and the events always agree, whenever chatd dies. Each run ends by storing a
QUIT for everyone still there (chatd/hub/departures.py), which empties it; a table that is
not empty when a new run starts means the previous one did not end cleanly: the people in it
never got their QUIT, and `crash_departures` gives them one. Only the writer calls these.

Messages never touch the table (the caller passes only membership rows, picked out in the
same pass as account and K-line writes, chatd/store/writes.py): a batch of messages costs the
writer what it did.

Schema (added in schema version 7, chatd/store/schema.py): one row per (nick, channel).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from chatd.events import StoreRow
from ircproto.casemap import casefold

TABLE = "live_members"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    nick    TEXT NOT NULL,           -- folded (rfc1459): unique among those online
    conv    TEXT NOT NULL,           -- the channel's timeline key (its folded name)
    source  TEXT NOT NULL,           -- nick!user@host, as their events show it
    account TEXT NOT NULL DEFAULT '',  -- as their last JOIN or NICK carried it
    PRIMARY KEY (nick, conv)
) WITHOUT ROWID;
"""

MEMBERSHIP_KINDS = frozenset({"JOIN", "PART", "KICK", "NICK", "QUIT"})
CRASH_REASON = "Server restarted after a crash"


def apply_rows(conn: sqlite3.Connection, rows: Iterable[StoreRow]) -> None:
    """Membership events (kinds MEMBERSHIP_KINDS, stored ones, in id order) inside the caller's
    transaction. The stream brings each id once (a new writer is re-sent only the ids past
    its last one), so applying them in order gives the state after the last of them."""
    for row in rows:
        nick = _nick_of(row.source)
        if row.kind == "JOIN":
            conn.executemany(f"INSERT OR REPLACE INTO {TABLE} (nick, conv, source, account)"
                             " VALUES (?, ?, ?, ?)",
                             [(nick, conv, row.source, row.account) for conv in row.convs])
        elif row.kind == "PART":
            conn.executemany(f"DELETE FROM {TABLE} WHERE nick = ? AND conv = ?",
                             [(nick, conv) for conv in row.convs])
        elif row.kind == "KICK":  # text: "<kicked nick> :<reason>" (chatd/events.py)
            kicked = casefold(row.text.split(" ", 1)[0])
            conn.executemany(f"DELETE FROM {TABLE} WHERE nick = ? AND conv = ?",
                             [(kicked, conv) for conv in row.convs])
        elif row.kind == "NICK":  # target: the new nick
            _, bang, user_host = row.source.partition("!")
            source = row.target + bang + user_host
            # OR REPLACE: rows the new nick somehow still had give way, never an error that
            # would stop every commit after it.
            conn.execute(f"UPDATE OR REPLACE {TABLE} SET nick = ?, source = ?, account = ?"
                         " WHERE nick = ?", (casefold(row.target), source, row.account, nick))
        elif row.kind == "QUIT":
            conn.execute(f"DELETE FROM {TABLE} WHERE nick = ?", (nick,))


def crash_departures(conn: sqlite3.Connection, first_id: int, ts_ms: int) -> list[StoreRow]:
    """A QUIT (CRASH_REASON) for each member left from a run that did not end cleanly, in the
    channels it was in, numbered from `first_id`: stored like any QUIT, they also empty the
    table. [] when the last run ended cleanly."""
    found = conn.execute(f"SELECT nick, conv, source, account FROM {TABLE}"
                         " ORDER BY nick, conv").fetchall()
    return departure_rows(found, CRASH_REASON, first_id, ts_ms)


def departure_rows(member_rows: list[tuple[str, str, str, str]], reason: str, first_id: int,
                   ts_ms: int) -> list[StoreRow]:
    """One QUIT per nick of `member_rows` ((nick, conv, source, account), sorted by nick),
    belonging to each of its channels. Pure."""
    rows: list[StoreRow] = []
    last_nick = None
    for nick, conv, source, account in member_rows:
        if nick == last_nick:
            rows[-1] = rows[-1]._replace(convs=rows[-1].convs + (conv,))
        else:
            last_nick = nick
            rows.append(StoreRow(event_id=first_id + len(rows), ts_ms=ts_ms, kind="QUIT",
                                 source=source, target="", text=reason, tags="",
                                 convs=(conv,), account=account))
    return rows


def _nick_of(source: str) -> str:
    return casefold(source.split("!", 1)[0])
