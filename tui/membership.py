"""Who is where: JOIN/PART/QUIT/NICK/KICK/MODE/TOPIC and NAMES as they arrive live, turned
into buffer changes (users, topic, joined) and dimmed event lines. Also how such an event reads
as a line (`event_text`), which history pages reuse without the side effects.

Pure; it reads and changes `State` and asks the session only who we are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ircproto import numerics as N
from ircproto.casemap import casefold, irc_equal
from ircproto.message import Message
from tui.effects import Effect
from tui.state import Buffer, BufferKind, Kind, Line

if TYPE_CHECKING:
    from tui.session import Session

MAX_NAMES_PENDING = 64  # channels whose NAMES reply is being collected
MAX_NAMES = 100_000  # entries collected for one channel


def _with_reason(text: str, reason: str) -> str:
    return text + (f" ({reason})" if reason else "")


def event_text(msg: Message) -> str | None:
    """How a membership/topic/mode event reads in a buffer (None for other commands)."""
    nick = msg.source_nick or "server"
    command = msg.command
    if command == "JOIN":
        return f"--> {nick} joined {msg.param(0) or ''}"
    if command == "PART":
        return _with_reason(f"<-- {nick} left {msg.param(0) or ''}", msg.param(1) or "")
    if command == "QUIT":
        return _with_reason(f"<-- {nick} quit", msg.param(0) or "")
    if command == "NICK":
        return f"-- {nick} is now known as {msg.param(0) or ''}"
    if command == "KICK":
        return _with_reason(f"<-- {msg.param(1) or ''} was kicked by {nick}", msg.param(2) or "")
    if command == "TOPIC":
        topic = msg.param(1) or ""
        return f"-- {nick} changed the topic to: {topic}" if topic else \
            f"-- {nick} cleared the topic"
    if command == "MODE":
        return f"-- {nick} sets mode {' '.join(msg.params[1:])}"
    return None


class Membership:
    """Live membership events for one session (names being collected, buffers to show)."""

    def __init__(self, session: Session):
        self.session = session
        self.state = session.state
        self.names: dict[str, list[str]] = {}  # channel key -> NAMES entries collected so far
        self.names_show: set[str] = set()  # channels whose next NAMES reply is shown
        self.focus_on_join: set[str] = set()  # channels to show when our JOIN arrives
        # Called with the buffer when our own JOIN arrived (history sync, queued messages).
        self.on_joined: Callable[[Buffer], list[Effect]] = lambda buf: []

    def handlers(self) -> dict[str, Callable[[Message, datetime], list[Effect]]]:
        return {
            "JOIN": self.handle_join, "PART": self.handle_part, "QUIT": self.handle_quit,
            "NICK": self.handle_nick, "TOPIC": self.handle_topic, "KICK": self.handle_kick,
            "MODE": self.handle_mode,
            N.RPL_TOPIC: self.handle_rpl_topic, N.RPL_NOTOPIC: self.handle_rpl_notopic,
            N.RPL_TOPICWHOTIME: lambda m, w: [],
            N.RPL_NAMREPLY: self.handle_namreply, N.RPL_ENDOFNAMES: self.handle_endofnames,
        }

    def reset(self) -> None:
        self.names.clear()

    def event(self, buf: Buffer, when: datetime, text: str, history: bool | None = None,
              msgid: str = "") -> None:
        if history is None:
            history = buf.join_time is not None and when < buf.join_time
        self.state.add(buf, Line(when, Kind.EVENT, text, history=history, msgid=msgid))

    # -- membership --------------------------------------------------------------------------
    def handle_join(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        effects: list[Effect] = []
        for name in (msg.param(0) or "").split(","):
            if not name:
                continue
            if self.session.is_me(nick):
                effects += self._joined(msg, name, nick, when)
                continue
            buf = self.state.get(name)
            if buf is None:
                continue
            buf.users[casefold(nick)] = nick
            self.event(buf, when, f"--> {nick} joined {name}", msgid=msg.tags.get("msgid", ""))
        return effects

    def _joined(self, msg: Message, name: str, nick: str, when: datetime) -> list[Effect]:
        buf = self.state.open(name, BufferKind.CHANNEL)
        buf.name = name  # the server's spelling wins
        # Our JOIN's own server-time (when tagged) avoids comparing against our clock.
        buf.start_join(when)
        buf.rejoin = False
        buf.users = {casefold(nick): nick}
        self.names_show.add(buf.key)
        # Decided before our JOIN line is added: the catch-up starts from what we had.
        effects = self.on_joined(buf)
        # With its msgid (a server that stores joins sends one) the JOIN is not shown again
        # from history, and pages of history are placed before it.
        self.event(buf, when, f"You joined {name}", history=False,
                   msgid=msg.tags.get("msgid", ""))
        if buf.key in self.focus_on_join or self.state.current.kind == BufferKind.SERVER:
            self.focus_on_join.discard(buf.key)
            self.state.focus(buf)
        return effects

    def handle_part(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        for name in (msg.param(0) or "").split(","):
            buf = self.state.get(name)
            if buf is None:
                continue
            if self.session.is_me(nick):
                buf.joined = False
                buf.users.clear()
                self.session.outbox.left(buf)
                self.state.close(buf)
                continue
            buf.users.pop(casefold(nick), None)
            self.event(buf, when, _with_reason(f"<-- {nick} left {name}", msg.param(1) or ""),
                       msgid=msg.tags.get("msgid", ""))
        return []

    def handle_quit(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        if self.session.is_me(nick):
            return []
        text = event_text(msg) or ""
        for buf in list(self.state.buffers):
            if buf.kind == BufferKind.CHANNEL and casefold(nick) in buf.users:
                del buf.users[casefold(nick)]
                self.event(buf, when, text)
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, nick):
                self.event(buf, when, text)
        return []

    def handle_nick(self, msg: Message, when: datetime) -> list[Effect]:
        old = msg.source_nick or ""
        new = msg.param(0) or ""
        if not new:
            return []
        me = self.session.is_me(old)
        if me:
            self.session.nick = new
            self.event(self.state.server, when, f"You are now known as {new}")
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and casefold(old) in buf.users:
                del buf.users[casefold(old)]
                buf.users[casefold(new)] = new
                self.event(buf, when, f"You are now known as {new}" if me
                           else f"-- {old} is now known as {new}")
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, old) \
                    and self.state.get(new) in (None, buf):
                buf.name = new
                self.session.outbox.retarget(old, new)
                self.event(buf, when, f"-- {old} is now known as {new}")
        return []

    def handle_kick(self, msg: Message, when: datetime) -> list[Effect]:
        name, victim = msg.param(0) or "", msg.param(1) or ""
        buf = self.state.get(name)
        if buf is None:
            return []
        by = msg.source_nick or "server"
        if self.session.is_me(victim):
            buf.joined = False
            buf.users.clear()
            self.state.add(buf, Line(when, Kind.ERROR, _with_reason(
                f"You were kicked from {name} by {by}", msg.param(2) or "")))
            return []
        buf.users.pop(casefold(victim), None)
        self.event(buf, when, event_text(msg) or "", msgid=msg.tags.get("msgid", ""))
        return []

    def handle_mode(self, msg: Message, when: datetime) -> list[Effect]:
        target = msg.param(0) or ""
        buf = self.state.get(target) if self.session.is_channel(target) else self.state.server
        if buf is not None:
            self.event(buf, when, event_text(msg) or "")
        return []

    # -- topic and names ---------------------------------------------------------------------
    def handle_topic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(0) or "")
        if buf is not None:
            buf.topic = msg.param(1) or ""
            self.event(buf, when, event_text(msg) or "", msgid=msg.tags.get("msgid", ""))
        return []

    def handle_rpl_topic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = msg.param(2) or ""
            self.event(buf, self.session.now, f"-- Topic: {buf.topic}", history=False)
        return []

    def handle_rpl_notopic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = ""
            self.event(buf, self.session.now, "-- No topic is set", history=False)
        return []

    def handle_namreply(self, msg: Message, when: datetime) -> list[Effect]:
        channel = casefold(msg.param(2) or "")
        collected = self.names.get(channel)
        if collected is None:
            if len(self.names) >= MAX_NAMES_PENDING:
                return []  # replies without an end: do not collect without bound
            collected = self.names[channel] = []
        if len(collected) < MAX_NAMES:
            collected.extend((msg.param(3) or "").split())
        return []

    def handle_endofnames(self, msg: Message, when: datetime) -> list[Effect]:
        key = casefold(msg.param(1) or "")
        names = self.names.pop(key, [])
        buf = self.state.get(msg.param(1) or "")
        now = self.session.now
        if buf is None:
            if names:
                self.state.add(self.state.current, Line(
                    now, Kind.INFO, f"Users on {msg.param(1)}: {' '.join(names)}"))
            return []
        strip = self.session.strip_prefix
        for raw in names:
            nick = strip(raw)
            if nick:
                buf.users[casefold(nick)] = nick
        if key in self.names_show:
            self.names_show.discard(key)
            shown = sorted(names, key=lambda n: casefold(strip(n)))
            count = len(buf.users)
            self.event(buf, now, f"-- {count} user{'s' if count != 1 else ''}: "
                       f"{' '.join(shown)}", history=False)
        return []
