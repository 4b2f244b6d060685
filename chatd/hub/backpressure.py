"""When the master stops and resumes reading the workers. Pure: time comes in.

- By how far the writer is behind (Backpressure): past BACKLOG_HIGH events decided but not
  committed, it stops reading them all (they then stop reading their clients, and TCP slows
  the senders) until the writer is back under BACKLOG_LOW: what waits for the disk is
  bounded, whatever clients send.
- By what the master has queued for each worker and its socket has not taken yet
  (WorkerQueues): past QUEUE_HIGH it stops reading that worker's requests — most of what it
  queues for a worker answers that worker's own clients — until the queue is under
  QUEUE_LOW; past QUEUE_CEILING (events from everyone's clients fill it too) it stops
  reading every worker until that queue is under QUEUE_LOW. So a client that asks for more
  than its worker takes in is slowed like one that sends faster than the disk; the worker is
  never killed for it (only for a real hang: chatd/processes/worker_watchdog.py)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

BACKLOG_HIGH = 10_000
BACKLOG_LOW = 5_000
BACKLOG_WARN_INTERVAL_S = 60.0
QUEUE_HIGH = 4 << 20
QUEUE_LOW = 1 << 20
QUEUE_CEILING = 64 << 20


class Backpressure:
    def __init__(self, high: int = BACKLOG_HIGH, low: int = BACKLOG_LOW) -> None:
        self.high, self.low = high, low
        self.reading_workers = True
        self.pauses = 0  # times clients' input was paused (a metric)
        self._warned_at = -BACKLOG_WARN_INTERVAL_S

    def update(self, backlog: int, now: float) -> None:
        """Take the writer's backlog (events decided, not committed) into account."""
        if self.reading_workers and backlog >= self.high:
            self.reading_workers = False
            self.pauses += 1
            if now - self._warned_at >= BACKLOG_WARN_INTERVAL_S:
                self._warned_at = now
                log.warning("the history writer is %d events behind: clients' input waits "
                            "until it is under %d (logged at most once a minute)",
                            backlog, self.low)
        elif not self.reading_workers and backlog <= self.low:
            self.reading_workers = True


class WorkerQueues:
    """Which workers' requests the master reads, by the bytes it has queued for each."""

    def __init__(self, high: int = QUEUE_HIGH, low: int = QUEUE_LOW,
                 ceiling: int = QUEUE_CEILING) -> None:
        self.high, self.low, self.ceiling = high, low, ceiling
        self._paused: set[int] = set()  # workers whose requests are not read
        self._over_ceiling: set[int] = set()  # while not empty, no worker is read
        self._warned_at = -BACKLOG_WARN_INTERVAL_S

    def update(self, worker: int, queued: int, now: float) -> None:
        """Take the bytes queued for `worker` (after a flush) into account."""
        if queued > self.high and worker not in self._paused:
            self._paused.add(worker)
            log.debug("%d bytes queued for worker %d: not reading its requests", queued,
                      worker)
        elif queued <= self.low:
            self._paused.discard(worker)
            self._over_ceiling.discard(worker)
        if queued > self.ceiling and worker not in self._over_ceiling:
            self._over_ceiling.add(worker)
            if now - self._warned_at >= BACKLOG_WARN_INTERVAL_S:
                self._warned_at = now
                log.warning("worker %d is %d bytes behind: no worker's requests are read "
                            "until it is under %d (logged at most once a minute)", worker,
                            queued, self.low)

    def reads(self, worker: int) -> bool:
        return not self._over_ceiling and worker not in self._paused

    def forget(self, worker: int) -> None:
        """The worker was restarted: its queue went with the old one."""
        self._paused.discard(worker)
        self._over_ceiling.discard(worker)
