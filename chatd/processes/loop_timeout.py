"""How long the master's loop may wait in select: until the soonest deadline it has (a paused
accept to resume, a PING barrier due), at most MAX_WAIT_S so that timers such as the writer
watchdog are looked at. Pure."""

from __future__ import annotations

MAX_WAIT_S = 1.0


def select_timeout(now: float, accept_paused_until: float | None,
                   barrier_due: float | None, reading_workers: bool,
                   service_due: float | None = None) -> float:
    """Seconds to wait. Barriers wait while the workers are not read (backlog): they must not
    wake the master then, or it would spin on a barrier it may not release. `service_due`:
    systemd's next heartbeat, watchdog pet or status (chatd/processes/service.py)."""
    waits = [MAX_WAIT_S]
    for until in (accept_paused_until, barrier_due if reading_workers else None, service_due):
        if until is not None:
            waits.append(max(0.0, until - now))
    return min(waits)
