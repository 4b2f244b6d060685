"""The one boundary between the master's handlers and the client: a handler raises `IrcError`
and `answer_errors` turns it into the client's numeric reply, or into no reply at all where a
rule says so (RFC 2812 3.3.2: a NOTICE never gets an automatic reply). A command with several
targets answers each one on its own through `each_target`: an error for one target is answered
and the next target is still tried. Pure: it only asks for a numeric to be sent."""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, TypeVar

from chatd.commandset import gets_automatic_replies
from chatd.hub.registry import ClientRecord
from ircproto.errors import IrcError

Target = TypeVar("Target")


class NumericSender(Protocol):
    """What the boundary needs of the Hub (kept narrow so it does not import the Hub)."""

    def send_numeric(self, client: ClientRecord, code: str, *params: str) -> None: ...



def answer_errors(sender: NumericSender, client: ClientRecord, command: str,
                  action: Callable[..., None], *args: object) -> None:
    """Run action(*args) for `client`'s `command`; an IrcError it raises becomes the reply."""
    try:
        action(*args)
    except IrcError as error:
        if gets_automatic_replies(command):
            sender.send_numeric(client, error.code, *error.params)


def each_target(sender: NumericSender, client: ClientRecord, command: str,
                targets: Iterable[Target], step: Callable[[Target], None]) -> None:
    """Run step(target) for each target in order, answering each one's error on its own."""
    for target in targets:
        answer_errors(sender, client, command, step, target)
