"""tui.commands: parsing what the user types and what each command does."""

import unittest
from datetime import UTC, datetime

from tui.commands import COMMANDS, Quit, parse_input, run_input
from tui.effects import Send
from tui.session import Session
from tui.state import BufferKind, Kind, State

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class ParseInputTest(unittest.TestCase):
    def test_table(self) -> None:
        cases = [("hello", (None, "hello")), ("/join #a", ("join", "#a")),
                 ("/JOIN  #a ", ("join", "#a")), ("/quit", ("quit", "")),
                 ("//not a command", (None, "/not a command")), ("/ x", (None, "x")),
                 ("/me waves  hard", ("me", "waves  hard"))]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(parse_input(text), expected)


class InLobbyTestCase(unittest.TestCase):
    """A registered session in #lobby (topic "hello"), typing in its buffer."""

    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.session = Session(self.state, "alice")
        self.session.connect(NOW)
        for line in (":s CAP * LS :sasl", ":s 001 alice :Welcome", ":s 422 alice :No MOTD",
                     ":alice!a@h JOIN #lobby", ":s 332 alice #lobby :hello"):
            self.session.receive(line, NOW)
        self.lobby = self.state.get("#lobby")

    def run_(self, text: str) -> list[str]:
        return [a.line if isinstance(a, Send) else a for a in
                run_input(text, self.session, self.state, NOW)]

    def last(self) -> tuple[Kind, str]:
        line = self.state.current.lines[-1]
        return line.kind, line.text


class RunInputTest(InLobbyTestCase):
    def test_sends(self) -> None:
        cases = [
            ("hi all", ["PRIVMSG #lobby :hi all"]),
            ("/me waves", ["PRIVMSG #lobby :\x01ACTION waves\x01"]),
            ("/join #dev", ["JOIN #dev"]), ("/join dev", ["JOIN #dev"]),
            ("/j #a,#b", ["JOIN #a", "JOIN #b"]),
            ("/part", ["PART #lobby"]), ("/part bye now", ["PART #lobby :bye now"]),
            ("/part #lobby later", ["PART #lobby later"]),
            ("/msg bob hi there", ["PRIVMSG bob :hi there"]),
            ("/nick alicia", ["NICK alicia"]),
            ("/topic new topic", ["TOPIC #lobby :new topic"]),
            ("/names", ["NAMES #lobby"]),
            ("/quote MODE #lobby +t", ["MODE #lobby +t"]),
            ("/say /etc/passwd", ["PRIVMSG #lobby /etc/passwd"]),
            ("/quit", [Quit("Leaving")]), ("/quit see you", [Quit("see you")]),
            ("", []),
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), expected)

    def test_messages_are_shown_as_own(self) -> None:
        self.run_("hello")
        line = self.lobby.lines[-1]
        self.assertEqual((line.kind, line.text, line.nick, line.own),
                         (Kind.MESSAGE, "hello", "alice", True))

    def test_mistakes_are_reported_in_the_buffer(self) -> None:
        cases = [("/frobnicate x", "Unknown command /frobnicate"), ("/join", "Usage: /join"),
                 ("/msg bob", "Usage: /msg"), ("/win 9", "Usage: /win N"),
                 ("/me", "Usage: /me"), ("/msg :bob hi", "Usage: /msg"),
                 ("/query :bob", "Usage: /query")]
        for text, words in cases:
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), [])
                kind, message = self.last()
                self.assertEqual(kind, Kind.ERROR)
                self.assertIn(words, message)
        # Nothing was queued that could never be written (and would fail every later flush).
        self.assertEqual(len(self.session.outbox), 0)
        self.assertEqual(self.session.flush(), [])

    def test_server_buffer_refuses_plain_text(self) -> None:
        self.state.switch(0)
        self.assertEqual(self.run_("hello?"), [])
        self.assertIn("/join", self.last()[1])

    def test_offline_messages_are_queued_not_refused(self) -> None:
        self.session.disconnected("gone", NOW)
        self.assertEqual(self.run_("hello"), [])
        self.assertEqual(self.run_("/msg bob psst"), [])
        self.assertEqual(len(self.session.outbox), 2)
        # The private message is shown in bob's buffer; here, only where it went.
        self.assertEqual([line.text for line in self.lobby.lines[-2:]],
                         ["hello", "-> bob: psst"])
        self.assertEqual(self.state.get("bob").lines[-1].text, "psst")

    def test_not_in_the_channel(self) -> None:
        self.session.receive(":alice!a@h KICK #lobby alice :out", NOW)
        self.assertEqual(self.run_("hello"), [])
        self.assertIn("You are not in #lobby", self.last()[1])

    def test_resend_with_nothing_to_resend(self) -> None:
        self.assertEqual(self.run_("/resend"), [])
        self.assertIn("Nothing here", self.last()[1])

    def test_query_and_win(self) -> None:
        self.assertEqual(self.run_("/query bob hi"), ["PRIVMSG bob hi"])
        self.assertEqual(self.state.current.name, "bob")
        self.assertEqual(self.run_("/part"), [])  # closes the query, tells no server
        self.assertIsNone(self.state.get("bob"))
        self.run_("/win 1")
        self.assertEqual(self.state.current.kind, BufferKind.SERVER)

    def test_topic_without_text_shows_the_known_topic(self) -> None:
        self.assertEqual(self.run_("/topic"), [])
        self.assertIn("hello", self.last()[1])

    def test_help_lists_every_command(self) -> None:
        self.run_("/help")
        text = "\n".join(l.text for l in self.lobby.lines)
        for name in COMMANDS:
            with self.subTest(name=name):
                self.assertIn(f"/{name}", text)



class OperatorCommandsTest(InLobbyTestCase):
    """/op, /kick, /ban ... in #lobby; the server allows 3 modes with an argument per line
    (RFC 2812) until its ISUPPORT MODES says otherwise."""

    def test_sends(self) -> None:
        cases = [
            ("/op bob", ["MODE #lobby +o bob"]),
            ("/op bob carol dave erin", ["MODE #lobby +ooo bob carol dave", "MODE #lobby +o erin"]),
            ("/op #dev bob", ["MODE #dev +o bob"]),
            ("/deop bob", ["MODE #lobby -o bob"]),
            ("/voice bob carol", ["MODE #lobby +vv bob carol"]),
            ("/devoice bob", ["MODE #lobby -v bob"]),
            ("/kick bob", ["KICK #lobby bob"]),
            ("/kick bob stop  spamming", ["KICK #lobby bob :stop  spamming"]),
            ("/kick #dev bob bye", ["KICK #dev bob bye"]),
            ("/ban spammer", ["MODE #lobby +b spammer!*@*"]),
            ("/ban *!*@spam.example", ["MODE #lobby +b *!*@spam.example"]),
            ("/ban $a:troll", ["MODE #lobby +b $a:troll"]),
            ("/ban bob!*@* carol", ["MODE #lobby +bb bob!*@* carol!*@*"]),
            ("/ban", ["MODE #lobby +b"]),  # the ban list
            ("/ban #dev x", ["MODE #dev +b x!*@*"]),
            ("/unban spammer", ["MODE #lobby -b spammer!*@*"]),
            ("/invite bob", ["INVITE bob #lobby"]),
            ("/invite bob #dev", ["INVITE bob #dev"]),
            ("/mode", ["MODE #lobby"]),
            ("/mode +m", ["MODE #lobby +m"]),
            ("/mode +k sekrit", ["MODE #lobby +k sekrit"]),
            ("/mode -l+t", ["MODE #lobby -l+t"]),
            ("/mode #dev +i", ["MODE #dev +i"]),
            ("/mode alice +i", ["MODE alice +i"]),
            ("/topic", []),  # shows the known topic
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), expected)

    def test_the_servers_modes_limit(self) -> None:
        self.session.receive(":s 005 alice MODES=1 :are supported", NOW)
        self.assertEqual(self.run_("/voice bob carol"),
                         ["MODE #lobby +v bob", "MODE #lobby +v carol"])
        self.session.receive(":s 005 alice MODES :are supported", NOW)  # no limit
        self.assertEqual(self.run_("/voice a b c d"), ["MODE #lobby +vvvv a b c d"])

    def test_outside_a_channel(self) -> None:
        self.state.switch(0)
        self.assertEqual(self.run_("/op #lobby bob"), ["MODE #lobby +o bob"])
        self.assertEqual(self.run_("/mode +i"), ["MODE alice +i"])  # our user modes
        self.assertEqual(self.run_("/op bob"), [])
        self.assertEqual(self.last(), (Kind.ERROR, "Usage: /op [#chan] nick... (name the "
                                       "channel, or type it in the channel's buffer)"))

    def test_bad_usage_is_one_line_never_a_crash(self) -> None:
        cases = [("/op", "Usage: /op [#chan] nick..."), ("/deop #lobby", "Usage: /deop"),
                 ("/kick", "Usage: /kick [#chan] nick [reason]"), ("/unban", "Usage: /unban"),
                 ("/invite", "Usage: /invite nick [#chan]"),
                 ("/invite bob carol", "Usage: /invite"), ("/invite #lobby", "Usage: /invite"),
                 ("/op :bob", "Usage: /op"), ("/kick :bob", "Usage: /kick"),
                 ("/mode +b :x", "Usage: /mode"), ("/ban a :b", "Usage: /ban")]
        for text, words in cases:
            with self.subTest(text=text):
                before = len(self.state.current.lines)
                self.assertEqual(self.run_(text), [])
                self.assertEqual(len(self.state.current.lines), before + 1)
                kind, message = self.last()
                self.assertEqual(kind, Kind.ERROR)
                self.assertTrue(message.startswith(words), message)

    def test_not_connected(self) -> None:
        self.session.disconnected("gone", NOW)
        self.assertEqual(self.run_("/kick bob"), [])
        self.assertEqual(self.last(), (Kind.ERROR, "Not connected: /kick needs the server."))


if __name__ == "__main__":
    unittest.main()
