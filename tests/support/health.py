"""What the attack and fuzz tests check after (and during) an attack: that chatd's processes
are the same ones (none crashed and was restarted), that the server still runs, and how long a
bystander waits for its PING; plus a process's memory from /proc and the attackers' processes
(tests/support/attackers.py), started and ended by PID."""

from __future__ import annotations

import json
import re
import select
import statistics
import subprocess
import sys
import time
import unittest
from typing import Callable

from tests.support.chatd_process import REPO, ChatdProcess, chatd_env
from tests.support.irc_client import IRCClient

MAX_ROUND_TRIP_S = 0.100  # issue 12: a bystander's PING round trip during and after an attack


def chatd_pids(server: ChatdProcess) -> dict[str, int]:
    """Every chatd process by role ("master", "writer", "worker 0", ...): the latest start the
    master logged for each child, checked against its live children."""
    log = server.log_text()
    pids = {"master": server.pid}
    for match in re.finditer(r"(writer|worker \d+) started \(pid (\d+)\)", log):
        pids[match.group(1)] = int(match.group(2))
    alive = set(server.child_pids())
    missing = {role: pid for role, pid in pids.items() if role != "master" and pid not in alive}
    assert not missing, f"chatd children not running: {missing}\n{log}"
    return pids


def round_trip_s(client: IRCClient, token: str, timeout_s: float = 5.0) -> float:
    """Seconds from sending a PING to reading its PONG."""
    started = time.monotonic()
    client.send(f"PING :{token}")
    client.expect(rf" PONG \S+ :?{re.escape(token)}$", timeout_s)
    return time.monotonic() - started


def round_trips_while(client: IRCClient, busy: Callable[[], bool], max_probes: int = 500,
                      pause_s: float = 0.02) -> list[float]:
    """PING round trips taken one after another while `busy()` (at least one), a short pause
    between them so the bystander behaves like a client, not like a flood."""
    samples: list[float] = []
    while len(samples) < max_probes and (not samples or busy()):
        samples.append(round_trip_s(client, f"probe{len(samples)}"))
        time.sleep(pause_s)  # the gap between probes, not synchronization
    return samples


def assert_served(testcase: unittest.TestCase, server: ChatdProcess, pids: dict[str, int],
                  bystander: IRCClient, during: list[float] | None = None) -> None:
    """The server runs, with the same processes, and serves `bystander` fast: the median of
    its round trips `during` the attack, and of five taken now, is at most 100 ms. (A median,
    as one sample on a shared machine can meet a scheduler hiccup of anyone's making.)"""
    testcase.assertIsNone(server.proc.poll(), "chatd exited:\n" + server.log_text())
    testcase.assertEqual(pids, chatd_pids(server), "a chatd process was replaced")
    if during is not None:
        testcase.assertLessEqual(statistics.median(during), MAX_ROUND_TRIP_S,
                                 f"round trips during the attack: {fmt_ms(during)}")
    after = [round_trip_s(bystander, f"after{n}") for n in range(5)]
    testcase.assertLessEqual(statistics.median(after), MAX_ROUND_TRIP_S,
                             f"round trips after the attack: {fmt_ms(after)}")


def fmt_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"{len(samples)} samples, median {statistics.median(samples) * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")


def status_kib(pid: int, field: str) -> int:
    """A /proc/PID/status figure in KiB: VmRSS (resident now), VmHWM (the peak)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class Attacker:
    """One tests/support/attackers.py process; ended (by PID) at the test's cleanup."""

    def __init__(self, testcase: unittest.TestCase, mode: str, port: int, *options: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.attackers", mode, "--port", str(port),
             *options], cwd=REPO, env=chatd_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        testcase.addCleanup(self.end)

    def figures(self, timeout_s: float = 60.0) -> dict:
        """The JSON line the attacker prints when its work is done."""
        stdout = self.proc.stdout
        assert stdout is not None
        # It prints one line in one write: once the pipe is readable, readline returns.
        readable, _, _ = select.select([stdout], [], [], timeout_s)
        line = stdout.readline() if readable else ""
        if not line:
            raise AssertionError(f"attacker gave no figures in {timeout_s} s "
                                 f"(exit status {self.proc.poll()})")
        return json.loads(line)

    def running(self) -> bool:
        return self.proc.poll() is None

    def end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
