"""End to end (issue 16, points 1, 2 and 6): the real `python3 -m tui` in tmux against a real
chatd, and against ngIRCd for the fallbacks.

- restore after a restart: a private buffer and a second channel come back with what was said
  while tui was away (and the conversation someone began meanwhile is found), under a
  `— new —` line; the remembered nick and saved login connect without a question;
- a mention rings the bell: tmux marks tui's window when it is in the background;
- the buffer list on a wide terminal, hidden on a narrow one and by F2;
- the fixes seen in use: a long line of CJK text starts on its first row, the nick prompt tells
  the latest problem, one `— live —` divider below our own "You joined", moved by a
  reconnect;
- the read position synced between two tuis of one account (when the server offers
  draft/read-marker);
- ngIRCd (no CHATHISTORY, no server-time): buffers reopened and channels re-joined, saying that
  nothing missed can be shown; nothing sent that it does not know.

Each tui's settings and state live in a temporary XDG_CONFIG_HOME and XDG_STATE_HOME; every
wait is a deadline-bounded poll of the tmux screen.
"""

from __future__ import annotations

import base64
import re
import sys
import tempfile
import unittest
from collections.abc import Callable
from pathlib import Path

from tests.e2e.test_tui_e2e import ROW, TIME, pin_port, server_caps
from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ngircd_process import ngircd_available, start_ngircd
from tests.support.tmux import Tmux, start_tmux, tmux_available
from tests.support.tui_steps import enter_name, register_and_keep
from tests.support.wait import wait_until

TIMEOUT_S = 15.0
BUFFER_LIST = re.compile(r"(?m)^ 1 127\.0\.0\.1 +│")  # its first entry, the server
PASSWORD = "e2e-Remember-42"


def plain(account: str, password: str) -> str:
    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()


class Runner:
    """What the tests here share: tuis with their own folders, IRC clients."""

    addCleanup: Callable

    def folder(self, prefix: str) -> Path:
        tmp = tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)
        self.addCleanup(tmp.cleanup)
        return Path(tmp.name)

    def homes(self) -> dict[str, str]:
        """A fresh XDG_CONFIG_HOME and XDG_STATE_HOME (one computer's tui)."""
        return {"XDG_CONFIG_HOME": str(self.folder("tui-config-")),
                "XDG_STATE_HOME": str(self.folder("tui-state-"))}

    def tui(self, port: int | str, *args: str, homes: dict[str, str] | None = None,
            width: int = 100, height: int = 30) -> Tmux:
        env = {"PYTHONPATH": str(REPO), "USER": "tester", "LOGNAME": "tester", "TZ": "UTC",
               **(homes or self.homes())}
        server = ["127.0.0.1", str(port)] if isinstance(port, int) else [port]
        return start_tmux(self, [sys.executable, "-m", "tui", *server, *args], width, height,
                          env)

    def irc(self, port: int, nick: str) -> IRCClient:
        client = IRCClient(port)
        self.addCleanup(client.close)
        client.answer_pings = True
        client.register(nick)
        return client


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class RememberTest(Runner, unittest.TestCase):
    def test_restore_after_restart(self) -> None:
        server = start_chatd(self)
        if not {"sasl", "draft/chathistory"} <= server_caps(server.port):
            self.skipTest("this chatd offers no sasl or draft/chathistory")
        homes = self.homes()
        alice = self.tui(server.port, homes=homes)
        register_and_keep(alice, "alice", PASSWORD, TIMEOUT_S)  # private history is an account's
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #dev")
        alice.type_line("/join #dev")
        alice.wait_for(r"You joined #dev", TIMEOUT_S)
        bob.send("PRIVMSG #dev :dev before")
        bob.send("PRIVMSG alice :private before")
        alice.wait_for(lambda s: "bob: dev before" in s and " 4 bob          1!" in s,
                       TIMEOUT_S)
        alice.send_keys("M-4")  # reads bob's message, then back to #dev
        alice.wait_for(r"bob: private before", TIMEOUT_S)
        alice.send_keys("M-3")
        alice.wait_for(r"connected \| alice \| 3:#dev", TIMEOUT_S)
        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)

        # Away: alice's phone (her account, another nick) is what bob and carol reach.
        phone = IRCClient(server.port)
        self.addCleanup(phone.close)
        phone.register("alicephone")
        phone.send("AUTHENTICATE PLAIN")
        phone.expect(r"^AUTHENTICATE \+$")
        phone.send(f"AUTHENTICATE {plain('alice', PASSWORD)}")
        phone.expect(r" 903 ")
        bob.send("PRIVMSG #dev :dev while away")
        bob.send("PRIVMSG alicephone :private while away")
        carol = self.irc(server.port, "carol")
        carol.send("PRIVMSG alicephone :carol while away")
        phone.expect(r"PRIVMSG alicephone :carol while away")
        phone.send("QUIT")

        again = self.tui(server.port, homes=homes)  # no name asked: alice, logged in by itself
        again.wait_for(r"connected \| alice \| 3:#dev", TIMEOUT_S)  # where she was
        screen = again.wait_for(r"dev before[^\n]*\n[\s\S]*— new —[^\n]*\n"
                                rf"{ROW}{TIME} @?bob: dev while away", TIMEOUT_S)
        self.assertNotIn("Your name", screen)
        screen = again.wait_for(r" 5 carol", TIMEOUT_S)  # begun while away: found
        self.assertRegex(screen, r" 2 #lobby[\s\S]* 3 #dev[\s\S]* 4 bob +1![\s\S]* 5 carol +1!")
        again.send_keys("M-4")
        again.wait_for(rf"{TIME} bob: private before[\s\S]*— new —[\s\S]*"
                       rf"{TIME} bob: private while away", TIMEOUT_S)
        again.send_keys("M-5")
        again.wait_for(rf"{TIME} carol: carol while away", TIMEOUT_S)
        again.send_keys("C-c")
        self.assertEqual(again.wait_exit(TIMEOUT_S), 0)

    def test_a_mention_rings_the_bell(self) -> None:
        server = start_chatd(self)
        alice = self.tui(server.port, "--nick", "alice")
        alice.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #lobby")
        alice.open_other_window()  # tui's window goes to the background
        bob.send("PRIVMSG #lobby :nothing for anyone")
        alice.wait_for(r"bob: nothing for anyone", TIMEOUT_S)
        self.assertEqual(alice.window_flag("window_bell_flag"), "0")
        bob.send("PRIVMSG #lobby :alice: the build is red")
        wait_until(lambda: alice.window_flag("window_bell_flag") == "1", TIMEOUT_S)

    def test_buffer_list_on_a_wide_and_a_narrow_terminal(self) -> None:
        server = start_chatd(self)
        alice = self.tui(server.port, "--nick", "alice", width=120)
        alice.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #lobby")
        bob.send("JOIN #dev")
        alice.type_line("/join #dev")
        alice.wait_for(r"You joined #dev", TIMEOUT_S)
        alice.send_keys("M-2")
        for i in range(3):
            bob.send(f"PRIVMSG #dev :dev {i}")
        bob.send("PRIVMSG #dev :alice: look")
        bob.send("PRIVMSG alice :psst")
        screen = alice.wait_for(r" 4 bob +1!", TIMEOUT_S)
        self.assertRegex(screen, r"(?m)^ 1 127\.0\.0\.1 +│")
        self.assertRegex(screen, r"(?m)^ 2 #lobby +│")
        self.assertRegex(screen, r"(?m)^ 3 #dev +4 1! *│")  # 4 unread, 1 naming alice
        alice.send_keys("F2")  # hidden (the nick list, right, stays)
        screen = alice.wait_for(lambda s: not BUFFER_LIST.search(s) and "dev 0" not in s,
                                TIMEOUT_S)
        self.assertRegex(screen, rf"(?m)^{TIME} ")
        alice.send_keys("F2")
        alice.wait_for(r" 3 #dev +4 1!", TIMEOUT_S)
        alice.resize(70, 20)  # narrow: no room for it
        screen = alice.wait_for(lambda s: not BUFFER_LIST.search(s) and "connected" in s,
                                TIMEOUT_S)
        self.assertNotIn(" 3 #dev", screen)
        alice.resize(120, 30)
        alice.send_keys("M-3")  # #dev read: its counts go, the list follows
        screen = alice.wait_for(r"(?m)^ 3 #dev +│[\s\S]*bob: alice: look", TIMEOUT_S)
        self.assertRegex(screen, r"(?m)^ 4 bob +1! *│")

    def test_the_fixes_seen_in_use(self) -> None:
        server = start_chatd(self)
        pin_port(server)
        self.irc(server.port, "alice")
        alice = self.tui(server.port)
        # The nick prompt tells the latest problem, not the first one's.
        enter_name(alice, "alice", TIMEOUT_S)
        alice.wait_for(r"alice is already taken\. New nick: ", TIMEOUT_S)
        alice.send_keys("C-u")
        alice.type_line("9lives")  # then, typed over:
        screen = alice.wait_for(r"'9lives' cannot be a nick\. New nick: ", TIMEOUT_S)
        self.assertNotIn("already taken. New nick", screen.splitlines()[-1])
        alice.type_line("alice2")
        alice.wait_for(r"connected \| alice2 \| 2:#lobby", TIMEOUT_S)
        # A long line of CJK without spaces begins on its own first row.
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #lobby")
        bob.send("PRIVMSG #lobby :" + "日本語のテキスト" * 12)
        alice.wait_for(rf"{TIME} bob: 日本語のテキスト日本語", TIMEOUT_S)
        # "You joined" ends the history, "— live —" below it; a reconnect moves it.
        alice.wait_for(r"You joined #lobby[^\n]*\n[^\n]*— live —", TIMEOUT_S)
        server.stop()
        alice.wait_for(r"reconnecting \| alice2", TIMEOUT_S)
        server.start_on_same_config()
        screen = alice.wait_for(r"Disconnected[\s\S]*You joined #lobby[^\n]*\n[^\n]*— live —",
                                TIMEOUT_S)
        self.assertEqual(screen.count("— live —"), 1, screen)

    def test_read_position_synced_between_two_tuis(self) -> None:
        """Two computers of one account, one after the other (one nick at a time): where one
        stopped reading is where the other's `— new —` line goes, and back."""
        server = start_chatd(self)
        if not {"sasl", "draft/read-marker"} <= server_caps(server.port):
            self.skipTest("this chatd offers no draft/read-marker (MARKREAD) yet")
        laptop_homes = self.homes()
        laptop = self.tui(server.port, homes=laptop_homes)
        register_and_keep(laptop, "alice", PASSWORD, TIMEOUT_S)
        bob = self.irc(server.port, "bob")
        bob.send("JOIN #lobby")
        for i in range(3):
            bob.send(f"PRIVMSG #lobby :before {i}")
        laptop.wait_for(r"bob: before 2", TIMEOUT_S)
        laptop.send_keys("M-1")  # leaves #lobby: read up to "before 2" (MARKREAD)
        laptop.wait_for(r"connected \| alice \| 1:", TIMEOUT_S)
        laptop.send_keys("C-c")
        self.assertEqual(laptop.wait_exit(TIMEOUT_S), 0)
        bob.send("PRIVMSG #lobby :after")

        phone = self.tui(server.port)  # another computer: nothing remembered, no saved login
        enter_name(phone, "alice", TIMEOUT_S)
        phone.wait_for(r"Password for alice", TIMEOUT_S)
        phone.type_line(PASSWORD)
        phone.wait_for(r"Keep the password", TIMEOUT_S)
        phone.type_line("n")
        phone.wait_for(r"bob: before 2[^\n]*\n[\s\S]*— new —[^\n]*\n[^\n]*bob: after", TIMEOUT_S)
        phone.send_keys("M-1")  # the phone reads "after"
        phone.wait_for(r"connected \| alice \| 1:", TIMEOUT_S)
        phone.send_keys("C-c")
        self.assertEqual(phone.wait_exit(TIMEOUT_S), 0)

        again = self.tui(server.port, homes=laptop_homes)  # the laptop remembered "before 2"
        again.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        screen = again.wait_for(r"bob: after[\s\S]*— live —", TIMEOUT_S)
        self.assertNotIn("— new —", screen)  # the phone had read it


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
@unittest.skipUnless(ngircd_available(), "ngircd is not installed (.ci/run installs it)")
def _online(client, nick: str) -> bool:
    """Whether `nick` is connected, by ISON (303 lists it)."""
    client.send(f"ISON {nick}")
    reply = client.expect(r" 303 ")
    return nick in reply.split(" :", 1)[-1].split()


class NgircdFallbackTest(Runner, unittest.TestCase):
    def test_restore_without_chathistory(self) -> None:
        server = start_ngircd(self)
        homes = self.homes()
        alice = self.tui(server.port, "--nick", "alice", homes=homes)
        alice.wait_for(r"You joined #lobby", TIMEOUT_S)
        bob = self.irc(server.port, "bob")
        alice.type_line("/join #dev")
        alice.wait_for(r"You joined #dev", TIMEOUT_S)
        bob.send("PRIVMSG alice :psst")
        alice.wait_for(r" 4 bob +1!", TIMEOUT_S)
        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)
        # The remembered nick is free once the server has handled alice's QUIT.
        wait_until(lambda: not _online(bob, "alice"), TIMEOUT_S)

        again = self.tui(server.port, homes=homes)  # the remembered nick: no question
        again.wait_for(r"connected \| alice \| 3:#dev", TIMEOUT_S)
        screen = again.wait_for(r"You joined #dev", TIMEOUT_S)
        self.assertIn("Reopened. This server keeps no history", screen)
        self.assertRegex(screen, r" 2 #lobby[\s\S]* 3 #dev[\s\S]* 4 bob")
        again.send_keys("M-4")
        again.wait_for(r"Reopened\. This server keeps no history", TIMEOUT_S)
        again.send_keys("M-1")
        screen = again.wait_for(r"connected \| alice \| 1:", TIMEOUT_S)
        self.assertNotIn("Unknown command", screen)  # no CHATHISTORY, no MARKREAD sent
        bob.send("PRIVMSG alice :alice: still there?")
        again.open_other_window()
        bob.send("PRIVMSG alice :alice: ping")
        wait_until(lambda: again.window_flag("window_bell_flag") == "1", TIMEOUT_S)
        again.send_keys("C-c")
        self.assertEqual(again.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
