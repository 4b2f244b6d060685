"""Buffers of results to pick from: the channel list (/list: LIST's replies, RPL_LIST 322
between 321 and 323) and search results (/search, see `search`). Each result is a numbered
line of the buffer and a `Choice`: join that channel, or show that message in its
conversation. One result is selected (drawn reversed): Up/Down move the selection, Enter takes
it, or the number typed then Enter.

Pure. It changes `State` (results buffers and their lines) and keeps which line of which
buffer is which choice; taking a choice is the caller's (the app asks the session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ircproto import numerics as N
from ircproto.message import Message
from tui.context import ClientContext
from tui.effects import Effect
from tui.layout import Anchor, Row
from tui.state import Buffer, BufferKind, Kind, Line

MAX_RESULTS = 5000  # per buffer; more are counted, not shown
CHANNEL_LIST = "channel list"  # the /list buffer (a name with a space is nobody's nick)

Handler = Callable[[Message, datetime], list[Effect]]


@dataclass(frozen=True, slots=True)
class JoinChannel:
    channel: str


@dataclass(frozen=True, slots=True)
class ShowMessage:
    """A message to show in its conversation: by msgid (a server's result), or the line
    itself (a result found among the lines loaded here)."""

    conversation: str
    msgid: str = ""
    line: Line | None = None


Choice = JoinChannel | ShowMessage


@dataclass(eq=False)
class Listing:
    lines: list[Line] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    selected: int = 0
    dropped: int = 0
    follow: bool = False  # the selection moved: the view follows it at the next draw


class Results:
    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.listings: dict[Buffer, Listing] = {}
        self._list_buffer: Buffer | None = None  # where LIST replies go

    def handlers(self) -> dict[str, Handler]:
        return {N.RPL_LISTSTART: self.handle_liststart, N.RPL_LIST: self.handle_list,
                N.RPL_LISTEND: self.handle_listend}

    # -- results buffers ---------------------------------------------------------------------
    def open(self, title: str) -> Buffer:
        """A results buffer called `title`, emptied (an older one of that name is reused)."""
        buf = self.state.open(title, BufferKind.RESULTS)
        self.state.clear(buf)
        self.listings[buf] = Listing()
        for gone in [b for b in self.listings if b not in self.state.buffers]:
            del self.listings[gone]  # closed buffers
        return buf

    def add(self, buf: Buffer, text: str, choice: Choice) -> None:
        listing = self.listings.setdefault(buf, Listing())
        if len(listing.choices) >= MAX_RESULTS:
            listing.dropped += 1
            return
        line = Line(self.ctx.now, Kind.RESULT, f"{len(listing.choices) + 1:>3}. {text}")
        self.state.add(buf, line)
        listing.lines.append(line)
        listing.choices.append(choice)

    def note(self, buf: Buffer, text: str) -> None:
        self.state.add(buf, Line(self.ctx.now, Kind.INFO, text))

    def count(self, buf: Buffer) -> int:
        listing = self.listings.get(buf)
        return len(listing.choices) if listing else 0

    def move(self, buf: Buffer, step: int) -> bool:
        """Up (-1) / Down (+1) in a results buffer; False elsewhere (the key does its usual)."""
        listing = self.listings.get(buf)
        if listing is None or buf.kind != BufferKind.RESULTS:
            return False
        if listing.choices:
            listing.selected = max(0, min(listing.selected + step, len(listing.choices) - 1))
            listing.follow = True
        return True

    def choose(self, buf: Buffer, typed: str) -> Choice | None:
        """Enter in a results buffer with nothing typed (the selected result) or its number
        typed; None if it picks nothing."""
        listing = self.listings.get(buf)
        if listing is None or not listing.choices or buf.kind != BufferKind.RESULTS:
            return None
        typed = typed.strip()
        if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= len(listing.choices):
            listing.selected = int(typed) - 1
        elif typed:
            return None
        return listing.choices[listing.selected]

    def view(self, buf: Buffer, rows_of: Callable[[int], list[Row]], height: int) \
            -> Callable[[int], list[Row]]:
        """The rows to draw for `buf`: the selected result reversed; after a move, the view
        scrolled so that it is in sight."""
        listing = self.listings.get(buf)
        if listing is None or not listing.choices:
            return rows_of
        chosen = listing.lines[listing.selected]
        index = next((i for i, line in enumerate(buf.lines) if line is chosen), None)
        if index is None:
            return rows_of
        index += buf.first_index
        if listing.follow:
            listing.follow = False
            bottom = buf.anchor.line if buf.anchor is not None else buf.end_index - 1
            if index > bottom or index <= bottom - height:
                buf.anchor = Anchor(index, len(rows_of(index)) - 1)
        return lambda i: reverse(rows_of(i)) if i == index else rows_of(i)

    # -- the channel list (LIST) -----------------------------------------------------------------
    def list_requested(self) -> Buffer:
        """/list: the buffer the replies go to, shown."""
        self._list_buffer = self.open(CHANNEL_LIST)
        self.state.focus(self._list_buffer)
        return self._list_buffer

    def _list_target(self) -> Buffer:
        if self._list_buffer is None or self._list_buffer not in self.state.buffers:
            self._list_buffer = self.open(CHANNEL_LIST)  # a LIST someone typed as /quote
        return self._list_buffer

    def handle_liststart(self, msg: Message, when: datetime) -> list[Effect]:
        self._list_target()
        return []

    def handle_list(self, msg: Message, when: datetime) -> list[Effect]:
        """322 `<client> <channel> <visible count> :<topic>`."""
        channel, users, topic = msg.param(1) or "", msg.param(2) or "?", msg.param(3) or ""
        if channel and channel != "*":  # "*": a secret channel (RFC 1459)
            self.add(self._list_target(), f"{channel} ({users}) {topic}".rstrip(),
                     JoinChannel(channel))
        return []

    def handle_listend(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self._list_target()
        listing = self.listings[buf]
        count = len(listing.choices) + listing.dropped
        shown = f" ({len(listing.choices)} shown)" if listing.dropped else ""
        self.note(buf, f"{count} channel{'s' if count != 1 else ''}{shown}. "
                  "Up/Down and Enter (or a number and Enter) join one." if count
                  else "No channels.")
        self._list_buffer = None
        return []


def reverse(rows: list[Row]) -> list[Row]:
    """Rows drawn reversed (a selected result, a message jumped to)."""
    return [[(text, replace(style, reverse=not style.reverse)) for text, style in row]
            for row in rows]
