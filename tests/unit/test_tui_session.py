"""tui.session: registration, CAP, channel events and sending, with no sockets."""

import unittest
from datetime import UTC, datetime, timedelta

from ircproto.message import parse
from tui.effects import AskNick, Disconnect, Send
from tui.session import Session
from tui.state import BufferKind, Kind, State

T0 = datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC)
MASK = "alice!~alice@127.0.0.1"


def sent(effects) -> list[str]:
    return [e.line for e in effects if isinstance(e, Send)]


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Harness:
    def __init__(self, **kwargs) -> None:
        self.state = State(tz=UTC)
        self.session = Session(self.state, "alice", **kwargs)
        self.now = T0

    def recv(self, *lines: str) -> list:
        out = []
        for line in lines:
            out += self.session.receive(line, self.now)
        return out

    def advance(self, seconds: float) -> list:
        self.now += timedelta(seconds=seconds)
        return self.session.tick(self.now)

    def register(self, caps: str = "server-time") -> None:
        self.session.connect(self.now)
        self.recv(f":srv CAP * LS :{caps}", ":srv CAP * ACK :server-time",
                  f":srv 001 alice :Welcome to chat {MASK}", ":srv 422 alice :No MOTD")

    def join(self, channel: str = "#lobby", names: str = "alice bob") -> None:
        self.recv(f"@time={stamp(self.now)} :{MASK} JOIN {channel}",
                  f":srv 353 alice = {channel} :{names}", f":srv 366 alice {channel} :End")

    def texts(self, name: str) -> list[str]:
        buf = self.state.get(name) if name != "server" else self.state.server
        return [line.text for line in buf.lines]


class RegistrationTest(unittest.TestCase):
    def test_connect_starts_with_cap_ls(self) -> None:
        h = Harness()
        self.assertEqual(sent(h.session.connect(h.now)),
                         ["CAP LS 302", "NICK alice", "USER tui 0 * tui"])

    def test_cap_negotiation(self) -> None:
        cases = [
            # (server lines, expected sends, caps enabled)
            ([":s CAP * LS :chghost server-time sasl=EXTERNAL"], ["CAP REQ server-time"],
             set()),
            ([":s CAP * LS :server-time", ":s CAP * ACK :server-time"],
             ["CAP REQ server-time", "CAP END"], {"server-time"}),
            ([":s CAP * LS :chghost"], ["CAP END"], set()),
            ([":s CAP * LS * :chghost", ":s CAP * LS :server-time=x"],
             ["CAP REQ server-time"], set()),
            ([":s CAP * LS :server-time", ":s CAP * NAK :server-time"],
             ["CAP REQ server-time", "CAP END"], set()),
            ([":s 421 * CAP :Unknown command", ":s 001 alice :hi"], [], set()),
        ]
        for lines, expected, caps in cases:
            with self.subTest(lines=lines):
                h = Harness()
                h.session.connect(h.now)
                self.assertEqual(sent(h.recv(*lines)), expected)
                self.assertEqual(h.session.caps, caps)

    def test_silent_server_gets_cap_end_after_a_while(self) -> None:
        h = Harness()
        h.session.connect(h.now)
        self.assertEqual(sent(h.advance(1)), [])
        self.assertEqual(sent(h.advance(5)), ["CAP END"])
        self.assertEqual(sent(h.advance(5)), [])

    def test_nick_refused_during_registration_asks_the_user(self) -> None:
        cases = [(":s 433 * alice :Nickname is already in use", "alice_", "already taken"),
                 (":s 432 * al!ce :Erroneous nickname", "alce", "not allowed")]
        for line, suggestion, words in cases:
            with self.subTest(line=line):
                h = Harness()
                h.session.connect(h.now)
                effects = h.recv(line)
                asks = [e for e in effects if isinstance(e, AskNick)]
                self.assertEqual(len(asks), 1)
                self.assertEqual(asks[0].suggestion, suggestion)
                self.assertIn(words, asks[0].message)
                self.assertEqual(sent(h.session.choose_nick("alice2")), ["NICK alice2"])

    def test_nick_in_use_after_registration_is_reported_not_asked(self) -> None:
        h = Harness()
        h.register()
        effects = h.recv(":s 433 alice bob :Nickname is already in use")
        self.assertEqual(effects, [])
        self.assertIn("The nick bob is already taken.", h.texts("server"))

    def test_welcome_sets_nick_and_mask(self) -> None:
        h = Harness()
        h.register()
        self.assertTrue(h.session.registered)
        self.assertEqual(h.session.mask, MASK)

    def test_ping_pong(self) -> None:
        h = Harness()
        self.assertEqual(sent(h.recv("PING :abc 123")), ["PONG :abc 123"])
        self.assertEqual(sent(h.recv("PING token")), ["PONG token"])


class AutojoinTest(unittest.TestCase):
    def test_server_autojoin_is_used(self) -> None:
        h = Harness()
        h.register()
        h.join("#lobby")
        self.assertIs(h.state.current, h.state.get("#lobby"))
        self.assertEqual(sent(h.advance(10)), [])

    def test_no_autojoin_joins_the_default_channel(self) -> None:
        h = Harness(channel="#lobby")
        h.register()
        self.assertEqual(sent(h.advance(0.5)), [])
        self.assertEqual(sent(h.advance(1)), ["JOIN #lobby"])

    def test_explicit_channel_is_joined_and_shown(self) -> None:
        h = Harness(channel="#dev", channel_explicit=True)
        h.register()
        h.join("#lobby")
        self.assertEqual(sent(h.advance(2)), ["JOIN #dev"])
        h.join("#dev")
        self.assertEqual(h.state.current.name, "#dev")

    def test_reconnect_does_not_move_the_user(self) -> None:
        h = Harness(channel="#dev", channel_explicit=True)
        h.register()
        h.advance(2)
        h.join("#dev")
        h.join("#other")
        h.state.focus(h.state.get("#other"))
        h.session.disconnected("gone", h.now)
        h.register()
        self.assertEqual(sorted(sent(h.advance(2))), ["JOIN #dev", "JOIN #other"])
        h.join("#dev")
        h.join("#other")
        self.assertEqual(h.state.current.name, "#other")

    def test_reconnect_rejoins_previous_channels(self) -> None:
        h = Harness()
        h.register()
        h.join("#lobby")
        h.join("#dev")
        h.session.disconnected("gone", h.now)
        self.assertFalse(h.state.get("#dev").joined)
        h.register()
        h.join("#lobby")  # the server's autojoin
        self.assertEqual(sent(h.advance(2)), ["JOIN #dev"])


class ChannelEventsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.register()
        self.h.join("#lobby", "@alice +bob carol")
        self.buf = self.h.state.get("#lobby")

    def test_names_strip_prefixes(self) -> None:
        self.assertEqual(sorted(self.buf.users.nicks()), ["alice", "bob", "carol"])
        self.assertIn("-- 3 users: @alice +bob carol", self.h.texts("#lobby"))

    def test_membership_events(self) -> None:
        cases = [
            (":dave!d@h JOIN #lobby", "--> dave joined #lobby", "dave", True),
            (":bob!b@h PART #lobby :bye", "<-- bob left #lobby (bye)", "bob", False),
            (":carol!c@h QUIT :Quit: gone", "<-- carol quit (Quit: gone)", "carol", False),
            (":alice!a@h KICK #lobby bob :spam", "<-- bob was kicked by alice (spam)", "bob",
             False),
        ]
        for line, text, nick, present in cases:
            with self.subTest(line=line):
                self.h.recv(line)
                last = self.buf.lines[-1]
                self.assertEqual((last.kind, last.text), (Kind.EVENT, text))
                self.assertEqual(nick in self.buf.users, present)

    def test_nick_change(self) -> None:
        self.h.recv(":bob!b@h NICK robert")
        self.assertIn("robert", self.buf.users)
        self.assertNotIn("bob", self.buf.users)
        self.assertEqual(self.h.texts("#lobby")[-1], "-- bob is now known as robert")
        self.h.recv(f":{MASK} NICK alicia")
        self.assertEqual(self.h.session.nick, "alicia")

    def test_topic(self) -> None:
        self.h.recv(":s 332 alice #lobby :Welcome here")
        self.assertEqual(self.buf.topic, "Welcome here")
        self.h.recv(":bob!b@h TOPIC #lobby :New topic")
        self.assertEqual(self.buf.topic, "New topic")
        self.assertEqual(self.h.texts("#lobby")[-1], "-- bob changed the topic to: New topic")

    def test_own_part_closes_the_buffer(self) -> None:
        self.h.recv(f":{MASK} PART #lobby")
        self.assertIsNone(self.h.state.get("#lobby"))
        self.assertEqual(self.h.state.current.kind, BufferKind.SERVER)


class MessageTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.register()
        self.h.now += timedelta(minutes=5)
        self.h.join("#lobby")
        self.buf = self.h.state.get("#lobby")

    def test_replayed_history_keeps_its_time_and_gets_a_divider(self) -> None:
        old = self.h.now - timedelta(minutes=3)
        self.h.recv(f"@time={stamp(old)} :bob!b@h PRIVMSG #lobby :earlier",
                    f"@time={stamp(old + timedelta(seconds=1))} :{MASK} PRIVMSG #lobby :mine")
        self.h.now += timedelta(seconds=2)
        self.h.recv(f"@time={stamp(self.h.now)} :bob!b@h PRIVMSG #lobby :now")
        chat = [l for l in self.buf.lines if l.kind in (Kind.MESSAGE, Kind.DIVIDER)]
        self.assertEqual([(l.kind, l.text, l.history) for l in chat], [
            (Kind.MESSAGE, "earlier", True), (Kind.MESSAGE, "mine", True),
            (Kind.DIVIDER, "live", False), (Kind.MESSAGE, "now", False)])
        self.assertEqual(chat[0].time, old)
        self.assertTrue(chat[1].own)

    def test_no_history_no_divider(self) -> None:
        self.h.recv(":bob!b@h PRIVMSG #lobby :hi")
        self.assertNotIn(Kind.DIVIDER, [l.kind for l in self.buf.lines])

    def test_replay_after_reconnect_is_not_repeated(self) -> None:
        old = self.h.now - timedelta(minutes=3)
        line = f"@time={stamp(old)} :bob!b@h PRIVMSG #lobby :earlier"
        self.h.recv(line)
        self.h.session.say("#lobby", "my live line", self.h.now)
        count = len(self.buf.lines)
        self.h.session.disconnected("gone", self.h.now)
        self.h.now += timedelta(minutes=1)
        self.h.register()
        self.h.join("#lobby")
        own_replay = f"@time={stamp(self.h.now - timedelta(minutes=1, milliseconds=-40))} " \
            f":{MASK} PRIVMSG #lobby :my live line"
        self.h.recv(line, own_replay)
        texts = self.h.texts("#lobby")
        self.assertEqual(texts.count("earlier"), 1)
        self.assertEqual(texts.count("my live line"), 1)
        self.assertGreater(len(self.buf.lines), count)

    def test_kinds_and_targets(self) -> None:
        cases = [
            (":bob!b@h PRIVMSG #lobby :\x01ACTION waves\x01", "#lobby", Kind.ACTION, "waves"),
            (":bob!b@h NOTICE #lobby :note", "#lobby", Kind.NOTICE, "note"),
            (":bob!b@h PRIVMSG alice :psst", "bob", Kind.MESSAGE, "psst"),
            (":srv.example NOTICE alice :server says", "server", Kind.NOTICE, "server says"),
        ]
        for line, buffer, kind, text in cases:
            with self.subTest(line=line):
                self.h.recv(line)
                buf = self.h.state.get(buffer) if buffer != "server" else self.h.state.server
                self.assertEqual((buf.lines[-1].kind, buf.lines[-1].text), (kind, text))

    def test_private_message_and_mention_mark_activity(self) -> None:
        self.h.recv(":bob!b@h PRIVMSG alice :psst", ":bob!b@h JOIN #dev")
        query = self.h.state.get("bob")
        self.assertEqual(query.kind, BufferKind.QUERY)
        self.assertTrue(query.mention)
        self.assertIs(self.h.state.current, self.buf)
        self.h.state.switch(0)
        self.h.recv(":bob!b@h PRIVMSG #lobby :hey Alice, look", ":bob!b@h PRIVMSG #lobby :x")
        self.assertEqual((self.buf.unread, self.buf.mention), (2, True))
        self.h.recv(":bob!b@h PRIVMSG #lobby :malice is not a mention")
        self.assertFalse(self.buf.lines[-1].mention)

    def test_ctcp_version_is_answered_privately_only(self) -> None:
        self.assertEqual(sent(self.h.recv(":bob!b@h PRIVMSG alice :\x01VERSION\x01")),
                         ["NOTICE bob :\x01VERSION tui (chatd client)\x01"])
        self.assertEqual(sent(self.h.recv(":bob!b@h PRIVMSG #lobby :\x01VERSION\x01")), [])

    def test_long_messages_are_split_within_512_bytes(self) -> None:
        for text in ("word " * 300, "é" * 700, "🎉" * 400, "x" * 2000):
            with self.subTest(text=text[:10]):
                lines = sent(self.h.session.say("#lobby", text, self.h.now))
                self.assertGreater(len(lines), 1)
                rebuilt = ""
                for line in lines:
                    relayed = f":{MASK} {line}\r\n"
                    self.assertLessEqual(len(relayed.encode()), 512)
                    rebuilt += parse(line).params[1]
                self.assertEqual(rebuilt, text)

    def test_action_is_split_too(self) -> None:
        lines = sent(self.h.session.say("#lobby", "y" * 1200, self.h.now, action=True))
        self.assertGreater(len(lines), 2)
        for line in lines:
            self.assertLessEqual(len(f":{MASK} {line}\r\n".encode()), 512)
            self.assertTrue(parse(line).params[1].startswith("\x01ACTION "))


class KeepaliveTest(unittest.TestCase):
    """A silent connection: PING after 60 s without traffic, dead 30 s later."""

    def test_ping_then_timeout(self) -> None:
        h = Harness()
        h.register()
        self.assertEqual(sent(h.advance(2)), ["JOIN #lobby"])
        self.assertEqual(h.session.next_deadline(), T0 + timedelta(seconds=60))
        self.assertEqual(sent(h.advance(57)), [])
        self.assertEqual(sent(h.advance(1)), ["PING tui"])
        self.assertEqual(h.session.next_deadline(), T0 + timedelta(seconds=90))
        self.assertEqual(h.advance(29), [])
        self.assertEqual(h.advance(1), [Disconnect("ping timeout")])

    def test_traffic_resets_the_probe(self) -> None:
        h = Harness()
        h.register()
        self.assertEqual(sent(h.advance(61))[-1:], ["PING tui"])
        h.recv(":srv PONG srv :tui")
        self.assertEqual(h.advance(31), [])
        self.assertEqual(h.session.next_deadline(), h.now + timedelta(seconds=29))


if __name__ == "__main__":
    unittest.main()
