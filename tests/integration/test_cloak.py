"""Cloaks against real chatd processes: a client connecting from 127.0.0.2 is never shown by
its address to another client — not in relayed messages, JOIN/PART/NICK/QUIT, WHO, WHOIS,
USERHOST, userhost-in-names NAMES or CHATHISTORY — but sees it in its own WHOIS (378); the
cloak survives a restart (the secret is in the database); with cloak = off the address shows."""

from __future__ import annotations

import re
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import HISTORY_CAPS

CLOAKED = {"channels": {"autojoin": '""'}, "server": {"cloak": "on"}}
ADDRESS = "127.0.0.2"  # loopback is 127/8: another client address without a network
CLOAK = r"[0-9a-f]{8}\.[0-9a-f]{8}\.cloak"
OBSERVER_CAPS = (*HISTORY_CAPS, "userhost-in-names")


def whois_host(observer: IRCClient, nick: str) -> str:
    observer.send(f"WHOIS {nick}")
    line = observer.expect(rf" 311 \S+ {nick} ")
    observer.expect(r" 318 ")
    return line.split()[5]


class CloakTest(unittest.TestCase):
    def test_others_never_see_the_address(self) -> None:
        server = start_chatd(self, extra=CLOAKED)
        alice = open_client(self, server.port, source=ADDRESS)
        welcome = alice.register("alice")
        self.assertRegex(welcome[0], rf" 001 alice .*alice!alice@{CLOAK}$")
        bob = open_client(self, server.port, "bob", OBSERVER_CAPS)
        alice.send("JOIN #c")
        alice.expect(r" 366 ")
        bob.send("JOIN #c")
        bob.expect(r" 366 ")
        alice.send("PRIVMSG #c :hello")
        alice.send("PRIVMSG bob :psst")
        alice.send("NICK alice2")
        alice.send("PART #c")
        alice.send("JOIN #c")
        alice.expect(r" 366 ")
        bob.expect(r"PRIVMSG #c :hello")
        bob.expect(r"PRIVMSG bob :psst")
        bob.expect(r"JOIN #c")
        for line in ("WHO #c", "WHO alice2", "WHOIS alice2", "USERHOST alice2", "NAMES #c",
                     "CHATHISTORY LATEST #c * 50", "CHATHISTORY LATEST alice2 * 50"):
            bob.send(line)
        own = alice.sync()
        alice.send("WHOIS alice2")
        own += alice.expect_until(r" 318 ")
        alice.send("QUIT :bye")
        bob.expect(r"QUIT :")
        bob.sync()
        seen = "\n".join(bob.seen)
        self.assertNotIn(ADDRESS, seen)
        self.assertRegex(seen, rf":alice!alice@{CLOAK} PRIVMSG #c :hello")
        self.assertRegex(seen, rf" 352 bob #c alice {CLOAK} ")
        self.assertRegex(seen, rf" 302 bob :?alice2=\+alice@{CLOAK}")
        self.assertRegex(seen, rf" 353 bob = #c :.*alice2!alice@{CLOAK}")
        self.assertRegex(seen, rf"batch=\S+ .*:alice!alice@{CLOAK} PRIVMSG #c :hello")
        self.assertTrue(any(re.search(rf" 378 alice2 alice2 :.*{re.escape(ADDRESS)}", line)
                            for line in own), own)

    def test_stable_across_a_restart(self) -> None:
        server = start_chatd(self, extra=CLOAKED)
        bob = open_client(self, server.port, "bob")
        alice = open_client(self, server.port, "alice", source=ADDRESS)
        first = whois_host(bob, "alice")
        self.assertRegex(first, CLOAK)
        self.assertNotEqual(first, whois_host(bob, "bob"))  # 127.0.0.1 has another
        alice.close()
        bob.close()
        server.restart()
        bob = open_client(self, server.port, "bob")
        open_client(self, server.port, "alice", source=ADDRESS)
        self.assertEqual(whois_host(bob, "alice"), first)

    def test_off_shows_the_address(self) -> None:
        server = start_chatd(self, extra={**CLOAKED, "server": {"cloak": "off"}})
        bob = open_client(self, server.port, "bob")
        open_client(self, server.port, "alice", source=ADDRESS)
        self.assertEqual(whois_host(bob, "alice"), ADDRESS)


if __name__ == "__main__":
    unittest.main()
