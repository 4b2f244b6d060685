"""The master's part of read markers (IRCv3 draft/read-marker, ircv3.net/specs/extensions/
read-marker) and of the JOIN replay without repeats (docs/history.md): MARKREAD, checked here
and ordered with everything else, and the workers' reports of what a client was shown when it
left (frames.SeenUpTo). Pure: the Hub records effects.

The master keeps no marker: a logged-in client's marker is a write into the ordered stream
(stored per account by the writer, chatd/store/read_markers.py), followed by a ReadMarker
frame to every worker, which reads the stored value once the write is committed
(commit-before-send) and answers the client and the account's other clients. A client that
is not logged in keeps its markers in its worker, for the connection's life: its ReadMarker
goes to that worker alone.
"""

from __future__ import annotations

import json

from chatd.events import MARKER_OP, READ_KIND, SEEN_OP
from chatd.hub import storing
from chatd.hub.hub import Emit, Hub, ToWorker
from chatd.hub.registry import ClientRecord
from chatd.ipc import frames
from chatd.limits import is_nick, is_valid_channel
from ircproto.casemap import casefold
from ircproto.message import Message, as_middle_param, fitted_line
from ircproto.servertime import parse_server_time

# What a stored marker write weighs against the client's history budget (chatd/hub/storing.py).
MARKER_WRITE_BYTES = storing.ROW_BYTES


def handle_markread(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """MARKREAD <target> [timestamp=...]: set (never backwards) or get a read marker."""
    if not params or not params[0]:
        _fail(hub, client, "NEED_MORE_PARAMS", "Missing parameters")
        return
    target = params[0]
    if not (is_valid_channel(target) or is_nick(target)):
        _fail(hub, client, "INVALID_PARAMS", target, "Invalid target")
        return
    ts_ms = 0  # a get
    if len(params) > 1:
        key, sep, value = params[1].partition("=")
        parsed = parse_server_time(value) if sep and key == "timestamp" else None
        if parsed is None:  # "*" included: a client may not set "no marker"
            _fail(hub, client, "INVALID_PARAMS", params[1], "Invalid timestamp")
            return
        # The spec's clamp: never later than now (the worker's max keeps it from going back).
        ts_ms = max(1, min(parsed, hub.now_ms))
    if client.account is None:
        hub.to_worker(client, frames.ReadMarker(conn_id=client.conn_id, account="",
                                                target=target, ts_ms=ts_ms))
        return
    if ts_ms:
        if not storing.admit(hub, client, "MARKREAD", target,
                             MARKER_WRITE_BYTES + len(target.encode("utf-8"))):
            return
        _write(hub, client, MARKER_OP, {"target": casefold(target), "ts": ts_ms})
        workers = range(hub.config.workers)  # any may hold another client of the account
    else:
        workers = range(client.worker, client.worker + 1)
    for worker in workers:
        asker = client.conn_id if worker == client.worker else 0
        hub.effects.append(ToWorker(worker=worker, frame=frames.ReadMarker(
            conn_id=asker, account=client.account, target=target, ts_ms=ts_ms)))


def seen_up_to(hub: Hub, client: ClientRecord, frame: frames.SeenUpTo) -> None:
    """A worker's report of what a client of an account was shown of channels it left."""
    if client.account is None or not frame.channels:
        return  # logged out meanwhile: what it saw is no account's
    _write(hub, client, SEEN_OP, {"seen": [[channel, seen_id] for channel, seen_id
                                           in zip(frame.channels, frame.ids)]})


def _write(hub: Hub, client: ClientRecord, op: str, payload: dict) -> None:
    """A read-marker write into the ordered stream (stored by the writer, delivered to
    nobody), for the client's account."""
    hub.emit(Emit(kind=READ_KIND, source=op, target=casefold(client.account or ""),
                  text=json.dumps(payload), convs=(), channels=(), to_conns=(),
                  origin=client.conn_id, workers=()))


def _fail(hub: Hub, client: ClientRecord, code: str, *context_and_text: str) -> None:
    """FAIL MARKREAD <code> [<what the client sent>] :<text>. The word echoed is shown as `*`
    when it cannot be a middle parameter (empty, ':x', 'a b')."""
    *context, text = context_and_text
    words = tuple(as_middle_param(word) for word in context)
    hub.reply(client, fitted_line(Message("FAIL", ("MARKREAD", code, *words, text),
                                          hub.config.server_name)))
