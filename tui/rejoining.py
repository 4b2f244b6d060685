"""Which channels to join once registered: the ones we were in when the connection dropped
(or, on the first connection, the ones remembered from the last run), the configured
autojoin channels (first connection only), and the channel the user named (`--channel`, every
connection) or, when nothing else is wanted and the server joined us nowhere, the default one.
A channel we were kicked from stays out until the user joins it again.

A part of the session: pure; it reads the `ClientContext` and returns the JOINs to send and
the channel to show first; and what reopened buffers say when the server keeps no history.
"""

from __future__ import annotations

from datetime import datetime

from ircproto.casemap import casefold
from tui.context import ClientContext
from tui.effects import Effect, send
from tui.state import BufferKind, Kind, Line, State


class Joins:
    def __init__(self, ctx: ClientContext, channel: str, explicit: bool,
                 autojoin: tuple[str, ...] = ()):
        self.ctx = ctx
        self.state = ctx.state
        self.channel = channel
        self.explicit = explicit
        self.autojoin = autojoin
        self.pending: list[str] = []  # channels we were in (a dropped connection, a last run)
        self.first = True  # no connection of this run has got this far yet

    def remember(self, channels: list[str]) -> None:
        self.pending = list(channels)

    def connection_lost(self) -> None:
        """The channels we were in are joined again on the next connection."""
        lost = []
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and buf.joined:
                lost.append(buf.name)
                buf.joined = False
                buf.rejoin = True
                buf.users.clear()
        self.pending = lost or self.pending

    def after_registration(self) -> tuple[list[Effect], str | None]:
        """The JOINs to send now that the server had its chance to autojoin us, and the
        channel to show when its JOIN arrives (None: stay where we are)."""
        wanted = list(self.pending)
        if self.first:
            wanted += self.autojoin
        joined = any(b.joined for b in self.state.buffers if b.kind == BufferKind.CHANNEL)
        if self.explicit or not (wanted or joined):
            wanted.insert(0, self.channel)
        focus = None
        if self.first and self.explicit:
            focus = self.channel  # after a reconnect the user stays where they were
        elif self.first and self.autojoin and self.state.current.kind == BufferKind.SERVER:
            focus = self.autojoin[0]
        out: list[Effect] = []
        seen = set()
        for name in wanted:
            buf = self.state.get(name)
            if casefold(name) in seen or (buf is not None and (buf.joined or buf.parted)):
                continue
            seen.add(casefold(name))
            out.append(send("JOIN", name))
        self.pending = []
        self.first = False
        return out, focus


def no_history_to_restore(state: State, now: datetime) -> None:
    """Reopened buffers on a server that keeps no history: say that what was said meanwhile
    cannot be shown, once."""
    for buf in state.buffers:
        if buf.restored:
            buf.restored = False
            state.add(buf, Line(now, Kind.INFO, "Reopened. This server keeps no history (no "
                                "CHATHISTORY): what was said while tui was away cannot be "
                                "shown."))
