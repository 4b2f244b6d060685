"""End to end over TLS: the real `python3 -m tui --tls-insecure` in tmux against a chatd with
a TLS listener (throwaway self-signed certificate), chatting with a plain-text client; `--tls`
refusing that certificate (it does not verify); the server password asked for, hidden, after
a 464."""

from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.tls import OPENSSL_MISSING, make_certificate, openssl_available, tls_config
from tests.support.tmux import start_tmux, tmux_available

TIMEOUT_S = 15.0


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
@unittest.skipUnless(openssl_available(), OPENSSL_MISSING)
class TuiTlsEndToEndTest(unittest.TestCase):
    def start_server(self, **server: str):
        tmp = tempfile.TemporaryDirectory(prefix="chatd-tls-")
        self.addCleanup(tmp.cleanup)
        cert, key = make_certificate(Path(tmp.name))
        extra = tls_config(cert, key)
        if server:
            extra["server"] = server
        return start_chatd(self, extra=extra)

    def tui(self, port: int, *args: str):
        env = {"PYTHONPATH": str(REPO), "USER": "tester", "LOGNAME": "tester"}
        return start_tmux(self, [sys.executable, "-m", "tui", "127.0.0.1", str(port), *args],
                          100, 30, env)

    def test_tls_insecure_chats_with_a_plain_client(self) -> None:
        server = self.start_server()
        alice = self.tui(server.tls_port, "--tls-insecure", "--nick", "alice")
        alice.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        bob = IRCClient(server.port)
        self.addCleanup(bob.close)
        bob.register("bob")
        bob.send("PRIVMSG #lobby :hello over plain text")
        alice.wait_for(r"bob: hello over plain text", TIMEOUT_S)
        alice.type_line("hello over TLS")
        bob.expect(r":alice!\S+ PRIVMSG #lobby :hello over TLS$", TIMEOUT_S)
        bob.send("WHOIS alice")
        self.assertTrue(any(" 671 bob alice " in line for line in bob.expect_until(" 318 ")))
        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)

    def test_tls_refuses_a_certificate_that_does_not_verify(self) -> None:
        server = self.start_server()
        term = self.tui(server.tls_port, "--tls", "--nick", "alice")
        self.assertEqual(term.wait_exit(TIMEOUT_S), 1)
        self.assertRegex(term.capture(history=True),
                         r"tui: cannot connect to 127\.0\.0\.1:\d+: TLS: .*certificate")

    def test_server_password_prompt_after_464(self) -> None:
        server = self.start_server(password="open sesame")
        term = self.tui(server.tls_port, "--tls-insecure", "--nick", "alice")
        term.wait_for(r"The server wants a password\.[\s\S]*Server password:", TIMEOUT_S)
        term.type("open sesame")
        screen = term.wait_for(r"Server password: \*{11}", TIMEOUT_S)
        self.assertNotIn("open sesame", screen)
        term.send_keys("Enter")
        screen = term.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        self.assertNotIn("open sesame", term.capture(history=True))
        term.send_keys("C-c")
        self.assertEqual(term.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
