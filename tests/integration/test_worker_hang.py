"""The restart limit with real forked children (chatd/processes/supervision.py): a worker the
master kills for a hang (chatd/processes/worker_watchdog.py) is restarted however often it
happens, while children that die by themselves, or that fail to boot, still stop chatd
("children keep failing"). The Supervisor runs here without a master around it: its children
are tiny processes that block on their pipe until killed."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import time
import unittest

from chatd.exitcodes import EXIT_BOOT_FAILED
from chatd.processes.supervision import MAX_RESTARTS_PER_MINUTE, Exit, Supervisor
from tests.support.wait import wait_until


def block_on_pipe(_index: int, sock: socket.socket) -> int:
    """A worker stand-in: waits for its pipe to close (never, until it is killed)."""
    sock.setblocking(True)
    sock.recv(1)
    return 0


def fail_to_boot(_index: int, _sock: socket.socket) -> int:
    return EXIT_BOOT_FAILED


class RestartLimitWithProcessesTest(unittest.TestCase):
    def supervisor(self, worker_entry) -> Supervisor:
        selector = selectors.DefaultSelector()
        self.addCleanup(selector.close)
        supervisor = Supervisor(selector, writer_entry=lambda sock: 0,
                                worker_entry=worker_entry, close_master_fds=lambda: None)
        self.addCleanup(supervisor.kill_all_now)  # by PID, and reaped
        supervisor.start_workers(1)
        return supervisor

    def end(self, supervisor: Supervisor) -> Exit:
        [ended] = wait_until(supervisor.reap, timeout_s=5.0, message="the child to end")
        return ended

    def test_a_worker_killed_for_a_hang_is_restarted_without_counting(self) -> None:
        supervisor = self.supervisor(block_on_pipe)
        pids = set()
        for _ in range(MAX_RESTARTS_PER_MINUTE + 3):
            worker = supervisor.workers[0]
            pids.add(worker.pid)
            supervisor.kill_hung(worker)
            ended = self.end(supervisor)
            self.assertEqual(ended.code, -9)
            self.assertTrue(supervisor.may_restart(ended, time.monotonic()))
            supervisor.restart(worker)
        self.assertEqual(len(pids), MAX_RESTARTS_PER_MINUTE + 3)  # each one a new process
        # Killed by anything else (here SIGKILL from outside, as a crash would): counted.
        for restart in range(MAX_RESTARTS_PER_MINUTE + 1):
            worker = supervisor.workers[0]
            os.kill(worker.pid, signal.SIGKILL)
            ended = self.end(supervisor)
            if restart < MAX_RESTARTS_PER_MINUTE:
                self.assertTrue(supervisor.may_restart(ended, time.monotonic()))
                supervisor.restart(worker)
        with self.assertLogs("chatd.processes.supervision", "CRITICAL"):
            self.assertFalse(supervisor.may_restart(ended, time.monotonic()))

    def test_a_worker_that_failed_to_boot_is_not_restarted_even_if_killed_for_a_hang(
            self) -> None:
        supervisor = self.supervisor(fail_to_boot)
        worker = supervisor.workers[0]
        # Wait for it to end without reaping it, so the kill cannot change how it ended.
        os.waitid(os.P_PID, worker.pid, os.WEXITED | os.WNOWAIT)
        supervisor.kill_hung(worker)
        ended = self.end(supervisor)
        self.assertEqual(ended.code, EXIT_BOOT_FAILED)
        with self.assertLogs("chatd.processes.supervision", "CRITICAL"):
            self.assertFalse(supervisor.may_restart(ended, time.monotonic()))


if __name__ == "__main__":
    unittest.main()
