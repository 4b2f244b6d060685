"""The SQLite history's schema: its tables and indexes, the migrations that bring an older
file up to date, and opening it read-write, which only the writer process does
(`open_for_writing`; workers read through chatd/store/reader.py, the writer's inserts and
retention are in chatd/store/writes.py). WAL mode lets readers run while the writer commits.

Schema: `messages` holds one row per event with its id (the order of the history), time,
client-only tags and the account its sender was logged in to at the time (schema 4: the
IRCv3 account tag and extended-join read the same in a replay as live); `timeline` lists which conversation(s) an event belongs to: a channel event
belongs to its channel, a QUIT or NICK to every channel the user was in, a private message to
both participants' keys ("alice bob" and "bob alice"). Queries walk `timeline`'s (conv, id)
primary key, so they stay O(log n) however long the history grows. Ids and times grow together
(the master assigns both), so a time bound becomes an id bound through the index on ts.

Accounts (schema 3) live in the same file, so one writer and one ordered stream carry both:
`accounts` (folded name, the name as registered, e-mail, the scrypt record and the SCRAM keys
of chatd/credentials.py — never the password) and `account_certs` (client-certificate SHA-256
fingerprints for SASL EXTERNAL, each naming one account). chatd/store/accounts.py writes them.
K-lines (schema 5) too: `server_bans`, written by chatd/store/bans.py.

Most reads want only PRIVMSG/NOTICE (JOIN replay, CHATHISTORY without event-playback).
`timeline.chat` marks those rows and the partial index `timeline_chat` holds only them, so
"the last 50 messages" is an index walk of 50 entries even in a channel where thousands of
JOINs and QUITs came since the last message (a JOIN storm would otherwise make each joiner's
replay scan every earlier JOIN).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatd.store import bans

# 2: timeline.chat and the timeline_chat index; 3: accounts, account_certs; 4: messages.account;
# 5: server_bans (K-lines, chatd/store/bans.py: its CREATE TABLE IF NOT EXISTS is the migration)
SCHEMA_VERSION = 5


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id     INTEGER PRIMARY KEY,
    ts     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text   TEXT NOT NULL,
    tags   TEXT NOT NULL DEFAULT '',
    account TEXT NOT NULL DEFAULT ''  -- the sender's account then ('' if not logged in)
);
CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts);
CREATE TABLE IF NOT EXISTS timeline (
    conv TEXT NOT NULL,
    id   INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0,  -- 1 for PRIVMSG and NOTICE
    PRIMARY KEY (conv, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    name          TEXT PRIMARY KEY,  -- folded (rfc1459), unique
    display       TEXT NOT NULL,     -- as registered
    email         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,     -- scrypt$n$r$p$salt$hash
    scram         TEXT NOT NULL,     -- scram-sha-256$iterations$salt$StoredKey$ServerKey
    created_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_certs (
    fingerprint TEXT PRIMARY KEY,    -- SHA-256 of the client certificate, lowercase hex
    account     TEXT NOT NULL        -- accounts.name
) WITHOUT ROWID;
""" + bans.SCHEMA
# Created after _add_missing_columns, which gives an older history its timeline.chat.
_INDEXES = """
CREATE INDEX IF NOT EXISTS timeline_chat ON timeline (conv, id) WHERE chat = 1;
"""


CHATD_TABLES = frozenset({"meta", "messages", "timeline", "accounts", "account_certs",
                          bans.TABLE})


class HistoryError(Exception):
    """The history file cannot be used (wrong format, newer schema, unreadable)."""


class HistoryDamaged(HistoryError):
    """The history file is chatd's but corrupt (PRAGMA quick_check found faults)."""


def open_for_writing(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (creating if needed) the history for the writer process. An existing file is
    checked first, read-only: a file that is not chatd's is refused (HistoryError) and a
    damaged one too (HistoryDamaged), and nothing is written to either."""
    tables = check_existing(path) if path.exists() and path.stat().st_size > 0 else set()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        if not tables:  # a new history: its tables and its mark in one transaction
            conn.executescript(f"BEGIN; {_SCHEMA} {_INDEXES} INSERT INTO meta VALUES"
                               f" ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
        conn.executescript(_SCHEMA)
        _add_missing_columns(conn)
        conn.executescript(_INDEXES)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise HistoryError(f"schema version {row[0]} is newer than this chatd")
        # The tables and columns above brought an older file up to date (a schema-2 file
        # gained the accounts tables, a schema-3 one messages.account, a schema-4 one
        # server_bans): record that it now has this schema.
        if row is None or int(row[0]) < SCHEMA_VERSION:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(str(exc)) from None
    return conn


def check_existing(path: Path) -> set[str]:
    """Refuse, without writing to it, a file that is not a chatd history (HistoryError) or
    whose pages are damaged (HistoryDamaged). chatd's mark is `meta.schema_version`, which the
    writer records when it creates the tables. PRAGMA quick_check reads every page (O(size),
    once at start): a damaged index is found here rather than by the first query that walks
    it, which would fail again each time the writer was restarted."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(str(exc)) from None
    try:
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_NOTADB:
                raise HistoryError("not a chatd history: file is not a database") from None
            raise HistoryDamaged(str(exc)) from None
        foreign = sorted(tables - CHATD_TABLES)
        if foreign:
            raise HistoryError(f"not a chatd history: it has tables {', '.join(foreign)}")
        if tables and not _has_schema_version(conn, tables):
            raise HistoryError("not a chatd history: no schema_version in a meta table")
        try:
            faults = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            raise HistoryDamaged(str(exc)) from None
        if faults != ["ok"]:
            # Its reports span lines ("*** in database main ***\nPage 5: ..."): one line here.
            raise HistoryDamaged("; ".join(" ".join(fault.split()) for fault in faults))
        return tables
    finally:
        conn.close()


def _has_schema_version(conn: sqlite3.Connection, tables: set[str]) -> bool:
    if "meta" not in tables:
        return False
    try:
        return conn.execute(
            "SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is not None
    except sqlite3.OperationalError:  # a meta table of another layout
        return False


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring an older history up to this schema: messages.tags (client tags),
    messages.account (schema 4: '' for the rows already there, whose sender's account was not
    recorded) and timeline.chat, marked on the rows already there (one pass, once)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    if "tags" not in columns:
        conn.execute("ALTER TABLE messages ADD COLUMN tags TEXT NOT NULL DEFAULT ''")
    if "account" not in columns:  # constant default: SQLite changes no row to add it
        conn.execute("ALTER TABLE messages ADD COLUMN account TEXT NOT NULL DEFAULT ''")
    if "chat" not in {row[1] for row in conn.execute("PRAGMA table_info(timeline)")}:
        conn.execute("BEGIN")
        conn.execute("ALTER TABLE timeline ADD COLUMN chat INTEGER NOT NULL DEFAULT 0")
        conn.execute("UPDATE timeline SET chat = 1 WHERE id IN"
                     " (SELECT id FROM messages WHERE kind IN ('PRIVMSG', 'NOTICE'))")
        conn.execute("COMMIT")
