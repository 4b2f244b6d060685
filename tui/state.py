"""The client's buffers: channels, private conversations and the server buffer.

A buffer holds its lines (bounded), its users and topic, its scroll anchor, its unread/mention
activity, and the bookkeeping that separates replayed history from live lines (the "— live —"
divider) and marks day changes. `State` is the ordered list of buffers and which one is shown.

Pure data with small rules; no I/O, no drawing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from chatd.irc.casemap import casefold
from tui.layout import Anchor

MAX_LINES = 5000  # per buffer; older lines are dropped
TRIM_CHUNK = 500  # drop this many at once so trimming is rare
DEDUP_WINDOW = 300  # how many recent lines a replayed line is compared against
DEDUP_TOLERANCE = timedelta(seconds=3)  # own lines carry local time, the replay server time


class Kind(enum.Enum):
    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"
    EVENT = "event"  # join/part/quit/nick/topic/kick/mode: drawn dimmed
    INFO = "info"  # client and server information
    ERROR = "error"
    DIVIDER = "divider"  # "— live —" and date lines


CHAT_KINDS = frozenset({Kind.MESSAGE, Kind.ACTION, Kind.NOTICE})


@dataclass(frozen=True, slots=True)
class Line:
    """One entry in a buffer. `time` is timezone-aware; `text` is raw (sanitized when drawn)."""

    time: datetime
    kind: Kind
    text: str
    nick: str = ""
    own: bool = False
    mention: bool = False
    history: bool = False


class BufferKind(enum.Enum):
    SERVER = "server"
    CHANNEL = "channel"
    QUERY = "query"


@dataclass(eq=False)
class Buffer:
    name: str
    kind: BufferKind
    lines: list[Line] = field(default_factory=list)
    first_index: int = 0  # absolute index of lines[0]; grows as old lines are trimmed
    users: dict[str, str] = field(default_factory=dict)  # casefolded nick -> nick as shown
    topic: str = ""
    joined: bool = False
    join_time: datetime | None = None  # when our JOIN arrived: older tagged lines are history
    history_seen: bool = False  # history lines added since that JOIN
    divider_done: bool = False
    unread: int = 0
    mention: bool = False
    anchor: Anchor | None = None  # None: the view follows the newest line
    unseen: int = 0  # lines added below a scrolled-up view

    @property
    def key(self) -> str:
        return casefold(self.name)

    @property
    def end_index(self) -> int:
        """Absolute index one past the newest line."""
        return self.first_index + len(self.lines)

    def line_at(self, index: int) -> Line:
        return self.lines[index - self.first_index]

    def start_join(self, when: datetime) -> None:
        """Our JOIN of this channel arrived: what follows with older timestamps is history."""
        self.joined = True
        self.join_time = when
        self.history_seen = False
        self.divider_done = False

    def has_similar(self, line: Line) -> bool:
        """True if a line with the same author and text and nearly the same time is already
        here: replay after a reconnect repeats what we have shown."""
        for old in reversed(self.lines[-DEDUP_WINDOW:]):
            if (old.kind == line.kind and old.text == line.text
                    and casefold(old.nick) == casefold(line.nick)
                    and abs(old.time - line.time) <= DEDUP_TOLERANCE):
                return True
        return False


class State:
    """All buffers, in display order (the number shown and used by Alt-N is index + 1)."""

    def __init__(self, server_name: str = "server", tz: tzinfo | None = None):
        self.tz = tz  # None: the local timezone, for date lines
        self.buffers: list[Buffer] = [Buffer(server_name, BufferKind.SERVER)]
        self.current_index = 0

    # -- lookup and ordering -------------------------------------------------------------
    @property
    def current(self) -> Buffer:
        return self.buffers[self.current_index]

    @property
    def server(self) -> Buffer:
        return self.buffers[0]

    def get(self, name: str) -> Buffer | None:
        key = casefold(name)
        for buf in self.buffers:
            if buf.key == key and buf.kind != BufferKind.SERVER:
                return buf
        return None

    def open(self, name: str, kind: BufferKind) -> Buffer:
        """The buffer called `name`, created (at the end of the list) if needed."""
        buf = self.get(name)
        if buf is None:
            buf = Buffer(name, kind)
            self.buffers.append(buf)
        return buf

    def close(self, buf: Buffer) -> None:
        """Remove a channel or query buffer (the server buffer stays)."""
        if buf.kind == BufferKind.SERVER or buf not in self.buffers:
            return
        current = self.current
        index = self.buffers.index(buf)
        self.buffers.remove(buf)
        if current is buf:
            self.switch(max(0, index - 1))
        else:
            self.current_index = self.buffers.index(current)

    def switch(self, index: int) -> bool:
        """Show buffer `index` (0-based); False if there is none."""
        if not 0 <= index < len(self.buffers):
            return False
        self.current_index = index
        buf = self.current
        buf.unread = 0
        buf.mention = False
        return True

    def focus(self, buf: Buffer) -> None:
        if buf in self.buffers:
            self.switch(self.buffers.index(buf))

    def cycle(self, step: int) -> None:
        """Ctrl-N/Ctrl-P: the next/previous buffer, wrapping around."""
        self.switch((self.current_index + step) % len(self.buffers))

    def activity(self) -> list[tuple[int, Buffer]]:
        """(number, buffer) of the other buffers with unread chat lines, for the status bar."""
        return [(i + 1, b) for i, b in enumerate(self.buffers)
                if b is not self.current and (b.unread or b.mention)]

    # -- adding lines --------------------------------------------------------------------
    def add(self, buf: Buffer, line: Line) -> bool:
        """Append `line` to `buf` with the divider and date rules; False if it was a repeat of
        a line already shown (replay after reconnect)."""
        if line.history and buf.has_similar(line):
            return False
        if line.history:
            buf.history_seen = True
        elif buf.history_seen and not buf.divider_done and line.kind != Kind.DIVIDER:
            buf.divider_done = True
            self._append(buf, Line(line.time, Kind.DIVIDER, "live"))
        last = self._last_dated(buf)
        if last is not None and self._date(last.time) != self._date(line.time):
            self._append(buf, Line(line.time, Kind.DIVIDER,
                                   self._local(line.time).strftime("%a %d %b %Y")))
        self._append(buf, line)
        if buf is not self.current and line.kind in CHAT_KINDS and not line.own \
                and not line.history:
            if buf.kind == BufferKind.SERVER and not line.mention:
                return True  # server notices are not conversation: no activity flag
            buf.unread += 1
            if line.mention or buf.kind == BufferKind.QUERY:
                buf.mention = True
        return True

    def _local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def _date(self, when: datetime) -> tuple[int, int, int]:
        local = self._local(when)
        return (local.year, local.month, local.day)

    @staticmethod
    def _last_dated(buf: Buffer) -> Line | None:
        for old in reversed(buf.lines[-5:]):
            if old.kind != Kind.DIVIDER:
                return old
        return None

    def _append(self, buf: Buffer, line: Line) -> None:
        buf.lines.append(line)
        if buf.anchor is not None:
            buf.unseen += 1
        if len(buf.lines) > MAX_LINES:
            del buf.lines[:TRIM_CHUNK]
            buf.first_index += TRIM_CHUNK
