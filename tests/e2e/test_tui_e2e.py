"""End to end: the real `python3 -m tui` in tmux against a real chatd.

The seed scenario (two users, messages both ways, Ctrl-C, server restart, history with times),
plus a nick clash, an unreachable server, a hostile message, scrollback and resizing.
Every wait is a deadline-bounded poll of the tmux screen.
"""

from __future__ import annotations

import re
import socket
import sys
import unittest

from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.tmux import start_tmux, tmux_available

TIMEOUT_S = 15.0
TIME = r"\d\d:\d\d"


def free_port() -> int:
    """A port nobody listens on (bound then released; only used to get a refusal)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class TuiEndToEndTest(unittest.TestCase):
    def tui(self, port: int, *args: str, width: int = 100, height: int = 30):
        env = {"PYTHONPATH": str(REPO), "USER": "tester", "LOGNAME": "tester"}
        return start_tmux(self, [sys.executable, "-m", "tui", "127.0.0.1", str(port), *args],
                          width, height, env)

    def login(self, port: int, name: str):
        """Start tui, answer the name prompt, wait until it shows the channel."""
        term = self.tui(port)
        term.wait_for(r"Your name: tester", TIMEOUT_S)
        term.type(name)  # the pre-filled login name is selected: typing replaces it
        term.send_keys("Enter")
        term.wait_for(r"You joined #lobby", TIMEOUT_S)
        term.wait_for(rf"connected \| {name} \| 2:#lobby", TIMEOUT_S)
        return term

    def irc(self, port: int, nick: str) -> IRCClient:
        client = IRCClient(port)
        self.addCleanup(client.close)
        client.register(nick)
        return client

    def test_seed_scenario(self) -> None:
        server = start_chatd(self)
        alice = self.login(server.port, "alice")
        bob = self.login(server.port, "bob")
        alice.wait_for(r"--> bob joined #lobby", TIMEOUT_S)
        alice.wait_for(r"\(2 users\)", TIMEOUT_S)

        alice.type_line("hello bob, ça va? 日本語")
        bob.wait_for(rf"{TIME} alice: hello bob, ça va\? 日本語", TIMEOUT_S)
        bob.type_line("hi alice")
        alice.wait_for(rf"{TIME} bob: hi alice", TIMEOUT_S)
        bob.type_line("/me waves")
        alice.wait_for(r"\* bob waves", TIMEOUT_S)

        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)
        bob.wait_for(r"<-- alice quit", TIMEOUT_S)
        bob.send_keys("C-c")
        self.assertEqual(bob.wait_exit(TIMEOUT_S), 0)

        server.restart()
        alice = self.login(server.port, "alice")
        bob = self.login(server.port, "bob")
        history = re.compile(rf"({TIME}) alice: hello bob, ça va\? 日本語.*\n"
                             rf"({TIME}) bob: hi alice.*\n({TIME}) \* bob waves", re.DOTALL)
        for term in (alice, bob):
            with self.subTest(user=term):
                screen = term.wait_for(history, TIMEOUT_S)
                self.assertNotIn("\x1b", screen)
        screen = alice.wait_for(r"— live —[\s\S]*--> bob joined #lobby", TIMEOUT_S)
        self.assertLess(screen.index("bob waves"), screen.index("— live —"))

    def test_nick_taken_asks_again(self) -> None:
        server = start_chatd(self)
        self.irc(server.port, "alice")
        term = self.tui(server.port)
        term.wait_for(r"Your name:", TIMEOUT_S)
        term.type_line("alice")
        term.wait_for(r"alice is already taken\. New nick: alice_", TIMEOUT_S)
        term.send_keys("Enter")
        term.wait_for(r"connected \| alice_ \| 2:#lobby", TIMEOUT_S)

    def test_unreachable_server(self) -> None:
        port = free_port()
        for args in (("--nick", "alice"), ()):
            with self.subTest(args=args):
                term = self.tui(port, *args)
                if not args:
                    term.wait_for(r"Your name:", TIMEOUT_S)
                    term.type_line("alice")
                self.assertEqual(term.wait_exit(TIMEOUT_S), 1)
                screen = term.capture(history=True)
                self.assertRegex(screen, rf"tui: cannot connect to 127\.0\.0\.1:{port}: "
                                 r"Connection refused")
                self.assertNotIn("Your name", screen)  # the curses screen is gone

    def test_hostile_message_cannot_touch_the_terminal(self) -> None:
        server = start_chatd(self)
        term = self.login(server.port, "alice")
        mallory = self.irc(server.port, "mallory")
        mallory.send("JOIN #lobby")
        term.wait_for(r"mallory joined", TIMEOUT_S)
        mallory.send("PRIVMSG #lobby :\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[31mred\x9b1m "
                     "\x02bold\x02 \x0304colour\x03 \u202eevil\u202c end")
        screen = term.wait_for(r"mallory: \^\[\[2J\^\[\[H\^\[\]0;pwned\^G\^\[\[31mred<9b>1m "
                               r"bold colour <U\+202E>evil<U\+202C> end", TIMEOUT_S)
        self.assertIn("You joined #lobby", screen)  # nothing was cleared
        self.assertRegex(screen, r"connected \| alice \| 2:#lobby")

    def test_scrollback_and_resize(self) -> None:
        server = start_chatd(self)
        term = self.login(server.port, "alice")
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #lobby")
        for i in range(60):
            bob.send(f"PRIVMSG #lobby :message number {i:02d}")
        term.wait_for(r"message number 59", TIMEOUT_S)
        term.send_keys("PPage")
        screen = term.wait_for(r"more below", TIMEOUT_S)
        self.assertNotIn("message number 59", screen)
        bob.send("PRIVMSG #lobby :arrived while scrolled")
        term.wait_for(r"more below \(1 new\)", TIMEOUT_S)
        self.assertNotIn("arrived while scrolled", term.capture())
        term.send_keys("NPage")
        term.send_keys("NPage")
        term.wait_for(lambda s: "arrived while scrolled" in s and "more below" not in s,
                      TIMEOUT_S)

        term.resize(20, 5)
        term.wait_for(lambda s: len(s.split("\n")) >= 4 and "connected" in s, TIMEOUT_S)
        term.resize(100, 30)
        screen = term.wait_for(r"bob: arrived while scrolled\n[\s\S]*connected \| alice",
                               TIMEOUT_S)
        self.assertNotIn("Traceback", screen)
        term.send_keys("C-c")
        self.assertEqual(term.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
