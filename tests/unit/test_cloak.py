"""Cloaks (chatd/hub/cloak.py) and where the master shows them: others see a stable keyed
hash instead of a client's address; the user themself sees the address in WHOIS (378)."""

import re
import sqlite3
import unittest

from chatd.hub.cloak import cloak_host, shown_host
from chatd.hub import account_requests
from chatd.ipc import frames as ipc
from chatd.store import meta
from ircproto import numerics as N
from tests.unit.test_hub import claim_nick, make_hub, replies, run

SECRET_A = "11" * 32
SECRET_B = "22" * 32
CLOAK = re.compile(r"^[0-9a-f]{8}\.[0-9a-f]{8}\.cloak$")


class CloakFunctionTest(unittest.TestCase):
    def test_stable_and_shaped_like_a_host(self) -> None:
        for address in ("127.0.0.1", "0::1", "2001:db8::42"):
            with self.subTest(address=address):
                cloak = cloak_host(SECRET_A, address)
                self.assertEqual(cloak, cloak_host(SECRET_A, address))
                self.assertRegex(cloak, CLOAK)

    def test_keyed_by_the_secret_and_the_address(self) -> None:
        self.assertNotEqual(cloak_host(SECRET_A, "127.0.0.1"), cloak_host(SECRET_B, "127.0.0.1"))
        self.assertNotEqual(cloak_host(SECRET_A, "127.0.0.1"), cloak_host(SECRET_A, "127.0.0.2"))

    def test_nothing_of_the_address_shows(self) -> None:
        # Neighbouring addresses share no visible structure (no octet, no common prefix).
        near = [cloak_host(SECRET_A, f"10.0.0.{i}") for i in range(1, 50)]
        self.assertEqual(len(set(c[:8] for c in near)), len(near))
        for i, cloak in enumerate(near, 1):
            self.assertNotIn("10.0.0", cloak)

    def test_off_or_without_a_secret_shows_the_address(self) -> None:
        self.assertEqual(shown_host(False, SECRET_A, "127.0.0.1"), "127.0.0.1")
        self.assertEqual(shown_host(True, "", "127.0.0.1"), "127.0.0.1")
        self.assertRegex(shown_host(True, SECRET_A, "127.0.0.1"), CLOAK)


class SecretStoreTest(unittest.TestCase):
    def test_generated_once_then_kept(self) -> None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        first = meta.cloak_secret(conn)
        self.assertEqual(len(bytes.fromhex(first)), meta.CLOAK_SECRET_BYTES)
        self.assertEqual(meta.cloak_secret(conn), first)


class HubCloakTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(autojoin=("#c",))
        self.hub.cloak_secret = SECRET_A
        self.alice = self._connect(1, "alice", "127.0.0.1")
        self.bob = self._connect(2, "bob", "127.0.0.2")
        self.cloak = cloak_host(SECRET_A, "127.0.0.1")

    def _connect(self, conn_id: int, nick: str, address: str):
        self.hub.connection_opened(conn_id, 0, address, 1_700_000_000)
        client = self.hub.registry.clients[conn_id]
        claim_nick(self.hub, client, nick)
        self.hub.registered(client, "u", "Real")
        self.hub.take_effects()
        return client

    def test_others_see_the_cloak_everywhere(self) -> None:
        self.assertEqual(self.alice.source, f"alice!u@{self.cloak}")
        effects = run(self.hub, self.alice, "PRIVMSG #c :hi")
        self.assertEqual(effects[0].source, f"alice!u@{self.cloak}")  # relayed and stored
        for line in ("WHO #c", "WHO alice", "WHOIS alice", "USERHOST alice"):
            with self.subTest(line=line):
                text = " ".join(" ".join(m.params) for m in replies(run(self.hub, self.bob, line)))
                self.assertIn(self.cloak, text)
                self.assertNotIn("127.0.0.1", text)
        self.assertNotIn(N.RPL_WHOISHOST,
                         [m.command for m in replies(run(self.hub, self.bob, "WHOIS alice"))])

    def test_the_user_sees_its_address_in_its_whois(self) -> None:
        own = replies(run(self.hub, self.alice, "WHOIS alice"))
        host_lines = [m for m in own if m.command == N.RPL_WHOISHOST]
        self.assertEqual(len(host_lines), 1)
        self.assertIn("127.0.0.1", host_lines[0].params[-1])

    def test_welcome_carries_the_shown_host(self) -> None:
        self.hub.connection_opened(3, 0, "127.0.0.3", 1_700_000_000)
        carol = self.hub.registry.clients[3]
        claim_nick(self.hub, carol, "carol")
        self.hub.take_effects()
        self.hub.registered(carol, "u", "Real")
        welcome = [e.frame for e in self.hub.take_effects()
                   if isinstance(getattr(e, "frame", None), ipc.Welcome)]
        self.assertEqual(welcome, [ipc.Welcome(3, cloak_host(SECRET_A, "127.0.0.3"))])

    def test_throttles_count_the_real_address(self) -> None:
        self.assertEqual(self.alice.address, "127.0.0.1")
        account_requests._count_failure(self.hub, self.alice, "nobody")
        self.assertIn("ip:127.0.0.1", self.hub.throttle._keys)

    def test_cloak_off_shows_the_address(self) -> None:
        hub = make_hub(cloak=False)
        hub.cloak_secret = SECRET_A
        hub.connection_opened(1, 0, "127.0.0.1", 1_700_000_000)
        self.assertEqual(hub.registry.clients[1].host, "127.0.0.1")


if __name__ == "__main__":
    unittest.main()
