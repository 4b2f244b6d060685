"""What the pure client modules ask the event loop (or the app) to do: `Send` a line, `AskNick`
the user for another nick, `AskPassword` (hidden input: an account's or the server's password),
`Disconnect`, `Reconnect` at once to log in, `LoggedIn` (the app offers to keep the
credentials), `StopReconnecting` after a fatal server ERROR, `Alert` on a mention or private
message. Plain values; no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from ircproto.message import Message, format_message


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


@dataclass(frozen=True, slots=True)
class AskPassword:
    """Ask the user for a password, with hidden input (never kept in history or scrollback).
    `purpose` is "login" (the nick is someone's account), "register" (/register) or "server"
    (the server refused the connection's password, 464: `account` is empty)."""

    account: str
    message: str
    purpose: str = "login"


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Drop this connection and open a new one now, without backoff (to log in with SASL
    during registration when the server refused it on this connection)."""

    reason: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A login or account registration succeeded with credentials the user typed."""

    account: str


@dataclass(frozen=True, slots=True)
class StopReconnecting:
    """The server refused us for a reason that retrying will not fix."""

    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A live line that deserves the user's attention (it names them, or it is a private
    message): the app rings the bell or notifies, as configured."""

    buffer: str
    nick: str
    text: str
    private: bool = False


Effect = Send | AskNick | AskPassword | Disconnect | Reconnect | LoggedIn | StopReconnecting \
    | Alert


def send(command: str, *params: str, tags: dict[str, str] | None = None) -> Send:
    return Send(format_message(Message(command, tuple(params), tags=tags or {})))
