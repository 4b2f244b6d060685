"""When the app writes down what it remembers of this server (`tui.saved_state`): every
`SAVE_EVERY` if it changed, and when it quits. So a crash loses at most a few seconds of
open buffers and read positions, and a quiet client writes nothing.

Pure: it decides; the event loop writes the file (`SaveState`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui.saved_state import SavedServer, snapshot
from tui.session import Session
from tui.state import State

SAVE_EVERY = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class SaveState:
    """Write `saved` as what is remembered of the server `key` (the state file)."""

    key: str
    saved: SavedServer


class Memory:
    def __init__(self, key: str, saved: SavedServer | None):
        self.key = key
        self._saved = saved  # what the file holds for this server
        self.next_check: datetime | None = None

    def snapshot(self, state: State, session: Session) -> SavedServer:
        return snapshot(state, session.nick, session.seen_until())

    def due(self, now: datetime, state: State, session: Session) -> list[SaveState]:
        """A SaveState if it is time to look and something changed."""
        if self.next_check is not None and now < self.next_check:
            return []
        self.next_check = now + SAVE_EVERY
        return self.final(state, session)

    def final(self, state: State, session: Session) -> list[SaveState]:
        """What to write now (at quit): nothing if the file holds it already."""
        current = self.snapshot(state, session)
        if current == self._saved:
            return []
        self._saved = current
        return [SaveState(self.key, current)]
