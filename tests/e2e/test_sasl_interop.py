"""Real IRC clients log in to chatd with SASL PLAIN and SCRAM-SHA-256 (the README's lines):
irssi (its chatnet's sasl_* settings, in a config file the test writes; SCRAM only from irssi
1.5, which added it) and WeeChat (its server's sasl_* options, set by startup
commands), each in its own tmux with a throwaway home. The account is registered first by a
plain test client; its name is the client's nick, which chatd reserves for the account, so
the client is only welcomed under it if its SASL login worked. chatd's side is checked from
another test client: WHOIS shows 330 (logged in as). Every wait is a deadline-bounded poll.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import unittest

from tests.e2e.test_interop import ENV, irssi_config
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.tmux import Tmux, start_tmux, tmux_available
from tests.support.wait import wait_until

TIMEOUT_S = 15.0
MECHANISMS = ("PLAIN", "SCRAM-SHA-256")  # the two README lines for irssi and WeeChat


def irssi_version() -> tuple[int, ...]:
    """`irssi --version` as numbers, e.g. (1, 4, 3)."""
    output = subprocess.run(["irssi", "--version"], capture_output=True, text=True,
                            timeout=10).stdout
    match = re.search(r"irssi (\d+)\.(\d+)", output)
    return tuple(int(part) for part in match.groups()) if match else (0, 0)


def irssi_sasl_config(nick: str, port: int, account: str, password: str,
                      mechanism: str) -> str:
    """irssi's whole config: the interop settings, one chatnet with SASL PLAIN, and one
    server in it that irssi connects to at start."""
    return irssi_config(nick) + f"""\
chatnets = {{
  chatd = {{
    type = "IRC";
    sasl_mechanism = "{mechanism}";
    sasl_username = "{account}";
    sasl_password = "{password}";
  }};
}};
servers = (
  {{
    address = "127.0.0.1";
    chatnet = "chatd";
    port = "{port}";
    use_tls = "no";
    autoconnect = "yes";
  }}
);
"""


def weechat_sasl_commands(port: int, nick: str, account: str, password: str,
                          mechanism: str) -> str:
    options = [f"-nicks={nick}", f"-username={nick}", f"-realname={nick}", "-notls",
               f"-sasl_mechanism={mechanism.lower()}", f"-sasl_username={account}",
               f"-sasl_password={password}", "-sasl_fail=disconnect",
               "-anti_flood_prio_high=0", "-anti_flood_prio_low=0"]
    return ";".join([
        "/set weechat.look.save_config_on_exit off",
        f"/server add chatd 127.0.0.1/{port} " + " ".join(options),
        "/connect chatd",
    ])


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class SaslInteropTest(unittest.TestCase):
    def home(self) -> str:
        tmp = tempfile.TemporaryDirectory(prefix="sasl-home-", ignore_cleanup_errors=True)
        self.addCleanup(tmp.cleanup)
        return tmp.name

    def register_account(self, port: int, account: str, password: str) -> None:
        registrant = open_client(self, port, f"reg{account}")
        registrant.send(f"REGISTER {account} * {password}")
        registrant.expect(rf"REGISTER SUCCESS {account} ")
        registrant.send("QUIT")
        registrant.wait_closed(TIMEOUT_S)

    def assert_logged_in_as(self, port: int, nick: str, account: str, term: Tmux) -> None:
        watcher = IRCClient(port)
        self.addCleanup(watcher.close)
        watcher.register(f"w{nick}")
        watcher.answer_pings = True

        def logged_in() -> bool:
            watcher.send(f"WHOIS {nick}")
            return any(f" 330 w{nick} {nick} {account} " in line
                       for line in watcher.expect_until(r" 318 "))
        try:
            wait_until(logged_in, TIMEOUT_S, interval_s=0.1, message=f"330 for {nick}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the client's screen:\n{term.capture()}") from None

    @unittest.skipUnless(shutil.which("irssi"), "irssi is not installed (.ci/run installs it)")
    def test_irssi_logs_in_with_sasl(self) -> None:
        server = start_chatd(self)
        for index, mechanism in enumerate(MECHANISMS):
            with self.subTest(mechanism=mechanism):
                if mechanism.startswith("SCRAM") and irssi_version() < (1, 5):
                    self.skipTest(f"irssi {irssi_version()} has no SCRAM (irssi 1.5 added it)")
                account, password = f"ines{index}", f"irssi-Sasl-Pass-{index}"
                self.register_account(server.port, account, password)
                home = self.home()
                with open(f"{home}/config", "w", encoding="utf-8") as fh:
                    fh.write(irssi_sasl_config(account, server.port, account, password,
                                               mechanism))
                term = start_tmux(self, ["irssi", f"--home={home}"], 120, 30, ENV)
                term.wait_for(rf"Welcome to the .* {account}!", TIMEOUT_S)
                self.assert_logged_in_as(server.port, account, account, term)
                term.type_line("/quit bye")
                self.assertEqual(term.wait_exit(TIMEOUT_S), 0)

    @unittest.skipUnless(shutil.which("weechat"),
                         "weechat is not installed (.ci/run installs weechat-curses)")
    def test_weechat_logs_in_with_sasl(self) -> None:
        server = start_chatd(self)
        for index, mechanism in enumerate(MECHANISMS):
            with self.subTest(mechanism=mechanism):
                account, password = f"wanda{index}", f"weechat-Sasl-Pass-{index}"
                self.register_account(server.port, account, password)
                commands = weechat_sasl_commands(server.port, account, account, password,
                                                 mechanism)
                term = start_tmux(self, ["weechat", "-d", self.home(), "-a", "-s", "-P", "irc",
                                         "-r", commands], 120, 30, ENV)
                self.assert_logged_in_as(server.port, account, account, term)
                term.type_line("/quit bye")
                self.assertEqual(term.wait_exit(TIMEOUT_S), 0)

if __name__ == "__main__":
    unittest.main()
