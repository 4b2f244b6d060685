"""A seeded fuzz of a real chatd (issue 12, proof): 100,000 lines over 50 connections — every
command chatd knows with random parameters, and garbage (tests/support/fuzz_lines.py) — each
one handled (a burst counts once its PONG is back: tests/support/fuzzing.py). Then: no
traceback and no "Internal server error" anywhere in chatd's log, the same processes, every
line chatd sent within the line limits, and a bystander that still gets its PONG and chats.

The fuzzing connections come from 127.0.0.1, which chatd exempts from fakelag by default
([limits] exempt): fakelag would let 50 connections through at 2 lines/s each, so 100,000
lines would take 1,000 s, and most would wait rather than be handled. What fakelag does to a
flood is tests/integration/test_attacks.py's; here the aim is the parser and the handlers.

To reproduce a failure, run with the same SEED; change SEED to explore other inputs."""

from __future__ import annotations

import unittest

from tests.support.chatd_process import start_chatd
from tests.support.fuzzing import Fuzzer
from tests.support.health import assert_served, chatd_pids
from tests.support.irc_client import open_client

SEED = 20261202
LINES = 100_000
CONNECTIONS = 50
DEADLINE_S = 60.0  # about 10-20 s on two busy cores


class FuzzTest(unittest.TestCase):
    def test_a_hundred_thousand_random_lines(self) -> None:
        # log_level info: the suite's debug log would log every connection the fuzz opens.
        server = start_chatd(self, workers=2, extra={"server": {"log_level": "info"},
                                                     "channels": {"autojoin": '""'}})
        pids = chatd_pids(server)
        watcher = open_client(self, server.port, "watcher")
        friend = open_client(self, server.port, "friend")
        for client in (watcher, friend):
            client.send("JOIN #calm")
            client.expect(r" 366 ")

        nicks = tuple(f"fz{n}" for n in range(CONNECTIONS)) + ("friend", "nobody", "fz")
        figures = Fuzzer(server.port, CONNECTIONS, SEED, nicks).run(LINES, DEADLINE_S)

        self.assertGreaterEqual(figures.processed, LINES)
        self.assertEqual([], problems(server.log_text()))
        self.assertEqual([], figures.too_long, "lines over the limits")
        self.assertEqual([], figures.internal_errors, "connections closed by a bug")
        friend.answer_pings = True
        friend.sync()  # whatever the fuzz sent it is read
        watcher.send("PRIVMSG #calm :still here")
        friend.expect(r":watcher!\S+ PRIVMSG #calm :still here$")
        assert_served(self, server, pids, watcher)


def problems(log: str) -> list[str]:
    """Each traceback (with the lines after it) and each "Internal server error" in a log."""
    lines = log.splitlines()
    return ["\n".join(lines[n:n + 12]) for n, line in enumerate(lines)
            if "Traceback" in line or "Internal server error" in line]


if __name__ == "__main__":
    unittest.main()
