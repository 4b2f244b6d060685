"""The client side of the IRC conversation: registration (with CAP), keeping the connection
alive, and turning what the server says into lines and changes in the buffers.

`Session` is sans-I/O: the event loop hands it received lines (and the current time) and
executes the effects it returns (`Send` a line, `AskNick` the user for another nick,
`Disconnect`). It mutates `State` directly: buffers are plain data shared with the UI. Timers
(CAP fallback, autojoin fallback, keepalive PING) are driven by `tick(now)` and `next_deadline()`.
No sockets, no terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatd.irc import numerics as N
from chatd.irc.casemap import casefold, irc_equal
from chatd.irc.framing import MAX_BODY_BYTES, split_utf8
from chatd.irc.message import Message, ProtocolError, format_message, parse
from chatd.irc.validate import NICKLEN
from tui.state import Buffer, BufferKind, Kind, Line, State

WANTED_CAPS = ("server-time",)  # IRCv3 server-time: original times on replayed history
CAP_WAIT = timedelta(seconds=5)  # a server that swallows CAP LS must not block registration
AUTOJOIN_WAIT = timedelta(seconds=1)  # after end of MOTD: time for the server's autojoin
WELCOME_JOIN_WAIT = timedelta(seconds=4)  # when no end-of-MOTD ever comes
PING_IDLE = timedelta(seconds=90)  # silence before we probe the server
PING_TIMEOUT = timedelta(seconds=60)  # no answer to the probe: the connection is dead
# Without our exact user@host, assume the longest usual ones (user 10, host 63 bytes) so a
# relayed message never exceeds 512 bytes.
UNKNOWN_MASK_TAIL = "!" + "u" * 10 + "@" + "h" * 63
CTCP = "\x01"


@dataclass(frozen=True, slots=True)
class Send:
    line: str


@dataclass(frozen=True, slots=True)
class AskNick:
    """Registration cannot go on with the current nick: ask the user (suggesting one)."""

    message: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class Disconnect:
    reason: str


Effect = Send | AskNick | Disconnect


def send(command: str, *params: str) -> Send:
    return Send(format_message(Message(command, tuple(params))))


def parse_server_time(value: str | None) -> datetime | None:
    """IRCv3 server-time (`2026-11-25T18:57:25.123Z`) to an aware datetime, None if absent or
    malformed (a bad tag must not lose the message)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11 reads the "Z"
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def suggest_nick(nick: str) -> str:
    """A variant of a taken nick: append '_' (or replace the last character when too long)."""
    return (nick + "_") if len(nick) < NICKLEN else (nick[:-1] + "_")


class Session:
    """One user's IRC state across connections (buffers survive a reconnect)."""

    def __init__(self, state: State, nick: str, *, user: str = "tui", realname: str = "tui",
                 channel: str = "#lobby", channel_explicit: bool = False):
        self.state = state
        self.nick = nick
        self.user = user
        self.realname = realname
        self.channel = channel
        self.channel_explicit = channel_explicit
        self.registered = False
        self.connected = False
        self.caps: set[str] = set()
        self.mask: str | None = None  # nick!user@host as the server announced it
        self.chantypes = "#&"
        self.prefixes = "~&@%+"
        self._cap_done = True
        self._cap_offered: set[str] = set()
        self._cap_deadline: datetime | None = None
        self._join_deadline: datetime | None = None
        self._rejoin: list[str] = []
        self._focus_on_join: set[str] = set()
        self._names: dict[str, list[str]] = {}
        self._names_show: set[str] = set()
        self._last_rx: datetime | None = None
        self._ping_sent: datetime | None = None
        self._now = datetime.now().astimezone()
        self._handlers: dict[str, Callable[[Message, datetime], list[Effect]]] = {
            "CAP": self.handle_cap, "PING": self.handle_ping, "ERROR": self.handle_error,
            "JOIN": self.handle_join, "PART": self.handle_part, "QUIT": self.handle_quit,
            "NICK": self.handle_nick, "TOPIC": self.handle_topic, "KICK": self.handle_kick,
            "MODE": self.handle_mode, "PRIVMSG": self.handle_privmsg,
            "NOTICE": self.handle_notice, "PONG": lambda m, w: [],
            N.RPL_WELCOME: self.handle_welcome, N.RPL_ISUPPORT: self.handle_isupport,
            N.RPL_ENDOFMOTD: self.handle_endofmotd, N.ERR_NOMOTD: self.handle_endofmotd,
            N.RPL_MOTDSTART: lambda m, w: [], N.RPL_MOTD: self.handle_motd,
            N.RPL_TOPIC: self.handle_rpl_topic, N.RPL_NOTOPIC: self.handle_rpl_notopic,
            N.RPL_TOPICWHOTIME: lambda m, w: [],
            N.RPL_NAMREPLY: self.handle_namreply, N.RPL_ENDOFNAMES: self.handle_endofnames,
            N.ERR_NICKNAMEINUSE: self.handle_nick_error,
            N.ERR_ERRONEUSNICKNAME: self.handle_nick_error,
            N.ERR_UNKNOWNCOMMAND: self.handle_unknowncommand,
        }

    # -- connection lifecycle ------------------------------------------------------------
    def connect(self, now: datetime) -> list[Effect]:
        """A new connection is up: start registration. CAP LS 302 goes first so a CAP-aware
        server holds registration until CAP END (IRCv3 capability negotiation)."""
        self.connected = True
        self.registered = False
        self.caps = set()
        self.mask = None
        self._cap_done = False
        self._cap_offered = set()
        self._cap_deadline = now + CAP_WAIT
        self._join_deadline = None
        self._names.clear()
        self._last_rx = now
        self._ping_sent = None
        self._info(self.state.server, f"Connecting as {self.nick}...", now)
        return [send("CAP", "LS", "302"), send("NICK", self.nick),
                send("USER", self.user, "0", "*", self.realname)]

    def disconnected(self, reason: str, now: datetime) -> None:
        """The connection is gone: remember joined channels for the next connection."""
        if not self.connected:
            return
        self.connected = False
        self.registered = False
        self._cap_deadline = self._join_deadline = self._ping_sent = None
        rejoin = []
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and buf.joined:
                rejoin.append(buf.name)
                buf.joined = False
                buf.users.clear()
            if buf.kind != BufferKind.QUERY:
                self.state.add(buf, Line(now, Kind.ERROR, "Disconnected: " + reason))
        self._rejoin = rejoin or self._rejoin

    def quit(self, reason: str) -> list[Effect]:
        return [send("QUIT", reason)] if self.connected else []

    def choose_nick(self, nick: str) -> list[Effect]:
        """The user's answer to AskNick (or /nick)."""
        if not self.registered:
            self.nick = nick
        return [send("NICK", nick)] if self.connected else []

    # -- timers ----------------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        deadlines = [d for d in (self._cap_deadline, self._join_deadline) if d is not None]
        if self.connected and self._last_rx is not None:
            deadlines.append(self._ping_sent + PING_TIMEOUT if self._ping_sent
                             else self._last_rx + PING_IDLE)
        return min(deadlines, default=None)

    def tick(self, now: datetime) -> list[Effect]:
        self._now = now
        out: list[Effect] = []
        if self._cap_deadline is not None and now >= self._cap_deadline:
            self._cap_deadline = None
            out += self._cap_end()
        if self._join_deadline is not None and now >= self._join_deadline:
            self._join_deadline = None
            out += self._fallback_joins()
        if self.connected and self._last_rx is not None:
            if self._ping_sent is not None and now >= self._ping_sent + PING_TIMEOUT:
                self._ping_sent = None
                out.append(Disconnect("ping timeout"))
            elif self._ping_sent is None and now >= self._last_rx + PING_IDLE:
                self._ping_sent = now
                out.append(send("PING", "tui"))
        return out

    def _fallback_joins(self) -> list[Effect]:
        """After the server had its chance to autojoin us: join what the user asked for and
        what we were in before a reconnect."""
        wanted = list(self._rejoin)
        if self.channel_explicit or not any(
                b.joined for b in self.state.buffers if b.kind == BufferKind.CHANNEL):
            wanted.insert(0, self.channel)
        if self.channel_explicit and not self._rejoin:
            # First connection only: after a reconnect the user stays where they were.
            self._focus_on_join.add(casefold(self.channel))
        out: list[Effect] = []
        seen = set()
        for name in wanted:
            buf = self.state.get(name)
            if casefold(name) in seen or (buf is not None and buf.joined):
                continue
            seen.add(casefold(name))
            out.append(send("JOIN", name))
        self._rejoin = []
        return out

    # -- receiving -------------------------------------------------------------------------
    def receive(self, raw: str, now: datetime) -> list[Effect]:
        """Handle one received line (already decoded, without CRLF)."""
        self._now = now
        self._last_rx = now
        self._ping_sent = None
        try:
            msg = parse(raw)
        except ProtocolError:
            return []  # a malformed line from the server is not worth a crash or a popup
        when = parse_server_time(msg.tags.get("time")) or now
        handler = self._handlers.get(msg.command)
        if handler is not None:
            return handler(msg, when)
        if msg.command.isdigit():
            return self.handle_numeric(msg, when)
        return []

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def is_me(self, nick: str | None) -> bool:
        return nick is not None and irc_equal(nick, self.nick)

    # -- registration ------------------------------------------------------------------------
    def _cap_end(self) -> list[Effect]:
        if self._cap_done:
            return []
        self._cap_done = True
        self._cap_deadline = None
        return [send("CAP", "END")]

    def handle_cap(self, msg: Message, when: datetime) -> list[Effect]:
        sub = (msg.param(1) or "").upper()
        if sub == "LS":
            more = msg.param(2) == "*" and len(msg.params) > 3  # 302 multiline LS
            offered = msg.params[-1].split()
            self._cap_offered |= {c.split("=", 1)[0] for c in offered}
            if more:
                return []
            wanted = [c for c in WANTED_CAPS if c in self._cap_offered]
            if wanted and not self._cap_done:
                return [send("CAP", "REQ", " ".join(wanted))]
            return self._cap_end()
        if sub == "ACK":
            self.caps |= {c.lstrip("-~=") for c in msg.params[-1].split()}
            return self._cap_end()
        if sub == "NAK":
            return self._cap_end()
        return []

    def handle_unknowncommand(self, msg: Message, when: datetime) -> list[Effect]:
        if (msg.param(1) or "").upper() == "CAP":
            self._cap_done = True  # a pre-IRCv3 server: registration proceeds without CAP
            self._cap_deadline = None
            return []
        return self.handle_numeric(msg, when)

    def handle_welcome(self, msg: Message, when: datetime) -> list[Effect]:
        self.registered = True
        self._cap_done = True
        self._cap_deadline = None
        self.nick = msg.param(0) or self.nick  # the server may have changed it
        last_word = (msg.params[-1] if msg.params else "").split(" ")[-1]
        if "!" in last_word and "@" in last_word:
            self.mask = last_word
        self._join_deadline = self._now + WELCOME_JOIN_WAIT
        self._info(self.state.server, msg.params[-1] if msg.params else "Welcome", when)
        return []

    def handle_isupport(self, msg: Message, when: datetime) -> list[Effect]:
        for token in msg.params[1:-1]:
            key, _, value = token.partition("=")
            if key == "CHANTYPES" and value:
                self.chantypes = value
            elif key == "PREFIX" and ")" in value:
                self.prefixes = value.split(")", 1)[1]
        return []

    def handle_motd(self, msg: Message, when: datetime) -> list[Effect]:
        self._info(self.state.server, msg.params[-1] if msg.params else "", when)
        return []

    def handle_endofmotd(self, msg: Message, when: datetime) -> list[Effect]:
        if msg.command == N.ERR_NOMOTD:
            self._info(self.state.server, msg.params[-1] if msg.params else "No MOTD", when)
        if self.registered:
            deadline = self._now + AUTOJOIN_WAIT
            if self._join_deadline is None or deadline < self._join_deadline:
                self._join_deadline = deadline
        return []

    def handle_nick_error(self, msg: Message, when: datetime) -> list[Effect]:
        bad = msg.param(1) or self.nick
        reason = msg.params[-1] if len(msg.params) > 2 else ""
        if msg.command == N.ERR_NICKNAMEINUSE:
            text = f"The nick {bad} is already taken."
            suggestion = suggest_nick(bad)
        else:
            text = f"The nick {bad} is not allowed ({reason})." if reason else \
                f"The nick {bad} is not allowed."
            suggestion = "".join(ch for ch in bad if ch.isascii() and ch.isalnum()) or "guest"
            if suggestion[0].isdigit():
                suggestion = "g" + suggestion
        if self.registered:
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
            return []
        self.state.add(self.state.server, Line(when, Kind.ERROR, text))
        return [AskNick(text, suggestion[:NICKLEN])]

    def handle_ping(self, msg: Message, when: datetime) -> list[Effect]:
        return [Send(format_message(Message("PONG", msg.params or ("tui",))))]

    def handle_error(self, msg: Message, when: datetime) -> list[Effect]:
        text = msg.params[-1] if msg.params else "connection closed"
        self.state.add(self.state.server, Line(when, Kind.ERROR, "Server: " + text))
        return []

    # -- channel membership ---------------------------------------------------------------
    def handle_join(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        effects: list[Effect] = []
        for name in (msg.param(0) or "").split(","):
            if not name:
                continue
            if self.is_me(nick):
                buf = self.state.open(name, BufferKind.CHANNEL)
                buf.name = name  # the server's spelling wins
                # Our JOIN's own server-time (when tagged) avoids comparing against our clock.
                buf.start_join(parse_server_time(msg.tags.get("time")) or self._now)
                buf.users = {casefold(nick): nick}
                self._names_show.add(buf.key)
                self._event(buf, when, f"You joined {name}", history=False)
                key = buf.key
                if (key in self._focus_on_join
                        or self.state.current.kind == BufferKind.SERVER):
                    self._focus_on_join.discard(key)
                    self.state.focus(buf)
                continue
            buf = self.state.get(name)
            if buf is None:
                continue
            buf.users[casefold(nick)] = nick
            self._event(buf, when, f"--> {nick} joined {name}")
        return effects

    def handle_part(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        reason = msg.param(1) or ""
        for name in (msg.param(0) or "").split(","):
            buf = self.state.get(name)
            if buf is None:
                continue
            if self.is_me(nick):
                buf.joined = False
                buf.users.clear()
                self.state.close(buf)
                continue
            buf.users.pop(casefold(nick), None)
            self._event(buf, when, f"<-- {nick} left {name}" + (f" ({reason})" if reason else ""))
        return []

    def handle_quit(self, msg: Message, when: datetime) -> list[Effect]:
        nick = msg.source_nick or ""
        if self.is_me(nick):
            return []
        reason = msg.param(0) or ""
        text = f"<-- {nick} quit" + (f" ({reason})" if reason else "")
        for buf in list(self.state.buffers):
            if buf.kind == BufferKind.CHANNEL and casefold(nick) in buf.users:
                del buf.users[casefold(nick)]
                self._event(buf, when, text)
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, nick):
                self._event(buf, when, text)
        return []

    def handle_nick(self, msg: Message, when: datetime) -> list[Effect]:
        old = msg.source_nick or ""
        new = msg.param(0) or ""
        if not new:
            return []
        me = self.is_me(old)
        if me:
            self.nick = new
            self._event(self.state.server, when, f"You are now known as {new}")
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and casefold(old) in buf.users:
                del buf.users[casefold(old)]
                buf.users[casefold(new)] = new
                self._event(buf, when, f"You are now known as {new}" if me
                            else f"-- {old} is now known as {new}")
            elif buf.kind == BufferKind.QUERY and irc_equal(buf.name, old) \
                    and self.state.get(new) in (None, buf):
                buf.name = new
                self._event(buf, when, f"-- {old} is now known as {new}")
        return []

    def handle_kick(self, msg: Message, when: datetime) -> list[Effect]:
        name, victim = msg.param(0) or "", msg.param(1) or ""
        reason = msg.param(2) or ""
        buf = self.state.get(name)
        if buf is None:
            return []
        by = msg.source_nick or "server"
        if self.is_me(victim):
            buf.joined = False
            buf.users.clear()
            self.state.add(buf, Line(when, Kind.ERROR, f"You were kicked from {name} by {by}"
                                     + (f" ({reason})" if reason else "")))
            return []
        buf.users.pop(casefold(victim), None)
        self._event(buf, when, f"<-- {victim} was kicked by {by}"
                    + (f" ({reason})" if reason else ""))
        return []

    def handle_mode(self, msg: Message, when: datetime) -> list[Effect]:
        target = msg.param(0) or ""
        buf = self.state.get(target) if self.is_channel(target) else self.state.server
        if buf is not None:
            by = msg.source_nick or "server"
            self._event(buf, when, f"-- {by} sets mode {' '.join(msg.params[1:])}")
        return []

    # -- topic and names ---------------------------------------------------------------------
    def handle_topic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(0) or "")
        if buf is not None:
            buf.topic = msg.param(1) or ""
            who = msg.source_nick or "server"
            self._event(buf, when, f"-- {who} changed the topic to: {buf.topic}" if buf.topic
                        else f"-- {who} cleared the topic")
        return []

    def handle_rpl_topic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = msg.param(2) or ""
            self._event(buf, self._now, f"-- Topic: {buf.topic}", history=False)
        return []

    def handle_rpl_notopic(self, msg: Message, when: datetime) -> list[Effect]:
        buf = self.state.get(msg.param(1) or "")
        if buf is not None:
            buf.topic = ""
            self._event(buf, self._now, "-- No topic is set", history=False)
        return []

    def _strip_prefix(self, name: str) -> str:
        return name.lstrip(self.prefixes)

    def handle_namreply(self, msg: Message, when: datetime) -> list[Effect]:
        channel = msg.param(2) or ""
        self._names.setdefault(casefold(channel), []).extend((msg.param(3) or "").split())
        return []

    def handle_endofnames(self, msg: Message, when: datetime) -> list[Effect]:
        key = casefold(msg.param(1) or "")
        names = self._names.pop(key, [])
        buf = self.state.get(msg.param(1) or "")
        if buf is None:
            if names:
                self._info(self.state.current, f"Users on {msg.param(1)}: {' '.join(names)}",
                           self._now)
            return []
        for raw in names:
            nick = self._strip_prefix(raw)
            if nick:
                buf.users[casefold(nick)] = nick
        if key in self._names_show:
            self._names_show.discard(key)
            shown = sorted(names, key=lambda n: casefold(self._strip_prefix(n)))
            count = len(buf.users)
            self._event(buf, self._now,
                        f"-- {count} user{'s' if count != 1 else ''}: {' '.join(shown)}",
                        history=False)
        return []

    def request_names(self, channel: str) -> list[Effect]:
        self._names_show.add(casefold(channel))
        return [send("NAMES", channel)]

    def request_join(self, channel: str) -> list[Effect]:
        self._focus_on_join.add(casefold(channel))
        buf = self.state.get(channel)
        if buf is not None and buf.joined:
            self.state.focus(buf)
            return []
        return [send("JOIN", channel)]

    # -- messages ------------------------------------------------------------------------------
    def _target_buffer(self, msg: Message, target: str, create: bool) -> Buffer:
        nick = msg.source_nick
        if self.is_channel(target):
            return self.state.open(target, BufferKind.CHANNEL)
        if msg.source is None or (nick and "." in nick and "!" not in msg.source):
            return self.state.server  # from the server itself
        other = target if self.is_me(nick) else nick or target
        if irc_equal(other, self.nick) or other == "*":
            return self.state.server
        if create:
            return self.state.open(other, BufferKind.QUERY)
        return self.state.get(other) or self.state.current

    def handle_privmsg(self, msg: Message, when: datetime) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if text.startswith(CTCP):
            body = text.strip(CTCP)
            command, _, rest = body.partition(" ")
            if command.upper() != "ACTION":
                return self._ctcp_request(msg, nick, command.upper(), rest, when)
            kind, text = Kind.ACTION, rest
        else:
            kind = Kind.MESSAGE
        buf = self._target_buffer(msg, target, create=True)
        self._chat(buf, msg, kind, nick, text, when)
        return []

    def handle_notice(self, msg: Message, when: datetime) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if text.startswith(CTCP):
            text = "CTCP reply: " + text.strip(CTCP)
        if not self.registered and not self.is_channel(target):
            buf = self.state.server
        else:
            buf = self._target_buffer(msg, target, create=False)
        self._chat(buf, msg, Kind.NOTICE, nick, text, when)
        return []

    def _ctcp_request(self, msg: Message, nick: str, command: str, arg: str,
                      when: datetime) -> list[Effect]:
        self._info(self.state.server, f"CTCP {command} from {nick}", when)
        if self.is_me(nick) or self.is_channel(msg.param(0) or ""):
            return []  # replying to a channel CTCP invites floods
        if command == "VERSION":
            return [send("NOTICE", nick, f"{CTCP}VERSION tui (chatd client){CTCP}")]
        if command == "PING":
            return [send("NOTICE", nick, f"{CTCP}PING {arg}{CTCP}")]
        return []

    def _chat(self, buf: Buffer, msg: Message, kind: Kind, nick: str, text: str,
              when: datetime) -> None:
        own = self.is_me(nick)
        history = ("time" in msg.tags and buf.join_time is not None and when < buf.join_time)
        mention = not own and self.mentions_me(text)
        self.state.add(buf, Line(when, kind, text, nick=nick, own=own, mention=mention,
                                 history=history))

    def mentions_me(self, text: str) -> bool:
        pattern = r"(?<![\w\[\]\\`^{|}-])" + re.escape(casefold(self.nick)) + \
            r"(?![\w\[\]\\`^{|}-])"
        return re.search(pattern, casefold(text)) is not None

    # -- numerics nobody else handles --------------------------------------------------------
    def handle_numeric(self, msg: Message, when: datetime) -> list[Effect]:
        params = list(msg.params[1:])  # params[0] is our nick
        if not params:
            return []
        text = " ".join(params)
        if msg.command[0] in "45":
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
        else:
            self._info(self.state.server, text, when)
        return []

    # -- sending ---------------------------------------------------------------------------
    def text_budget(self, command: str, target: str) -> int:
        """UTF-8 bytes of text one message may carry so the line the server relays to others
        (`:nick!user@host COMMAND target :text\\r\\n`) stays within 512 bytes."""
        mask = self.mask if self.mask and self.is_me(self.mask.split("!")[0]) \
            else self.nick + UNKNOWN_MASK_TAIL
        overhead = len(f":{mask} {command} {target} :".encode()) + 2
        return max(MAX_BODY_BYTES - overhead, 16)

    def say(self, target: str, text: str, now: datetime, *, action: bool = False,
            show_in: Buffer | None = None) -> list[Effect]:
        """Send a message (or /me action) to a channel or nick, split into as many messages
        as needed, and show it in the right buffer."""
        if not text:
            return []
        budget = self.text_budget("PRIVMSG", target) - (len(CTCP + "ACTION " + CTCP)
                                                        if action else 0)
        buf = show_in or (self.state.open(target, BufferKind.CHANNEL if self.is_channel(target)
                                          else BufferKind.QUERY))
        out: list[Effect] = []
        for piece in split_utf8(text, budget):
            body = f"{CTCP}ACTION {piece}{CTCP}" if action else piece
            out.append(send("PRIVMSG", target, body))
            self.state.add(buf, Line(now, Kind.ACTION if action else Kind.MESSAGE, piece,
                                     nick=self.nick, own=True))
        return out

    def _event(self, buf: Buffer, when: datetime, text: str, history: bool | None = None) -> None:
        if history is None:
            history = buf.join_time is not None and when < buf.join_time
        self.state.add(buf, Line(when, Kind.EVENT, text, history=history))

    def _info(self, buf: Buffer, text: str, when: datetime) -> None:
        self.state.add(buf, Line(when, Kind.INFO, text))
