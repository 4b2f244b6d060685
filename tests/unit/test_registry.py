"""chatd.registry: the NAMES text a channel keeps up to date (extended on JOIN, rebuilt after
PART, QUIT or NICK) always equals the text built afresh from its members."""

from __future__ import annotations

import random
import unittest

from chatd.hub.registry import Registry


def fresh(registry: Registry, name: str, full: bool) -> str:
    channel = registry.channel(name)
    if channel is None:
        return ""
    return " ".join(m.source if full else m.nick for m in channel.members.values())


class NamesTextTest(unittest.TestCase):
    def test_follows_every_membership_and_nick_change(self):
        rng = random.Random(3)
        registry = Registry()
        clients = []
        for conn_id in range(1, 41):
            client = registry.add_client(conn_id, conn_id % 2, f"h{conn_id}", 0)
            registry.set_nick(client, f"n{conn_id}")
            client.user = f"u{conn_id}"
            clients.append(client)
        for step in range(600):
            client = rng.choice(clients)
            action = rng.choice(("join", "join", "part", "nick", "quit", "read"))
            if action == "join":
                registry.join(client, rng.choice(("#a", "#B")), 0)
            elif action == "part" and client.channels:
                registry.part(client, rng.choice(list(client.channels.values())))
            elif action == "nick":
                registry.set_nick(client, f"x{step}")
            elif action == "quit" and client.conn_id in registry.clients:
                registry.remove_client(client.conn_id)
                clients.remove(client)
                replacement = registry.add_client(1000 + step, 0, "h", 0)
                registry.set_nick(replacement, f"r{step}")
                replacement.user = "r"
                clients.append(replacement)
            for name in ("#a", "#b"):
                channel = registry.channel(name)
                for full in (False, True):
                    with self.subTest(step=step, channel=name, full=full):
                        got = channel.names_text(full) if channel else ""
                        self.assertEqual(got, fresh(registry, name, full))

    def test_joining_twice_lists_once(self):
        registry = Registry()
        client = registry.add_client(1, 0, "h", 0)
        registry.set_nick(client, "ann")
        channel = registry.join(client, "#a", 0)
        self.assertEqual(channel.names_text(False), "ann")
        registry.join(client, "#a", 0)
        self.assertEqual(channel.names_text(False), "ann")


if __name__ == "__main__":
    unittest.main()
