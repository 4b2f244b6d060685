"""How long the master's loop may wait in select: until the soonest deadline it has (a paused
accept to resume, a PING barrier due), at most MAX_WAIT_S so that timers such as the writer
watchdog are looked at. Pure."""

from __future__ import annotations

MAX_WAIT_S = 1.0


def select_timeout(now: float, accept_paused_until: float | None,
                   barrier_due: float | None, reading_workers: bool) -> float:
    """Seconds to wait. Barriers wait while the workers are not read (backlog): they must not
    wake the master then, or it would spin on a barrier it may not release."""
    waits = [MAX_WAIT_S]
    for until in (accept_paused_until, barrier_due if reading_workers else None):
        if until is not None:
            waits.append(max(0.0, until - now))
    return min(waits)
