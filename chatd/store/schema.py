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
K-lines (schema 6) too: `server_bans`, written by chatd/store/bans.py. `live_members` (schema 7,
chatd/store/members.py) is who is in which channel now, kept with the membership events: what
is left in it at start is who a crash left without a QUIT. And (schema 8) the kept channels'
state, `channels` (chatd/store/channels.py), which retention never touches, and
`history_floors`: for each timeline, the highest id retention or the size quota deleted from
it, so that CHATHISTORY says HISTORY_TRUNCATED by that timeline's own floor. And read markers
(schema 10): `read_markers`, what each account read and was shown of each conversation,
written by chatd/store/read_markers.py.

What a client may see is one of three sets of kinds (PRIVMSG and NOTICE; every kind but
TAGMSG, with draft/event-playback; every kind, with message-tags too), and each set is one
index, so a page is an index walk of at most `limit` entries whatever else the timeline holds:
`timeline.chat` is the row's class (1 PRIVMSG/NOTICE, 0 the other events, 2 TAGMSG), the
partial index `timeline_chat` holds the messages (a JOIN storm does not slow the replay),
`timeline_events` every class but TAGMSG (a TAGMSG flood does not slow an event-playback
client without message-tags), and the primary key everything. `private_latest` (schema 5)
keeps, per private timeline, its latest PRIVMSG/NOTICE, indexed by (owner, ts): CHATHISTORY
TARGETS walks it by time instead of visiting every conversation the owner ever had.

Schema 8: the full-text index `message_search` (chatd/store/search_index.py: created at open
whenever SQLite has FTS5, and filled for the messages already there in the background) and
`timeline_private_ids`, a partial index of the private timelines' rows by id (which two
timelines hold a private message: the index's removals, REDACT). A redacted message keeps its
row as a tombstone (chatd/store/tombstones.py): no text, timeline.chat 3.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatd.store import bans, channels, members, read_markers, search_index
from chatd.store.reader import conversations_with_prefix

# 2: timeline.chat and the timeline_chat index; 3: accounts, account_certs; 4: messages.account;
# 5: timeline.chat 2 for TAGMSG, the timeline_events index, private_latest;
# 6: server_bans (K-lines, chatd/store/bans.py: its CREATE TABLE IF NOT EXISTS is the migration);
# 7: live_members (who is in a channel, chatd/store/members.py: the same; a file from before
# starts with it empty, as after a clean shutdown);
# 8: channels (chatd/store/channels.py) and history_floors, see _to_8
# 9: message_search (chatd/store/search_index.py), timeline_private_ids, tombstones (chat 3)
# 10: read_markers (chatd/store/read_markers.py: CREATE TABLE IF NOT EXISTS)
SCHEMA_VERSION = 10
WAL_SIZE_LIMIT_BYTES = 64 << 20


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
    chat INTEGER NOT NULL DEFAULT 0,  -- 1 PRIVMSG/NOTICE, 2 TAGMSG, 0 any other event
    PRIMARY KEY (conv, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private_latest (
    conv  TEXT PRIMARY KEY,  -- a private timeline ("~alice bob", "!3.7 bob")
    owner TEXT NOT NULL,     -- its owner ("~alice", "!3.7")
    id    INTEGER NOT NULL,  -- its latest PRIVMSG or NOTICE
    ts    INTEGER NOT NULL
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
CREATE TABLE IF NOT EXISTS history_floors (
    conv TEXT PRIMARY KEY,   -- a timeline
    id   INTEGER NOT NULL    -- its events up to this id were deleted (retention, quota)
) WITHOUT ROWID;
""" + bans.SCHEMA + members.SCHEMA + channels.SCHEMA + read_markers.SCHEMA
# Created after _add_missing_columns, which gives an older history its timeline.chat.
# The WHERE terms are those chatd/store/reader.py names with each index.
_INDEXES = """
CREATE INDEX IF NOT EXISTS timeline_chat ON timeline (conv, id) WHERE chat = 1;
CREATE INDEX IF NOT EXISTS timeline_events ON timeline (conv, id) WHERE chat < 2;
CREATE INDEX IF NOT EXISTS private_latest_by_time ON private_latest (owner, ts);
CREATE INDEX IF NOT EXISTS timeline_private_ids ON timeline (id)
    WHERE substr(conv, 1, 1) IN ('~', '!');
"""


CHATD_TABLES = frozenset({"meta", "messages", "timeline", "accounts", "account_certs",
                          "private_latest", "history_floors", bans.TABLE, members.TABLE,
                          channels.TABLE, read_markers.TABLE,
                          *search_index.TABLES})


class HistoryError(Exception):
    """The history file cannot be used (wrong format, newer schema, unreadable)."""


class HistoryDamaged(HistoryError):
    """The history file is chatd's but corrupt (PRAGMA quick_check found faults)."""


def problem_line(path: Path, exc: Exception) -> str:
    """What to tell the person starting (or checking) chatd when its history is unusable."""
    if isinstance(exc, HistoryDamaged):
        return f"chatd: history {path} is damaged ({exc}): restore a backup or move it away"
    return f"chatd: cannot open history {path}: {exc}"


def open_for_writing(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (creating if needed) the history for the writer process. An existing file is
    checked first, read-only: a file that is not chatd's is refused (HistoryError) and a
    damaged one too (HistoryDamaged), and nothing is written to either."""
    tables = check_existing(path) if path.exists() and path.stat().st_size > 0 else set()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        # After a checkpoint the WAL file is cut back to this, so one large transaction (a
        # retention or quota delete) does not leave it that large on disk for good.
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        if not tables:  # a new history: its tables and its mark in one transaction
            conn.executescript(f"BEGIN; {_SCHEMA} {_INDEXES} INSERT INTO meta VALUES"
                               f" ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
            search_index.ensure(conn)
            return conn
        version = _stored_version(conn)
        if version > SCHEMA_VERSION:
            raise HistoryError(f"schema version {version} is newer than this chatd")
        conn.executescript(_SCHEMA)
        _add_missing_columns(conn)
        if version < SCHEMA_VERSION:
            _migrate(conn, version)
        conn.executescript(_INDEXES)
        search_index.ensure(conn)  # the index's backfill runs later, in the writer's loop
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(str(exc)) from None
    return conn


def _stored_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row is not None else 0


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a file of schema `version` up to SCHEMA_VERSION: the steps of MIGRATIONS it has
    not had, then its new version, in one transaction (a crash leaves the old version, and
    the next start runs them again). The tables, columns and indexes an older file lacks were
    added already (_SCHEMA, _add_missing_columns, _INDEXES are idempotent): a step is only
    needed where rows already there must change."""
    conn.execute("BEGIN")
    try:
        for step_version, step in MIGRATIONS:
            if version < step_version:
                step(conn)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                     (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _to_5(conn: sqlite3.Connection) -> None:
    """Schema 5: the TAGMSG rows already there get their class (they had 0, as the other
    events), and private_latest its rows (one pass over the private messages, once)."""
    conn.execute("UPDATE timeline SET chat = 2 WHERE id IN"
                 " (SELECT id FROM messages WHERE kind = 'TAGMSG')")
    conn.execute(
        "INSERT OR REPLACE INTO private_latest (conv, owner, id, ts)"
        " SELECT t.conv, substr(t.conv, 1, instr(t.conv, ' ') - 1), t.id, m.ts"
        " FROM (SELECT conv, max(id) AS id FROM timeline"
        "       WHERE chat = 1 AND substr(conv, 1, 1) IN ('~', '!') GROUP BY conv) t"
        " JOIN messages m ON m.id = t.id")


def _to_8(conn: sqlite3.Connection) -> None:
    """Schema 8: the channels' topics, until now found among the TOPIC events at each start
    (and lost once retention deleted them), move into the channels table; the one floor of
    the whole history (meta retention_floor_id) becomes the floor of every timeline it has,
    as no older file recorded which timelines lost events."""
    channels.carry_topics(conn)
    row = conn.execute("SELECT value FROM meta WHERE key = 'retention_floor_id'").fetchone()
    if row is not None and int(row[0]) > 0:
        conn.executemany("INSERT OR IGNORE INTO history_floors (conv, id) VALUES (?, ?)",
                         [(conv, int(row[0])) for conv in conversations_with_prefix(conn, "")])


# (version, step): what an older file needs to reach that version (see _migrate). Append the
# next one here; versions up to 4, 6, 7, 9 and 10 needed no step (only tables, columns and indexes
# were added; 9's search index fills itself in the background).
MIGRATIONS = ((5, _to_5), (8, _to_8))


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
