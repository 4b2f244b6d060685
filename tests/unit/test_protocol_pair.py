"""tui against chatd, in memory: the client's real session talks to the server's real session
logic, master and fan-out (tests/unit/protocol_pair.py wires them without sockets), the way
h11 tests a client and a server by joining two pure endpoints.

Each test drives the users as a person would (connect, type a line, let time pass) and checks
both ends: what the tui sent, what its buffers show, and what chatd made of it. So a change on
either side that breaks the conversation between them — a capability one side stops
offering or asking for, a reply in the wrong order, an echo lost or doubled, a history page
the client cannot place — fails here, not only in the process tests.
"""

from __future__ import annotations

import unittest

from chatd.limits import NICKLEN
from tests.unit.protocol_pair import Client, Network
from tui.state import Delivery, Kind

# What tui asks for and chatd offers (tui/caps.py WANTED, chatd/session/capabilities.py).
SHARED_CAPS = {"batch", "cap-notify", "draft/chathistory", "draft/event-playback",
               "echo-message", "labeled-response", "message-tags", "multi-prefix",
               "server-time", "sasl", "draft/account-registration", "invite-notify",
               "away-notify", "draft/multiline", "draft/search", "soju.im/search",
               "draft/read-marker"}
AUTOJOIN_WAIT_S = 5  # past the tui's wait for the server's autojoin (tui/session.py)


class PairTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.net = Network()

    def online(self, name: str, nick: str | None = None) -> Client:
        """A user who started tui as `nick` and waited until registration and autojoin are
        over."""
        client = self.net.client(nick or name)
        self.net.connect(client)
        self.net.pump()
        self.net.advance(AUTOJOIN_WAIT_S)
        return client

    def say(self, client: Client, text: str, buffer: str | None = None) -> None:
        """`client` types `text` (into `buffer`, if given), a second after the last line."""
        self.net.advance(1)
        if buffer is not None:
            client.focus(buffer)
        client.type(text)
        self.net.pump()

    def in_room(self, *clients: Client, room: str = "#room") -> None:
        for client in clients:
            self.say(client, f"/join {room}")

    def assert_shown_once(self, client: Client, buffer: str, nick: str, text: str):
        """Exactly one chat line `<nick> text` in the buffer; return it."""
        found = [line for line in client.chat_lines(buffer)
                 if line.nick == nick and line.text == text]
        self.assertEqual(len(found), 1, f"{client.name}'s {buffer}: {client.chat(buffer)}")
        return found[0]


class RegistrationTest(PairTestCase):
    def test_caps_welcome_isupport_and_autojoin(self):
        alice = self.online("alice")
        session = alice.session
        # tui opens with CAP LS 302, then asks for exactly what both sides support.
        self.assertEqual(alice.sent[:3], ["CAP LS 302", "NICK alice", "USER alice 0 * alice"])
        (request,) = alice.sent_commands("CAP")[1:-1]
        self.assertEqual(set(request.split(" :", 1)[1].split()), SHARED_CAPS)
        self.assertEqual(alice.sent_commands("CAP")[-1], "CAP END")
        self.assertEqual(session.caps, SHARED_CAPS)
        # ... and chatd agrees on each of them, with the nick the client chose.
        server = self.net.server_session(alice)
        self.assertEqual(set(server.caps), SHARED_CAPS)
        self.assertTrue(server.registered)
        self.assertEqual(server.nick, "alice")
        self.assertIsNotNone(self.net.hub.registry.find_nick("alice"))
        # The welcome reached the user, and the client is registered under its nick.
        self.assertTrue(session.registered)
        self.assertEqual(session.nick, "alice")
        self.assertIn("Welcome to the chatd IRC Network alice!alice@host.example",
                      alice.server_texts())
        self.assertIn("- Hello from the test.", alice.server_texts())
        # The client learned the server's limits from ISUPPORT.
        isupport = session.ctx.isupport
        self.assertEqual(isupport.get("NICKLEN"), str(NICKLEN))
        self.assertEqual(session.nick_max_len(), NICKLEN)
        self.assertEqual(isupport.get("NETWORK"), "chatd")
        self.assertEqual(session.history.max_limit, 100)
        self.assertEqual(session.ctx.chantypes, "#")
        # chatd's autojoin put it in #lobby, shown as joined, with no JOIN of its own.
        lobby = alice.buffer("#lobby")
        self.assertTrue(lobby.joined)
        self.assertEqual(list(lobby.users.nicks()), ["alice"])
        self.assertIn("You joined #lobby", alice.texts("#lobby"))
        self.assertIs(alice.state.current, lobby)
        self.assertEqual(alice.sent_commands("JOIN"), [])
        # With draft/chathistory the client asked for the channel's history itself, and
        # every request was answered.
        self.assertEqual(alice.sent_commands("CHATHISTORY"), ["CHATHISTORY LATEST #lobby * 50"])
        self.assertFalse(session.history.busy)

    def test_a_taken_nick_gets_the_suggested_one(self):
        alice = self.online("alice")
        second = self.online("second", nick="alice")
        (asked,) = second.asked
        self.assertEqual(asked.suggestion, "alice_")
        self.assertEqual(second.sent_commands("NICK"), ["NICK alice", "NICK alice_"])
        self.assertIn("The nick alice is already taken.", second.server_texts())
        self.assertEqual(second.session.nick, "alice_")
        self.assertEqual(self.net.server_session(second).nick, "alice_")
        self.assertEqual(self.net.server_session(alice).nick, "alice")
        # Both are in #lobby, and each sees the other there.
        for client in (alice, second):
            self.assertEqual(sorted(client.buffer("#lobby").users.nicks()),
                             ["alice", "alice_"])
        self.assertIn("--> alice_ joined #lobby", alice.texts("#lobby"))


class ConversationTest(PairTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = self.online("alice")
        self.bob = self.online("bob")

    def test_join_shows_each_other(self):
        alice, bob = self.alice, self.bob
        self.in_room(alice, bob)
        self.assertEqual(alice.sent_commands("JOIN"), ["JOIN #room"])
        for client in (alice, bob):
            room = client.buffer("#room")
            self.assertTrue(room.joined)
            self.assertIs(client.state.current, room)  # /join shows the channel
            self.assertEqual(sorted(room.users.nicks()), ["alice", "bob"])
        self.assertIn("-- 2 users: @alice bob", bob.texts("#room"))  # alice made #room
        self.assertIn("--> bob joined #room", alice.texts("#room"))
        self.assertEqual(self.net.server_session(alice).channels, {"#lobby", "#room"})

    def test_a_channel_message_each_way(self):
        alice, bob = self.alice, self.bob
        self.in_room(alice, bob)
        self.say(alice, "hello bob")
        (sent,) = alice.sent_commands("PRIVMSG")
        self.assertEqual(sent, "PRIVMSG #room :hello bob")
        received = self.assert_shown_once(bob, "#room", "alice", "hello bob")
        self.assertTrue(received.mention)
        self.assertFalse(received.own or received.history)
        # The echo confirmed alice's own line (stored, with its msgid) instead of adding one.
        own = self.assert_shown_once(alice, "#room", "alice", "hello bob")
        self.assertTrue(own.own)
        self.assertEqual(own.delivery, Delivery.SENT)
        self.assertEqual(own.msgid, received.msgid)
        self.assertEqual(len(alice.session.outbox), 0)
        # On the wire too: one copy for bob, one echo for alice (the buffers would hide a
        # second copy with the same msgid).
        for client in (alice, bob):
            self.assertEqual(len(client.received_with(" PRIVMSG #room :hello bob")), 1)

        self.say(bob, "hi alice")
        reply = self.assert_shown_once(alice, "#room", "bob", "hi alice")
        self.assertTrue(reply.mention)
        self.assertGreater(int(reply.msgid), int(own.msgid))
        for client in (alice, bob):
            self.assertEqual(client.chat("#room"), [("alice", "hello bob"), ("bob", "hi alice")])
        # Nothing leaked into the channel both also share.
        self.assertEqual(alice.chat("#lobby"), [])

    def test_a_private_message_each_way(self):
        alice, bob = self.alice, self.bob
        self.say(alice, "/msg bob psst")
        self.assertEqual(alice.sent_commands("PRIVMSG"), ["PRIVMSG bob psst"])
        self.assertEqual(len(alice.received_with(" PRIVMSG bob :psst")), 1)  # the echo
        # bob's new conversation asked for its history, which holds the message itself:
        # shown once all the same.
        self.assertTrue(any(" alice " in line for line in bob.sent_commands("CHATHISTORY")))
        self.assertEqual(bob.chat("alice"), [("alice", "psst")])
        self.assertEqual([(a.nick, a.text, a.private) for a in bob.alerts],
                         [("alice", "psst", True)])  # a private message rings bob's bell
        self.say(bob, "back", buffer="alice")
        self.assertEqual(bob.sent_commands("PRIVMSG"), ["PRIVMSG alice back"])
        for client in (alice, bob):
            partner = "bob" if client is alice else "alice"
            self.assertEqual(client.chat(partner), [("alice", "psst"), ("bob", "back")])
            self.assertTrue(all(line.delivery in (None, Delivery.SENT)
                                for line in client.chat_lines(partner)))
        self.assertEqual(alice.chat("#lobby"), [])


class ChatHistoryTest(PairTestCase):
    """What was said before a client joined, or while it was away, comes from CHATHISTORY."""

    SAID = [("alice", "one"), ("bob", "two"), ("alice", "three")]

    def setUp(self) -> None:
        super().setUp()
        self.alice = self.online("alice")
        self.bob = self.online("bob")
        self.in_room(self.alice, self.bob)
        for nick, text in self.SAID:
            self.say(self.alice if nick == "alice" else self.bob, text)

    def assert_in_order_once(self, client: Client, buffer: str) -> None:
        lines = client.chat_lines(buffer)
        ids = [int(line.msgid) for line in lines]
        self.assertEqual(ids, sorted(set(ids)), f"{client.name}'s {buffer}: not in order once")

    def test_a_newcomer_reads_what_was_said(self):
        carol = self.online("carol")
        self.say(carol, "/join #room")
        self.assertIn("CHATHISTORY LATEST #room * 50", carol.sent_commands("CHATHISTORY"))
        self.assertEqual(carol.chat("#room"), self.SAID)
        self.assertTrue(all(line.history for line in carol.chat_lines("#room")))
        self.assert_in_order_once(carol, "#room")
        texts = carol.texts("#room")
        # Nothing older exists: the page is marked as the start; the join ends the history,
        # "— live —" right below it.
        self.assertEqual(texts[0], "start")
        self.assertLess(texts.index("three"), texts.index("You joined #room"))
        self.assertEqual(texts.index("live"), texts.index("You joined #room") + 1)
        # What is said afterwards is live, once.
        self.say(self.bob, "welcome carol")
        self.assertEqual(carol.chat("#room"), [*self.SAID, ("bob", "welcome carol")])
        self.assertFalse(carol.chat_lines("#room")[-1].history)
        self.assert_in_order_once(carol, "#room")

    def test_a_reconnecting_client_catches_up_on_what_it_missed(self):
        alice, bob = self.alice, self.bob
        newest = bob.chat_lines("#room")[-1].msgid
        self.net.drop(bob)
        self.net.pump()
        self.assertIsNone(self.net.hub.registry.find_nick("bob"))
        self.say(alice, "four")
        self.say(alice, "five")
        self.net.connect(bob)
        self.net.pump()
        self.net.advance(AUTOJOIN_WAIT_S)  # tui re-joins #room itself (not an autojoin)
        self.assertEqual(bob.sent_commands("JOIN"), ["JOIN #room", "JOIN #room"])
        self.assertIn(f"CHATHISTORY AFTER #room msgid={newest} 100",
                      bob.sent_commands("CHATHISTORY"))
        said = [*self.SAID, ("alice", "four"), ("alice", "five")]
        self.assertEqual(bob.chat("#room"), said)
        missed = bob.chat_lines("#room")[-2:]
        self.assertTrue(all(line.history for line in missed))
        self.assert_in_order_once(bob, "#room")
        self.assertTrue(bob.buffer("#room").joined)
        self.assertEqual(sorted(alice.buffer("#room").users.nicks()), ["alice", "bob"])
        # And the conversation goes on, both ways.
        self.say(bob, "back again")
        self.assertEqual(alice.chat("#room"), [*said, ("bob", "back again")])
        self.assert_shown_once(bob, "#room", "bob", "back again")
        self.assertEqual([line.kind for line in bob.chat_lines("#room")], [Kind.MESSAGE] * 6)


if __name__ == "__main__":
    unittest.main()
