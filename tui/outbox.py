"""Our own messages until the server has stored them: typed while offline or before the
re-join (queued), written and waiting for their echo (pending), or written on a connection
that died before the echo came (unverified: they may or may not be stored).

Every message gets an idempotency nonce (the client tag `+chatd/nonce`, stored with it and
returned in its echo and in history) and, per write, a label (IRCv3 labeled-response). An echo
(echo-message: sent only once the message is stored) is matched by label, else by nonce, else
by text. After a reconnect an unverified message is looked up by its nonce in the history the
buffer catches up on (see `history`) before it is written again, so it is never stored twice;
a server with no history to look in cannot tell, so such a message is marked unconfirmed and
waits for the user's /resend instead of being sent twice or dropped silently.

Without echo-message a message counts as sent once written to the connection. A message of
several lines goes as one IRCv3 multi-line batch (`multiline`); if the server stopped offering
that by the time it can be written, it is marked not sent rather than split silently.

Pure. It reads the `ClientContext` (our nick, capabilities, connection state, the time, a
label factory); the caller says which buffers are still catching up on history. It returns
lines to send and updates the delivery mark on our lines in `State`. It must not import the
session or its other parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ircproto.casemap import casefold
from ircproto.ctcp import ACTION_PREFIX, DELIM
from ircproto.message import Message, format_message
from tui import multiline
from tui.context import ClientContext
from tui.effects import Effect, Send
from tui.lines import NONCE_TAG, message_line
from tui.state import Buffer, BufferKind, Delivery, Kind, Line

__all__ = ["Outbox", "Outgoing"]

MAX_ENTRIES = 1000  # typing more than this while offline is refused, visibly
UNCONFIRMED_NOTE = ("The connection dropped before the server confirmed a message (marked ?); "
                    "/resend sends it again.")
FULL_NOTE = "Too many messages are waiting to be sent; this one was not queued: "
NO_MULTILINE_NOTE = "The server no longer takes messages of several lines: not sent."


@dataclass(eq=False)
class Outgoing:
    nonce: str
    target: str
    command: str  # PRIVMSG
    text: str  # the parameter as sent (a /me is wrapped in CTCP ACTION); \n: multi-line
    buffer: Buffer  # where the line is shown
    budget: int = 0  # UTF-8 bytes per line of a multi-line message
    label: str = ""  # of the write on the current connection
    written: bool = False  # written on the current connection, echo not seen yet
    unverified: bool = False  # written on an earlier connection, echo never seen
    unconfirmed: bool = False  # unverified, and no history can tell: waits for /resend

    @property
    def target_key(self) -> str:
        return casefold(self.target)


class Outbox:
    def __init__(self, ctx: ClientContext, new_nonce: Callable[[], str]):
        self.ctx = ctx
        self.state = ctx.state
        self.entries: list[Outgoing] = []
        self._new_nonce = new_nonce

    def __len__(self) -> int:
        return len(self.entries)

    def waiting(self) -> int:
        """Messages not yet known to be stored (for the status bar)."""
        return len(self.entries)

    # -- lookup ------------------------------------------------------------------------------
    def find(self, *, label: str | None = None, nonce: str | None = None) -> Outgoing | None:
        for entry in self.entries:
            if (label and entry.label == label) or (nonce and entry.nonce == nonce):
                return entry
        return None

    def find_text(self, target: str, text: str) -> Outgoing | None:
        """The oldest written-but-unacknowledged message with this text to this target (for
        servers without tags, whose echoes and replays can only be compared by text)."""
        key = casefold(target)
        for entry in self.entries:
            if (entry.target_key == key and entry.text == text
                    and (entry.written or entry.unverified)):
                return entry
        return None

    def for_target(self, target: str) -> list[Outgoing]:
        key = casefold(target)
        return [e for e in self.entries if e.target_key == key]

    def unverified_in(self, buf: Buffer) -> list[Outgoing]:
        """Messages shown in `buf` written on an earlier connection, echo never seen."""
        return [e for e in self.entries if e.unverified and e.buffer is buf]

    # -- adding and writing ------------------------------------------------------------------
    def add(self, target: str, piece: str, buf: Buffer, now: datetime, *,
            action: bool = False, budget: int = 0) -> None:
        """Queue one message (already split to fit, or of several lines, each to be split at
        `budget` bytes) and show it, marked queued."""
        if len(self.entries) >= MAX_ENTRIES:
            self.state.add(buf, Line(now, Kind.ERROR, FULL_NOTE + piece))
            return
        body = ACTION_PREFIX + piece + DELIM if action else piece
        entry = Outgoing(self._new_nonce(), target, "PRIVMSG", body, buf, budget=budget)
        self.entries.append(entry)
        self.state.add(buf, Line(now, Kind.ACTION if action else Kind.MESSAGE, piece,
                                 nick=self.ctx.nick, prefix=buf.users.highest(self.ctx.nick),
                                 own=True, nonce=entry.nonce, delivery=Delivery.QUEUED))

    def can_write_to(self, buf: Buffer, syncing: set[Buffer]) -> bool:
        """May a message shown in `buf` be written now? Registered, the channel joined, its
        history caught up (not in `syncing`, so a message stored before a reconnect is found
        there by its nonce, not sent twice)."""
        ctx = self.ctx
        if not (ctx.connected and ctx.registered) or buf in syncing:
            return False
        if buf.kind == BufferKind.CHANNEL and (buf.joined or buf.rejoin):
            return buf.joined  # a channel we are (re)joining: after the join
        return ctx.ready

    def flush(self, syncing: set[Buffer], history_enabled: bool) -> list[Effect]:
        """Write, in order, every waiting message whose buffer is ready for it (`syncing`:
        the buffers still catching up on history). A message that must wait holds back the
        later ones to the same buffer (order is kept)."""
        out: list[Effect] = []
        held: set[int] = set()  # ids of buffers with an earlier message still waiting
        for entry in list(self.entries):
            if entry.written or entry.unconfirmed:
                continue
            if id(entry.buffer) in held or not self.can_write_to(entry.buffer, syncing):
                held.add(id(entry.buffer))
                continue
            if entry.unverified:
                if history_enabled and entry.buffer in self.state.buffers:
                    held.add(id(entry.buffer))  # its buffer's catch-up decides (history)
                else:
                    self.unconfirm(entry)  # no history to look it up in: the user decides
                continue
            out += self._write(entry)
        return out

    def _write(self, entry: Outgoing) -> list[Effect]:
        caps = self.ctx.caps
        multi = "\n" in entry.text
        if multi and not {multiline.CAP, "batch"} <= caps:
            self._done(entry, Delivery.FAILED)
            self.state.add(entry.buffer, Line(self.ctx.now, Kind.ERROR, NO_MULTILINE_NOTE))
            return []
        tags = {}
        if "labeled-response" in caps:
            entry.label = self.ctx.new_label()
            tags["label"] = entry.label
        if "message-tags" in caps:
            tags[NONCE_TAG] = entry.nonce
        if multi:
            lines = multiline.batch_lines(entry.nonce, entry.command, entry.target, entry.text,
                                          entry.budget, tags)
        else:
            lines = [format_message(Message(entry.command, (entry.target, entry.text),
                                            tags=tags))]
        if "echo-message" in caps:
            entry.written = True
            self._mark(entry, Delivery.PENDING)
        else:
            self._done(entry, Delivery.SENT)  # no echo will say it was stored
        return [Send(line) for line in lines]

    # -- what the server says ----------------------------------------------------------------
    def confirm_echo(self, msg: Message, when: datetime, label: str | None) -> bool:
        """Our own PRIVMSG/NOTICE came back (echo-message): it is stored. False if it is not
        one we are waiting for (then it is shown like any message)."""
        if "echo-message" not in self.ctx.caps:
            return False
        nonce = msg.tags.get(NONCE_TAG)
        entry = self.find(label=label, nonce=nonce)
        if entry is None and not nonce:
            entry = self.find_text(msg.param(0) or "", msg.param(1) or "")
        if entry is None:
            return False
        line = message_line(msg, when, False, self.ctx.nick)
        if line is not None:
            self.confirm(entry, line)
        return True

    def confirm(self, entry: Outgoing, stored: Line) -> None:
        """`entry` is in the history as `stored`: show our line as sent, with its msgid."""
        self.entries.remove(entry)
        self.state.update_own(entry.buffer, entry.nonce, Delivery.SENT, msgid=stored.msgid,
                              time=stored.time)

    def label_done(self, label: str) -> list[Effect]:
        """The whole response to a labeled command arrived. If it was one of our messages and
        held no echo (an error, or an empty ACK), the server did not store it."""
        entry = self.find(label=label)
        if entry is not None and entry.written:
            self._done(entry, Delivery.FAILED)
        return []

    def delivery_failed(self, target: str) -> None:
        """An unlabeled 401/403/404: the oldest message to `target` awaiting its echo."""
        for entry in self.for_target(target):
            if entry.written:
                self._done(entry, Delivery.FAILED)
                return

    def echo_lost(self) -> None:
        """echo-message was withdrawn (cap-notify DEL): what was written counts as sent."""
        for entry in [e for e in self.entries if e.written]:
            self._done(entry, Delivery.SENT)

    # -- connection and buffers --------------------------------------------------------------
    def connection_lost(self) -> None:
        """Labels die with the connection; what was written and not echoed is unverified."""
        for entry in self.entries:
            entry.label = ""
            if entry.written:
                entry.written = False
                entry.unverified = True

    def left(self, buf: Buffer) -> None:
        """We left a channel: what still waits to be sent there cannot be, visibly."""
        if buf.kind != BufferKind.CHANNEL:
            return
        for entry in [e for e in self.entries if e.buffer is buf]:
            self._done(entry, Delivery.FAILED)

    def retarget(self, old: str, new: str) -> None:
        """A private conversation partner changed nick: queued messages follow them."""
        key = casefold(old)
        for entry in self.entries:
            if entry.target_key == key:
                entry.target = new

    def unconfirm(self, entry: Outgoing) -> None:
        """Nobody can tell whether `entry` was stored: mark it and let the user decide."""
        entry.unconfirmed = True
        buf = entry.buffer
        self._mark(entry, Delivery.UNCONFIRMED)
        if not buf.lines or buf.lines[-1].text != UNCONFIRMED_NOTE:
            self.state.add(buf, Line(self.ctx.now, Kind.ERROR, UNCONFIRMED_NOTE))

    def resend(self, buf: Buffer) -> None:
        """/resend: the user decides that the unconfirmed messages in `buf` were lost (the
        caller flushes)."""
        for entry in self.entries:
            if entry.buffer is buf and entry.unconfirmed:
                entry.unconfirmed = entry.unverified = False
                self._mark(entry, Delivery.QUEUED)

    def _mark(self, entry: Outgoing, delivery: Delivery) -> None:
        self.state.update_own(entry.buffer, entry.nonce, delivery)

    def _done(self, entry: Outgoing, delivery: Delivery) -> None:
        self.entries.remove(entry)
        self._mark(entry, delivery)
