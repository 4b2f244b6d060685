"""Whether every chatd process is alive enough to pet systemd's watchdog. The master sends
each child (the writer and every worker) a heartbeat every interval; a child answers from its
own loop, so a child stuck in a commit, a CPU-bound loop or SIGSTOP stops answering. The
master pets the watchdog (`WATCHDOG=1`) every half period, and only while every child has
answered within half a period: a hung child makes the pets stop and systemd restart chatd.
The master's own loop is covered by the petting itself: it pets from that loop. Pure: time
comes in, and children are named by a key (role, index, pid) the caller chooses."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


class Liveness:
    def __init__(self, watchdog_s: float, now: float) -> None:
        self.pet_interval_s = watchdog_s / 2
        self.answer_within_s = watchdog_s / 2
        self.heartbeat_interval_s = watchdog_s / 8
        self._next_pet = now
        self._next_heartbeat = now
        self._seq = 0
        self._answered: dict[Hashable, float] = {}  # child -> when it last answered

    def next_due(self) -> float:
        return min(self._next_pet, self._next_heartbeat)

    def heartbeat_due(self, now: float) -> int | None:
        """The number of a heartbeat to send to every child now, or None."""
        if now < self._next_heartbeat:
            return None
        self._next_heartbeat = now + self.heartbeat_interval_s
        self._seq += 1
        return self._seq

    def answered(self, child: Hashable, now: float) -> None:
        self._answered[child] = now

    def pet_due(self, children: Iterable[Hashable], now: float) -> bool:
        """Whether to send WATCHDOG=1 now: its time has come and every child answered
        recently. A child seen for the first time gets a full answer period (it is starting)."""
        if now < self._next_pet:
            return False
        current = set(children)
        for child in current:
            self._answered.setdefault(child, now)
        for gone in self._answered.keys() - current:
            del self._answered[gone]
        if any(now - when > self.answer_within_s for when in self._answered.values()):
            self._next_pet = now + self.heartbeat_interval_s  # look again soon, not in a spin
            return False
        self._next_pet = now + self.pet_interval_s
        return True
