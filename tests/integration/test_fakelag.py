"""Fakelag against a real chatd (issue 12, point 2): a flood from an address that is not exempt
is answered in full and in order, spread over time at [limits] flood_rate; past recvq the
client is dropped with Excess Flood while a bystander's PING round trip stays fast; an exempt
address is not slowed; flood_rate = 0 turns it off.

The suite connects from 127.0.0.1, which the default exempt list covers; the flooding clients
here connect from 127.0.0.2 (also loopback) and the servers exempt only 127.0.0.1."""

from __future__ import annotations

import time
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.health import round_trip_s
from tests.support.irc_client import IRCClient, open_client

FLOODER_HOST = "127.0.0.2"
BURST = 5
RATE = 25.0  # lines/s: high, so that 50 lines take about 1.8 s
RECVQ = 4096
NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


def ping_flood(client: IRCClient, count: int, timeout_s: float) -> tuple[float, float]:
    """Send `count` PINGs in one write; expect every PONG in order. Returns the seconds from
    the write to the first PONG and to the last."""
    started = time.monotonic()
    client.send_raw(b"".join(b"PING :p%d\r\n" % n for n in range(count)))
    first = 0.0
    for n in range(count):
        client.expect(rf" PONG \S+ :?p{n}$", timeout_s)  # in order: p{n} before p{n+1}
        if n == 0:
            first = time.monotonic() - started
    return first, time.monotonic() - started


class FakelagTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=1, extra={**NO_AUTOJOIN, "limits": {
            "flood_burst": str(BURST), "flood_rate": str(RATE), "recvq": str(RECVQ),
            "exempt": "127.0.0.1/32"}})

    def test_a_flood_is_answered_in_order_at_the_rate(self) -> None:
        client = open_client(self, self.server.port, nick="flooder",
                             source=FLOODER_HOST)  # registering is not slowed
        count = 50
        first_s, last_s = ping_flood(client, count, timeout_s=10.0)
        expected_s = (count - BURST) / RATE  # 1.8 s
        self.assertLess(first_s, 0.5)  # the burst is answered at once
        self.assertGreater(last_s, expected_s * 0.9)
        self.assertLess(last_s, expected_s + 1.0)

    def test_past_recvq_the_client_is_dropped_while_a_bystander_is_served(self) -> None:
        bystander = open_client(self, self.server.port, nick="bystander")
        flooder = open_client(self, self.server.port, nick="hog", source=FLOODER_HOST)
        line = b"PRIVMSG bystander :" + b"x" * 80 + b"\r\n"
        flooder.send_raw(line * (2 * RECVQ // len(line)))
        flooder.expect(r"^ERROR :Closing link: \(hog@127\.0\.0\.2\) \[Excess Flood\]$", 5.0)
        flooder.wait_closed(5.0)
        self.assertLess(round_trip_s(bystander, "still-here"), 0.5)
        # The flooder's burst was delivered (the PONG is a barrier for it), and little more:
        # the rest was held, then dropped with the connection.
        messages = [ln for ln in bystander.seen if " PRIVMSG bystander " in ln]
        self.assertGreaterEqual(len(messages), BURST)
        self.assertLess(len(messages), BURST + 10)

    def test_an_exempt_address_is_not_slowed(self) -> None:
        client = open_client(self, self.server.port, nick="exempt")  # from 127.0.0.1
        count = 200  # fakelagged, this would take (200 - 5) / 25 = 7.8 s
        _, last_s = ping_flood(client, count, timeout_s=5.0)
        self.assertLess(last_s, 3.0)


class FakelagOffTest(unittest.TestCase):
    def test_flood_rate_zero_turns_it_off(self) -> None:
        server = start_chatd(self, workers=1, extra={**NO_AUTOJOIN, "limits": {
            "flood_rate": "0", "flood_burst": "1", "recvq": "1024", "exempt": '""'}})
        client = open_client(self, server.port, nick="free", source=FLOODER_HOST)
        count = 200  # beyond recvq too, had fakelag held them
        _, last_s = ping_flood(client, count, timeout_s=5.0)
        self.assertLess(last_s, 3.0)


if __name__ == "__main__":
    unittest.main()
