"""The history's `meta` table beyond the schema version: the cloak secret (chatd/hub/cloak.py).
Only the writer calls this (it is the only writer of the file): it generates the secret at the
first start and hands it to the master in `Ready`."""

from __future__ import annotations

import secrets
import sqlite3

CLOAK_SECRET_KEY = "cloak_secret"
CLOAK_SECRET_BYTES = 32


def cloak_secret(conn: sqlite3.Connection) -> str:
    """The stored cloak secret (hex), generated and stored on first use."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (CLOAK_SECRET_KEY,)).fetchone()
    if row is not None:
        return row[0]
    secret = secrets.token_hex(CLOAK_SECRET_BYTES)
    # INSERT OR IGNORE and read back: whatever is stored is the secret (autocommit mode).
    conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (CLOAK_SECRET_KEY, secret))
    return conn.execute("SELECT value FROM meta WHERE key=?", (CLOAK_SECRET_KEY,)).fetchone()[0]
