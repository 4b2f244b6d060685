"""A buffer — a channel, a private conversation or the server buffer — as data: its lines
(bounded, with absolute indexes that stay put as lines are trimmed or pages inserted above),
its members and topic, its scroll anchor, its unread and mention counts and read position,
and what was remembered of it from the last run.

The list mechanics (append, insert, remove, trim) keep the msgids held and the scroll anchor
right; the rules for what goes where (dividers, date lines, activity) are `tui.state`'s.
Pure data; no I/O, no drawing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a remembered buffer left off: its newest stored message (msgid and server time,
    either may be empty/None)."""

    msgid: str = ""
    time: datetime | None = None


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
    live_divider: Line | None = None  # the "— live —" line, at most one per buffer
    join_line: Line | None = None  # our latest "You joined": catch-up pages go above it
    unread: int = 0  # chat lines arrived while the buffer was not shown
    mentions: int = 0  # of those, the ones naming us (all of them in a private buffer)
    read_time: datetime | None = None  # the newest line the user read (server time)
    read_synced: datetime | None = None  # the read time the server knows (MARKREAD)
    marker: Line | None = None  # the "— new —" line above the first unread one
    resume: Resume | None = None  # remembered from the last run: where to catch up from
    restored: bool = False  # reopened from the last run, not caught up yet
    anchor: Anchor | None = None  # None: the view follows the newest line
    unseen: int = 0  # lines added below a scrolled-up view
    msgids: set[str] = field(default_factory=set)  # of the lines held, to never show one twice
    history_start: bool = False  # the oldest stored message is shown (or marked as deleted)
    rejoin: bool = False  # a channel we were in when the connection dropped
    _key: str = field(default="", repr=False)
    _key_of: str | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """The name casefolded (cached: every lookup by name compares keys)."""
        if self._key_of != self.name:
            self._key, self._key_of = casefold(self.name), self.name
        return self._key

    @property
    def mention(self) -> bool:
        """Something here names us (or is a private message) since the user last looked."""
        return self.mentions > 0

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

    def position(self, line: Line) -> int | None:
        """Index in `lines` of this very line (identity, not equality), newest first."""
        for i in range(len(self.lines) - 1, -1, -1):
            if self.lines[i] is line:
                return i
        return None

    # -- the list of lines: absolute indexes, the scroll anchor, msgids, the bound ----------
    def append(self, line: Line) -> None:
        self.lines.append(line)
        if line.msgid:
            self.msgids.add(line.msgid)
        if self.anchor is not None:
            self.unseen += 1
        self.trim()

    def insert(self, pos: int, block: list[Line]) -> None:
        """Insert lines at list position `pos`, keeping the absolute indexes of the lines
        above (a prepend moves `first_index` back) and the scroll anchor on the same line."""
        if pos >= len(self.lines):
            for line in block:
                self.append(line)
            return
        self.lines[pos:pos] = block
        self.msgids.update(line.msgid for line in block if line.msgid)
        if pos == 0:
            self.first_index -= len(block)
        else:
            absolute = self.first_index + pos
            if self.anchor is not None:
                if self.anchor.line >= absolute:
                    self.anchor = Anchor(self.anchor.line + len(block), self.anchor.row)
                else:
                    self.unseen += len(block)
        self.trim()

    def remove(self, line: Line | None) -> None:
        """Take this very line out (a divider that moves), keeping the view where it was."""
        pos = self.position(line) if line is not None else None
        if pos is None:
            return
        del self.lines[pos]
        self.msgids.discard(line.msgid)
        if pos == 0:
            self.first_index += 1  # the lines below keep their absolute indexes
        elif self.anchor is not None and self.anchor.line > self.first_index + pos:
            self.anchor = Anchor(self.anchor.line - 1, self.anchor.row)

    def trim(self) -> None:
        if len(self.lines) > MAX_LINES:
            for old in self.lines[:TRIM_CHUNK]:
                self.msgids.discard(old.msgid)
            del self.lines[:TRIM_CHUNK]
            self.first_index += TRIM_CHUNK
            self.history_start = False  # the oldest lines are gone: they can be fetched again
