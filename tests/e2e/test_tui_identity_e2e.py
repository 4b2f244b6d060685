"""End to end: private history that follows the account, seen in the real tui (tmux).

alice registers from tui (/register, login kept), chats privately with bob (a plain IRC test
client), and quits. While her tui is closed, bob writes to her again and she answers from
another device (a raw client logged in to her account with SASL). Her tui then starts, logs in
by itself, and its query buffer for bob shows the whole conversation: what the tui saw, and
what the other device said and received. Every wait is a deadline-bounded poll.
"""

from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

from tests.e2e.test_tui_e2e import server_caps
from tests.integration.test_accounts import sasl_plain, sasl_start
from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.tmux import start_tmux, tmux_available
from tests.support.tui_steps import register_and_keep
from tests.support.wait import wait_until

TIMEOUT_S = 15.0
TIME = r"\d\d:\d\d"


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class TuiPrivateHistoryTest(unittest.TestCase):
    def tui(self, port: int, home: Path):
        env = {"PYTHONPATH": str(REPO), "USER": "tester", "LOGNAME": "tester",
               "XDG_CONFIG_HOME": str(home)}
        return start_tmux(self, [sys.executable, "-m", "tui", "127.0.0.1", str(port)], 100, 30,
                          env)

    def test_private_history_follows_the_login_into_a_restarted_tui(self) -> None:
        server = start_chatd(self)
        if not {"sasl", "draft/account-registration"} <= server_caps(server.port):
            self.skipTest("this chatd does not advertise sasl and draft/account-registration")
        tmp = tempfile.TemporaryDirectory(prefix="tui-config-")
        self.addCleanup(tmp.cleanup)
        home = Path(tmp.name)
        password = "e2e-Private-77"

        # 1. alice registers from tui and keeps the login.
        alice = self.tui(server.port, home)
        alice.wait_for(r"Your name: tester", TIMEOUT_S)
        for screen in register_and_keep(alice, "alice", password, TIMEOUT_S):
            self.assertNotIn(password, screen)

        # 2. A private exchange with bob while the tui runs.
        bob = open_client(self, server.port, "bob")
        bob.send("PRIVMSG alice :first from bob")
        alice.wait_for(r"\d:bob", TIMEOUT_S)  # a query buffer opened for bob
        alice.type_line("/query bob")
        alice.wait_for(rf"{TIME} bob: first from bob", TIMEOUT_S)
        alice.type_line("reply from the tui")
        bob.expect(r":alice!\S+ PRIVMSG bob :reply from the tui$")
        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)

        # 3. The tui is closed: bob writes to alice, who answers from another device.
        def alice_gone() -> bool:
            bob.send("WHOIS alice")
            return any(" 401 " in line for line in bob.expect_until(r" 318 "))
        wait_until(alice_gone, TIMEOUT_S, message="alice's tui gone from the server")
        phone = IRCClient(server.port)
        self.addCleanup(phone.close)
        sasl_start(phone, "alice")
        self.assertIn(" 903 ", sasl_plain(phone, "alice", password))
        phone.send("CAP END")
        phone.expect(r" 001 alice ")
        bob.send("PRIVMSG alice :second from bob, while the tui was closed")
        phone.expect(r"PRIVMSG alice :second from bob, while the tui was closed$")
        phone.send("PRIVMSG bob :answer from the phone")
        bob.expect(r":alice!\S+ PRIVMSG bob :answer from the phone$")
        phone.send("QUIT :phone off")
        phone.wait_closed(TIMEOUT_S)
        wait_until(alice_gone, TIMEOUT_S, message="alice's phone gone from the server")

        # 4. The tui starts again, logs in by itself, and shows the whole conversation.
        again = self.tui(server.port, home)
        again.wait_for(r"Your name: alice", TIMEOUT_S)
        again.send_keys("Enter")
        again.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        again.type_line("/query bob")
        lines = ["bob: first from bob", "alice: reply from the tui",
                 "bob: second from bob, while the tui was closed",
                 "alice: answer from the phone"]
        screen = again.wait_for(lambda s: all(line in s for line in lines), TIMEOUT_S)
        positions = [screen.index(line) for line in lines]
        self.assertEqual(sorted(positions), positions, screen)  # in the order they were said
        for line in lines:
            self.assertEqual(1, screen.count(line), screen)
        self.assertNotIn(password, screen)
        bob.send("WHOIS alice")
        self.assertTrue(any(" 330 bob alice alice " in line
                            for line in bob.expect_until(r" 318 ")))
        again.send_keys("C-c")
        self.assertEqual(again.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
