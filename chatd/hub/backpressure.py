"""When the master stops and resumes reading the workers, by how far the writer is behind.
Past BACKLOG_HIGH events decided but not committed, it stops reading them (they then stop
reading their clients, and TCP slows the senders) until the writer is back under BACKLOG_LOW:
what waits for the disk is bounded, whatever clients send. Pure: time comes in."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

BACKLOG_HIGH = 10_000
BACKLOG_LOW = 5_000
BACKLOG_WARN_INTERVAL_S = 60.0


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
