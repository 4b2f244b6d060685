"""TLS listeners over real sockets, with a throwaway self-signed certificate made by the
`openssl` CLI: TLS and plain clients chatting both ways, TLS 1.2+ only, what a TLS port does
with plain text, garbage and silence (the connection goes, bystanders are served), client
certificate fingerprints in WHOIS (276, to the user only; 671 for everyone on TLS), IRCv3
STS, and certificate problems as configuration errors."""

from __future__ import annotations

import re
import ssl
import subprocess
import tempfile
import unittest
import warnings
from pathlib import Path

from ircproto.message import parse
from tests.support.chatd_process import chatd_command, chatd_env, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.tls import (OPENSSL_MISSING, client_context, der_fingerprint,
                               make_certificate, openssl_available, tls_config)
from tests.support.wait import wait_until

TIMEOUT_S = 10.0


@unittest.skipUnless(openssl_available(), OPENSSL_MISSING)
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-tls-")
        cls.addClassCleanup(tmp.cleanup)
        cls.certs = Path(tmp.name)
        cls.cert, cls.key = make_certificate(cls.certs)
        cls.client_cert, cls.client_key = make_certificate(cls.certs, "alice", "alice")
        extra = tls_config(cls.cert, cls.key, sts_duration_s=300)
        extra["server"] = {"registration_timeout": "2"}
        cls.server = start_chatd(cls, extra=extra)

    def tls_client(self, nick: str | None = None, **context: object) -> IRCClient:
        return open_client(self, self.server.tls_port, nick, tls=client_context(**context))

    def assert_server_serves_others(self) -> None:
        bystander = open_client(self, self.server.port, f"by{id(self) % 10000}")
        bystander.sync("still-here")
        bystander.close()

    def test_tls_and_plain_clients_chat_both_ways(self) -> None:
        secure = self.tls_client("secure1")
        plain = open_client(self, self.server.port, "plain1")
        secure.send("PRIVMSG plain1 :over tls")
        plain.expect(r":secure1!\S+ PRIVMSG plain1 :over tls$")
        plain.send("PRIVMSG secure1 :over plain text")
        secure.expect(r":plain1!\S+ PRIVMSG secure1 :over plain text$")
        big = "x" * 400
        for index in range(300):  # many records each way, more than one read holds
            secure.send(f"PRIVMSG plain1 :{index} {big}")
        plain.expect(r"PRIVMSG plain1 :299 x+$")
        for index in range(300):
            plain.send(f"PRIVMSG secure1 :{index} {big}")
        secure.expect(r"PRIVMSG secure1 :299 x+$")
        self.assertEqual(secure.sock.version() in ("TLSv1.2", "TLSv1.3"), True)

    def test_tls_1_1_is_refused(self) -> None:
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context = client_context(maximum=ssl.TLSVersion.TLSv1_1)
        try:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            IRCClient(self.server.tls_port, tls=context).close()
        wait_until(lambda: re.search(r"TLS handshake failed: UNSUPPORTED_PROTOCOL",
                                     self.server.log_text()),
                   TIMEOUT_S, message="the handshake failure logged")
        self.assert_server_serves_others()

    def test_plain_text_to_the_tls_port_is_closed_quietly(self) -> None:
        client = IRCClient(self.server.tls_port)
        self.addCleanup(client.close)
        client.send("NICK plaintext")
        client.send("USER p 0 * :P")
        client.wait_closed(TIMEOUT_S)
        self.assertNotIn(" 001 ", "\n".join(client.seen))
        self.assert_server_serves_others()
        self.assertNotIn("Traceback", self.server.log_text())

    def test_garbage_handshake_is_closed_quietly(self) -> None:
        client = IRCClient(self.server.tls_port)
        self.addCleanup(client.close)
        # A TLS handshake record header announcing a ClientHello, then noise.
        client.send_raw(b"\x16\x03\x01\x00\x40" + bytes(range(64)))
        client.wait_closed(TIMEOUT_S)
        self.assert_server_serves_others()
        self.assertNotIn("Traceback", self.server.log_text())

    def test_silent_client_is_closed_at_the_registration_timeout(self) -> None:
        client = IRCClient(self.server.tls_port)  # TCP only: never starts its handshake
        self.addCleanup(client.close)
        self.assert_server_serves_others()
        client.wait_closed(TIMEOUT_S)  # registration_timeout = 2 s
        self.assert_server_serves_others()

    def test_client_certificate_fingerprint_in_own_whois_only(self) -> None:
        fingerprint = der_fingerprint(self.client_cert)
        alice = self.tls_client("certalice", cert=self.client_cert, key=self.client_key)
        bob = self.tls_client("certbob")
        plain = open_client(self, self.server.port, "certplain")
        alice.send("WHOIS certalice")
        own = alice.expect_until(r" 318 ")
        self.assertTrue(any(re.search(rf" 276 certalice certalice :.*{fingerprint}$", line)
                            for line in own), own)
        self.assertTrue(any(" 671 certalice certalice " in line for line in own), own)
        for other in (bob, plain):
            other.send("WHOIS certalice")
            seen = other.expect_until(r" 318 ")
            self.assertFalse(any(" 276 " in line or fingerprint in line for line in seen), seen)
            self.assertTrue(any(" 671 " in line for line in seen), seen)
        bob.send("WHOIS certbob")  # on TLS without a certificate: 671, no 276
        seen = bob.expect_until(r" 318 ")
        self.assertTrue(any(" 671 " in line for line in seen), seen)
        self.assertFalse(any(" 276 " in line for line in seen), seen)
        plain.send("WHOIS certplain")
        self.assertFalse(any(re.search(" 671 | 276 ", line)
                             for line in plain.expect_until(r" 318 ")))

    def test_sts_port_over_plain_text_duration_over_tls(self) -> None:
        cases = ((self.server.port, None, f"sts=port={self.server.tls_port}"),
                 (self.server.tls_port, client_context(), "sts=duration=300"))
        for port, context, expected in cases:
            with self.subTest(expected=expected):
                client = open_client(self, port, tls=context)
                client.send("CAP LS 302")  # its reply may take more than one line
                caps = " ".join(parse(line).params[-1] for line in client.expect_until(
                    r" CAP \* LS (?!\* )")).split()  # the last line has no "*"
                self.assertEqual([c for c in caps if c.startswith("sts")], [expected])
                older = open_client(self, port, tls=context)
                older.send("CAP LS")  # without 302, no cap values: no sts at all
                caps = older.expect_msg(r" CAP \* LS ").params[-1].split()
                self.assertFalse([c for c in caps if c.startswith("sts")], caps)


@unittest.skipUnless(openssl_available(), OPENSSL_MISSING)
class TlsConfigErrorTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-tls-")
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        self.cert, self.key = make_certificate(self.dir)
        self.other_cert, self.other_key = make_certificate(self.dir, "other")

    def run_chatd(self, tls_section: str, *args: str) -> subprocess.CompletedProcess:
        conf = self.dir / "chatd.conf"
        conf.write_text("[server]\nlisten = 127.0.0.1:0\nlog_level = error\n[tls]\n"
                        + tls_section, encoding="utf-8")
        return subprocess.run(chatd_command("-c", str(conf), *args), capture_output=True,
                              text=True, timeout=30, env=chatd_env(), cwd=self.dir)

    def test_bad_certificate_or_key_exits_2_with_one_line(self) -> None:
        (self.dir / "garbage.pem").write_text("not a certificate\n")
        cases = {
            "listen without cert": "listen = 127.0.0.1:0\n",
            "missing cert": "listen = 127.0.0.1:0\ncert = nope.crt\nkey = server.key\n",
            "missing key": "listen = 127.0.0.1:0\ncert = server.crt\nkey = nope.key\n",
            "not PEM": "listen = 127.0.0.1:0\ncert = garbage.pem\nkey = server.key\n",
            "key of another cert": "listen = 127.0.0.1:0\ncert = server.crt\nkey = other.key\n",
            "sts without listen": "sts_duration = 60\n",
        }
        for name, section in cases.items():
            for args in ((), ("--check",)):
                with self.subTest(case=name, args=args):
                    result = self.run_chatd(section, *args)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    lines = result.stderr.splitlines()
                    self.assertEqual(len(lines), 1, result.stderr)
                    self.assertRegex(lines[0], r"^chatd: config error: .*\[tls\]")
                    self.assertNotIn("listening on", result.stderr)

    def test_good_pair_is_valid(self) -> None:
        result = self.run_chatd("listen = 127.0.0.1:0\ncert = server.crt\nkey = server.key\n",
                                "--check")
        self.assertEqual(result.returncode, 0, result.stderr)



if __name__ == "__main__":
    unittest.main()
