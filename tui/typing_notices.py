"""Typing notifications, both ways (IRCv3 `typing` client tag, ircv3.net/specs/client-tags/
typing): `TAGMSG` with `+typing=active|paused|done`.

Sending: `active` while the user edits a line that is not a /command, at most once every
THROTTLE per target (the spec: no notification within 3 s of another one for a target);
`paused` once after PAUSE_AFTER without a change; `done` once when the line is emptied without
being sent (a sent message says it by itself), later if the throttle says so. Only with
message-tags and a server that does not deny the tag (ISUPPORT CLIENTTAGDENY), only in a
joined channel or a private conversation the user opened (one that someone else opened by
writing to us tells them nothing until we answer: typing is private).

Receiving: who is typing where, until a message from them, their leaving, `done`, or 6 s after
`active` / 30 s after `paused` (the spec's expiries).

Pure. It reads the `ClientContext` and returns lines to send; it must not import the session
or its other parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ircproto.casemap import casefold
from ircproto.message import Message, format_message
from tui.context import ClientContext
from tui.effects import Effect, Send
from tui.state import Buffer, BufferKind

TAG = "+typing"
DRAFT_TAG = "+draft/typing"  # the name of the work-in-progress version, still sent by some
THROTTLE = timedelta(seconds=3)
PAUSE_AFTER = timedelta(seconds=6)
ACTIVE_FOR = timedelta(seconds=6)
PAUSED_FOR = timedelta(seconds=30)
STATES = ("active", "paused", "done")
MAX_TYPERS = 20  # per buffer: who is typing, as far as we show
MAX_TARGETS = 64  # targets whose last notification we remember (for the throttle)
MAX_OPENED = 1000


def tag_denied(clienttagdeny: str | None) -> bool:
    """Does ISUPPORT CLIENTTAGDENY (message-tags spec) block the `typing` tag?"""
    denied = False
    for item in (clienttagdeny or "").split(","):
        if item in ("*", "typing"):
            denied = True
        elif item == "-typing":
            denied = False
    return denied


@dataclass(slots=True)
class Typer:
    nick: str
    state: str
    until: datetime


class TypingNotices:
    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.opened: set[str] = set()  # private conversations the user opened (casefolded)
        self._typers: dict[Buffer, dict[str, Typer]] = {}
        self._sent: dict[str, tuple[str, datetime]] = {}  # target key -> (state, when)
        self._text = ""  # the input line as last seen
        self._target: str | None = None  # where the input line is being typed
        self._changed_at: datetime | None = None
        self._pending_done: dict[str, tuple[str, datetime]] = {}  # key -> (target, when)

    @property
    def allowed(self) -> bool:
        return "message-tags" in self.ctx.caps and self.ctx.registered \
            and not tag_denied(self.ctx.isupport.get("CLIENTTAGDENY"))

    def reset(self) -> None:
        """A new connection: nobody is known to be typing, and the throttle starts over."""
        self._typers.clear()
        self._sent.clear()
        self._pending_done.clear()
        self._target, self._changed_at = None, None

    def opened_by_user(self, nick: str) -> None:
        """/query or /msg: a conversation the user chose (typing may be told there)."""
        if len(self.opened) < MAX_OPENED:
            self.opened.add(casefold(nick))

    def _target_of(self, buf: Buffer) -> str | None:
        if buf.kind == BufferKind.CHANNEL and buf.joined:
            return buf.name
        if buf.kind == BufferKind.QUERY and buf.key in self.opened:
            return buf.name
        return None

    # -- sending ---------------------------------------------------------------------------------
    def input_changed(self, buf: Buffer, text: str, now: datetime) -> list[Effect]:
        """The input line now reads `text` in `buf` (called when it changed)."""
        self._text = text
        typing = bool(text) and (not text.startswith("/") or text.startswith("//"))
        target = self._target_of(buf) if self.allowed else None
        out: list[Effect] = []
        if self._target is not None and self._target != target:
            out += self._stop(self._target, now)  # typed elsewhere: the old target is done
        self._target = target if typing else None
        if target is None:
            return out
        if not typing:
            return out + self._stop(target, now)
        self._changed_at = now
        self._pending_done.pop(casefold(target), None)
        last = self._sent.get(casefold(target))
        if last is None or now >= last[1] + THROTTLE:
            out.append(self._notify(target, "active", now))
        return out

    def message_sent(self) -> None:
        """The line was sent: that message ends our typing there (no `done` needed)."""
        if self._target is not None:
            self._sent.pop(casefold(self._target), None)
        self._target, self._text, self._changed_at = None, "", None

    def _stop(self, target: str, now: datetime) -> list[Effect]:
        last = self._sent.get(casefold(target))
        if last is None or last[0] == "done":
            return []
        if now >= last[1] + THROTTLE:
            return [self._notify(target, "done", now)]
        self._pending_done[casefold(target)] = (target, last[1] + THROTTLE)
        return []

    def _notify(self, target: str, state: str, now: datetime) -> Send:
        key = casefold(target)
        self._sent.pop(key, None)
        self._sent[key] = (state, now)
        while len(self._sent) > MAX_TARGETS:
            del self._sent[next(iter(self._sent))]
        return Send(format_message(Message("TAGMSG", (target,), tags={TAG: state})))

    def tick(self, now: datetime) -> list[Effect]:
        """`paused` after a while without a change; `done`s the throttle held back; typers
        whose time is up are forgotten."""
        for buf in list(self._typers):
            self.typing_in(buf, now)
        out: list[Effect] = []
        for key, (pending, at) in list(self._pending_done.items()):
            if now >= at:
                del self._pending_done[key]
                if self.allowed and self._sent.get(key, ("done",))[0] != "done":
                    out.append(self._notify(pending, "done", now))
        target, changed = self._target, self._changed_at
        if target is not None and changed is not None and now >= changed + PAUSE_AFTER:
            self._changed_at = None
            if self.allowed and self._sent.get(casefold(target), ("",))[0] == "active":
                out.append(self._notify(target, "paused", now))
        return out

    def deadline(self) -> datetime | None:
        """When `tick` has something to send, or a typer shown expires (a redraw is due)."""
        times = [at for _, at in self._pending_done.values()]
        if self._target is not None and self._changed_at is not None:
            times.append(self._changed_at + PAUSE_AFTER)
        times += [t.until for typers in self._typers.values() for t in typers.values()]
        return min(times, default=None)

    # -- receiving -------------------------------------------------------------------------------
    def handle_tagmsg(self, msg: Message, when: datetime) -> list[Effect]:
        """`@+typing=active :bob!u@h TAGMSG #chan` (or to us, in private)."""
        state = msg.tags.get(TAG, msg.tags.get(DRAFT_TAG))
        nick, target = msg.source_nick or "", msg.param(0) or ""
        if state not in STATES or not nick or self.ctx.is_me(nick) \
                or self.ctx.ignores.matches(msg.source):
            return []
        buf = self.state.get(target if self.ctx.is_channel(target) else nick)
        if buf is None:
            return []  # never a new buffer just because someone types
        typers = self._typers.setdefault(buf, {})
        key = casefold(nick)
        if state == "done":
            typers.pop(key, None)
        elif key in typers or len(typers) < MAX_TYPERS:
            expiry = ACTIVE_FOR if state == "active" else PAUSED_FOR
            typers[key] = Typer(nick, state, self.ctx.now + expiry)
        return []

    def observe(self, msg: Message) -> None:
        """A message from someone ends their typing where they wrote; leaving ends it where
        they left; a rename drops it (they will say again)."""
        nick = msg.source_nick
        if not nick or msg.command not in ("PRIVMSG", "NOTICE", "PART", "KICK", "QUIT", "NICK"):
            return
        if msg.command == "KICK":
            nick = msg.param(1) or ""
        key = casefold(nick)
        if msg.command == "NICK" and key in self.opened:
            self.opened.discard(key)
            self.opened.add(casefold(msg.param(0) or ""))
        target = msg.param(0) or ""
        for buf, typers in self._typers.items():
            here = msg.command in ("QUIT", "NICK") or casefold(buf.name) in (
                casefold(target), key)
            if here:
                typers.pop(key, None)

    def typing_in(self, buf: Buffer, now: datetime) -> list[str]:
        """Who is typing in `buf` now (expired ones forgotten)."""
        typers = self._typers.get(buf)
        if typers is None:
            return []
        for key in [k for k, t in typers.items() if now >= t.until]:
            del typers[key]
        if not typers:
            del self._typers[buf]  # closed buffers do not linger either
        return [t.nick for t in typers.values()]


def typing_text(nicks: list[str]) -> str:
    """How the status bar says it."""
    if not nicks:
        return ""
    if len(nicks) == 1:
        return f"{nicks[0]} is typing…"
    if len(nicks) <= 3:
        return f"{', '.join(nicks[:-1])} and {nicks[-1]} are typing…"
    return f"{len(nicks)} people are typing…"
