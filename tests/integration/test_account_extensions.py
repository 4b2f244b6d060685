"""IRCv3 account-tag, account-notify and extended-join against real chatd processes: the
account tag by the recipient's capability and the sender's login, ACCOUNT lines on a login
after registration (REGISTER, SASL) and on the logout of a deleted account — to channel peers
that asked only — extended JOIN lines live and in CHATHISTORY, and the migration of a
schema-3 history (messages.account)."""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
import unittest
from pathlib import Path

from chatd.events import StoreRow
from chatd.store import schema, writes
from tests.integration.test_accounts import NO_AUTOJOIN, PASSWORD, plain, sasl_client
from tests.support.chatd_process import chatd_command, chatd_env, start_chatd
from tests.support.irc_client import IRCClient, open_client

ALL = ("account-tag", "account-notify", "extended-join")


class AccountExtensionsTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        for name in ("tagger", "later", "doomed", "inviter"):
            owner = open_client(cls, cls.server.port, name)
            owner.send(f"REGISTER {name} * {PASSWORD}")
            owner.expect(rf"^:chat\.test REGISTER SUCCESS {name} :")
            owner.send("QUIT")
            owner.wait_closed()

    def client(self, nick: str, caps: tuple[str, ...] = ()) -> IRCClient:
        return open_client(self, self.server.port, nick, caps=caps)

    def logged_in(self, account: str, caps: tuple[str, ...] = ()) -> IRCClient:
        return sasl_client(open_client(self, self.server.port), account, account, caps)

    def join(self, channel: str, *clients: IRCClient) -> None:
        for c in clients:
            c.send(f"JOIN {channel}")
            c.expect(rf" 366 \S+ {channel} ")

    def test_account_tag_by_cap_and_login(self) -> None:
        sender = self.logged_in("tagger")
        anonymous = self.client("anon1")
        tagged = self.client("seetags", caps=("account-tag",))
        plain = self.client("seeplain")
        self.join("#tags", sender, anonymous, tagged, plain)
        sender.send("PRIVMSG #tags :from an account")
        tagged.expect(r"^@account=tagger :tagger!\S+ PRIVMSG #tags :from an account$")
        plain.expect(r"^:tagger!\S+ PRIVMSG #tags :from an account$")
        sender.send("NOTICE seetags :private notice")
        tagged.expect(r"^@account=tagger :tagger!\S+ NOTICE seetags :private notice$")
        anonymous.send("PRIVMSG #tags :from nobody")
        tagged.expect(r"^:anon1!\S+ PRIVMSG #tags :from nobody$")  # no tag at all

    def test_account_tag_on_lines_that_are_not_stored(self) -> None:
        # ircv3.net account-tag: "all commands sent by a user", not only messages: INVITE,
        # AWAY (away-notify) and SETNAME carry the sender's account too (irctest
        # account_tag.py testInvite).
        sender = self.logged_in("inviter", caps=("setname",))
        tagged = self.client("seeall", caps=("account-tag", "away-notify", "setname"))
        plain = self.client("seenone", caps=("away-notify", "setname"))
        self.join("#unstored", sender, plain)
        sender.send("INVITE seeall #unstored")
        tagged.expect(r"^@account=inviter :inviter!\S+ INVITE seeall #unstored$")
        self.join("#unstored", tagged)
        sender.send("AWAY :lunch")
        tagged.expect(r"^@account=inviter :inviter!\S+ AWAY :lunch$")
        plain.expect(r"^:inviter!\S+ AWAY :lunch$")
        sender.send("SETNAME :New Name")
        sender.expect(r"^:inviter!\S+ SETNAME :New Name$")  # no account-tag asked: plain
        tagged.expect(r"^@account=inviter :inviter!\S+ SETNAME :New Name$")
        plain.expect(r"^:inviter!\S+ SETNAME :New Name$")
        anonymous = self.client("anon3")
        self.join("#unstored", anonymous)
        anonymous.send("AWAY :gone")
        tagged.expect(r"^:anon3!\S+ AWAY :gone$")  # not logged in: no tag

    def test_account_notify_to_channel_peers_only(self) -> None:
        user = self.client("latr", caps=("account-notify",))  # "later" is the account's
        peer = self.client("peer1", caps=("account-notify",))
        deaf = self.client("peer2")
        stranger = self.client("strngr", caps=("account-notify",))
        self.join("#notify", user, peer, deaf)
        user.send("AUTHENTICATE PLAIN")  # a SASL login after registration
        user.expect(r"^AUTHENTICATE \+$")
        user.send(f"AUTHENTICATE {plain('later', PASSWORD)}")
        user.expect(r" 903 ")
        user.expect(r"^:latr!\S+ ACCOUNT later$")  # to itself too (account-notify)
        peer.expect(r"^:latr!\S+ ACCOUNT later$")
        for c in (deaf, stranger):
            c.sync()
            c.assert_no_line(r" ACCOUNT ")

    def test_register_after_registration_and_logout_by_deletion(self) -> None:
        user = self.client("fresh", caps=("account-notify",))
        peer = self.client("peer3", caps=("account-notify", "extended-join"))
        self.join("#fresh", peer)
        user.send("JOIN #fresh")
        peer.expect(r"^:fresh!\S+ JOIN #fresh \* :Test fresh$")
        user.send(f"REGISTER fresh * {PASSWORD}")
        user.expect(r" 900 fresh ")
        peer.expect(r"^:fresh!\S+ ACCOUNT fresh$")
        result = subprocess.run(chatd_command("-c", str(self.server.conf_path), "account",
                                              "delete", "fresh"),
                                env=chatd_env(), capture_output=True, text=True, timeout=60,
                                check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        user.expect(r" 901 fresh fresh!\S+ :You are now logged out")
        peer.expect(r"^:fresh!\S+ ACCOUNT \*$")
        user.send("PRIVMSG #fresh :after")  # the worker forgot the account too
        line = peer.expect(r"PRIVMSG #fresh :after")
        self.assertNotIn("account=", line)

    def test_extended_join_live_and_in_history(self) -> None:
        watcher = self.client("watch", caps=("extended-join", "account-tag"))
        self.join("#ext", watcher)
        joiner = self.logged_in("doomed")
        self.join("#ext", joiner)
        watcher.expect(r"^@account=doomed :doomed!\S+ JOIN #ext doomed :Real doomed$")
        anon = self.client("anon2")
        self.join("#ext", anon)
        watcher.expect(r"^:anon2!\S+ JOIN #ext \* :Test anon2$")
        reader = self.client("reader", caps=("extended-join", "account-tag", "batch",
                                             "draft/chathistory", "draft/event-playback"))
        self.join("#ext", reader)
        reader.send("CHATHISTORY LATEST #ext * 10")
        lines = reader.expect_until(r" BATCH -")
        joins = [line for line in lines if " JOIN #ext " in line]
        self.assertRegex(joins[1], r"account=doomed.* :doomed!\S+ JOIN #ext doomed :Real doomed$")
        self.assertRegex(joins[2], r" :anon2!\S+ JOIN #ext \* :Test anon2$")


SCHEMA_3_MESSAGES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_ts ON messages (ts);
CREATE TABLE timeline (conv TEXT NOT NULL, id INTEGER NOT NULL,
    chat INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (conv, id)) WITHOUT ROWID;
CREATE INDEX timeline_chat ON timeline (conv, id) WHERE chat = 1;
CREATE TABLE accounts (name TEXT PRIMARY KEY, display TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL, scram TEXT NOT NULL,
    created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE account_certs (fingerprint TEXT PRIMARY KEY, account TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '3');
INSERT INTO messages VALUES (1, 1000, 'PRIVMSG', 'a!a@h', '#lobby', 'hello', '');
INSERT INTO timeline VALUES ('#lobby', 1, 1);
"""


class SchemaFourTest(unittest.TestCase):
    def test_migration_from_schema_3(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-acct-tags-")
        self.addCleanup(tmp.cleanup)
        path = Path(tmp.name) / "history.db"
        old = sqlite3.connect(path)
        old.executescript(SCHEMA_3_MESSAGES)
        old.close()
        db = schema.open_for_writing(path, "full")
        self.addCleanup(db.close)
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        self.assertEqual(version[0], str(schema.SCHEMA_VERSION))
        self.assertGreaterEqual(schema.SCHEMA_VERSION, 4)  # through 4 (and any later step)
        writes.insert_events(db, [StoreRow(2, 2000, "PRIVMSG", "b!b@h", "#lobby", "hi", "",
                                   ("#lobby",), "Bee")])
        self.assertEqual(db.execute("SELECT id, text, account FROM messages ORDER BY id")
                         .fetchall(), [(1, "hello", ""), (2, "hi", "Bee")])


if __name__ == "__main__":
    unittest.main()
