"""The master's link to systemd: READY=1 once everything is up, STATUS= with what chatd
serves, STOPPING=1, and the watchdog (WATCHDOG=1 only while every child answers its
heartbeats: chatd/processes/liveness.py). Inert when chatd is not run by systemd
(chatd/processes/sdnotify.py sends nothing then), and heartbeats go out only when systemd
asked for a watchdog."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chatd.hub.registry import Registry
from chatd.ipc import frames
from chatd.processes.liveness import Liveness
from chatd.processes.sdnotify import Notifier
from chatd.processes.supervision import Child

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 10.0


class ServiceLink:
    def __init__(self, notifier: Notifier, now: float) -> None:
        self.notifier = notifier
        self.liveness = (Liveness(notifier.watchdog_s, now)
                         if notifier.enabled and notifier.watchdog_s else None)
        self._status = ""
        self._next_status = now + STATUS_INTERVAL_S

    def ready(self, registry: Registry) -> None:
        self._status = status_line(registry)
        self.notifier.ready(self._status)
        if self.liveness is not None:
            log.info("systemd watchdog: %.1f s", self.notifier.watchdog_s)

    def reloading(self) -> None:
        self.notifier.reloading()

    def stopping(self) -> None:
        self.notifier.stopping()

    def next_due(self) -> float | None:
        """When tend() next has something to do (None: never)."""
        if not self.notifier.enabled:
            return None
        due = self._next_status
        return due if self.liveness is None else min(due, self.liveness.next_due())

    def answered(self, child: Child | None, now: float) -> None:
        if self.liveness is not None and child is not None:
            self.liveness.answered(_key(child), now)

    def tend(self, now: float, children: list[Child], unread: Callable[[Child], bool],
             send: Callable[[Child, tuple], None], registry: Registry) -> None:
        """From the master's loop: heartbeats, the watchdog pet, the status line.
        `unread(child)`: the master is not reading that child now (backpressure:
        chatd/processes/child_pipes.py), so its answers wait for the master, not for it."""
        if not self.notifier.enabled:
            return
        if now >= self._next_status:
            self._next_status = now + STATUS_INTERVAL_S
            text = status_line(registry)
            if text != self._status:
                self._status = text
                self.notifier.notify(f"STATUS={text}")
        if self.liveness is None:
            return
        alive = [child for child in children if child.alive]
        for child in alive:
            if unread(child):
                self.liveness.answered(_key(child), now)
        seq = self.liveness.heartbeat_due(now)
        if seq is not None:
            for child in alive:
                send(child, frames.Heartbeat(seq))
        if self.liveness.pet_due([_key(child) for child in alive], now):
            self.notifier.notify("WATCHDOG=1")


def status_line(registry: Registry) -> str:
    """systemd's STATUS= (systemctl status shows it)."""
    return f"{registry.users} users, {len(registry.channels)} channels"


def _key(child: Child) -> tuple:
    """A child as liveness tracks it: a restarted one is a new child."""
    return (child.role, child.index, child.pid)
