"""chatd.processes.fdlimit: the soft descriptor limit is raised to the hard one, and what it
leaves room for in a worker. Limits are changed only in child processes, never in the test
runner (so this runs subprocesses: an integration test)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import unittest
from pathlib import Path

from chatd.processes.fdlimit import RESERVED_PER_WORKER, clients_per_worker

REPO = Path(__file__).resolve().parents[2]
REPORT = ("import resource; from chatd.processes.fdlimit import raise_soft_limit; "
          "print(raise_soft_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])")


def run_with_limit(soft: int, hard: int) -> tuple[int, int]:
    """(what raise_soft_limit returned, the soft limit after it) in a child started with
    RLIMIT_NOFILE = (soft, hard)."""
    # A shell sets the limits and execs Python (no preexec_fn: the test process may have
    # threads).
    done = subprocess.run(
        ["/bin/sh", "-c", f'ulimit -S -n {soft} && ulimit -H -n {hard} && exec "$@"', "sh",
         sys.executable, "-c", REPORT], check=False, capture_output=True, text=True,
        timeout=30, env=dict(os.environ, PYTHONPATH=str(REPO)))
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    returned, after = done.stdout.split()
    return int(returned), int(after)


class RaiseSoftLimitTest(unittest.TestCase):
    def test_soft_limit_is_raised_to_the_hard_limit(self) -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard == resource.RLIM_INFINITY or hard <= 100:
            self.skipTest(f"needs a finite hard limit above 100 (it is {hard})")
        self.assertEqual((hard, hard), run_with_limit(100, hard))

    def test_a_soft_limit_already_at_the_hard_limit_stays(self) -> None:
        self.assertEqual((80, 80), run_with_limit(80, 80))


class ClientsPerWorkerTest(unittest.TestCase):
    def test_room_is_the_limit_less_the_reserve(self) -> None:
        self.assertEqual(1024 - RESERVED_PER_WORKER, clients_per_worker(1024))
        self.assertEqual(0, clients_per_worker(RESERVED_PER_WORKER))
        self.assertEqual(0, clients_per_worker(10))
