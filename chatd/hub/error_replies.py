"""The one boundary between the master's handlers and the client: a handler raises `IrcError`
and `answer_errors` turns it into the client's numeric reply, or into no reply at all where a
rule says so (RFC 2812 3.3.2: a NOTICE never gets an automatic reply). A command with several
targets answers each one on its own through `each_target`: an error for one target is answered
and the next target is still tried; `distinct_targets` folds a list's duplicates first. Pure:
it only asks for a numeric to be sent."""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, TypeVar

from chatd.commandset import gets_automatic_replies
from chatd.hub.registry import ClientRecord
from ircproto.casemap import casefold
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


def distinct_targets(field: str) -> list[str]:
    """The targets of a comma-separated list, each once however it is spelled (rfc1459
    case), in the order first given; empty ones skipped. (`NAMES #big,#BIG,#big` is one
    target: a list of duplicates must not multiply the work.)"""
    targets: dict[str, str] = {}
    for target in field.split(","):
        if target:
            targets.setdefault(casefold(target), target)
    return list(targets.values())
