"""The master's side of its children's pipes: frames out to a child (and the frames the
pipeline releases; an admin command's answer goes to the control socket instead), sending
what waits for each child as its socket takes it, and deciding from what waits which workers' requests the master reads (the writer's
backlog and what is queued for each worker: chatd/hub/backpressure.py) and which worker is
hung (chatd/processes/worker_watchdog.py). No child is killed for how much waits for it:
only a worker that takes nothing at all, and that kill is not counted as a failure
(supervision.py). The master calls it from its loop; it does not read frames."""

from __future__ import annotations

import logging
import os
import selectors

from chatd.hub.account_requests import CONTROL_WORKER
from chatd.hub.backpressure import Backpressure, WorkerQueues
from chatd.hub.sequencer import Outgoing
from chatd.ipc import frames
from chatd.ipc.pipe import PipeClosed
from chatd.processes.control import ControlServer
from chatd.processes.supervision import WRITER, Child, Supervisor
from chatd.processes.worker_watchdog import WorkerWatchdog

log = logging.getLogger(__name__)


class ChildPipes:
    def __init__(self, children: Supervisor, control: ControlServer,
                 backpressure: Backpressure) -> None:
        self.children = children
        self.control = control
        self.backpressure = backpressure  # the writer's backlog (the master updates it)
        self.queues = WorkerQueues()
        self.watchdog = WorkerWatchdog()

    def dispatch(self, outgoing: Outgoing) -> None:
        """Frames the pipeline released, each for a worker (or the control socket)."""
        workers = self.children.workers
        for index, frame in outgoing:
            if index == CONTROL_WORKER:
                answer = frames.decode_frames(bytearray(frame))[0]
                self.control.answer(answer.conn_id, answer.payload)
                continue
            worker = workers[index] if index < len(workers) else None
            if worker is not None and worker.alive:
                worker.pipe.send_raw(frame)

    def send(self, child: Child | None, frame: tuple, fds: tuple[int, ...] = ()) -> None:
        """One frame (and at most one fd, which is closed if the child is gone)."""
        if child is not None and child.alive:
            child.pipe.send_raw(frames.encode(frame), fds)
        else:
            for fd in fds:
                os.close(fd)

    def reads(self, child: Child) -> bool:
        """Whether the master reads `child`'s frames now: the writer's always; a worker's
        unless the writer is too far behind or too much is queued for it (or for another
        worker, past the ceiling)."""
        return child.role == WRITER or (self.backpressure.reading_workers
                                        and self.queues.reads(child.index))

    def flush(self, now: float) -> None:
        """Send what the children's sockets take; then watch each pipe for reading if its
        frames are read now, for writing while bytes wait."""
        flushed = []
        for child in self.children.children():
            if not child.alive:
                continue
            queued_before = child.pipe.pending_bytes
            try:
                done = child.pipe.flush()
            except PipeClosed:
                continue
            queued = child.pipe.pending_bytes
            if child.role != WRITER:
                self.queues.update(child.index, queued, now)
                self.watchdog.observe(child.index, queued, queued < queued_before, now)
            flushed.append((child, done))
        for child, done in flushed:  # after every update: one worker's queue may pause all
            self.children.watch(child, (selectors.EVENT_READ if self.reads(child) else 0)
                                | (0 if done else selectors.EVENT_WRITE))

    def kill_hung_workers(self, now: float) -> None:
        """Kill each worker that has taken nothing of what waits for it for WORKER_HANG_S:
        it is stuck, and its clients with it. It is restarted when reaped."""
        for index in self.watchdog.hung(now):
            self.watchdog.forget(index)  # killed once
            worker = self.children.workers[index]
            log.error("worker %d took nothing of the %d bytes queued for it for %.0f s; killing "
                      "it", index, worker.pipe.pending_bytes, self.watchdog.hang_s)
            self.children.kill_hung(worker)

    def worker_restarted(self, index: int) -> None:
        """A new worker in `index`'s place: what waited went with the old one."""
        self.queues.forget(index)
        self.watchdog.forget(index)
