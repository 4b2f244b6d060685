"""Hung workers. With a real chatd: a worker that stops (SIGSTOP) while traffic for it piles
up is not killed for the volume — the master stops reading its requests past 4 MiB queued —
but for the hang, once it has taken nothing for 30 s (chatd/processes/worker_watchdog.py,
so that test takes ~35 s); it is replaced and its clients announced as quitting. And the
restart limit with real forked children (chatd/processes/supervision.py): a worker the master
kills for a hang is restarted however often it happens, while children that die by
themselves, or that fail to boot, still stop chatd ("children keep failing"); there the
Supervisor runs without a master around it, its children tiny processes that block on their
pipe until killed."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import time
import unittest

from chatd.exitcodes import EXIT_BOOT_FAILED
from chatd.processes.supervision import MAX_RESTARTS_PER_MINUTE, Exit, Supervisor
from chatd.processes.worker_watchdog import WORKER_HANG_S
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until


def block_on_pipe(_index: int, sock: socket.socket) -> int:
    """A worker stand-in: waits for its pipe to close (never, until it is killed)."""
    sock.setblocking(True)
    sock.recv(1)
    return 0


def fail_to_boot(_index: int, _sock: socket.socket) -> int:
    return EXIT_BOOT_FAILED


class HungWorkerTest(unittest.TestCase):
    def test_a_stopped_worker_is_waited_for_then_replaced_for_the_hang(self) -> None:
        server = start_chatd(self, workers=2, extra={
            "channels": {"autojoin": "#flood"}, "limits": {"sendq": str(64 << 20)}})
        member = open_client(self, server.port, nick="member")
        flooder = open_on_other_worker(self, server, member, nick="flooder")
        member.expect(r"^:flooder!\S+ JOIN #flood$")
        index = server.worker_of(member.local_port)
        stuck_pid, other_pid = server.worker_pid(index), server.worker_pid(1 - index)
        writer_pid = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])
        os.kill(stuck_pid, signal.SIGSTOP)
        self.addCleanup(_continue, stuck_pid)
        stopped_at = time.monotonic()
        # ~18 MB for the stopped worker's member: more than the socketpair's kernel buffers
        text = "x" * 400
        for start in range(0, 40_000, 1000):
            flooder.send_raw(b"".join(f"PRIVMSG #flood :m{n} {text}\r\n".encode()
                                      for n in range(start, start + 1000)))
        flooder.sync()  # everything was stored and handed out: the master waits for worker
        self.assertIn(f"bytes queued for worker {index}: not reading its requests",
                      server.log_text())
        wait_until(lambda: "killing it" in server.log_text(), timeout_s=WORKER_HANG_S + 15,
                   interval_s=0.5, message="the hung worker to be killed")
        self.assertGreaterEqual(time.monotonic() - stopped_at, WORKER_HANG_S)
        self.assertRegex(server.log_text(), rf"worker {index} took nothing of the \d+ bytes "
                                            rf"queued for it for {WORKER_HANG_S:.0f} s; killing it")
        wait_until(lambda: server.worker_pid(index) != stuck_pid, timeout_s=10,
                   message="a new worker")
        flooder.expect(r"^:member!\S+ QUIT :Connection lost \(server error\)$", 10)
        flooder.sync("still-served")
        self.assertIsNone(server.proc.poll())
        self.assertEqual(server.worker_pid(1 - index), other_pid)
        self.assertIn(writer_pid, server.child_pids())
        self.assertNotIn("cannot run", server.log_text())


def _continue(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


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
