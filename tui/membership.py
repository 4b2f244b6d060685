"""Who is where: JOIN/PART/QUIT/NICK/KICK/TOPIC and NAMES as they arrive live, turned into
buffer changes (members and their prefixes, topic, joined) and dimmed event lines
(`lines.event_text` says how each reads; history pages reuse it without these side effects).
MODE changes to members are the `moderation` part's.

Pure. It reads the `ClientContext` (who we are, the server's channel types and prefixes, the
time) and changes only `State`; what concerns the rest of the session (our nick changed, we
joined or left a channel, a conversation partner was renamed) it returns as `Change`s for the
session to apply. It must not import the session or its other parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ircproto import numerics as N
from ircproto.casemap import casefold, irc_equal
from ircproto.message import Message
from tui.context import ClientContext
from tui.lines import event_text, with_reason
from tui.members import Members, PrefixTable
from tui.state import Buffer, BufferKind, Kind, Line

MAX_NAMES_PENDING = 64  # channels whose NAMES reply is being collected
MAX_NAMES = 100_000  # entries collected for one channel


@dataclass(frozen=True, slots=True)
class NickChanged:
    """The server renamed us."""

    nick: str


@dataclass(frozen=True, slots=True)
class JoinedChannel:
    """Our JOIN of `buffer` arrived (the buffer is set up as joined). The session fetches the
    history it lacks, then hands it back to `Membership.show_joined`: the catch-up must be
    decided before our JOIN line is added."""

    buffer: Buffer
    when: datetime
    msgid: str


@dataclass(frozen=True, slots=True)
class LeftChannel:
    """We left the channel of `buffer` (closed after a PART, kept as parted after a KICK):
    what waits to be sent there cannot be."""

    buffer: Buffer


@dataclass(frozen=True, slots=True)
class PartnerRenamed:
    """A private conversation partner changed nick."""

    old: str
    new: str


Change = NickChanged | JoinedChannel | LeftChannel | PartnerRenamed
Handler = Callable[[Message, datetime], list[Change]]


class Membership:
    """Live membership events for one session (names being collected, buffers to show)."""

    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.names: dict[str, list[str]] = {}  # channel key -> NAMES entries collected so far
        self.names_show: set[str] = set()  # channels whose next NAMES reply is shown
        self.focus_on_join: set[str] = set()  # channels to show when our JOIN arrives

    def handlers(self) -> dict[str, Handler]:
        """The commands handled here (JOIN goes through `join`, one channel at a time)."""
        return {
            "PART": self.handle_part, "QUIT": self.handle_quit,
            "NICK": self.handle_nick, "TOPIC": self.handle_topic, "KICK": self.handle_kick,
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
    def join(self, msg: Message, name: str, when: datetime) -> list[Change]:
        """One channel of a JOIN (the session splits `JOIN #a,#b` and applies the changes of
        each channel before the next)."""
        nick = msg.source_nick or ""
        if not name:
            return []
        if self.ctx.is_me(nick):
            return [self._joined(msg, name, nick, when)]
        buf = self.state.get(name)
        if buf is not None:
            buf.users.add(nick)
            self.event(buf, when, f"--> {nick} joined {name}", msgid=msg.tags.get("msgid", ""))
        return []

    def _joined(self, msg: Message, name: str, nick: str, when: datetime) -> JoinedChannel:
        buf = self.state.open(name, BufferKind.CHANNEL)
        buf.name = name  # the server's spelling wins
        # Our JOIN's own server-time (when tagged) avoids comparing against our clock.
        buf.start_join(when)
        buf.rejoin = False
        buf.users.clear()
        buf.users.add(nick)
        self.names_show.add(buf.key)
        return JoinedChannel(buf, when, msg.tags.get("msgid", ""))

    def show_joined(self, joined: JoinedChannel) -> None:
        """Our JOIN line, after the session decided the catch-up. With its msgid (a server
        that stores joins sends one) the JOIN is not shown again from history, and pages of
        history are placed before it."""
        buf = joined.buffer
        self.state.joined_line(buf, Line(joined.when, Kind.EVENT, f"You joined {buf.name}",
                                         msgid=joined.msgid))
        if buf.key in self.focus_on_join or self.state.current.kind == BufferKind.SERVER:
            self.focus_on_join.discard(buf.key)
            self.state.focus(buf)

    def handle_part(self, msg: Message, when: datetime) -> list[Change]:
        nick = msg.source_nick or ""
        changes: list[Change] = []
        for name in (msg.param(0) or "").split(","):
            buf = self.state.get(name)
            if buf is None:
                continue
            if self.ctx.is_me(nick):
                buf.joined = False
                buf.users.clear()
                self.state.close(buf)
                changes.append(LeftChannel(buf))
                continue
            buf.users.remove(nick)
            self.event(buf, when, with_reason(f"<-- {nick} left {name}", msg.param(1) or ""),
                       msgid=msg.tags.get("msgid", ""))
        return changes

    def handle_quit(self, msg: Message, when: datetime) -> list[Change]:
        nick = msg.source_nick or ""
        if self.ctx.is_me(nick):
            return []
        text = event_text(msg) or ""
        for buf in list(self.state.buffers):
            if buf.kind == BufferKind.CHANNEL and buf.users.remove(nick):
                self.event(buf, when, text)
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, nick):
                self.event(buf, when, text)
        return []

    def handle_nick(self, msg: Message, when: datetime) -> list[Change]:
        old = msg.source_nick or ""
        new = msg.param(0) or ""
        if not new:
            return []
        me = self.ctx.is_me(old)
        changes: list[Change] = [NickChanged(new)] if me else []
        if me:
            self.event(self.state.server, when, f"You are now known as {new}")
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and buf.users.rename(old, new):
                self.event(buf, when, f"You are now known as {new}" if me
                           else f"-- {old} is now known as {new}")
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, old) \
                    and self.state.get(new) in (None, buf):
                buf.name = new
                changes.append(PartnerRenamed(old, new))
                self.event(buf, when, f"-- {old} is now known as {new}")
        return changes

    def handle_kick(self, msg: Message, when: datetime) -> list[Change]:
        name, victim = msg.param(0) or "", msg.param(1) or ""
        buf = self.state.get(name)
        if buf is None:
            return []
        by = msg.source_nick or "server"
        if self.ctx.is_me(victim):
            # The buffer stays, marked parted; nothing re-joins it by itself (a reconnect
            # re-joins only joined channels), so a kick never starts a re-join loop.
            buf.joined = False
            buf.rejoin = False
            buf.users.clear()
            self.state.add(buf, Line(when, Kind.ERROR, with_reason(
                f"You were kicked from {name} by {by}", msg.param(2) or "")))
            return [LeftChannel(buf)]
        buf.users.remove(victim)
        self.event(buf, when, event_text(msg) or "", msgid=msg.tags.get("msgid", ""))
        return []

    # -- topic and names ---------------------------------------------------------------------
    def handle_topic(self, msg: Message, when: datetime) -> list[Change]:
        buf = self.state.get(msg.param(0) or "")
        if buf is not None:
            buf.topic = msg.param(1) or ""
            self.event(buf, when, event_text(msg) or "", msgid=msg.tags.get("msgid", ""))
        return []

    def handle_rpl_topic(self, msg: Message, when: datetime) -> list[Change]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = msg.param(2) or ""
            self.event(buf, self.ctx.now, f"-- Topic: {buf.topic}", history=False)
        return []

    def handle_rpl_notopic(self, msg: Message, when: datetime) -> list[Change]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = ""
            self.event(buf, self.ctx.now, "-- No topic is set", history=False)
        return []

    def handle_namreply(self, msg: Message, when: datetime) -> list[Change]:
        channel = casefold(msg.param(2) or "")
        collected = self.names.get(channel)
        if collected is None:
            if len(self.names) >= MAX_NAMES_PENDING:
                return []  # replies without an end: do not collect without bound
            collected = self.names[channel] = []
        if len(collected) < MAX_NAMES:
            collected.extend((msg.param(3) or "").split())
        return []

    def handle_endofnames(self, msg: Message, when: datetime) -> list[Change]:
        key = casefold(msg.param(1) or "")
        names = self.names.pop(key, [])
        buf = self.state.get(msg.param(1) or "")
        now = self.ctx.now
        table = self.ctx.prefix_table
        if buf is None:
            if names:
                listed = self._members(names, table, Members())
                self.state.add(self.state.current, Line(
                    now, Kind.INFO, f"Users on {msg.param(1)}: {ranked(listed, table)}"))
            return []
        if names and buf.joined:
            buf.users.clear()  # the reply lists everyone: who left unseen is gone
        self._members(names, table, buf.users)
        if key in self.names_show:
            self.names_show.discard(key)
            count = len(buf.users)
            self.event(buf, now, f"-- {count} user{'s' if count != 1 else ''}: "
                       f"{ranked(buf.users, table)}", history=False)
        return []

    @staticmethod
    def _members(names: list[str], table: PrefixTable, members: Members) -> Members:
        for entry in names:
            prefixes, nick = table.split(entry)
            if nick:
                members.add(nick, prefixes)
        return members


def ranked(members: Members, table: PrefixTable) -> str:
    """A /names listing: everyone with their highest prefix, highest rank first, then by
    name."""
    return " ".join(m.prefixes[:1] + m.nick for m in members.ranked(table))
