"""Server operators against a real chatd: `chatd --hash-password` (a subprocess fed on stdin)
makes the [opers] line the servers here are configured with; OPER with the right and wrong
passwords (and the throttle), user modes +o/-o/+w, KILL, WALLOPS, REHASH, real addresses in
an oper's WHOIS, and an oper's input never held back by fakelag."""

from __future__ import annotations

import subprocess
import time
import unittest

from chatd.credentials import verify_password
from tests.support.chatd_process import chatd_command, chatd_env, start_chatd
from tests.support.irc_client import IRCClient, open_client

OPER_NAME, OPER_PASSWORD = "operuser", "oper-password-42"
NO_AUTOJOIN = {"channels": {"autojoin": '""'}}
OTHER = "127.0.0.2"  # another client address (loopback)
RUN_TIMEOUT_S = 30


def hash_password(password: str) -> subprocess.CompletedProcess:
    """`chatd --hash-password` with `password` piped on stdin (no config needed)."""
    return subprocess.run(chatd_command("--hash-password"), input=password + "\n",
                          env=chatd_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, check=False)


def opers_config() -> dict[str, dict[str, str]]:
    """The [opers] section, with the hash the command prints."""
    result = hash_password(OPER_PASSWORD)
    assert result.returncode == 0, result.stderr
    return {"opers": {OPER_NAME: result.stdout.strip()}}


def oper_up(client: IRCClient, nick: str) -> None:
    client.send(f"OPER {OPER_NAME} {OPER_PASSWORD}")
    client.expect(rf"^:chat\.test 381 {nick} :")
    client.expect(rf"^:{nick} MODE {nick} :?\+o$")


class HashPasswordCommandTest(unittest.TestCase):
    def test_prints_an_scrypt_record_of_the_piped_password(self) -> None:
        first, second = hash_password(OPER_PASSWORD), hash_password(OPER_PASSWORD)
        for result in (first, second):
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "")
            self.assertRegex(result.stdout, r"^scrypt\$16384\$8\$1\$\S+\$\S+\n$")
            self.assertTrue(verify_password(result.stdout.strip(), OPER_PASSWORD))
            self.assertFalse(verify_password(result.stdout.strip(), OPER_PASSWORD + "x"))
            self.assertNotIn(OPER_PASSWORD, result.stdout)
        self.assertNotEqual(first.stdout, second.stdout)  # a fresh salt each time

    def test_refuses_a_missing_or_weak_password(self) -> None:
        for password, why in (("", "no password given"), ("short", "at least 8"),
                              ("has space in it", "spaces")):
            with self.subTest(password=password):
                result = hash_password(password)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stdout, "")
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertIn(why, result.stderr)


class OperTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra={
            **NO_AUTOJOIN, **opers_config(), "server": {"cloak": "on"}})

    def client(self, nick: str, source: str | None = None) -> IRCClient:
        return open_client(self, self.server.port, nick, source=source)

    def test_oper_gives_o_which_shows_and_can_be_dropped(self) -> None:
        op, other = self.client("op1"), self.client("watcher1")
        oper_up(op, "op1")
        op.send("MODE op1")
        op.expect(r" 221 op1 :?\+o$")
        other.send("WHOIS op1")
        self.assertTrue(any(" 313 watcher1 op1 :is an IRC operator" in line
                            for line in other.expect_until(r" 318 ")))
        other.send("USERHOST op1")
        other.expect(r" 302 watcher1 :?op1\*=\+")
        op.send("MODE op1 -o")
        op.expect(r"^:op1 MODE op1 :?-o$")
        op.send("MODE op1 +o")  # ignored: only OPER gives +o
        op.send("MODE op1")
        op.expect(r" 221 op1 :?\+$")
        other.send("WHOIS op1")
        self.assertFalse(any(" 313 " in line for line in other.expect_until(r" 318 ")))
        op.send("KILL watcher1 :x")
        op.expect(r" 481 op1 :")

    def test_wrong_password_or_name_is_464(self) -> None:
        c = self.client("guesser")
        for line in (f"OPER {OPER_NAME} not-the-password", f"OPER nobody {OPER_PASSWORD}"):
            c.send(line)
            c.expect(r" 464 guesser :Password incorrect$")
        c.send("OPER onlyname")
        c.expect(r" 461 guesser OPER :")
        self.assertFalse(any(" 381 " in line for line in c.sync()))

    def test_failed_attempts_are_throttled(self) -> None:
        # From an address of its own (the throttle counts per address and per name).
        c = self.client("hammer", source="127.0.0.3")
        for attempt in range(5):
            c.send(f"OPER ghost wrong-{attempt}")
            c.expect(r" 464 hammer :Password incorrect$")
        c.send("OPER ghost wrong-again")
        c.expect(r" 464 hammer :Too many failed OPER attempts; try again in \d+ s$")

    def test_opers_see_real_addresses_in_whois(self) -> None:
        op, plain = self.client("op2"), self.client("plain2")
        self.client("target2", source=OTHER)
        plain.send("WHOIS target2")
        lines = plain.expect_until(r" 318 ")
        self.assertRegex(lines[0], r" 311 plain2 target2 target2 [0-9a-f]{8}\.[0-9a-f]{8}\.cloak ")
        self.assertFalse(any(OTHER in line for line in lines))
        oper_up(op, "op2")
        op.send("WHOIS target2")
        self.assertIn(f":chat.test 378 op2 target2 :is connecting from *@{OTHER} {OTHER}",
                      op.expect_until(r" 318 "))

    def test_kill(self) -> None:
        op, witness = self.client("op3"), self.client("witness3")
        victim = self.client("victim3", source=OTHER)
        for c in (op, witness, victim):
            c.send("JOIN #killroom")
            c.expect(r" 366 ")
        witness.send("KILL victim3 :not yet")
        witness.expect(r" 481 witness3 :Permission Denied- You're not an IRC operator$")
        oper_up(op, "op3")
        op.send("KILL victim3 :spamming links")
        victim.expect(r"^:op3!op3@\S+ KILL victim3 :spamming links$")
        victim.expect(rf"^ERROR :Closing link: \(victim3@{OTHER}\) "
                      r"\[Killed \(op3 \(spamming links\)\)\]$")
        victim.wait_closed(5.0)
        witness.expect(r"^:victim3!victim3@\S+ QUIT :Killed \(op3 \(spamming links\)\)$")
        op.expect(rf"NOTICE op3 :\*\*\* Notice -- Received KILL message for "
                  rf"victim3!victim3@{OTHER}\. From op3 \(spamming links\)$")
        op.send("KILL victim3 :again")
        op.expect(r" 401 op3 victim3 :")

    def test_wallops(self) -> None:
        op, listener, deaf = self.client("op4"), self.client("ears4"), self.client("deaf4")
        listener.send("MODE ears4 +w")
        listener.expect(r"^:ears4 MODE ears4 :?\+w$")
        deaf.send("WALLOPS :me too")
        deaf.expect(r" 481 deaf4 :")
        oper_up(op, "op4")
        op.send("WALLOPS :maintenance at noon")
        for c in (listener, op):  # +w users, and opers (the sender too)
            c.expect(r"^:op4!op4@\S+ WALLOPS :maintenance at noon$")
        self.assertFalse(any("WALLOPS" in line for line in deaf.sync()))

    def test_rehash_reloads_the_configuration(self) -> None:
        c = self.client("op5")
        c.send("REHASH")
        c.expect(r" 481 op5 :")
        oper_up(c, "op5")
        c.send("REHASH")
        c.expect(r" 382 op5 chatd\.conf :?Rehashing$")
        c.expect(r"NOTICE op5 :.*op5 reloaded the configuration")
        self.assertRegex(self.server.log_text(), r"configuration reloaded from \S+chatd\.conf")


class OperFakelagTest(unittest.TestCase):
    """Nobody is exempt by address here, and fakelag is slow: an oper is still not held."""

    def test_an_oper_is_not_held_back(self) -> None:
        server = start_chatd(self, workers=1, extra={
            **NO_AUTOJOIN, **opers_config(),
            "limits": {"exempt": '""', "flood_burst": "2", "flood_rate": "1"}})
        c = open_client(self, server.port, "fast")
        started = time.monotonic()
        # OPER costs 5 (an scrypt hash): lagged, the 20 PINGs after it would take over 20 s.
        c.send_raw(f"OPER {OPER_NAME} {OPER_PASSWORD}\r\n".encode()
                   + b"".join(b"PING :p%d\r\n" % n for n in range(20)))
        c.expect(r" 381 fast ")
        for n in range(20):
            c.expect(rf" PONG \S+ :?p{n}$")
        self.assertLess(time.monotonic() - started, 5.0)
        slow = open_client(self, server.port, "slow")  # the same without OPER is held
        slow.send_raw(b"".join(b"PING :s%d\r\n" % n for n in range(6)))
        started = time.monotonic()
        for n in range(6):
            slow.expect(rf" PONG \S+ :?s{n}$", 10.0)
        self.assertGreater(time.monotonic() - started, 3.0)  # (6 - 2) lines at 1 a second


if __name__ == "__main__":
    unittest.main()
