"""When a mention or a private message rings the terminal's bell or pops a desktop
notification (OSC 777 / OSC 9, see `tui.notify`): as the settings say, and at most once per
`ALERT_GAP` — a burst of mentions is one ring, not a concert.

Pure: `Alert` effects in, `Notify` actions (the bytes to write to the terminal) out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui.config import Settings
from tui.effects import Alert
from tui.notify import BEL, notification

ALERT_GAP = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class Notify:
    """Write these bytes to the terminal (a bell, a notification's escape sequence)."""

    data: bytes


class Alerts:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._last: datetime | None = None

    def on_alert(self, alert: Alert, now: datetime) -> Notify | None:
        settings = self.settings
        if not settings.bell and settings.notify == "off":
            return None
        if self._last is not None and now - self._last < ALERT_GAP:
            return None
        self._last = now
        title = f"{alert.nick} (private)" if alert.private else f"{alert.nick} in {alert.buffer}"
        data = notification(settings.notify, title, alert.text)
        return Notify((BEL if settings.bell else b"") + data)
