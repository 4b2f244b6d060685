"""The attacks of issue 12 that chatd answers with fakelag, per-address limits and bounded
queues, reproduced against a real chatd at a size that runs in seconds. For each: the attack
is really made (the attacker's figures say so), it does not work (what it aimed at holds), a
bystander's PING round trip stays within 100 ms during and after it, every chatd process is
the one that was there before, and the server keeps running (tests/support/health.py).

The attackers run in a process of their own (tests/support/attackers.py). Clients from
127.0.0.1 are exempt (the servers here exempt only it); attackers come from 127.0.0.2 and up,
loopback addresses too. How each limit works: tests/integration/test_fakelag.py,
test_address_limits.py, test_slow_reader.py; what each costs: docs/security.md."""

from __future__ import annotations

import re
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.health import (
    Attacker,
    assert_served,
    chatd_pids,
    round_trips_while,
    status_kib,
)
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

ATTACKER = "127.0.0.2"
ONLY_LOCALHOST_EXEMPT = {"exempt": "127.0.0.1/32"}
NO_AUTOJOIN = {"channels": {"autojoin": '""'}}
READERS = 10
FLOOD_RATE = 32000  # lines/s, as in the probe
FLOODS = 10  # flooding connections, one after another


def joined(testcase: unittest.TestCase, port: int, nick: str, channel: str) -> IRCClient:
    client = open_client(testcase, port, nick)
    client.send(f"JOIN {channel}")
    client.expect(r" 366 ")
    return client


class FloodTest(unittest.TestCase):
    """32,000 PRIVMSG/s, or NICK changes as fast, from one client that is not exempt: fakelag
    holds its input and recvq drops it (Excess Flood), so the channel sees a few lines per
    connection, its readers (who do not read at all during the flood) are never dropped for
    SendQ, and a bystander in another channel is served as before."""

    def setUp(self) -> None:
        # Fakelag and recvq at their defaults (burst 5, 2 lines/s, 8192 bytes).
        self.server = start_chatd(self, extra={**NO_AUTOJOIN, "limits": ONLY_LOCALHOST_EXEMPT})
        self.readers = [joined(self, self.server.port, f"reader{n}", "#attack")
                        for n in range(READERS)]
        self.bystander = joined(self, self.server.port, "bystander", "#other")
        self.pids = chatd_pids(self.server)

    def flood(self, command: str, line_re: str) -> None:
        attacker = Attacker(self, "flood", self.server.port, "--source", ATTACKER,
                            "--channel", "#attack", "--command", command,
                            "--rate", str(FLOOD_RATE), "--connections", str(FLOODS),
                            "--duration", "20")
        during = round_trips_while(self.bystander, attacker.running)
        figures = attacker.figures()
        # Each connection flooded until recvq was full, and was dropped for it.
        self.assertEqual(FLOODS, figures["connections"], figures)
        self.assertEqual(FLOODS, len(re.findall(r"chatd\.hub\.hub: connection \d+ \(\S+\) "
                                                r"closed: Excess Flood", self.server.log_text())))
        for reader in self.readers:
            relayed = [line for line in reader.sync() if re.search(line_re, line)]
            # Per flooding connection: its burst and what its rate allowed, then the rest was
            # held until recvq dropped it. Without fakelag: thousands, and SendQ drops.
            self.assertLessEqual(len(relayed), FLOODS * 10, figures)
            self.assertFalse(reader.closed)
        self.assertNotIn("send queue", self.server.log_text())
        assert_served(self, self.server, self.pids, self.bystander, during)

    def test_privmsg_flood(self) -> None:
        self.flood("PRIVMSG", r" PRIVMSG #attack :flood \d+$")

    def test_nick_flood(self) -> None:
        self.flood("NICK", r" NICK f\d+$")


class AddressTest(unittest.TestCase):
    """100 unregistered sockets from one address against max_clients = 100 lock nobody out;
    5,000 connection attempts from one address are refused past the per-minute limit."""

    def hold_unregistered(self, extra_limits: dict[str, str]) -> tuple[dict, IRCClient]:
        server = self.server = start_chatd(self, extra={**NO_AUTOJOIN, "limits": {
            **ONLY_LOCALHOST_EXEMPT, "max_clients": "100", **extra_limits}})
        pids = chatd_pids(server)
        figures = Attacker(self, "hold", server.port, "--source", ATTACKER, "--count", "100",
                           "--probe").figures()
        # Others still get in: another address that is not exempt, and the exempt one.
        other = open_client(self, server.port, "other", source="127.0.0.3")
        local = open_client(self, server.port, "local")
        other.send("PRIVMSG local :still room")
        local.expect(r" PRIVMSG local :still room$")
        assert_served(self, server, pids, local)
        return figures, other

    def test_unregistered_sockets_are_held_to_a_few(self) -> None:
        figures, _ = self.hold_unregistered({})  # unregistered_per_ip = 3, clients_per_ip = 10
        self.assertEqual({"held": 3, "refused": 97}, figures)

    def test_one_address_holds_a_tenth_of_the_places_whatever_the_limits(self) -> None:
        figures, _ = self.hold_unregistered({
            "clients_per_ip": "0", "unregistered_per_ip": "0", "connects_per_minute_per_ip": "0"})
        self.assertEqual({"held": 10, "refused": 90}, figures)

    def test_a_connection_storm_is_refused_past_the_rate(self) -> None:
        server = start_chatd(self, extra={**NO_AUTOJOIN, "limits": ONLY_LOCALHOST_EXEMPT})
        pids = chatd_pids(server)
        bystander = open_client(self, server.port, "bystander")
        attacker = Attacker(self, "connects", server.port, "--source", ATTACKER,
                            "--count", "5000")
        during = round_trips_while(bystander, attacker.running)
        figures = attacker.figures()
        # connects_per_minute_per_ip = 30: the first 30 are taken, the other 4,970 refused.
        self.assertEqual(30, figures["taken"], figures)
        self.assertEqual(4970, figures["refused"], figures)
        assert_served(self, server, pids, bystander, during)


class NonReadersTest(unittest.TestCase):
    """Clients that never read, in a busy channel: each is dropped once its send queue is
    full, so the worker's memory grows by at most their send queues (the kernel's part is
    capped by SO_SNDBUF), never with what is said."""

    CLIENTS = 150
    SENDQ = 65536
    MESSAGES = 2500  # 1 MB said to each: without the send-queue limit, ~140 MB held
    SIZE = 400

    def test_worker_memory_stays_bounded(self) -> None:
        server = start_chatd(self, workers=1, extra={**NO_AUTOJOIN, "limits": {
            "sendq": str(self.SENDQ)}})
        bystander = open_client(self, server.port, "bystander")  # on the same worker
        pids = chatd_pids(server)
        Attacker(self, "hold", server.port, "--count", str(self.CLIENTS), "--register",
                 "--channel", "#big", "--nick", "deaf", "--rcvbuf", "4096").figures()

        def members() -> int:
            bystander.send("NAMES #big")
            lines = bystander.expect_until(r" 366 ")
            return sum(len(line.split(" :", 1)[1].split()) for line in lines if " 353 " in line)
        wait_until(lambda: members() >= self.CLIENTS, 30, message="every deaf client joined")
        worker = pids["worker 0"]
        before_kib = status_kib(worker, "VmRSS")

        Attacker(self, "talk", server.port, "--channel", "#big", "--nick", "talker",
                 "--count", str(self.MESSAGES), "--size", str(self.SIZE))

        def dropped() -> int:
            return server.log_text().count("dropped: over its send queue")
        during = round_trips_while(bystander, lambda: dropped() < self.CLIENTS)
        wait_until(lambda: dropped() >= self.CLIENTS, 30, message="every deaf client dropped")
        grown_kib = status_kib(worker, "VmHWM") - before_kib
        # At most every deaf client's send queue full at once (a bytearray may hold twice
        # what it was asked while growing), and some room for the worker's own work.
        bound_kib = self.CLIENTS * 2 * self.SENDQ // 1024 + 16 * 1024
        self.assertLessEqual(grown_kib, bound_kib)
        assert_served(self, server, pids, bystander, during)


if __name__ == "__main__":
    unittest.main()
