"""The client's buffers (channels, private conversations and the server buffer) and the rules
for what goes where in them.

`State` is the ordered list of buffers and which one is shown. Its rules: the bookkeeping
that separates replayed history from live lines (one "— live —" divider per buffer, below our
own "You joined"), date lines at day changes, lines that carry a server msgid never shown twice,
pages of history placed where their msgids belong (older pages on top, missed messages before
anything newer), and the activity of the buffers not shown (`tui.attention`: unread and
mention counts, the "— new —" read marker). A buffer itself is `tui.buffer`'s (its types are
re-exported here).

Pure data with small rules; no I/O, no drawing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from ircproto.casemap import casefold
from tui import attention
from tui.buffer import (CHAT_KINDS, Buffer, BufferKind, Delivery, Kind, Line, Resume,
                        comes_after)
from tui.layout import Anchor

__all__ = ["CHAT_KINDS", "Buffer", "BufferKind", "Delivery", "Kind", "Line", "Resume", "State",
           "comes_after"]

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
        buf.live_divider = buf.join_line = buf.marker = None

    def close(self, buf: Buffer) -> None:
        """Remove a channel or query buffer (the server buffer stays)."""
        if buf.kind == BufferKind.SERVER or buf not in self.buffers:
            return
        current = self.current
        index = self.buffers.index(buf)
        self.buffers.remove(buf)
        self._show(max(0, index - 1) if current is buf else self.buffers.index(current))

    def switch(self, index: int) -> bool:
        """Show buffer `index` (0-based); False if there is none. The buffer left behind is
        read as far as its view reached."""
        if not 0 <= index < len(self.buffers):
            return False
        if index != self.current_index:
            attention.leave(self.current)
        self._show(index)
        return True

    def _show(self, index: int) -> None:
        self.current_index = index
        buf = self.current
        buf.unread = 0
        buf.mentions = 0

    def focus(self, buf: Buffer) -> None:
        if buf in self.buffers:
            self.switch(self.buffers.index(buf))

    def cycle(self, step: int) -> None:
        """Ctrl-N/Ctrl-P: the next/previous buffer, wrapping around."""
        self.switch((self.current_index + step) % len(self.buffers))

    def activity(self) -> list[tuple[int, Buffer]]:
        """(number, buffer) of the other buffers with unread chat lines, for the status bar."""
        return [(i + 1, b) for i, b in enumerate(self.buffers)
                if b is not self.current and (b.unread or b.mentions)]

    # -- adding lines --------------------------------------------------------------------
    def add(self, buf: Buffer, line: Line) -> bool:
        """Append `line` to `buf` with the divider and date rules; False if it was a repeat of
        a line already shown (replay after reconnect)."""
        if buf.is_duplicate(line):
            return False
        if line.history:
            buf.history_seen = True
            if buf.join_line is not None and buf.lines and buf.lines[-1] is buf.join_line:
                # A server replaying on JOIN (no CHATHISTORY): the replay goes above it.
                self._insert(buf, len(buf.lines) - 1, [line])
                return True
        elif buf.history_seen and not buf.divider_done and line.kind != Kind.DIVIDER:
            self._set_live_divider(buf, len(buf.lines), line.time)
        last = self._last_dated(buf, len(buf.lines))
        if last is not None and self._date(last.time) != self._date(line.time):
            buf.append(self._date_line(line.time))
        unread = buf is not self.current and not line.history and attention.is_unread(buf, line)
        marker = unread and attention.wants_marker(buf)
        buf.append(line)
        if marker:  # the first line the user has not seen: "— new —" above it
            attention.insert_marker(buf, len(buf.lines) - 1)
        if unread:
            attention.count(buf, line)
        return True

    def joined_line(self, buf: Buffer, line: Line) -> None:
        """Our own "You joined" line: the catch-up goes above it, the "— live —" divider
        right below it."""
        self.add(buf, line)
        buf.join_line = line

    def _set_live_divider(self, buf: Buffer, pos: int, when: datetime) -> None:
        """The one "— live —" line of a buffer goes to list position `pos` (a reconnect moves
        it rather than adding a second)."""
        buf.divider_done = True
        old = buf.live_divider
        if old is not None and (old_pos := buf.position(old)) is not None:
            buf.remove(old)
            pos -= old_pos < pos
        buf.live_divider = Line(when, Kind.DIVIDER, "live")
        self._insert(buf, pos, [buf.live_divider])

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
        # Before the first stored line that comes after the page, or our own JOIN if the
        # page is older (its line may carry no msgid).
        pos = next((i for i, old in enumerate(buf.lines)
                    if (old.msgid or old is buf.join_line) and comes_after(old, fresh[0])),
                   len(buf.lines))
        block = self._dated(fresh, self._last_dated(buf, pos))
        following = buf.lines[pos] if pos < len(buf.lines) else None
        if following is not None and following.kind != Kind.DIVIDER \
                and self._date(following.time) != self._date(block[-1].time):
            block.append(self._date_line(following.time))
        if gap and following is not None:
            block.append(Line(block[-1].time, Kind.DIVIDER, "gap"))
        self._insert(buf, pos, block)
        if live_divider:
            self._divide_history(buf, following, pos + len(block))
        if buf.read_time is not None:  # the read position is known: count from it
            attention.place_marker(buf)
            if buf is not self.current:
                attention.recount(buf)
        elif unread and buf is not self.current:
            for line in fresh:
                if attention.counts(buf, line):
                    attention.count(buf, line)
        return len(fresh)

    def _divide_history(self, buf: Buffer, following: Line | None, after_page: int) -> None:
        """A page of catch-up is in: "— live —" below our "You joined" (a channel), or below
        the page when live lines follow it (a private conversation)."""
        if buf.join_line is not None:
            self.divide_live(buf)
            return
        buf.history_seen = True
        if following is not None and not buf.divider_done and not following.history:
            self._set_live_divider(buf, after_page, buf.lines[after_page - 1].time)

    def divide_live(self, buf: Buffer) -> None:
        """A channel's catch-up came in (or ended, even with nothing new): "— live —" goes
        right below our latest "You joined" when anything is shown above it; with nothing
        below it yet, the first live line brings it (see `add`)."""
        join_pos = buf.position(buf.join_line) if buf.join_line is not None else None
        if not join_pos:  # no JOIN of ours, or nothing above it: no history to divide
            return
        buf.history_seen = True
        below = buf.lines[join_pos + 1] if join_pos + 1 < len(buf.lines) else None
        if below is not None and below is not buf.live_divider:
            self._set_live_divider(buf, join_pos + 1, buf.lines[join_pos].time)

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

    @staticmethod
    def _insert(buf: Buffer, pos: int, block: list[Line]) -> None:
        buf.insert(pos, block)
