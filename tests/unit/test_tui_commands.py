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


class RunInputTest(unittest.TestCase):
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
                 ("/me", "Usage: /me")]
        for text, words in cases:
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), [])
                kind, message = self.last()
                self.assertEqual(kind, Kind.ERROR)
                self.assertIn(words, message)

    def test_server_buffer_refuses_plain_text(self) -> None:
        self.state.switch(0)
        self.assertEqual(self.run_("hello?"), [])
        self.assertIn("/join", self.last()[1])

    def test_offline_messages_are_queued_not_refused(self) -> None:
        self.session.disconnected("gone", NOW)
        self.assertEqual(self.run_("hello"), [])
        self.assertEqual(self.run_("/msg bob psst"), [])
        self.assertEqual(len(self.session.outbox), 2)
        self.assertEqual(self.lobby.lines[-1].text, "hello")

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


if __name__ == "__main__":
    unittest.main()
