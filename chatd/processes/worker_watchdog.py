"""Noticing a hung worker: bytes wait in its pipe and it has taken none of them for
WORKER_HANG_S. A worker that is merely slow (a client asked for much, a burst of fan-out)
takes some bytes on every loop turn, and the master waits for it (chatd/hub/backpressure.py).
Pure: time comes in; the master kills the worker when `hung` names it, and that kill is not
counted as a failure toward the restart limit (chatd/processes/supervision.py)."""

from __future__ import annotations

# A worker's loop takes from its pipe on every turn; one that takes nothing for this long is
# stuck (a deadlock, a runaway loop, SIGSTOP), and so are all its clients. As long as the
# writer's clock (writer_watchdog.py): far above any legitimate pause (a history read, a
# password hash on the loop) and short enough that its clients are not lost for long.
WORKER_HANG_S = 30.0


class WorkerWatchdog:
    def __init__(self, hang_s: float = WORKER_HANG_S) -> None:
        self.hang_s = hang_s
        # worker -> when it last took a byte (or its queue last was empty), while bytes wait
        self._waiting_since: dict[int, float] = {}

    def observe(self, worker: int, queued: int, drained: bool, now: float) -> None:
        """After a flush: `queued` bytes still wait for `worker`; `drained`: it took some."""
        if queued == 0:
            self._waiting_since.pop(worker, None)
        elif drained:
            self._waiting_since[worker] = now
        else:
            self._waiting_since.setdefault(worker, now)

    def hung(self, now: float) -> list[int]:
        return [worker for worker, since in self._waiting_since.items()
                if now - since > self.hang_s]

    def forget(self, worker: int) -> None:
        """The worker was killed or restarted: its successor starts with a clean slate."""
        self._waiting_since.pop(worker, None)
