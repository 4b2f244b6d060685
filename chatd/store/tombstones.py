"""Redaction in the history (IRCv3 draft/message-redaction, chatd/hub/redaction.py): the
writer turns the redacted message into a tombstone in the transaction that stores the REDACT
event itself. The row stays (its id, time, sender and target: the history's order and the
REDACT that names it still make sense) but loses its text and client tags, leaves the
full-text index, and its timeline rows become CLASS_REDACTED, which no replay, CHATHISTORY page
or SEARCH reads. Only the writer calls this."""

from __future__ import annotations

import sqlite3

from chatd.events import REDACT_KIND, SENT_KINDS, StoreRow, redacted_id
from chatd.store import search_index
from chatd.store.reader import CLASS_REDACTED


def apply(conn: sqlite3.Connection, rows: list[StoreRow]) -> None:
    """Make a tombstone of the message each REDACT row names, inside the caller's
    transaction. A message already redacted, gone (retention) or of another kind is left as
    it is (a REDACT resent after a writer restart changes nothing)."""
    for row in rows:
        if row.kind != REDACT_KIND:
            continue
        found = conn.execute("SELECT id, kind, source, target, text FROM messages WHERE id = ?",
                             (redacted_id(row.text),)).fetchone()
        if found is None or found[1] not in SENT_KINDS:
            continue
        message = search_index.Indexed(*found)
        if search_index.exists(conn):
            search_index.remove(conn, [message])  # before its text is gone
        conn.execute("UPDATE messages SET text = '', tags = '' WHERE id = ?", (message.id,))
        for conv in search_index.timelines_of(conn, [message])[message.id]:
            conn.execute("UPDATE timeline SET chat = ? WHERE conv = ? AND id = ?",
                         (CLASS_REDACTED, conv, message.id))
