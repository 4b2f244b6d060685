"""The master's children: starting the writer and the workers with the entry functions the
caller gave, reaping those that die, restarting them within limits (a boot failure, or more
than MAX_RESTARTS_PER_MINUTE restarts, means chatd cannot run; a worker the master killed for
a hang is restarted without counting), and killing them. It does not
read or route their frames, and does not decide what a death means for clients: the master
does, with what `reap` reports."""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
from dataclasses import dataclass
from typing import Callable, NamedTuple

from chatd.exitcodes import EXIT_BOOT_FAILED
from chatd.ipc.pipe import Pipe
from chatd.processes import children
from chatd.selectmask import rewatch

log = logging.getLogger(__name__)

MAX_RESTARTS_PER_MINUTE = 10
RESTART_WINDOW_S = 60.0

WRITER = "writer"
WORKER = "worker"


@dataclass
class Child:
    role: str  # WRITER or WORKER
    index: int
    pid: int  # 0 once reaped
    pipe: Pipe
    conns: int = 0  # a worker's clients
    alive: bool = True
    mask: int = selectors.EVENT_READ  # what the selector watches its pipe for (0: nothing)


class Exit(NamedTuple):
    """A child of ours that ended."""
    child: Child
    pid: int
    code: int  # exit status, or -signal
    text: str  # how it ended, for the log


class RestartLimit:
    """Whether a child that died may be started again. Pure: time comes in."""

    def __init__(self, per_window: int = MAX_RESTARTS_PER_MINUTE,
                 window_s: float = RESTART_WINDOW_S) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._restarts: list[float] = []

    def allows(self, code: int, now: float, counted: bool = True) -> bool:
        """Count a restart at `now`; False when the child failed to boot or restarts come too
        often (respawning would only loop). A restart not `counted` (a hung worker the master
        killed: not a crash loop) is allowed unless the child failed to boot."""
        if code == EXIT_BOOT_FAILED:
            return False
        if not counted:
            return True
        self._restarts = [t for t in self._restarts if now - t < self.window_s] + [now]
        return len(self._restarts) <= self.per_window


class Supervisor:
    """Starts, reaps, restarts and kills the writer and the workers."""

    def __init__(self, selector: selectors.BaseSelector,
                 writer_entry: Callable[[socket.socket], int],
                 worker_entry: Callable[[int, socket.socket], int],
                 close_master_fds: Callable[[], None]) -> None:
        self.selector = selector
        self._writer_entry = writer_entry
        self._worker_entry = worker_entry
        self._close_master_fds = close_master_fds  # what a child must not hold besides channels
        self.writer: Child | None = None
        self.workers: list[Child] = []
        self._restarts = RestartLimit()
        self._killed_for_hang: set[int] = set()  # pids: their restart is not counted
        self.restarts = {WRITER: 0, WORKER: 0}  # since start (a metric)

    def children(self) -> list[Child]:
        return [child for child in (self.writer, *self.workers) if child is not None]

    def start_writer(self) -> None:
        self.writer = self._spawn(WRITER, 0, self._writer_entry)

    def start_workers(self, count: int) -> None:
        for index in range(count):
            self.workers.append(self._spawn_worker(index))

    def _spawn_worker(self, index: int) -> Child:
        return self._spawn(WORKER, index, lambda sock: self._worker_entry(index, sock))

    def _spawn(self, role: str, index: int, entry: Callable[[socket.socket], int]) -> Child:
        pid, pipe = children.spawn(entry, self._close_in_child)
        if role == WRITER:
            log.info("writer started (pid %d)", pid)
        else:
            log.info("worker %d started (pid %d)", index, pid)
        child = Child(role=role, index=index, pid=pid, pipe=pipe)
        self.selector.register(pipe, selectors.EVENT_READ, child)
        return child

    def _close_in_child(self) -> None:
        self._close_master_fds()
        self.selector.close()
        for child in self.children():
            child.pipe.close()

    def watch(self, child: Child, mask: int) -> None:
        """Have the selector watch `child`'s pipe for `mask` (0: not at all)."""
        child.mask = rewatch(self.selector, child.pipe, child, child.mask, mask)

    def reap(self) -> list[Exit]:
        """Collect every child that ended (never blocks); their channels are closed."""
        ended = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return ended
            if pid == 0:
                return ended
            child = self._child_by_pid(pid)
            if child is None:
                continue
            code, text = children.describe_exit(status)
            child.alive = False
            child.pid = 0
            self.watch(child, 0)
            child.pipe.close()
            ended.append(Exit(child=child, pid=pid, code=code, text=text))

    def _child_by_pid(self, pid: int) -> Child | None:
        for child in self.children():
            if child.pid == pid:
                return child
        return None

    def may_restart(self, ended: Exit, now: float) -> bool:
        counted = ended.pid not in self._killed_for_hang
        self._killed_for_hang.discard(ended.pid)
        if self._restarts.allows(ended.code, now, counted):
            return True
        log.critical("%s %d cannot run; stopping chatd", ended.child.role, ended.child.index)
        return False

    def restart(self, child: Child) -> None:
        """Start a new process in a dead child's place."""
        self.restarts[child.role] += 1
        if child.role == WRITER:
            self.start_writer()
        else:
            self.workers[child.index] = self._spawn_worker(child.index)

    def kill(self, child: Child, signum: int = signal.SIGKILL) -> None:
        if child.pid:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                pass

    def kill_hung(self, child: Child) -> None:
        """Kill a child for a hang: its restart will not count toward the limit."""
        if child.pid:
            self._killed_for_hang.add(child.pid)
        self.kill(child)

    def kill_all_now(self) -> None:
        """Startup failed: end whatever was started, at once, and wait for it."""
        for child in self.children():
            if child.pid:
                self.kill(child)
                try:
                    os.waitpid(child.pid, 0)
                except ChildProcessError:
                    pass
