"""The client's buffers: channels, private conversations and the server buffer.

A buffer holds its lines (bounded), its users and topic, its scroll anchor, its unread/mention
activity, and the bookkeeping that separates replayed history from live lines (the "— live —"
divider) and marks day changes. Lines that carry a server msgid are never shown twice in a
buffer, and pages of history are placed where their msgids belong (older pages on top, missed
messages before anything newer). `State` is the ordered list of buffers and which one is shown.

Pure data with small rules; no I/O, no drawing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

from ircproto.casemap import casefold
from tui.layout import Anchor
from tui.members import Members

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
    RESULT = "result"  # one of a results buffer's choices: drawn as is, without a time


CHAT_KINDS = frozenset({Kind.MESSAGE, Kind.ACTION, Kind.NOTICE})


@dataclass(frozen=True, slots=True)
class Line:
    """One entry in a buffer. `time` is timezone-aware; `text` is raw (sanitized when drawn)."""

    time: datetime
    kind: Kind
    text: str
    nick: str = ""
    prefix: str = ""  # the author's highest membership prefix in the channel then (`@`)
    own: bool = False
    mention: bool = False
    history: bool = False
    msgid: str = ""  # the server's id for a stored message (IRCv3 msgid), "" if none
    nonce: str = ""  # our idempotency tag on a message we sent
    delivery: Delivery | None = None  # for our own messages

    @property
    def seq(self) -> int | None:
        """The msgid as a number when the server uses increasing decimal ids (chatd does),
        else None (other servers' msgids are opaque: order by time instead)."""
        return int(self.msgid) if self.msgid.isascii() and self.msgid.isdigit() else None


def comes_after(line: Line, other: Line) -> bool:
    """True if `line` belongs after `other` in a conversation: by msgid when both are
    numeric, else by time."""
    a, b = line.seq, other.seq
    if a is not None and b is not None:
        return a > b
    return line.time > other.time


class Delivery(enum.Enum):
    """Where one of our own messages is on its way to the server's history."""

    QUEUED = "queued"  # not written yet (offline, or waiting for the re-join and gap-fill)
    PENDING = "pending"  # written; waiting for the echo that means "stored"
    SENT = "sent"  # echoed (stored), or written to a server that does not echo
    UNCONFIRMED = "unconfirmed"  # written before a connection loss; the server cannot tell
    FAILED = "failed"  # refused by the server


class BufferKind(enum.Enum):
    SERVER = "server"
    CHANNEL = "channel"
    QUERY = "query"
    RESULTS = "results"  # /list, /search: choices to pick from (its name has a space: no nick)


@dataclass(eq=False)
class Buffer:
    name: str
    kind: BufferKind
    lines: list[Line] = field(default_factory=list)
    first_index: int = 0  # absolute index of lines[0]; grows as old lines are trimmed
    users: Members = field(default_factory=Members)  # a channel's members and their prefixes
    topic: str = ""
    joined: bool = False
    join_time: datetime | None = None  # when our JOIN arrived: older tagged lines are history
    history_seen: bool = False  # history lines added since that JOIN
    divider_done: bool = False
    unread: int = 0
    mention: bool = False
    anchor: Anchor | None = None  # None: the view follows the newest line
    unseen: int = 0  # lines added below a scrolled-up view
    msgids: set[str] = field(default_factory=set)  # of the lines held, to never show one twice
    history_start: bool = False  # the oldest stored message is shown (or marked as deleted)
    rejoin: bool = False  # a channel we were in when the connection dropped

    @property
    def key(self) -> str:
        return casefold(self.name)

    @property
    def parted(self) -> bool:
        """A channel we are out of (kicked) and will not re-join by ourselves: its lines stay
        readable."""
        return self.kind == BufferKind.CHANNEL and not self.joined and not self.rejoin

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
        """True if a line with the same author and text and nearly the same time, and no
        msgid of its own, is already here: a server without msgids repeats on re-join what
        we have shown (two lines that both carry msgids are the same only if the ids are)."""
        for old in reversed(self.lines[-DEDUP_WINDOW:]):
            if (not old.msgid and old.kind == line.kind and old.text == line.text
                    and casefold(old.nick) == casefold(line.nick)
                    and abs(old.time - line.time) <= DEDUP_TOLERANCE):
                return True
        return False

    def is_duplicate(self, line: Line) -> bool:
        if line.msgid:
            return line.msgid in self.msgids
        return line.history and self.has_similar(line)

    def newest_stored(self) -> Line | None:
        """The stored line furthest along the history (what AFTER continues from)."""
        best = None
        for line in self.lines:
            if line.msgid and (best is None or comes_after(line, best)):
                best = line
        return best

    def oldest_stored(self) -> Line | None:
        """The first stored line (what BEFORE continues from)."""
        best = None
        for line in self.lines:
            if line.msgid and (best is None or comes_after(best, line)):
                best = line
        return best

    def find_nonce(self, nonce: str) -> int | None:
        """Index in `lines` of our own line with this nonce."""
        for i in range(len(self.lines) - 1, -1, -1):
            if self.lines[i].nonce == nonce:
                return i
        return None


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

    def clear(self, buf: Buffer, keep_msgids: int = 500) -> None:
        """/clear: the buffer's lines go. The msgids of the newest `keep_msgids` stay known,
        so a catch-up never shows them again; older history is not fetched back (PgUp)."""
        recent = [line.msgid for line in buf.lines[-keep_msgids:] if line.msgid]
        buf.first_index += len(buf.lines)
        buf.lines.clear()
        buf.msgids = set(recent)
        buf.anchor, buf.unseen, buf.history_start = None, 0, True

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
        if buf.is_duplicate(line):
            return False
        if line.history:
            buf.history_seen = True
        elif buf.history_seen and not buf.divider_done and line.kind != Kind.DIVIDER:
            buf.divider_done = True
            self._append(buf, Line(line.time, Kind.DIVIDER, "live"))
        last = self._last_dated(buf, len(buf.lines))
        if last is not None and self._date(last.time) != self._date(line.time):
            self._append(buf, self._date_line(line.time))
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
    def _last_dated(buf: Buffer, pos: int) -> Line | None:
        """The last non-divider line among the few before list position `pos`."""
        for old in reversed(buf.lines[max(0, pos - 5):pos]):
            if old.kind != Kind.DIVIDER:
                return old
        return None

    def _append(self, buf: Buffer, line: Line) -> None:
        buf.lines.append(line)
        if line.msgid:
            buf.msgids.add(line.msgid)
        if buf.anchor is not None:
            buf.unseen += 1
        self._trim(buf)

    @staticmethod
    def _trim(buf: Buffer) -> None:
        if len(buf.lines) > MAX_LINES:
            for old in buf.lines[:TRIM_CHUNK]:
                buf.msgids.discard(old.msgid)
            del buf.lines[:TRIM_CHUNK]
            buf.first_index += TRIM_CHUNK
            buf.history_start = False  # the oldest lines are gone: they can be fetched again

    # -- history pages -----------------------------------------------------------------------
    def insert_history(self, buf: Buffer, lines: list[Line], *, live_divider: bool = False,
                       unread: bool = False, gap: bool = False) -> int:
        """Place a page of stored lines (oldest first) where their msgids belong: before the
        first line that comes after them, else at the end. Lines already shown are skipped.
        With `live_divider`, the page counts as the history before live lines (the "— live —"
        divider follows it); with `unread`, its chat lines count as missed (activity); with
        `gap`, a divider says that lines after it may be missing. Returns how many lines were
        placed."""
        fresh: list[Line] = []
        seen: set[str] = set()
        for line in lines:
            if buf.is_duplicate(line) or (line.msgid and line.msgid in seen):
                continue
            seen.add(line.msgid)
            fresh.append(line)
        if not fresh:
            return 0
        pos = next((i for i, old in enumerate(buf.lines)
                    if old.msgid and comes_after(old, fresh[0])), len(buf.lines))
        block = self._dated(fresh, self._last_dated(buf, pos))
        following = buf.lines[pos] if pos < len(buf.lines) else None
        if following is not None and following.kind != Kind.DIVIDER \
                and self._date(following.time) != self._date(block[-1].time):
            block.append(self._date_line(following.time))
        if gap and following is not None:
            block.append(Line(block[-1].time, Kind.DIVIDER, "gap"))
        if live_divider:
            buf.history_seen = True
            if following is not None and not buf.divider_done and not following.history:
                buf.divider_done = True
                block.append(Line(block[-1].time, Kind.DIVIDER, "live"))
        self._insert(buf, pos, block)
        if unread and buf is not self.current:
            for line in fresh:
                if line.kind in CHAT_KINDS and not line.own:
                    buf.unread += 1
                    if line.mention or buf.kind == BufferKind.QUERY:
                        buf.mention = True
        return len(fresh)

    def mark_history_start(self, buf: Buffer, label: str = "start") -> None:
        """Show that nothing older exists (or was kept): a divider above the oldest stored
        line. Called once per buffer; later pages go below it."""
        if buf.history_start:
            return
        buf.history_start = True
        pos = next((i for i, old in enumerate(buf.lines) if old.msgid), None)
        if pos is None:
            return  # nothing stored in this conversation yet: nothing to mark
        self._insert(buf, pos, [Line(buf.lines[pos].time, Kind.DIVIDER, label)])

    def update_own(self, buf: Buffer, nonce: str, delivery: Delivery, *, msgid: str = "",
                   time: datetime | None = None) -> bool:
        """Change the delivery state of our own line (found by its nonce); False if it is no
        longer in the buffer. Given its msgid, the line moves below the stored lines that
        precede it in the history (a line typed offline is stored after what was missed)."""
        index = buf.find_nonce(nonce)
        if index is None:
            return False
        old = buf.lines[index]
        if msgid and msgid in buf.msgids and old.msgid != msgid:
            return False  # already shown from history: never twice
        line = replace(old, delivery=delivery, msgid=msgid or old.msgid, time=time or old.time)
        buf.lines[index] = line
        if msgid:
            buf.msgids.add(msgid)
            self._move_down_to_place(buf, index)
        return True

    @staticmethod
    def _move_down_to_place(buf: Buffer, index: int) -> None:
        line = buf.lines[index]
        if line.seq is None:
            return  # opaque msgids carry no order: keep the line where it was typed
        target = index
        for j in range(index + 1, len(buf.lines)):
            other = buf.lines[j]
            if other.seq is not None and other.seq < line.seq:
                target = j
        if target == index:
            return
        del buf.lines[index]
        buf.lines.insert(target, line)
        if buf.anchor is not None:
            first, last = buf.first_index + index, buf.first_index + target
            if first < buf.anchor.line <= last:
                buf.anchor = Anchor(buf.anchor.line - 1, buf.anchor.row)

    def _dated(self, lines: list[Line], before: Line | None) -> list[Line]:
        out: list[Line] = []
        last = before
        for line in lines:
            if last is not None and self._date(last.time) != self._date(line.time):
                out.append(self._date_line(line.time))
            out.append(line)
            last = line
        return out

    def _date_line(self, when: datetime) -> Line:
        return Line(when, Kind.DIVIDER, self._local(when).strftime("%a %d %b %Y"))

    def _insert(self, buf: Buffer, pos: int, block: list[Line]) -> None:
        """Insert lines at list position `pos`, keeping the absolute indexes of the lines
        above (a prepend moves `first_index` back) and the scroll anchor on the same line."""
        if pos >= len(buf.lines):
            for line in block:
                self._append(buf, line)
            return
        buf.lines[pos:pos] = block
        buf.msgids.update(line.msgid for line in block if line.msgid)
        if pos == 0:
            buf.first_index -= len(block)
        else:
            absolute = buf.first_index + pos
            if buf.anchor is not None:
                if buf.anchor.line >= absolute:
                    buf.anchor = Anchor(buf.anchor.line + len(block), buf.anchor.row)
                else:
                    buf.unseen += len(block)
        self._trim(buf)
