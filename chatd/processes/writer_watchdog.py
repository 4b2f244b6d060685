"""Noticing a hung writer: one that acknowledges nothing for WRITER_STALL_S while rows wait
for it. A writer that reports STALLED is not hung (its commits fail for a reason that may pass
and it retries; a new writer would fail the same way), so that restarts the clock. Pure: time
comes in; the master kills the writer when `is_hung` says so."""

from __future__ import annotations

# A writer that acknowledges nothing for this long is hung: it is killed and replaced (the
# master re-sends what it had not committed). Until then clients wait rather than lose data.
WRITER_STALL_S = 30.0


class WriterWatchdog:
    def __init__(self, stall_s: float = WRITER_STALL_S) -> None:
        self.stall_s = stall_s
        self._waiting_since: float | None = None  # oldest unacknowledged STORE

    def rows_sent(self, now: float) -> None:
        if self._waiting_since is None:
            self._waiting_since = now

    def committed(self, rows_still_waiting: bool, now: float) -> None:
        self._waiting_since = now if rows_still_waiting else None

    def stalled(self, now: float) -> None:
        """The writer said its commits fail and it retries: not hung."""
        if self._waiting_since is not None:
            self._waiting_since = now

    def writer_ready(self) -> None:
        self._waiting_since = None

    def resent(self, now: float) -> None:
        """A new writer was sent the rows its predecessor had not committed."""
        self._waiting_since = now

    def is_hung(self, now: float) -> bool:
        return self._waiting_since is not None and now - self._waiting_since > self.stall_s

    def forget(self) -> None:
        """The writer was killed: its successor starts with a clean slate."""
        self._waiting_since = None
