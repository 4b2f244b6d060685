"""tui.registration and tui.context: limits and name rules come from the server's ISUPPORT
(RFC defaults until it says), not from any server's own constants. No sockets."""

import unittest
from datetime import UTC, datetime

from ircproto.isupport import RFC1459_NICKLEN

from tui.app import App, Mode
from tui.context import CLIENT_NICK_MAX_LEN
from tui.effects import AskNick
from tui.registration import allowed_nick, suggest_nick
from tui.session import Session
from tui.state import State

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
TAKEN = ":s 433 * {nick} :Nickname is already in use"


def asked(effects) -> list[AskNick]:
    return [e for e in effects if isinstance(e, AskNick)]


def registered_session(isupport: str) -> Session:
    session = Session(State(tz=UTC), "alice")
    session.connect(T0)
    for line in (":s 421 * CAP :Unknown command", ":s 001 alice :Welcome",
                 f":s 005 alice {isupport} :are supported"):
        session.receive(line, T0)
    return session


class NickSuggestionTest(unittest.TestCase):
    def test_suggest_nick(self) -> None:
        cases = [("alice", 9, "alice_"), ("alexandra", 9, "alexandr_"),
                 ("alexandra", 30, "alexandra_")]
        for nick, max_len, expected in cases:
            with self.subTest(nick=nick, max_len=max_len):
                self.assertEqual(suggest_nick(nick, max_len), expected)

    def test_allowed_nick(self) -> None:
        cases = [("al!ce", "alce"), ("9lives", "g9lives"), ("!!!", "guest")]
        for nick, expected in cases:
            with self.subTest(nick=nick):
                self.assertEqual(allowed_nick(nick), expected)

    def test_taken_nick_suggestion_follows_the_announced_nicklen(self) -> None:
        # A reconnect: the 433 comes before the new 005, so the last announced NICKLEN holds.
        cases = [("NICKLEN=30", "alexandra_"), ("NICKLEN=9", "alexandr_"),
                 ("CHANTYPES=#", "alexandr_")]  # no NICKLEN: RFC 1459's 9
        for isupport, expected in cases:
            with self.subTest(isupport=isupport):
                session = registered_session(isupport)
                session.disconnected("gone", T0)
                session.nick = "alexandra"
                session.connect(T0)
                asks = asked(session.receive(TAKEN.format(nick="alexandra"), T0))
                self.assertEqual([a.suggestion for a in asks], [expected])

    def test_taken_nick_longer_than_the_default_keeps_its_length(self) -> None:
        # First connection, no 005 yet: the server accepted the length, only not the name.
        session = Session(State(tz=UTC), "alexandria")
        session.connect(T0)
        asks = asked(session.receive(TAKEN.format(nick="alexandria"), T0))
        self.assertEqual([a.suggestion for a in asks], ["alexandri_"])

    def test_a_new_connection_starts_a_fresh_isupport(self) -> None:
        session = registered_session("NICKLEN=30 CHANTYPES=&")
        session.disconnected("gone", T0)
        session.connect(T0)
        session.receive(":s 001 alice :Welcome", T0)
        session.receive(":s 005 alice CHATHISTORY=50 :are supported", T0)
        # This server advertises no NICKLEN: RFC 1459's 9, not the old server's 30.
        self.assertEqual(session.nick_max_len(), RFC1459_NICKLEN)
        self.assertTrue(session.is_channel("#a"))  # the default channel types again


class ContextFromIsupportTest(unittest.TestCase):
    def test_channel_types_and_prefixes(self) -> None:
        cases = [("CHANTYPES=# PREFIX=(ov)@+", "#x", "&x", "@+bob", "bob"),
                 ("CHANTYPES=& PREFIX=(q)~", "&x", "#x", "~bob", "bob"),
                 ("NICKLEN=20", "#x", "+x", "@+bob", "bob"),  # defaults: #& and (ov)@+
                 ("NICKLEN=20", "#x", "+x", "%bob", "%bob")]
        for isupport, channel, not_channel, prefixed, stripped in cases:
            with self.subTest(isupport=isupport):
                ctx = registered_session(isupport).ctx
                self.assertTrue(ctx.is_channel(channel))
                self.assertFalse(ctx.is_channel(not_channel))
                self.assertEqual(ctx.prefix_table.split(prefixed)[1], stripped)

    def test_nick_max_len(self) -> None:
        self.assertEqual(Session(State(tz=UTC), "a").nick_max_len(), CLIENT_NICK_MAX_LEN)
        self.assertEqual(registered_session("NICKLEN=16").nick_max_len(), 16)
        self.assertEqual(registered_session("NICKLEN=64").nick_max_len(), 64)


class PromptTest(unittest.TestCase):
    def test_start_prompt_uses_the_client_bound(self) -> None:
        cases = [("a" * CLIENT_NICK_MAX_LEN, Mode.CHAT), ("a" * (CLIENT_NICK_MAX_LEN + 1),
                                                          Mode.NAME)]
        for nick, mode in cases:
            with self.subTest(length=len(nick)):
                app = App("chat.test", 6667, nick=None, login="root", tz=UTC)
                app.input.set(nick)
                app.submit(T0)
                self.assertEqual(app.mode, mode)


if __name__ == "__main__":
    unittest.main()
