"""REDACT (draft/message-redaction) against a real chatd: what irctest's redact module checks
(an operator redacts its own and others' messages, others may not, a reason, a reaction, no
REDACT to clients without the capability, unknown msgids and targets, the message gone from
CHATHISTORY, private messages), plus: an author redacts its own by its account, a message
sent while not logged in has no author but operators, the tombstone in the file (no text,
timeline class 3, the REDACT stored in every timeline of the message), REDACT replayed by
event-playback to clients with the capability only, SEARCH no longer finding the text, the
join replay without it, and a nick taken over not being told."""

from __future__ import annotations

import base64
import re
import sqlite3
import unittest

from ircproto.message import Message, parse
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ircv3 import (NO_AUTOJOIN, SERVER, connect, find_batch, history, join,
                                 send_echoed)

PASSWORD = "correct-horse-battery"
CAP = "draft/message-redaction"
CAPS = ("message-tags", "echo-message", "batch", "labeled-response", "server-time",
        "draft/chathistory", CAP)


def only(lines: list[str], command: str) -> list[Message]:
    return [m for m in map(parse, lines) if m.command == command]


class RedactionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def client(self, nick: str, caps: tuple[str, ...] = CAPS, account: bool = False,
               other: IRCClient | None = None) -> IRCClient:
        if other is not None:
            c = open_on_other_worker(self, self.server, other, nick, caps)
        else:
            c = connect(self, self.server, nick, caps)
        if account:
            c.send(f"REGISTER * * {PASSWORD}")
            c.expect(rf"REGISTER SUCCESS {nick} ")
            c.sync()
        return c

    def channel(self, name: str, *clients: IRCClient) -> None:
        """The first client creates (and is operator of) the channel; all join."""
        for c in clients:
            join(c, name)
        for c in clients:
            c.sync()

    def redact(self, client: IRCClient, line: str) -> list[str]:
        client.send(line)
        return client.sync()

    def db(self, sql: str, *args) -> list[tuple]:
        conn = sqlite3.connect(f"{self.server.db_path.as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def assert_redact(self, lines: list[str], by: str, params: tuple[str, ...]) -> None:
        [msg] = only(lines, "REDACT")
        self.assertEqual(msg.params, params)
        self.assertEqual(msg.source_nick, by)
        self.assertIn("msgid", msg.tags)

    # irctest's redact module -------------------------------------------------------------
    def test_an_operator_redacts_its_own_and_others_messages(self) -> None:
        op, bob = self.client("op1"), None
        bob = self.client("bob1", other=op)
        self.channel("#r1", op, bob)
        mine = send_echoed(op, "PRIVMSG #r1 :Hello everyone").tags["msgid"]
        self.assert_redact(self.redact(op, f"REDACT #r1 {mine}"), "op1", ("#r1", mine))
        self.assert_redact(bob.sync(), "op1", ("#r1", mine))
        theirs = send_echoed(bob, "PRIVMSG #r1 :Hi Alice").tags["msgid"]
        self.assert_redact(self.redact(op, f"REDACT #r1 {theirs} :spam"), "op1",
                           ("#r1", theirs, "spam"))
        self.assert_redact(bob.sync(), "op1", ("#r1", theirs, "spam"))

    def test_others_may_not(self) -> None:
        op = self.client("op2")
        bob = self.client("bob2", other=op)
        self.channel("#r2", op, bob)
        msgid = send_echoed(op, "PRIVMSG #r2 :Another message").tags["msgid"]
        [fail] = only(self.redact(bob, f"REDACT #r2 {msgid}"), "FAIL")
        self.assertEqual(fail.params[:4], ("REDACT", "REDACT_FORBIDDEN", "#r2", msgid))
        self.assertEqual(only(op.sync(), "REDACT"), [])
        # the message is still there for everyone
        self.assertIn(msgid, history(bob, "CHATHISTORY LATEST #r2 * 10").msgids)

    def test_a_reaction_and_clients_without_the_capability(self) -> None:
        alys = self.client("alys3")
        plain = self.client("plain3", caps=("message-tags", "echo-message"), other=alys)
        self.channel("#r3", alys, plain)
        react = send_echoed(alys, "@+draft/react=👍 TAGMSG #r3").tags["msgid"]
        plain.sync()
        self.assert_redact(self.redact(alys, f"REDACT #r3 {react}"), "alys3", ("#r3", react))
        self.assertEqual(only(plain.sync(), "REDACT"), [])  # never to those without the cap

    def test_unknown_msgids_and_targets(self) -> None:
        alys = self.client("alys4")
        self.channel("#r4", alys)
        other = self.client("other4")
        self.channel("#elsewhere4", other)
        elsewhere = send_echoed(other, "PRIVMSG #elsewhere4 :not in #r4").tags["msgid"]
        for msgid in ("nonexistent123", "999999", elsewhere):
            with self.subTest(msgid=msgid):
                [fail] = only(self.redact(alys, f"REDACT #r4 {msgid}"), "FAIL")
                self.assertEqual(fail.params[:4], ("REDACT", "UNKNOWN_MSGID", "#r4", msgid))
        for target in ("#fake4", "#elsewhere4"):
            with self.subTest(target=target):
                [fail] = only(self.redact(alys, f"REDACT {target} {elsewhere}"), "FAIL")
                self.assertEqual(fail.params[:3], ("REDACT", "INVALID_TARGET", target))

    def test_gone_from_chathistory_search_and_replay(self) -> None:
        alys = self.client("alys5", caps=CAPS + ("draft/search",))
        self.channel("#r5", alys)
        keep = send_echoed(alys, "PRIVMSG #r5 :this one stays").tags["msgid"]
        gone = send_echoed(alys, "PRIVMSG #r5 :This message will be redacted").tags["msgid"]
        alys.send("SEARCH text=redacted;in=#r5")
        self.assertEqual(find_batch(alys.sync()).msgids, [gone])
        self.redact(alys, f"REDACT #r5 {gone} :oops")
        self.assertEqual(history(alys, "CHATHISTORY LATEST #r5 * 10").msgids, [keep])
        around = history(alys, f"CHATHISTORY AROUND #r5 msgid={gone} 10")
        self.assertEqual(around.msgids, [keep])
        alys.send("SEARCH text=redacted;in=#r5")
        self.assertEqual(find_batch(alys.sync()).inner, [])
        # a client that is replayed the channel on JOIN does not get it either
        legacy = self.client("legacy5", caps=("batch", "server-time"))
        legacy.send("JOIN #r5")
        replay = legacy.expect_until(r" 366 ") + legacy.sync()
        texts = [m.params[1] for m in only(replay, "PRIVMSG")]
        self.assertEqual(texts, ["this one stays"])
        # the tombstone: the row stays without its text, out of every walk (class 3)
        self.assertEqual(self.db("SELECT kind, text, tags FROM messages WHERE id = ?", int(gone)),
                         [("PRIVMSG", "", "")])
        self.assertEqual(self.db("SELECT conv, chat FROM timeline WHERE id = ?", int(gone)),
                         [("#r5", 3)])

    def test_event_playback_replays_the_redact_to_clients_with_the_capability(self) -> None:
        alys = self.client("alys6")
        self.channel("#r6", alys)
        gone = send_echoed(alys, "PRIVMSG #r6 :soon gone").tags["msgid"]
        self.redact(alys, f"REDACT #r6 {gone} :why not")
        with_cap = self.client("cap6", caps=CAPS + ("draft/event-playback",))
        without = self.client("nocap6", caps=tuple(c for c in CAPS if c != CAP)
                              + ("draft/event-playback",))
        for c in (with_cap, without):
            join(c, "#r6")
        batch = history(with_cap, "CHATHISTORY LATEST #r6 * 10")
        [redact] = [m for m in batch.inner if m.command == "REDACT"]
        self.assertEqual(redact.params, ("#r6", gone, "why not"))
        self.assertNotIn(gone, [m.tags["msgid"] for m in batch.inner if m.command == "PRIVMSG"])
        batch = history(without, "CHATHISTORY LATEST #r6 * 10")
        self.assertEqual([m for m in batch.inner if m.command in ("REDACT", "PRIVMSG")], [])

    # authors -----------------------------------------------------------------------------
    def test_an_author_redacts_its_own_by_its_account(self) -> None:
        op = self.client("op7")
        author = self.client("author7", account=True, other=op)
        self.channel("#r7", op, author)
        msgid = send_echoed(author, "PRIVMSG #r7 :regret").tags["msgid"]
        op.sync()
        self.assert_redact(self.redact(author, f"REDACT #r7 {msgid}"), "author7", ("#r7", msgid))
        self.assert_redact(op.sync(), "author7", ("#r7", msgid))
        # a second connection of the same account may too (the account is the author)
        again = send_echoed(author, "PRIVMSG #r7 :regret again").tags["msgid"]
        twin = self.client("twin7")
        twin.send("AUTHENTICATE PLAIN")  # SASL after registration
        twin.expect(r"^AUTHENTICATE \+$")
        twin.send("AUTHENTICATE " + base64.b64encode(
            f"\0author7\0{PASSWORD}".encode()).decode())
        twin.expect(r" 903 ")
        join(twin, "#r7")
        self.assert_redact(self.redact(twin, f"REDACT #r7 {again}"), "twin7", ("#r7", again))

    def test_a_message_sent_while_not_logged_in_is_only_the_operators_to_redact(self) -> None:
        op = self.client("op8")
        anon = self.client("anon8", other=op)
        self.channel("#r8", op, anon)
        msgid = send_echoed(anon, "PRIVMSG #r8 :mine, but who can tell").tags["msgid"]
        [fail] = only(self.redact(anon, f"REDACT #r8 {msgid}"), "FAIL")
        self.assertEqual(fail.params[1], "REDACT_FORBIDDEN")
        self.assertIn("log in", fail.params[-1])
        op.sync()
        self.assert_redact(self.redact(op, f"REDACT #r8 {msgid}"), "op8", ("#r8", msgid))

    def test_private_messages(self) -> None:
        alice = self.client("alice9", account=True)
        bob = self.client("bob9", account=True, other=alice)
        sent = send_echoed(alice, "PRIVMSG bob9 :Private message").tags["msgid"]
        bob.sync()
        # the recipient may not redact it; its author may, and both are told
        [fail] = only(self.redact(bob, f"REDACT alice9 {sent}"), "FAIL")
        self.assertEqual(fail.params[1], "REDACT_FORBIDDEN")
        self.assert_redact(self.redact(alice, f"REDACT bob9 {sent}"), "alice9", ("bob9", sent))
        self.assert_redact(bob.sync(), "alice9", ("bob9", sent))
        # both conversations lost it, and both hold the REDACT (event-playback)
        for c, other in ((alice, "bob9"), (bob, "alice9")):
            self.assertEqual(history(c, f"CHATHISTORY LATEST {other} * 10").msgids, [])
        convs = self.db("SELECT t.conv FROM timeline t JOIN messages m ON m.id = t.id"
                        " WHERE m.kind = 'REDACT' AND m.text = ?", sent)
        self.assertEqual(sorted(c for (c,) in convs), ["~alice9 bob9", "~bob9 alice9"])

    def test_a_client_not_logged_in_redacts_its_own_private_messages(self) -> None:
        anon = self.client("anon10")
        peer = self.client("peer10", other=anon)
        sent = send_echoed(anon, "PRIVMSG peer10 :oops").tags["msgid"]
        got = send_echoed(peer, "PRIVMSG anon10 :hello").tags["msgid"]
        anon.sync()
        self.assert_redact(self.redact(anon, f"REDACT peer10 {sent}"), "anon10",
                           ("peer10", sent))
        self.assert_redact(peer.sync(), "anon10", ("peer10", sent))
        [fail] = only(self.redact(anon, f"REDACT peer10 {got}"), "FAIL")
        self.assertEqual(fail.params[1], "REDACT_FORBIDDEN")

    def test_whoever_took_the_nick_since_is_not_told(self) -> None:
        alice = self.client("alice11", account=True)
        bob = self.client("bob11", other=alice)
        sent = send_echoed(alice, "PRIVMSG bob11 :for the first bob").tags["msgid"]
        bob.send("QUIT")
        bob.wait_closed()
        newcomer = self.client("bob11", other=alice)
        self.assert_redact(self.redact(alice, f"REDACT bob11 {sent}"), "alice11",
                           ("bob11", sent))
        self.assertEqual(only(newcomer.sync(), "REDACT"), [])

    def test_labeled(self) -> None:
        alys = self.client("alys12")
        self.channel("#r12", alys)
        msgid = send_echoed(alys, "PRIVMSG #r12 :x").tags["msgid"]
        lines = self.redact(alys, f"@label=r1 REDACT #r12 {msgid}")
        self.assertTrue(re.match(r"^@label=r1;", lines[0]), lines)
        lines = self.redact(alys, f"@label=r2 REDACT #r12 {msgid}")  # already gone
        self.assertTrue(lines[0].startswith("@label=r2 ") and " FAIL REDACT UNKNOWN_MSGID" in
                        lines[0], lines)
        self.assertEqual(parse(lines[0]).source, SERVER)


if __name__ == "__main__":
    unittest.main()
