"""What the master does with each frame a worker sends about one client: a table from opcode
to the Hub call that carries it out. Pure (the Hub records effects; the master moves bytes)."""

from __future__ import annotations

from typing import Callable

from chatd.ipc import frames as ipc
from chatd.hub.commands import GLOBAL_COMMANDS
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord


def _command(hub: Hub, client: ClientRecord, frame: tuple) -> None:
    _, _, command, params, label, client_tags = frame
    if not client.registered:  # the worker forwards nothing before registration; be safe
        return
    with _labeled(hub, client, label):
        hub.command_tags = client_tags
        try:
            GLOBAL_COMMANDS[command](hub, client, tuple(params))
        finally:
            hub.command_tags = ""


def _claim_nick(hub: Hub, client: ClientRecord, frame: tuple) -> None:
    with _labeled(hub, client, frame[3]):
        hub.claim_nick(client, frame[2])


def _caps(hub: Hub, client: ClientRecord, frame: tuple) -> None:
    client.caps = frozenset(frame[2])


class _labeled:
    """Brackets the effects of a labeled command with LabelStart/LabelEnd."""

    def __init__(self, hub: Hub, client: ClientRecord, label: str | None):
        self.hub, self.client, self.label = hub, client, label

    def __enter__(self) -> None:
        if self.label:
            self.hub.label_start(self.client, self.label)

    def __exit__(self, *exc_info) -> None:
        if self.label:
            self.hub.label_end(self.client)


REQUESTS: dict[int, Callable[[Hub, ClientRecord, tuple], None]] = {
    ipc.COMMAND: _command,
    ipc.CLAIM_NICK: _claim_nick,
    ipc.SYNC: lambda hub, client, frame: hub.sync(client),
    ipc.PING_SYNC: lambda hub, client, frame: hub.sync(client),
    ipc.CAPS: _caps,
    ipc.REGISTERED: lambda hub, client, frame: hub.registered(client, frame[2], frame[3]),
    ipc.CONN_CLOSED: lambda hub, client, frame: hub.connection_closed(client, frame[2]),
}


def handle_request(hub: Hub, client: ClientRecord, frame: tuple) -> None:
    REQUESTS[frame[0]](hub, client, frame)
