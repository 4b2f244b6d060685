"""The master's outgoing side towards its children: frames to a worker or the writer, the
frames the pipeline releases (an admin command's answer goes to the control socket instead),
and flushing every child's pipe, with what the selector must watch on each afterwards.
Nothing here decides anything: the master's parts say what to send."""

from __future__ import annotations

import logging
import os
import selectors

from chatd.hub.account_requests import CONTROL_WORKER
from chatd.hub.backpressure import Backpressure
from chatd.hub.sequencer import Outgoing
from chatd.ipc import frames
from chatd.ipc.pipe import PipeClosed, PipeOverflow
from chatd.processes.control import ControlServer
from chatd.processes.supervision import WRITER, Child, Supervisor

log = logging.getLogger(__name__)


class ChildPipes:
    def __init__(self, children: Supervisor, control: ControlServer,
                 backpressure: Backpressure) -> None:
        self.children = children
        self.control = control
        self.backpressure = backpressure

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
                self.send_raw(worker, frame)

    def send(self, child: Child | None, frame: tuple, fds: tuple[int, ...] = ()) -> None:
        """One frame (and at most one fd, which is closed if the child is gone)."""
        if child is not None and child.alive:
            self.send_raw(child, frames.encode(frame), fds)
        else:
            for fd in fds:
                os.close(fd)

    def send_raw(self, child: Child, data: bytes, fds: tuple[int, ...] = ()) -> None:
        try:
            child.pipe.send_raw(data, fds)
        except PipeOverflow:
            log.error("%s %d is not reading its pipe; killing it", child.role, child.index)
            self.children.kill(child)

    def flush(self) -> None:
        """Push what each child's pipe holds; watch it for writing while some is left, and
        for reading unless it is a worker and the workers are not read (backlog)."""
        for child in self.children.children():
            if not child.alive:
                continue
            try:
                done = child.pipe.flush()
            except PipeClosed:
                continue
            reading = child.role == WRITER or self.backpressure.reading_workers
            self.children.watch(child, (selectors.EVENT_READ if reading else 0)
                                | (0 if done else selectors.EVENT_WRITE))
