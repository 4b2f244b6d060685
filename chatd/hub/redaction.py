"""REDACT (IRCv3 draft/message-redaction): the master's decision. The client's worker found
the message in a timeline the client may read and says which timelines hold it and whether
the client sent it (chatd/session/redaction.py, frames.Redaction); the master, which knows the
channels' operators, decides: in a channel its author or a channel operator may redact it, a
private message only its author. Then a REDACT event is stored in every timeline of the
message — the writer turns the message into a tombstone in the same transaction
(chatd/store/tombstones.py) — and relayed, once committed, to the channel's members or to
both sides of the private conversation, those with the capability (chatd/session/delivery.py).
No time window: a message may be redacted for as long as the history keeps it. Pure.

Refusals are the spec's standard replies, sent whatever the client negotiated:
FAIL REDACT INVALID_TARGET (not in that channel any more: checked again here, the worker's
view may be older) and REDACT_FORBIDDEN.
"""

from __future__ import annotations

from chatd import events
from chatd.hub import storing
from chatd.hub.hub import Emit, Hub
from chatd.hub.registry import ClientRecord
from chatd.ipc import frames
from chatd.limits import is_channel
from ircproto.message import Message, fitted_line


def redact(hub: Hub, client: ClientRecord, frame: frames.Redaction) -> None:
    if is_channel(frame.target):
        _redact_in_channel(hub, client, frame)
    else:
        _redact_private(hub, client, frame)


def _redact_in_channel(hub: Hub, client: ClientRecord, frame: frames.Redaction) -> None:
    channel = hub.registry.channel(frame.target)
    if channel is None or client.conn_id not in channel.members:
        _fail(hub, client, "INVALID_TARGET", frame.target,
              text=f"You cannot delete messages from {frame.target}")
        return
    if not (frame.author or channel.is_operator(client)):
        _forbidden(hub, client, frame)
        return
    _emit(hub, client, frame, channel.name, channels=(channel.folded,), to_conns=(),
          workers=channel.workers())


def _redact_private(hub: Hub, client: ClientRecord, frame: frames.Redaction) -> None:
    if not frame.author:
        _forbidden(hub, client, frame)
        return
    # The other side is told only if whoever holds the nick now is the one whose timeline
    # holds the message (not someone who took the nick since, nor a stranger).
    owners = {events.owner_of_timeline(conv) for conv in frame.convs}
    told = [client]
    other = hub.registry.find_nick(frame.target)
    if other is not None and other is not client and hub.history_owner(other) in owners:
        told.append(other)
    _emit(hub, client, frame, frame.target, channels=(),
          to_conns=tuple(c.conn_id for c in told), workers=tuple({c.worker for c in told}))


def _emit(hub: Hub, client: ClientRecord, frame: frames.Redaction, target: str,
          channels: tuple[str, ...], to_conns: tuple[int, ...],
          workers: tuple[int, ...]) -> None:
    account = client.account or ""
    text = events.fit_event_text(events.REDACT_KIND, client.source, target,
                                 events.redact_text(frame.msgid, frame.reason), account,
                                 mark="…")
    size = storing.stored_bytes(client.source, target, text, "", frame.convs)
    if not storing.admit(hub, client, events.REDACT_KIND, target, size):
        return
    hub.emit(Emit(kind=events.REDACT_KIND, source=client.source, target=target, text=text,
                  convs=frame.convs, channels=channels, to_conns=to_conns,
                  origin=client.conn_id, workers=workers, account=account))


def _forbidden(hub: Hub, client: ClientRecord, frame: frames.Redaction) -> None:
    why = ("You are not authorised to delete this message" if client.account or not
           is_channel(frame.target) else
           "You are not authorised to delete this message (log in to delete your own)")
    _fail(hub, client, "REDACT_FORBIDDEN", frame.target, str(frame.msgid), text=why)


def _fail(hub: Hub, client: ClientRecord, code: str, *context: str, text: str) -> None:
    hub.reply(client, fitted_line(Message("FAIL", ("REDACT", code, *context, text),
                                          hub.config.server_name)))
