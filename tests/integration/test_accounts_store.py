"""Accounts in the history file: the migration from schema 2 (on a schema-2 file built here),
account writes applied with the events (idempotently, as after a writer restart), and the
admin command `chatd -c CONF account ...` with the server running (through its control
socket) and stopped (the file, under the lock), with its exit statuses and messages."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

from chatd import events
from chatd.credentials import verify_password
from chatd.events import StoreRow
from chatd.limits import MAX_CERTS_PER_ACCOUNT
from chatd.store import accounts, lock, schema, writes
from tests.integration.test_accounts import PASSWORD, plain, sasl_plain, sasl_start
from tests.support.chatd_process import chatd_command, chatd_env, start_chatd
from tests.support.irc_client import open_client

SCHEMA_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_ts ON messages (ts);
CREATE TABLE timeline (conv TEXT NOT NULL, id INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (conv, id)) WITHOUT ROWID;
CREATE INDEX timeline_chat ON timeline (conv, id) WHERE chat = 1;
INSERT INTO meta VALUES ('schema_version', '2');
INSERT INTO messages VALUES (1, 1000, 'PRIVMSG', 'a!a@h', '#lobby', 'hello', '');
INSERT INTO timeline VALUES ('#lobby', 1, 1);
"""


def account_row(event_id: int, op: str, name: str, payload: dict) -> tuple:
    return (event_id, 2000, events.ACCOUNT_KIND, op, name, json.dumps(payload), "", ())


class SchemaTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-acct-")
        self.addCleanup(tmp.cleanup)
        self.path = Path(tmp.name) / "history.db"

    def test_migration_from_schema_2(self) -> None:
        old = sqlite3.connect(self.path)
        old.executescript(SCHEMA_2)
        old.close()
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], str(schema.SCHEMA_VERSION))
        self.assertEqual(db.execute("SELECT text FROM messages").fetchall(), [("hello",)])
        self.assertEqual(accounts.load_all(db), [])
        self.assertEqual(writes.last_id_and_time(db), (1, 1000))

    def test_account_rows_with_events_and_replayed(self) -> None:
        db = schema.open_for_writing(self.path, "full")
        self.addCleanup(db.close)
        creds = {"email": "", "password_hash": "scrypt$h", "scram": "scram-sha-256$s"}
        rows = [
            (1, 2000, "PRIVMSG", "a!a@h", "#lobby", "hi", "", ("#lobby",)),
            account_row(2, "create", "Alice", creds),
            account_row(3, "cert-add", "alice", {"fingerprint": "ab" * 32}),
            account_row(4, "create", "bob", creds),
            account_row(5, "delete", "bob", {}),
        ]
        rows = [StoreRow(*row) for row in rows]
        writes.insert_events(db, rows)
        writes.insert_events(db, rows[1:])  # a writer restart re-sends: same end state
        self.assertEqual(accounts.load_all(db),
                         [("Alice", "scrypt$h", "scram-sha-256$s", ("ab" * 32,))])
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (1,))
        self.assertEqual(writes.last_id_and_time(db)[0], 5)  # account ids are never reused


class AdminCommandTest(unittest.TestCase):
    def run_admin(self, conf: Path, *args: str, password: str | None = None
                  ) -> subprocess.CompletedProcess:
        return subprocess.run(chatd_command("-c", str(conf), "account", *args), env=chatd_env(),
                              input=(password + "\n") if password is not None else "",
                              capture_output=True, text=True, timeout=60, check=False)

    def test_with_the_server_running_then_stopped(self) -> None:
        server = start_chatd(self, workers=1, extra={"channels": {"autojoin": '""'}})
        conf, db_path = server.conf_path, server.db_path
        control = lock.control_path(db_path)
        self.assertEqual(stat.S_IMODE(os.stat(control).st_mode), 0o600)
        result = self.run_admin(conf, "add", "opal", password=PASSWORD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "chatd: account opal created")
        c = open_client(self, server.port)
        sasl_start(c, "opal")
        self.assertIn(" 903 ", sasl_plain(c, "opal", PASSWORD))
        cases = [
            (("add", "opal"), PASSWORD, 1, "already exists"),
            (("passwd", "nobody"), PASSWORD, 1, "there is no account nobody"),
            (("delete", "nobody"), None, 1, "there is no account nobody"),
            (("add", "NickServ"), PASSWORD, 2, "reserved for services"),
            (("add", "pia"), "", 2, "give the password on stdin"),
            (("add", "pia"), "short", 2, "at least 8 characters"),
            (("cert-add", "opal", "xyz"), None, 2, "64 hex digits"),
        ]
        for args, password, status, text in cases:
            with self.subTest(args=args):
                result = self.run_admin(conf, *args, password=password)
                self.assertEqual(result.returncode, status, result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertIn(text, result.stderr)
        self.assertEqual(self.run_admin(conf, "passwd", "opal", password="new-password-2")
                         .returncode, 0)
        d = open_client(self, server.port)
        sasl_start(d, "opal2")
        self.assertIn(" 903 ", sasl_plain(d, "opal", "new-password-2"))
        self.assertEqual(self.run_admin(conf, "cert-add", "opal", "AB:" * 31 + "AB").returncode, 0)
        self.assertEqual(self.run_admin(conf, "delete", "opal").returncode, 0)
        server.stop()
        self.assertFalse(control.exists())
        # stopped: written to the file directly, under the lock
        result = self.run_admin(conf, "add", "quinn", password=PASSWORD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("server not running", result.stdout)
        self.assertEqual(self.run_admin(conf, "add", "quinn", password=PASSWORD).returncode, 1)
        for n in range(MAX_CERTS_PER_ACCOUNT):
            self.assertEqual(self.run_admin(conf, "cert-add", "quinn", f"{n:064x}").returncode, 0)
        result = self.run_admin(conf, "cert-add", "quinn", "f" * 64)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"quinn has {MAX_CERTS_PER_ACCOUNT} certificates", result.stderr)
        db = sqlite3.connect(db_path)
        self.addCleanup(db.close)
        rows = dict(db.execute("SELECT name, password_hash FROM accounts").fetchall())
        self.assertEqual(set(rows), {"quinn"})
        self.assertTrue(verify_password(rows["quinn"], PASSWORD))
        # never two writers: with the lock held (as a running chatd holds it), no write
        fd = lock.take(db_path)
        try:
            result = self.run_admin(conf, "delete", "quinn")
            self.assertEqual(result.returncode, 1)
            self.assertIn("try again", result.stderr)
        finally:
            os.close(fd)
        # and the server starts on the file and knows the account
        server.start_on_same_config()
        e = open_client(self, server.port)
        sasl_start(e, "quinn")
        self.assertIn(" 903 ", sasl_plain(e, "quinn", PASSWORD))
        self.assertTrue(plain("quinn", PASSWORD))


if __name__ == "__main__":
    unittest.main()
