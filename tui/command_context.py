"""What a /command handler is given and may return: `Context` (the session, the buffers, the
time, and helpers that write a line where the user is), and besides the session's effects
`Quit` and `ConfirmLines`. Shared by `commands` and the command tables it gathers from other modules
(`people_commands`, `view_commands`), so that none of them imports another. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui.effects import Effect
from tui.session import Session
from tui.state import Buffer, BufferKind, Kind, Line, State


@dataclass(frozen=True, slots=True)
class Quit:
    """End the program after telling the server (QUIT) why."""

    reason: str


@dataclass(frozen=True, slots=True)
class ConfirmLines:
    """A text of several lines that cannot go as one message (the server lacks IRCv3
    multi-line messages, or it is too long for them): ask before sending each line as a
    message of its own."""

    target: str
    text: str
    buffer: Buffer

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def lines(self) -> list[str]:
        """The messages to send (blank lines are none)."""
        return [line for line in self.text.split("\n") if line.strip()]


Action = Effect | Quit | ConfirmLines


@dataclass(frozen=True, slots=True)
class Context:
    session: Session
    state: State
    now: datetime

    @property
    def buffer(self) -> Buffer:
        return self.state.current

    def say(self, text: str, kind: Kind = Kind.INFO) -> list[Action]:
        self.state.add(self.buffer, Line(self.now, kind, text))
        return []

    def error(self, text: str) -> list[Action]:
        return self.say(text, Kind.ERROR)

    def conversation_target(self) -> str | None:
        """Where a plain line typed here goes: the channel or the private partner."""
        buf = self.buffer
        return buf.name if buf.kind in (BufferKind.CHANNEL, BufferKind.QUERY) else None
