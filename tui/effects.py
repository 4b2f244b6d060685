"""What the pure client modules ask the event loop to do: `Send` a line, `AskNick` the user
for another nick, `AskPassword` for the server password, `Disconnect`. Plain values; no I/O."""

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
class AskPassword:
    """The server refused the connection's password (464): ask the user for it."""

    message: str


@dataclass(frozen=True, slots=True)
class Disconnect:
    reason: str


Effect = Send | AskNick | AskPassword | Disconnect


def send(command: str, *params: str, tags: dict[str, str] | None = None) -> Send:
    return Send(format_message(Message(command, tuple(params), tags=tags or {})))
