"""Read positions shared across the user's devices, IRCv3 `draft/read-marker`
(ircv3.net/specs/extensions/read-marker): `MARKREAD <target> timestamp=...` from the server
moves a buffer's read position (never back) and its `— new —` line; a position that moved here
(the user left a buffer, or typed in it) is sent as `MARKREAD <target> timestamp=...`; a
private buffer asks for its position once per connection (`MARKREAD <nick>`), a channel's
comes with our JOIN.

A part of the session: pure; it reads the `ClientContext`, moves read positions through
`tui.attention`, and returns lines to send. Without the capability it sends nothing: read
positions then live in this client (and its state file) only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ircproto.message import Message
from ircproto.servertime import server_time_datetime
from tui import attention
from tui.context import ClientContext
from tui.effects import Effect, send
from tui.history import format_time
from tui.state import BufferKind

CAP = "draft/read-marker"
MARKREAD_GAP = timedelta(seconds=5)
TIMESTAMP = "timestamp="


class ReadMarkers:
    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.asked: set[str] = set()  # private buffers whose position was asked for
        self._sent_at: dict[str, datetime] = {}  # buffer key -> when its MARKREAD went
        self.due: datetime | None = None  # when a MARKREAD held back may go

    @property
    def enabled(self) -> bool:
        return CAP in self.ctx.caps

    def handlers(self) -> dict[str, Callable[[Message, datetime], list[Effect]]]:
        return {"MARKREAD": self.handle_markread}

    def handle_markread(self, msg: Message, when: datetime) -> list[Effect]:
        """`MARKREAD <target> {timestamp=...|*}`: where the user has read up to, as the
        server knows it (`*`: nowhere yet)."""
        buf = self.state.get(msg.param(0) or "")
        value = msg.param(1) or ""
        read = server_time_datetime(value[len(TIMESTAMP):]) \
            if value.startswith(TIMESTAMP) else None
        if buf is None or read is None:
            return []
        if buf.read_synced is None or read > buf.read_synced:
            buf.read_synced = read
        if attention.move_read(buf, read):  # read further on another device
            attention.place_marker(buf)
            if buf is not self.state.current:
                attention.recount(buf)
        return []

    def reset(self) -> None:
        """A new connection: the private buffers' positions are asked for again."""
        self.asked.clear()

    def outgoing(self, now: datetime, force: bool = False) -> list[Effect]:
        """MARKREAD for every buffer read further than the server knows (at most one per
        buffer every MARKREAD_GAP, unless `force`: typing in a busy channel reads it again
        and again, and every line counts against the server's flood limit), and to ask for
        the position of each private buffer once per connection (a channel's comes after
        our JOIN)."""
        self.due = None
        if not self.enabled or not self.ctx.ready:
            return []
        out: list[Effect] = []
        for buf in self.state.buffers:
            if buf.kind == BufferKind.QUERY and buf.key not in self.asked:
                self.asked.add(buf.key)
                out.append(send("MARKREAD", buf.name))
            read = buf.read_time
            if read is None or buf.kind == BufferKind.SERVER or (
                    buf.read_synced is not None and read <= buf.read_synced):
                continue
            if buf.kind == BufferKind.CHANNEL and not buf.joined:
                continue
            last = self._sent_at.get(buf.key)
            if not force and last is not None and now < last + MARKREAD_GAP:
                self.due = min(self.due or last + MARKREAD_GAP, last + MARKREAD_GAP)
                continue
            self._sent_at[buf.key] = now
            buf.read_synced = read
            out.append(send("MARKREAD", buf.name, TIMESTAMP + format_time(read)))
        return out
