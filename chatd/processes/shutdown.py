"""The order of a shutdown: workers first (each tells its clients and flushes), then the writer
(it commits what is left, ending with everyone's departure: chatd/hub/departures.py); a child
that has not exited STOP_TIMEOUT_S after the start is killed. Pure: it says the next step from
what is still running; the master carries it out."""

from __future__ import annotations

import enum

STOP_TIMEOUT_S = 10.0


class Step(enum.Enum):
    WAIT = "wait"
    KILL_WORKERS = "kill the workers left"
    TELL_WRITER = "store the departures, send the writer its last rows and SHUTDOWN"
    KILL_WRITER = "kill the writer"
    DONE = "every child has exited"


class Shutdown:
    def __init__(self, now: float, timeout_s: float = STOP_TIMEOUT_S) -> None:
        self.deadline = now + timeout_s
        self._writer_told = False

    def next_step(self, workers_running: bool, writer_running: bool, now: float) -> Step:
        overdue = now > self.deadline
        if workers_running:
            return Step.KILL_WORKERS if overdue else Step.WAIT
        if writer_running:
            if not self._writer_told:
                self._writer_told = True
                return Step.TELL_WRITER
            return Step.KILL_WRITER if overdue else Step.WAIT
        return Step.DONE
