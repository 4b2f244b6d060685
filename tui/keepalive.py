"""Noticing a dead connection: after a silence we probe the server with PING, and a probe
left unanswered means the connection is gone. Any received line counts as an answer. Pure:
the session feeds it the times of received lines and ticks; it returns effects. It knows
nothing of registration or buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui.effects import Disconnect, Effect, send

PING_IDLE = timedelta(seconds=60)  # silence before we probe the server
PING_TIMEOUT = timedelta(seconds=30)  # no answer to the probe: the connection is dead


@dataclass
class Keepalive:
    last_rx: datetime | None = None  # when the server last said anything
    ping_sent: datetime | None = None  # our unanswered probe

    def start(self, now: datetime) -> None:
        """A new connection: its silence counts from now."""
        self.last_rx, self.ping_sent = now, None

    def stop(self) -> None:
        self.ping_sent = None

    def heard(self, now: datetime) -> None:
        self.last_rx, self.ping_sent = now, None

    def deadline(self) -> datetime | None:
        if self.last_rx is None:
            return None
        return self.ping_sent + PING_TIMEOUT if self.ping_sent else self.last_rx + PING_IDLE

    def tick(self, now: datetime) -> list[Effect]:
        """Probe after the silence, give up after the unanswered probe (on a live connection
        only: the caller checks)."""
        if self.last_rx is None:
            return []
        if self.ping_sent is not None and now >= self.ping_sent + PING_TIMEOUT:
            self.ping_sent = None
            return [Disconnect("ping timeout")]
        if self.ping_sent is None and now >= self.last_rx + PING_IDLE:
            self.ping_sent = now
            return [send("PING", "tui")]
        return []
