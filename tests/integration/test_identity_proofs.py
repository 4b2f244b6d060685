"""Proofs that join TLS, accounts and private history (issue 11), against real chatd
processes on loopback:

- SASL EXTERNAL end to end: client certificates made by the test (openssl), one fingerprint
  added to an account with the operator's command (`chatd account cert-add`, through the
  running server), a TLS login with it (900/903, the reserved nick granted), refusals (904)
  for another certificate, no certificate, an authorization identity of another account and
  a removed certificate; WHOIS 276 shows the fingerprint to its user only, 330 to everyone.
- Private history follows the account, never the nick: whoever takes the nick after its
  owner left reads nothing of the owner's, the owner reads everything from another device
  under another nick, also after a server restart.
- No password text in any file of the history folder after REGISTER, PLAIN, SCRAM and
  PASSWORD (plain, base64 and UTF-16 forms), nor in the log.
- Bad input around identity not covered elsewhere, each followed by a bystander's PING.

Each class keeps its failed logins (all from 127.0.0.1) under the per-address throttle's 5.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.integration.test_accounts import b64, sasl_plain, scram_login
from tests.support.chatd_process import ChatdProcess, chatd_command, chatd_env, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import HISTORY_CAPS, NO_AUTOJOIN, find_batch, send_echoed
from tests.support.tls import (OPENSSL_MISSING, client_context, der_fingerprint,
                               make_certificate, openssl_available, tls_config)
from tests.support.wait import wait_until

EARLY = "timestamp=2020-01-01T00:00:00.000Z"
LATE = "timestamp=2262-01-01T00:00:00.000Z"


def account_command(server: ChatdProcess, *args: str, stdin: str = ""
                    ) -> subprocess.CompletedProcess:
    """`chatd -c CONF account ...` (the operator's command), bounded."""
    return subprocess.run(chatd_command("-c", str(server.conf_path), "account", *args),
                          input=stdin, capture_output=True, text=True, timeout=30,
                          env=chatd_env(), cwd=server.workdir)


def sasl_connect(testcase: unittest.TestCase, port: int, nick: str,
                 caps: tuple[str, ...] = (), tls=None) -> IRCClient:
    """Open a connection that asks for `sasl` (and `caps`) and sends NICK/USER, stopping
    before AUTHENTICATE and CAP END."""
    client = open_client(testcase, port, tls=tls)
    client.send("CAP LS 302")
    client.send("CAP REQ :" + " ".join(("sasl", *caps)))
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick}")
    client.expect(r"CAP \* ACK :?sasl")
    return client


def finish_registration(client: IRCClient, nick: str) -> None:
    client.send("CAP END")
    client.expect(rf" 001 {re.escape(nick)} ")
    client.expect(r" (376|422) ")


def bystander_served(testcase: unittest.TestCase, server: ChatdProcess, token: str) -> None:
    """A fresh client registers and gets its PING answered."""
    bystander = open_client(testcase, server.port, f"by{abs(hash(token)) % 100000}")
    bystander.sync(token)
    bystander.close()


@unittest.skipUnless(openssl_available(), OPENSSL_MISSING)
class SaslExternalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-external-")
        cls.addClassCleanup(tmp.cleanup)
        folder = Path(tmp.name)
        cls.server_cert, cls.server_key = make_certificate(folder)
        cls.alice_cert, cls.alice_key = make_certificate(folder, "alice", "alice")
        cls.other_cert, cls.other_key = make_certificate(folder, "other", "other")
        cls.server = start_chatd(cls, extra={**NO_AUTOJOIN,
                                             **tls_config(cls.server_cert, cls.server_key)})
        for name in ("alice", "zed"):
            owner = open_client(cls, cls.server.port, name)
            owner.send(f"REGISTER {name} * password-of-{name}")
            owner.expect(rf"REGISTER SUCCESS {name} ")
            owner.close()
        cls.fingerprint = der_fingerprint(cls.alice_cert)
        # The operator's form: upper case with colons, as `openssl x509 -fingerprint` prints.
        colons = ":".join(cls.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
        result = account_command(cls.server, "cert-add", "alice", colons)
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert "certificate added" in result.stdout, result.stdout
        assert "server not running" not in result.stdout, result.stdout  # through the server

    def tls(self, cert: Path | None = None, key: Path | None = None):
        return client_context(cert=cert, key=key)

    def external(self, client: IRCClient, authzid: str = "") -> str:
        client.send("AUTHENTICATE EXTERNAL")
        line = client.expect(r"^AUTHENTICATE \+$| 904 ")
        if " 904 " in line:
            return line
        client.send(f"AUTHENTICATE {b64(authzid.encode()) if authzid else '+'}")
        return client.expect(r" (903|904) ")

    def test_certificate_logs_in_and_whois_shows_its_fingerprint_to_its_user_only(self) -> None:
        alice = sasl_connect(self, self.server.tls_port, "alice",
                             tls=self.tls(self.alice_cert, self.alice_key))
        self.assertIn(" 903 alice ", self.external(alice))
        self.assertTrue(any(re.search(r" 900 alice alice!\S+ alice :You are now logged in as "
                                      r"alice", line) for line in alice.seen), alice.seen)
        finish_registration(alice, "alice")  # the reserved nick, granted to its account
        alice.send("WHOIS alice")
        own = alice.expect_until(r" 318 ")
        self.assertTrue(any(re.search(rf" 276 alice alice :.*{self.fingerprint}$", l)
                            for l in own), own)
        self.assertTrue(any(" 330 alice alice alice " in l for l in own), own)
        watcher = open_client(self, self.server.port, "watcher")
        watcher.send("WHOIS alice")
        seen = watcher.expect_until(r" 318 ")
        self.assertTrue(any(" 330 watcher alice alice " in l for l in seen), seen)
        self.assertFalse([l for l in seen if " 276 " in l or self.fingerprint in l.lower()])

    def test_explicit_authorization_identity(self) -> None:
        own = sasl_connect(self, self.server.tls_port, "alice_b",
                           tls=self.tls(self.alice_cert, self.alice_key))
        self.assertIn(" 903 alice_b ", self.external(own, "ALICE"))  # case-insensitive
        finish_registration(own, "alice_b")
        other = sasl_connect(self, self.server.tls_port, "alice_c",
                             tls=self.tls(self.alice_cert, self.alice_key))
        # The certificate is alice's: asking for zed's account with it is refused.
        self.assertIn(" 904 alice_c ", self.external(other, "zed"))
        finish_registration(other, "alice_c")  # not logged in, still served
        other.send("WHOIS alice_c")
        self.assertFalse([l for l in other.expect_until(r" 318 ") if " 330 " in l])

    def test_other_certificate_or_none_fails_cleanly(self) -> None:
        cases = {"another certificate": self.tls(self.other_cert, self.other_key),
                 "no certificate": self.tls()}
        for index, (name, context) in enumerate(cases.items()):
            with self.subTest(case=name):
                nick = f"guest{index}"
                client = sasl_connect(self, self.server.tls_port, nick, tls=context)
                self.assertIn(f" 904 {nick} ", self.external(client))
                finish_registration(client, nick)
                client.sync()
                # and the reserved nick stays refused to this connection
                client.send("NICK alice")
                client.expect(rf" 433 {nick} alice :.*reserved")
        bystander_served(self, self.server, "after-external-failures")

    def test_bad_bytes_on_the_tls_port_leave_a_logged_in_tls_user_served(self) -> None:
        user = sasl_connect(self, self.server.tls_port, "alice_d",
                            tls=self.tls(self.alice_cert, self.alice_key))
        self.assertIn(" 903 alice_d ", self.external(user))
        finish_registration(user, "alice_d")
        cases = {
            "plain IRC": b"CAP LS 302\r\nNICK plain\r\nUSER p 0 * :p\r\n",
            "an HTTP request": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "a cut ClientHello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        }
        for name, data in cases.items():
            with self.subTest(case=name):
                raw = IRCClient(self.server.tls_port)
                self.addCleanup(raw.close)
                raw.send_raw(data)
                if name == "a cut ClientHello":
                    raw.sock.shutdown(socket.SHUT_WR)  # the rest never comes
                raw.wait_closed(10.0)
                self.assertNotIn(" 001 ", "\n".join(raw.seen))
                user.sync(f"after {name}")
        # Garbage inside an established TLS session (bytes that are no TLS record).
        broken = open_client(self, self.server.tls_port, tls=self.tls())
        with socket.socket(fileno=os.dup(broken.sock.fileno())) as under:
            under.sendall(b"\x17\x03\x03\x00\x10" + b"\xaa" * 16 + b"NICK x\r\n")
        broken.wait_closed(10.0)
        user.sync("after a broken record")
        user.send("WHOIS alice_d")
        self.assertTrue(any(" 330 alice_d alice_d alice " in line
                            for line in user.expect_until(r" 318 ")))
        self.assertNotIn("Traceback", self.server.log_text())

    def test_removed_certificate_no_longer_logs_in(self) -> None:
        # Its own account and certificate, so the other tests are not disturbed.
        tmp = tempfile.TemporaryDirectory(prefix="chatd-external-del-")
        self.addCleanup(tmp.cleanup)
        cert, key = make_certificate(Path(tmp.name), "yan", "yan")
        owner = open_client(self, self.server.port, "yan")
        owner.send("REGISTER yan * password-of-yan")
        owner.expect(r"REGISTER SUCCESS yan ")
        fingerprint = der_fingerprint(cert)
        self.assertEqual(0, account_command(self.server, "cert-add", "yan", fingerprint).returncode)
        first = sasl_connect(self, self.server.tls_port, "yan1", tls=self.tls(cert, key))
        self.assertIn(" 903 yan1 ", self.external(first))
        removed = account_command(self.server, "cert-del", "yan", fingerprint)
        self.assertEqual(0, removed.returncode, removed.stderr)
        second = sasl_connect(self, self.server.tls_port, "yan2", tls=self.tls(cert, key))
        self.assertIn(" 904 yan2 ", self.external(second))


def nick_gone(asker: IRCClient, nick: str) -> bool:
    asker.send(f"WHOIS {nick}")
    return any(" 401 " in line for line in asker.expect_until(r" 318 "))


def history_batch(client: IRCClient, command: str):
    client.send(command)
    return find_batch(client.sync())


class PrivateHistoryFollowsTheAccountTest(unittest.TestCase):
    """issue 11 point 5. alice's account is named `alicia`, so the nick `alice` is nobody's
    once she leaves: a newcomer can take it, and must read nothing of hers."""

    def login(self, server: ChatdProcess, nick: str, account: str, password: str,
              scram: bool = False) -> IRCClient:
        client = sasl_connect(self, server.port, nick, caps=HISTORY_CAPS)
        line = (scram_login if scram else sasl_plain)(client, account, password)
        self.assertIn(f" 903 {nick} ", line)
        finish_registration(client, nick)
        return client

    def conversation(self, client: IRCClient, peer: str) -> list[tuple[str, str, str]]:
        batch = history_batch(client, f"CHATHISTORY LATEST {peer} * 100")
        self.assertEqual(("chathistory", peer), batch.params)
        return [(m.tags.get("msgid"), m.source_nick, m.params[1]) for m in batch.messages]

    def targets(self, client: IRCClient) -> list[str]:
        batch = history_batch(client, f"CHATHISTORY TARGETS {EARLY} {LATE} 100")
        return [m.params[1] for m in batch.inner]

    def test_private_history_follows_the_account_not_the_nick(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = open_client(self, server.port, "alice", caps=HISTORY_CAPS)
        alice.send("REGISTER alicia * alicia-password-1")
        alice.expect(r"REGISTER SUCCESS alicia ")
        bob = open_client(self, server.port, "bob", caps=HISTORY_CAPS)
        bob.send("REGISTER bob * bob-password-1")
        bob.expect(r"REGISTER SUCCESS bob ")
        sent = [send_echoed(alice, "PRIVMSG bob :hello bob, it is alice"),
                send_echoed(bob, "PRIVMSG alice :hi alice, bob here"),
                send_echoed(alice, "NOTICE bob :a private notice"),
                send_echoed(bob, "PRIVMSG alice :a secret for alice only")]
        expected = [(m.tags["msgid"], m.source_nick, m.params[1]) for m in sent]
        self.assertEqual(expected, self.conversation(alice, "bob"))
        self.assertEqual(["bob"], self.targets(alice))

        alice.send("QUIT :bye")
        alice.wait_closed()
        wait_until(lambda: nick_gone(bob, "alice"), 10.0, message="alice gone")

        def assert_newcomer_reads_nothing(taker: IRCClient) -> None:
            self.assertEqual([], self.conversation(taker, "bob"))
            self.assertEqual([], self.conversation(taker, "alice"))
            self.assertEqual([], self.targets(taker))
            for sub in (f"BEFORE bob {LATE}", f"AFTER bob {EARLY}",
                        f"BETWEEN bob {EARLY} {LATE}",
                        f"AROUND bob msgid={expected[0][0]}"):
                taker.send(f"CHATHISTORY {sub} 100")
                leaked = [l for l in taker.sync() if " PRIVMSG " in l or " NOTICE " in l]
                self.assertEqual([], leaked, sub)

        taker = open_client(self, server.port, "alice", caps=HISTORY_CAPS)  # not logged in
        assert_newcomer_reads_nothing(taker)
        # bob writes to whoever is "alice" now: the newcomer gets it live and as its own
        # history, but that adds nothing of the old conversation.
        send_echoed(bob, "PRIVMSG alice :who are you?")
        taker.expect(r" PRIVMSG alice :who are you\?$")
        self.assertEqual(["who are you?"],
                         [text for _, _, text in self.conversation(taker, "bob")])

        # The owner, from a second device under another nick, reads the whole conversation.
        phone = self.login(server, "alice_phone", "alicia", "alicia-password-1")
        self.assertEqual(expected, self.conversation(phone, "bob"))
        self.assertEqual(["bob"], self.targets(phone))

        taker.close()
        server.restart()
        laptop = self.login(server, "alice_laptop", "alicia", "alicia-password-1", scram=True)
        self.assertEqual(expected, self.conversation(laptop, "bob"))
        self.assertEqual(["bob"], self.targets(laptop))
        bob2 = self.login(server, "bob", "bob", "bob-password-1")
        # bob's side: the old conversation and bob's line to the newcomer (both with "alice")
        self.assertEqual([t for _, _, t in expected] + ["who are you?"],
                         [t for _, _, t in self.conversation(bob2, "alice")])
        again = open_client(self, server.port, "alice", caps=HISTORY_CAPS)
        assert_newcomer_reads_nothing(again)


class NoPasswordTextTest(unittest.TestCase):
    def test_no_form_of_the_password_in_any_file_of_the_history_folder(self) -> None:
        first, second = "Zq7-Distinctive-Passphrase", "Wx9-Changed-Passphrase"
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        owner = open_client(self, server.port, "ivy")
        owner.send(f"REGISTER ivy * {first}")
        owner.expect(r"REGISTER SUCCESS ivy ")
        owner.close()
        by_plain = sasl_connect(self, server.port, "ivy_plain")
        self.assertIn(" 903 ", sasl_plain(by_plain, "ivy", first))
        by_scram = sasl_connect(self, server.port, "ivy_scram")
        self.assertIn(" 903 ", scram_login(by_scram, "ivy", first))
        finish_registration(by_scram, "ivy_scram")
        by_scram.send(f"PASSWORD {first} {second}")
        by_scram.expect(r"PASSWORD SUCCESS ivy ")
        again = sasl_connect(self, server.port, "ivy_again")
        self.assertIn(" 903 ", scram_login(again, "ivy", second))
        operator = account_command(server, "passwd", "ivy", stdin=first + "\n")
        self.assertEqual(0, operator.returncode, operator.stderr)
        self.assertEqual(0, server.stop())

        forms = {}
        for password in (first, second):
            raw = password.encode()
            forms.update({
                f"{password} plain": raw,
                f"{password} base64": base64.b64encode(raw),
                f"{password} base64 of PLAIN": base64.b64encode(b"\0ivy\0" + raw),
                f"{password} utf-16-le": password.encode("utf-16-le"),
                f"{password} utf-16-be": password.encode("utf-16-be"),
                f"{password} hex": raw.hex().encode(),
            })
        files = [p for p in server.workdir.rglob("*") if p.is_file()]
        self.assertTrue(any(p.name.endswith("-wal") or p.name == "history.db" for p in files),
                        files)
        log = server.log_text().encode()
        for path, data in [(p, p.read_bytes()) for p in files] + [(Path("<chatd log>"), log)]:
            for name, needle in forms.items():
                with self.subTest(file=path.name, form=name):
                    self.assertNotIn(needle, data)
                    self.assertNotIn(needle.lower(), data.lower())


class IdentityBadInputTest(unittest.TestCase):
    """Bad input not covered by test_accounts/test_tls, each followed by a bystander's PING."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def test_authenticate_payload_garbage(self) -> None:
        client = sasl_connect(self, self.server.port, "junk")
        cases = [  # (mechanism, payload lines, expected reply)
            ("SCRAM-SHA-256", [b64(b"not a scram message")], " 904 "),
            ("SCRAM-SHA-256", [b64(b"n,,n=,r=")], " 904 "),
            ("SCRAM-SHA-256", ["%%%%"], " 904 "),
            ("PLAIN", [b64(b"\0\0")], " 904 "),
            ("PLAIN", [b64(b"\xff\xfe\0alice\0pw")], " 904 "),
            ("PLAIN", ["=" * 8], " 904 "),
            ("PLAIN", ["A" * 400, "+"], " 904 "),  # 400 bytes, then the end: 300 bytes, no NUL
        ]
        for mechanism, payloads, reply in cases:
            with self.subTest(mechanism=mechanism, payload=payloads[0][:20]):
                client.send(f"AUTHENTICATE {mechanism}")
                client.expect(r"^AUTHENTICATE \+$")
                for payload in payloads:
                    client.send(f"AUTHENTICATE {payload}")
                client.expect(reply)
                client.sync()
        client.send("AUTHENTICATE")  # no parameter at all
        client.expect(r" 461 \S+ AUTHENTICATE ")
        finish_registration(client, "junk")
        bystander_served(self, self.server, "after-garbage-auth")
        self.assertNotIn("Traceback", self.server.log_text())

    def test_oversized_or_odd_register_fields(self) -> None:
        client = open_client(self, self.server.port, "odd")
        cases = [
            (f"REGISTER {'a' * 33} * long-enough-pw", r"FAIL REGISTER BAD_ACCOUNT_NAME "),
            ("REGISTER al#ce * long-enough-pw", r"FAIL REGISTER BAD_ACCOUNT_NAME "),
            ("REGISTER odd * " + "p" * 1025, r" 417 |FAIL REGISTER "),
            ("REGISTER odd", r" 461 odd REGISTER "),
            ("REGISTER odd *", r" 461 odd REGISTER "),
        ]
        for line, reply in cases:
            with self.subTest(line=line[:30]):
                client.send(line)
                client.expect(reply)
                client.sync()
        bystander_served(self, self.server, "after-odd-register")
        self.assertNotIn("Traceback", self.server.log_text())


if __name__ == "__main__":
    unittest.main()
