"""Accounts in the history database: applying account writes and reading them all back. The
writer applies the writes that reach it in the ordered stream (rows of kind ACCOUNT_KIND,
chatd/events.py) inside its group-commit transaction; the admin command (chatd/admin.py)
applies one directly when no server holds the file (chatd/store/lock.py). Each write sets
the final state it names (create = the whole record, passwd = new credentials, delete), so
replaying the uncommitted tail after a writer restart, in order, ends in the same state.

Only credentials records (chatd/credentials.py) are stored, never a password.
"""

from __future__ import annotations

import json
import sqlite3

from chatd.events import StoreRow
from chatd.store import read_markers
from ircproto.casemap import casefold

# A stored account as the master learns it at start (frames.Ready.accounts):
# (name as registered, password_hash, scram, certificate fingerprints)
AccountRow = tuple[str, str, str, tuple[str, ...]]


def apply_op(conn: sqlite3.Connection, op: str, name: str, payload: dict, ts_ms: int) -> None:
    """One account write, inside the caller's transaction."""
    folded = casefold(name)
    if op == "create":
        conn.execute("INSERT OR REPLACE INTO accounts (name, display, email, password_hash,"
                     " scram, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                     (folded, name, payload.get("email", ""), payload["password_hash"],
                      payload["scram"], ts_ms))
    elif op == "passwd":
        conn.execute("UPDATE accounts SET password_hash = ?, scram = ? WHERE name = ?",
                     (payload["password_hash"], payload["scram"], folded))
    elif op == "delete":
        conn.execute("DELETE FROM accounts WHERE name = ?", (folded,))
        conn.execute("DELETE FROM account_certs WHERE account = ?", (folded,))
        read_markers.forget_account(conn, folded)
    elif op == "cert-add":
        conn.execute("INSERT OR REPLACE INTO account_certs (fingerprint, account) VALUES (?, ?)",
                     (payload["fingerprint"], folded))
    elif op == "cert-del":
        conn.execute("DELETE FROM account_certs WHERE fingerprint = ? AND account = ?",
                     (payload["fingerprint"], folded))
    else:
        raise ValueError(f"unknown account operation {op!r}")


def apply_rows(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Account writes from the ordered stream (a StoreRow's source is the operation, target
    the account, text the JSON payload), inside the caller's transaction; remembers the last
    id so it is never given out again."""
    for row in rows:
        apply_op(conn, row.source, row.target, json.loads(row.text), row.ts_ms)
    if rows:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_account_id', ?)",
                     (str(max(row.event_id for row in rows)),))


def load_all(conn: sqlite3.Connection) -> list[AccountRow]:
    certs: dict[str, list[str]] = {}
    for fingerprint, account in conn.execute("SELECT fingerprint, account FROM account_certs"):
        certs.setdefault(account, []).append(fingerprint)
    return [(display, password_hash, scram, tuple(certs.get(name, ())))
            for name, display, password_hash, scram in conn.execute(
                "SELECT name, display, password_hash, scram FROM accounts ORDER BY name")]


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM accounts").fetchone()[0]


def cert_count(conn: sqlite3.Connection, name: str) -> int:
    return conn.execute("SELECT count(*) FROM account_certs WHERE account = ?",
                        (casefold(name),)).fetchone()[0]


def exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM accounts WHERE name = ?",
                        (casefold(name),)).fetchone() is not None


def apply_now(conn: sqlite3.Connection, op: str, name: str, payload: dict, ts_ms: int) -> None:
    """One account write in its own transaction (the admin command on a stopped server)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        apply_op(conn, op, name, payload, ts_ms)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
