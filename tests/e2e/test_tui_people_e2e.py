"""End to end (issue 16, points 3-5): the real `python3 -m tui` in tmux against a real chatd
and against ngIRCd, a stock server without IRCv3 tags, multi-line messages or search.

Against chatd: the nick list on a wide terminal (someone away dimmed) and gone on a narrow
one, /whois as one block, the typing indicator, /msg's feedback; /ignore, kept across a
restart of tui (history included); a bracketed paste of three lines held until Enter, then
one multi-line message when chatd offers draft/multiline, else the "send 3 lines?" question;
/search jumping to the message with its context. Against ngIRCd, each falls back: away from
WHO, no typing sent, the question before sending lines, the search among loaded lines.

Each tui has its own XDG config and data directories and its own private tmux server (killed
at cleanup); servers are stopped by PID. Every wait is a deadline-bounded poll of a screen.
"""

from __future__ import annotations

import re
import stat
import sys
import tempfile
import unittest
from pathlib import Path

from tests.e2e.test_tui_e2e import ROW, server_caps
from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ngircd_process import ngircd_available, start_ngircd
from tests.support.tmux import Tmux, start_tmux, tmux_available

TIMEOUT_S = 15.0
PASTED = "first line\nsecond line\nthird line"


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def dim_at_end(styled: str) -> bool:
    """Is what follows `styled` (a piece of a row captured with styles) drawn dim?"""
    dim = False
    for params in SGR.findall(styled):
        for param in (params or "0").split(";"):
            if param in ("0", "22"):
                dim = False
            elif param == "2":
                dim = True
    return dim


def in_nick_list(styled_screen: str, nick: str) -> bool | None:
    """Whether `nick` is drawn dim in the nick-list column (right of its `│`); None when it
    is not in the column."""
    for row in styled_screen.split("\n"):
        _, bar, column = row.rpartition("│")
        if bar and SGR.sub("", column).strip().lstrip("@+") == nick:
            return dim_at_end(row[:row.rindex(nick)])
    return None


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class PeopleTestCase(unittest.TestCase):
    def home(self) -> Path:
        tmp = tempfile.TemporaryDirectory(prefix="tui-home-")
        self.addCleanup(tmp.cleanup)
        return Path(tmp.name)

    def tui(self, port: int, nick: str, *args: str, width: int = 110, height: int = 30,
            home: Path | None = None, channel: str = "#lobby") -> Tmux:
        home = home or self.home()
        env = {"PYTHONPATH": str(REPO), "USER": "tester", "LOGNAME": "tester", "TZ": "UTC",
               "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
        pane = start_tmux(self, [sys.executable, "-m", "tui", "127.0.0.1", str(port),
                                 "--nick", nick, *args], width, height, env)
        pane.wait_for(rf"You joined {channel}", TIMEOUT_S)
        pane.wait_for(rf"connected \| {nick} \| 2:{channel}", TIMEOUT_S)
        return pane

    def irc(self, port: int, nick: str, channel: str = "#lobby") -> IRCClient:
        client = IRCClient(port)
        self.addCleanup(client.close)
        client.register(nick)
        client.send(f"JOIN {channel}")
        client.expect(rf" 366 {nick} ", TIMEOUT_S)
        return client

    def quit(self, *panes: Tmux) -> None:
        for pane in panes:
            pane.send_keys("C-c")
            self.assertEqual(pane.wait_exit(TIMEOUT_S), 0)


class WithChatdTest(PeopleTestCase):
    def test_nick_list_whois_typing_and_msg(self) -> None:
        server = start_chatd(self)
        bob = self.tui(server.port, "bob", width=100)
        bob.type_line("/away lunch")
        bob.wait_for(r"marked as being away[\s\S]*\| away", TIMEOUT_S)
        alice = self.tui(server.port, "alice")
        # Wide: the nick list, bob dimmed (the WHO tui asks when it shows the channel).
        styled = alice.wait_for(lambda s: in_nick_list(s, "bob"), TIMEOUT_S, styles=True)
        self.assertIs(in_nick_list(styled, "alice"), False)
        # Narrow: the conversation takes the whole width, no column.
        alice.resize(64, 30)
        alice.wait_for(lambda s: "│" not in s and "connected | alice" in s, TIMEOUT_S)
        alice.resize(110, 30)
        alice.wait_for(r"│ @?bob", TIMEOUT_S)

        alice.type_line("/whois bob")
        screen = alice.wait_for(r"-- bob is \S+@\S+ \(tester\).*\n.*--   on \S*#lobby[\s\S]*"
                                r"--   via chat\.test[\s\S]*--   away: lunch", TIMEOUT_S)
        self.assertNotIn("End of WHOIS", screen)

        bob.type("I am typ")
        alice.wait_for(r"\| bob is typing…", TIMEOUT_S)
        bob.send_keys("C-u")  # emptied without sending: done
        alice.wait_for(lambda s: "typing" not in s, TIMEOUT_S)

        alice.type_line("/msg bob psst")
        alice.wait_for(r"-- -> bob: psst", TIMEOUT_S)
        bob.wait_for(r"act: 3:alice!", TIMEOUT_S)  # a private buffer opened for it
        self.quit(alice, bob)

    def test_ignore_is_kept_across_a_restart(self) -> None:
        server = start_chatd(self)
        home = self.home()
        alice = self.tui(server.port, "alice", home=home)
        bob, carol = self.irc(server.port, "bob"), self.irc(server.port, "carol")
        alice.type_line("/ignore bob")
        alice.wait_for(r"Ignoring bob!\*@\*", TIMEOUT_S)
        bob.send("PRIVMSG #lobby :spam one")
        bob.send("PRIVMSG alice :private spam")
        bob.sync()  # the server has relayed bob's lines before carol speaks
        carol.send("PRIVMSG #lobby :ham one")
        screen = alice.wait_for(r"carol: ham one", TIMEOUT_S)
        self.assertNotIn("spam", screen)
        self.assertNotIn("act:", screen)  # no private buffer opened either
        saved = home / "data" / "tui" / "ignores.json"
        self.assertEqual(stat.S_IMODE(saved.stat().st_mode), 0o600)
        self.assertIn("bob!*@*", saved.read_text(encoding="utf-8"))
        self.quit(alice)

        alice = self.tui(server.port, "alice", home=home)
        alice.wait_for(r"carol: ham one", TIMEOUT_S)  # the history, without bob's lines
        bob.send("PRIVMSG #lobby :spam two")
        bob.sync()
        carol.send("PRIVMSG #lobby :ham two")
        alice.wait_for(r"carol: ham two", TIMEOUT_S)
        self.assertNotIn("spam", alice.capture())
        alice.type_line("/unignore bob")
        alice.wait_for(r"No longer ignoring bob!\*@\*", TIMEOUT_S)
        bob.send("PRIVMSG #lobby :heard again")
        alice.wait_for(r"bob: heard again", TIMEOUT_S)
        self.assertNotIn("bob", saved.read_text(encoding="utf-8"))
        self.quit(alice)

    def test_a_paste_of_three_lines_is_held_until_enter(self) -> None:
        server = start_chatd(self)
        multiline = "draft/multiline" in server_caps(server.port)
        alice = self.tui(server.port, "alice")
        bob = self.irc(server.port, "bob")
        alice.paste(PASTED)
        alice.wait_for(r"\[3 lines\] first line↵second line↵third line", TIMEOUT_S)
        bob.assert_no_line(r"PRIVMSG", within_s=1.0)  # nothing went before Enter
        alice.send_keys("Enter")
        if multiline:  # one message, drawn on three rows
            alice.wait_for(rf"alice: first line.*\n{ROW}\s+second line.*\n{ROW}\s+third line",
                           TIMEOUT_S)
            self.assertNotIn("Send 3 lines", alice.capture())
        else:
            alice.wait_for(r"Send 3 lines as 3 messages\? \(y/n\)", TIMEOUT_S)
            bob.assert_no_line(r"PRIVMSG", within_s=0.5)
            alice.type_line("y")
        for text in PASTED.split("\n"):  # bob has no multiline: the lines, in order
            bob.expect(rf"PRIVMSG #lobby :{text}$", TIMEOUT_S)

        alice.type("one")
        alice.send_keys("M-Enter")  # Alt-Enter: a line break in the message
        alice.type("two")
        alice.wait_for(r"\[2 lines\] one↵two", TIMEOUT_S)
        self.quit(alice)

    def test_search_jumps_to_the_message_and_its_context(self) -> None:
        server = start_chatd(self)
        on_server = bool({"draft/search", "soju.im/search"} & server_caps(server.port))
        needle = 5 if on_server else 20  # on the server: one not loaded (50 are)
        bob = self.irc(server.port, "bob")
        for i in range(60):
            bob.send(f"PRIVMSG #lobby :{'the needle is here' if i == needle else 'filler'}"
                     f" {i:02d}")
        bob.sync()
        alice = self.tui(server.port, "alice")
        alice.wait_for(r"filler 59", TIMEOUT_S)
        alice.type_line("/search needle")
        screen = alice.wait_for(rf"1\. \S+ \S+ #lobby bob: the needle is here {needle:02d}",
                                TIMEOUT_S)
        self.assertEqual("The server offers no search" in screen, not on_server)
        alice.send_keys("Enter")
        # The whole of the final screen (a redraw can be caught half done): the channel
        # centred on the message, its status line, and more below.
        screen = alice.wait_for(rf"filler {needle - 1:02d}.*\n.*the needle is here "
                                rf"{needle:02d}.*\n.*filler {needle + 1:02d}[\s\S]*"
                                r"connected \| alice \| 2:#lobby[\s\S]*more below", TIMEOUT_S)
        self.assertNotIn("filler 59", screen)  # centred on it, not at the end
        styled = alice.capture(styles=True)
        row = next(r for r in styled.split("\n") if "the needle is here" in r)
        self.assertRegex(row, r"\x1b\[[0-9;]*7m")  # highlighted (reverse)
        self.quit(alice)


@unittest.skipUnless(ngircd_available(), "ngircd is not installed (.ci/run installs it)")
class WithNgircdTest(PeopleTestCase):
    def test_each_feature_falls_back(self) -> None:
        server = start_ngircd(self)
        bob = self.tui(server.port, "bob", "--channel", "#people", channel="#people")
        bob.type_line("/away lunch")
        bob.wait_for(r"marked as being away", TIMEOUT_S)
        alice = self.tui(server.port, "alice", "--channel", "#people", channel="#people")
        # No away-notify: the WHO's G flag dims the away operator.
        alice.wait_for(lambda s: "│ @bob" in s, TIMEOUT_S)
        alice.wait_for(lambda s: in_nick_list(s, "bob"), TIMEOUT_S, styles=True)
        alice.type_line("/whois bob")
        alice.wait_for(r"-- bob is \S+@\S+[\s\S]*--   away: lunch", TIMEOUT_S)

        # No message-tags: nothing is sent for typing (no "Unknown command" for TAGMSG).
        bob.type("typing here")
        bob.type_line("")
        alice.wait_for(r"bob: typing here", TIMEOUT_S)
        self.assertNotIn("typing…", alice.capture())
        self.assertNotIn("Unknown command", bob.capture())

        # No multiline: asked first, then three messages.
        bob.paste(PASTED)
        bob.wait_for(r"\[3 lines\]", TIMEOUT_S)
        bob.send_keys("Enter")
        bob.wait_for(r"Send 3 lines as 3 messages\? \(y/n\)", TIMEOUT_S)
        bob.type_line("y")
        alice.wait_for(r"bob: first line.*\n.*bob: second line.*\n.*bob: third line", TIMEOUT_S)

        alice.type_line("/ignore bob")
        bob.type_line("not heard")
        bob.wait_for(r"bob: not heard", TIMEOUT_S)
        alice.type_line("/search line")  # no draft/search: the loaded lines
        screen = alice.wait_for(r"3 results", TIMEOUT_S)
        self.assertIn("The server offers no search", screen)
        self.assertNotIn("not heard", alice.capture())
        alice.type_line("/list")
        alice.wait_for(r"1\. #people \(2\)[\s\S]* channels?\. Up/Down", TIMEOUT_S)
        alice.send_keys("Enter")  # the first, selected: #people, joined already: shown
        alice.wait_for(r"connected \| alice \| 2:#people", TIMEOUT_S)
        self.quit(alice, bob)


if __name__ == "__main__":
    unittest.main()
