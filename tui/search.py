"""/search: finding messages, on the server when it offers IRCv3 `draft/search` (or its
earlier name `soju.im/search`; soju's doc/ext/search.md), else among the lines loaded here.

On the server: `SEARCH <attributes>`, the attributes written as message tags are
(`text=hello\\sworld;from=bob;in=#chan;limit=100`); the answer is a batch of PRIVMSG/NOTICE
with their msgid and time, or `FAIL SEARCH <code>`. The results fill a results buffer, newest
first; taking one opens its conversation scrolled to that message, with what was said around
it fetched from history (`CHATHISTORY AROUND`, see `history`) and the message highlighted.

Pure. It reads the `ClientContext`, fills results buffers (`results`) and asks `history` for
context; it returns lines to send. It must not import the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ircproto.casemap import irc_equal
from ircproto.message import Message, format_message, format_tags
from ircproto.servertime import server_time_datetime
from tui.batch import Batch
from tui.context import ClientContext
from tui.effects import Effect, Send
from tui.history import History
from tui.layout import Anchor, Row
from tui.lines import message_line
from tui.results import Results, ShowMessage, reverse
from tui.state import CHAT_KINDS, Buffer, BufferKind, Line

CAPS = ("draft/search", "soju.im/search")
BATCH_TYPES = frozenset({"draft/search", "soju.im/search", "search"})
RESULT_LIMIT = 100
MAX_PENDING = 8  # searches awaiting their answer
MAX_TEXT = 200  # characters of a message shown in a result line


@dataclass(frozen=True, slots=True)
class Query:
    words: str
    sender: str = ""  # from:nick
    where: str = ""  # in:#channel (or in:nick)

    @property
    def title(self) -> str:
        """The results buffer's name (with a space: never a nick or a channel)."""
        parts = [self.words] + ([f"from:{self.sender}"] if self.sender else []) \
            + ([f"in:{self.where}"] if self.where else [])
        return "search: " + " ".join(part for part in parts if part)


def parse_query(args: str) -> Query | None:
    """`words [from:nick] [in:#chan]` (in any order); None when it asks for nothing."""
    words, sender, where = [], "", ""
    for word in args.split():
        lower = word.lower()
        if lower.startswith("from:") and len(word) > 5:
            sender = word[5:]
        elif lower.startswith("in:") and len(word) > 3:
            where = word[3:]
        else:
            words.append(word)
    query = Query(" ".join(words), sender, where)
    return query if query.words or query.sender or query.where else None


def matches(line: Line, query: Query) -> bool:
    """A loaded line found by `query`: every word in its text (ignoring case), its author."""
    if line.kind not in CHAT_KINDS:
        return False
    if query.sender and not irc_equal(line.nick, query.sender):
        return False
    text = line.text.casefold()
    return all(word.casefold() in text for word in query.words.split())


def result_text(when: datetime, conversation: str, nick: str, text: str, tz) -> str:
    stamp = when.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    flat = " ".join(text.split("\n"))
    return f"{stamp} {conversation} {nick}: {flat[:MAX_TEXT]}"


class Search:
    def __init__(self, ctx: ClientContext, history: History, results: Results):
        self.ctx = ctx
        self.state = ctx.state
        self.history = history
        self.results = results
        self._pending: list[tuple[str, Buffer]] = []  # (label, results buffer), oldest first
        self.jumps: dict[Buffer, ShowMessage] = {}  # messages to scroll to once they are in
        self.marks: dict[Buffer, ShowMessage] = {}  # messages jumped to (drawn reversed)

    @property
    def server_cap(self) -> str | None:
        return next((cap for cap in CAPS if cap in self.ctx.caps), None) \
            if "batch" in self.ctx.caps else None

    def reset(self) -> None:
        self._pending.clear()

    def request(self, query: Query) -> list[Effect]:
        """Open the results buffer and search: on the server, or here."""
        buf = self.results.open(query.title)
        self.state.focus(buf)
        if self.server_cap is None or not self.ctx.registered:
            self._search_here(buf, query)
            return []
        attributes = {"limit": str(RESULT_LIMIT)}
        for key, value in (("text", query.words), ("from", query.sender), ("in", query.where)):
            if value:
                attributes[key] = value
        tags = {}
        label = ""
        if "labeled-response" in self.ctx.caps:
            label = tags["label"] = self.ctx.new_label()
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(0)
        self._pending.append((label, buf))
        self.results.note(buf, "Searching the server's history...")
        return [Send(format_message(Message("SEARCH", (format_tags(attributes),), tags=tags)))]

    def _search_here(self, buf: Buffer, query: Query) -> None:
        found: list[tuple[Line, Buffer]] = []
        searched = 0
        for where in self.state.buffers:
            if where.kind not in (BufferKind.CHANNEL, BufferKind.QUERY) or (
                    query.where and not irc_equal(where.name, query.where)):
                continue
            searched += len(where.lines)
            found += [(line, where) for line in where.lines if matches(line, query)]
        found.sort(key=lambda pair: pair[0].time, reverse=True)
        self.results.note(buf, f"The server offers no search: these are from the {searched} "
                          "lines loaded here.")
        for line, where in found[:RESULT_LIMIT]:
            self.results.add(buf, result_text(line.time, where.name, line.nick, line.text,
                                              self.state.tz),
                             ShowMessage(where.name, line.msgid, line))
        self._done(buf, len(found))

    def _done(self, buf: Buffer, count: int) -> None:
        self.results.note(buf, f"{count} result{'s' if count != 1 else ''}"
                          + (" (Up/Down and Enter, or a number and Enter, shows one)."
                             if count else "."))

    # -- the server's answer -------------------------------------------------------------------
    def _take(self, label: str | None) -> Buffer | None:
        for i, (pending, buf) in enumerate(self._pending):
            if not label or pending == label:
                del self._pending[i]
                return buf if buf in self.state.buffers else None
        return None

    def on_results(self, batch: Batch, label: str | None) -> list[Effect]:
        buf = self._take(label)
        if buf is None:
            return []
        found = []
        for msg in batch.messages():
            if msg.command not in ("PRIVMSG", "NOTICE") or self.ctx.ignores.matches(msg.source):
                continue
            when = server_time_datetime(msg.tags.get("time")) or self.ctx.now
            line = message_line(msg, when, True, self.ctx.nick)
            if line is not None:
                found.append((when, self._conversation(msg), line))
        found.sort(key=lambda item: item[0], reverse=True)  # newest first, whatever the order
        for when, conversation, line in found:
            self.results.add(buf, result_text(when, conversation, line.nick, line.text,
                                              self.state.tz),
                             ShowMessage(conversation, line.msgid))
        self._done(buf, len(found))
        return []

    def failed(self, msg: Message, label: str | None) -> None:
        """`FAIL SEARCH <code> ...`: that search is over (the reply itself is shown)."""
        if (msg.param(0) or "").upper() == "SEARCH":
            self._take(label)

    def _conversation(self, msg: Message) -> str:
        """Where a found message was said: its channel, or the other person of a private
        conversation."""
        target = msg.param(0) or ""
        if self.ctx.is_channel(target) or not self.ctx.is_me(target):
            return target
        return msg.source_nick or target

    # -- showing a result ----------------------------------------------------------------------
    def show(self, choice: ShowMessage) -> list[Effect]:
        """Open the result's conversation, scrolled to it (fetching what was said around it
        when it is not loaded)."""
        name = choice.conversation
        buf = self.state.get(name) or self.state.open(
            name, BufferKind.CHANNEL if self.ctx.is_channel(name) else BufferKind.QUERY)
        self.state.focus(buf)
        for gone in [b for b in (*self.jumps, *self.marks) if b not in self.state.buffers]:
            self.jumps.pop(gone, None)  # closed buffers
            self.marks.pop(gone, None)
        self.jumps[buf] = choice
        if self.find(buf, choice) is not None or not choice.msgid:
            return []
        if not self.history.enabled:
            self.results.note(buf, "That message is not loaded here, and the server keeps "
                              "no history to fetch it from.")
            return []
        return self.history.around(buf, choice.msgid)

    def view(self, buf: Buffer, rows_of: Callable[[int], list[Row]], height: int) \
            -> Callable[[int], list[Row]]:
        """The rows to draw for `buf`: once a message jumped to is in, the view centred on it
        (its fetched context around it); that message reversed (until the next jump)."""
        choice = self.jumps.get(buf)
        index = self.find(buf, choice) if choice is not None else None
        if choice is not None and index is not None:
            del self.jumps[buf]
            self.marks[buf] = choice
            bottom, below = index, height // 2  # half a pane of what follows it, if any
            while below > 0 and bottom + 1 < buf.end_index:
                bottom += 1
                below -= len(rows_of(bottom))
            buf.anchor = Anchor(bottom, len(rows_of(bottom)) - 1)
        mark = self.marks.get(buf)
        index = self.find(buf, mark) if mark is not None else None
        if index is None:
            return rows_of
        return lambda i: reverse(rows_of(i)) if i == index else rows_of(i)

    @staticmethod
    def find(buf: Buffer, choice: ShowMessage) -> int | None:
        """Absolute index of the result's line in `buf`, if it is there."""
        for i in range(len(buf.lines) - 1, -1, -1):
            line = buf.lines[i]
            if line is choice.line or (choice.msgid and line.msgid == choice.msgid):
                return buf.first_index + i
        return None
