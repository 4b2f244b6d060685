"""Registering one connection (modern.ircdocs.horse/#connection-registration): CAP
negotiation first (with a fallback for servers that swallow CAP LS), NICK and USER, the welcome,
what the server supports (ISUPPORT), the MOTD, a refused nick answered with a suggestion (or,
when it is reserved for an account, handed to the login), and the server's PING and ERROR
(with `FatalErrors` deciding whether reconnecting is pointless).

Pure. It reads the `ClientContext` and owns only the connection's CAP exchange, its CAP
deadline and our mask; what concerns the rest of the session (we are registered, the server's
ISUPPORT, capabilities changed) it returns as changes for the session to apply. It does not
join channels, catch up history or touch the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ircproto import numerics as N
from ircproto.isupport import ISupport
from ircproto.message import Message, format_message
from tui.caps import CapNegotiation
from tui.context import ClientContext
from tui.effects import AskNick, AskPassword, Effect, Send, StopReconnecting, send
from tui.fatal import FatalErrors
from tui.login import is_reserved_text
from tui.state import Kind, Line

CAP_WAIT = timedelta(seconds=5)  # a server that swallows CAP LS must not block registration


@dataclass(frozen=True, slots=True)
class Welcomed:
    """RPL_WELCOME: registered, under the nick the server chose."""

    nick: str


@dataclass(frozen=True, slots=True)
class ServerSupport:
    """What the server announced so far on this connection (ISUPPORT)."""

    isupport: ISupport


@dataclass(frozen=True, slots=True)
class CapsChanged:
    """The enabled capabilities changed (after a CAP ACK, or cap-notify DEL)."""

    before: frozenset[str]


@dataclass(frozen=True, slots=True)
class NickReserved:
    """433 saying the nick belongs to an account: the login asks for its password."""

    nick: str
    reason: str


RegistrationChange = Welcomed | ServerSupport | CapsChanged | NickReserved
Handler = Callable[[Message, datetime], list[Effect | RegistrationChange]]


def suggest_nick(nick: str, max_len: int) -> str:
    """A variant of a taken nick: append '_' (or replace the last character when too long)."""
    return (nick + "_") if len(nick) < max_len else (nick[:-1] + "_")


def allowed_nick(nick: str) -> str:
    """A variant of a refused nick made of letters and digits only, not starting with one."""
    suggestion = "".join(ch for ch in nick if ch.isascii() and ch.isalnum()) or "guest"
    return "g" + suggestion if suggestion[0].isdigit() else suggestion


class Registration:
    def __init__(self, ctx: ClientContext, cap: CapNegotiation, *, user: str, realname: str):
        self.ctx = ctx
        self.state = ctx.state
        self.cap = cap
        self.user = user
        self.realname = realname
        self.password: str | None = None  # the server password (PASS), if any
        self.mask: str | None = None  # nick!user@host as the server announced it
        self.cap_deadline: datetime | None = None
        self._isupport_heard = False  # a 005 came on this connection
        self.fatal = FatalErrors()

    def handlers(self) -> dict[str, Handler]:
        return {
            "CAP": self.handle_cap, "PING": self.handle_ping, "ERROR": self.handle_error,
            N.RPL_WELCOME: self.handle_welcome, N.RPL_ISUPPORT: self.handle_isupport,
            N.RPL_MOTDSTART: lambda m, w: [], N.RPL_MOTD: self.handle_motd,
            N.ERR_NICKNAMEINUSE: self.handle_nick_error,
            N.ERR_ERRONEUSNICKNAME: self.handle_nick_error,
            N.ERR_PASSWDMISMATCH: self.handle_bad_password,
            N.ERR_YOUREBANNEDCREEP: self.handle_refused,
        }

    def start(self, now: datetime) -> list[Effect]:
        """A new connection is up. CAP LS 302 goes first so a CAP-aware server holds
        registration until CAP END (IRCv3 capability negotiation)."""
        self.mask = None
        self._isupport_heard = False
        self.fatal.connection_started()
        self.cap_deadline = now + CAP_WAIT
        # PASS before NICK and USER (RFC 2812 3.1.1); CAP LS may come before it.
        password = [send("PASS", self.password)] if self.password is not None else []
        return [Send(line) for line in self.cap.start()] + password + [
            send("NICK", self.ctx.nick), send("USER", self.user, "0", "*", self.realname)]

    def stop(self) -> None:
        self.cap_deadline = None

    def tick(self, now: datetime) -> list[Effect]:
        if self.cap_deadline is None or now < self.cap_deadline:
            return []
        self.cap_deadline = None
        return [Send(line) for line in self.cap.give_up()]

    def cap_unknown(self) -> None:
        """421 for CAP: a pre-IRCv3 server, registration goes on without CAP."""
        self.cap_deadline = None
        self.cap.ended = True

    # -- replies -------------------------------------------------------------------------------
    def handle_cap(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        before = frozenset(self.cap.enabled)
        lines, changed = self.cap.on_cap(msg)
        out: list[Effect | RegistrationChange] = [Send(line) for line in lines]
        if self.cap.ended or self.cap.holding:  # holding: the login has its own deadline
            self.cap_deadline = None
        return out + ([CapsChanged(before)] if changed else [])

    def handle_bad_password(self, msg: Message, when: datetime) -> list[Effect]:
        """464: the server wants a (different) password; it closes the connection next."""
        self.fatal.numeric(msg.command)  # what follows is not a refusal: we ask
        told = "Wrong server password." if self.password else "The server wants a password."
        return [AskPassword("", told, purpose="server")]

    def handle_welcome(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        self.cap.ended = True
        self.cap_deadline = None
        self.fatal.registered()
        last_word = (msg.params[-1] if msg.params else "").split(" ")[-1]
        if "!" in last_word and "@" in last_word:
            self.mask = last_word
        self._info(msg.params[-1] if msg.params else "Welcome", when)
        return [Welcomed(msg.param(0) or self.ctx.nick)]  # the server may have changed it

    def handle_isupport(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        # A reconnect keeps what the server announced last time until its first 005 on the
        # new connection (so a 433 during re-registration is answered with its NICKLEN).
        known = self.ctx.isupport if self._isupport_heard else ISupport()
        self._isupport_heard = True
        return [ServerSupport(known.updated(msg.params[1:-1]))]  # without our nick, the text

    def handle_motd(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        self._info(msg.params[-1] if msg.params else "", when)
        return []

    def handle_nick_error(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        bad = msg.param(1) or self.ctx.nick
        reason = msg.params[-1] if len(msg.params) > 2 else ""
        max_len = self.ctx.isupport.nicklen  # the server's (the RFC default until announced)
        if msg.command == N.ERR_NICKNAMEINUSE and is_reserved_text(reason):
            return [NickReserved(bad, reason)]
        if msg.command == N.ERR_NICKNAMEINUSE:
            text = f"The nick {bad} is already taken."
            max_len = max(max_len, len(bad))  # the server took its length, only not the name
            suggestion = suggest_nick(bad, max_len)
        else:
            text = f"The nick {bad} is not allowed ({reason})." if reason else \
                f"The nick {bad} is not allowed."
            suggestion = allowed_nick(bad)
        if self.ctx.registered:
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
            return []
        self.state.add(self.state.server, Line(when, Kind.ERROR, text))
        return [AskNick(text, suggestion[:max_len])]

    def handle_ping(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        return [Send(format_message(Message("PONG", msg.params or ("tui",))))]

    def handle_error(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        text = msg.params[-1] if msg.params else "connection closed"
        self.state.add(self.state.server, Line(when, Kind.ERROR, "Server: " + text))
        reason = self.fatal.error(text, self.ctx.registered)
        return [StopReconnecting(reason)] if reason else []

    def handle_refused(self, msg: Message, when: datetime) -> list[Effect | RegistrationChange]:
        """465: the ERROR that follows is fatal (see tui.fatal)."""
        self.fatal.numeric(msg.command)
        text = msg.params[-1] if len(msg.params) > 1 else msg.command
        self.state.add(self.state.server, Line(when, Kind.ERROR, text))
        return []

    def _info(self, text: str, when: datetime) -> None:
        self.state.add(self.state.server, Line(when, Kind.INFO, text))
