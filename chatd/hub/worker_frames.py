"""What the master does with each frame a worker sends about one client: a table from opcode
to the Hub call that carries it out. Pure (the Hub records effects; the master moves bytes)."""

from __future__ import annotations

from typing import Any, Callable

from chatd.ipc import frames
from chatd.hub.commands import run_command
from chatd.hub.error_replies import answer_errors
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord


def _command(hub: Hub, client: ClientRecord, frame: frames.Command) -> None:
    if not client.registered:  # the worker forwards nothing before registration; be safe
        return
    with _labeled(hub, client, frame.label):
        hub.command_tags = frame.client_tags
        try:
            run_command(hub, client, frame.command, tuple(frame.params))
        finally:
            hub.command_tags = ""


def _claim_nick(hub: Hub, client: ClientRecord, frame: frames.ClaimNick) -> None:
    with _labeled(hub, client, frame.label):
        answer_errors(hub, client, "NICK", hub.claim_nick, client, frame.nick)


def _caps(hub: Hub, client: ClientRecord, frame: frames.Caps) -> None:
    client.caps = frozenset(frame.caps)


class _labeled:
    """Brackets the effects of a labeled command with LabelStart/LabelEnd."""

    def __init__(self, hub: Hub, client: ClientRecord, label: str | None) -> None:
        self.hub, self.client, self.label = hub, client, label

    def __enter__(self) -> None:
        if self.label:
            self.hub.label_start(self.client, self.label)

    def __exit__(self, *exc_info: object) -> None:
        if self.label:
            self.hub.label_end(self.client)


REQUESTS: dict[type, Callable[[Hub, ClientRecord, Any], None]] = {
    frames.Command: _command,
    frames.ClaimNick: _claim_nick,
    frames.Sync: lambda hub, client, frame: hub.sync(client),
    frames.PingSync: lambda hub, client, frame: hub.sync(client),
    frames.Caps: _caps,
    frames.Registered: lambda hub, client, frame: hub.registered(
        client, frame.user, frame.realname, frame.secure, frame.certfp),
    frames.ConnClosed: lambda hub, client, frame: hub.connection_closed(client, frame.reason),
}


def handle_request(hub: Hub, client: ClientRecord, frame: Any) -> None:
    REQUESTS[type(frame)](hub, client, frame)
