"""Handlers of the messages the master relays: PRIVMSG, NOTICE and TAGMSG, to channels and to
nicks. Each target is answered on its own; errors are raised as IrcError and answered in
chatd/hub/error_replies.py, which keeps a NOTICE unanswered (RFC 2812 3.3.2). Pure."""

from __future__ import annotations

from chatd import events
from chatd.commandset import gets_automatic_replies
from chatd.hub import storing
from chatd.hub.channel_access import check_can_send
from chatd.hub.error_replies import distinct_targets, each_target
from chatd.hub.hub import Emit, Hub
from chatd.hub.registry import ClientRecord
from chatd.serverinfo import MAX_TARGETS
from ircproto import numerics as N
from ircproto.errors import IrcError
from chatd.limits import is_channel


def handle_privmsg(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _handle_message("PRIVMSG", hub, client, params)


def handle_notice(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _handle_message("NOTICE", hub, client, params)


def handle_tagmsg(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """IRCv3 TAGMSG: a message that is only tags (reactions, typing notifications)."""
    _handle_message("TAGMSG", hub, client, params)


def _handle_message(kind: str, hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        raise IrcError(N.ERR_NORECIPIENT, f"No recipient given ({kind})")
    text = "" if kind == "TAGMSG" else _text(params)
    targets = distinct_targets(params[0])
    if len(targets) > MAX_TARGETS:
        raise IrcError(N.ERR_TOOMANYTARGETS, params[0],
                       f"Too many recipients (at most {MAX_TARGETS})")
    tags = _tags_sent(client, hub.command_tags)
    each_target(hub, client, kind, targets,
                lambda target: _send_one(hub, client, kind, target, text, tags))


def _tags_sent(client: ClientRecord, client_tags: str) -> str:
    """The tags a message is stored and relayed with: `bot` when a bot (user mode +B) sends
    it (IRCv3 bot-mode; like the client-only tags, only message-tags clients get them),
    then the sender's client-only tags."""
    if not client.bot:
        return client_tags
    return f"bot;{client_tags}" if client_tags else "bot"


def _text(params: tuple[str, ...]) -> str:
    if len(params) < 2 or params[1] == "":
        raise IrcError(N.ERR_NOTEXTTOSEND, "No text to send")
    return params[1]


def _send_one(hub: Hub, client: ClientRecord, kind: str, target: str, text: str,
              tags: str) -> None:
    """PRIVMSG, NOTICE or TAGMSG to one target."""
    if events.fit_event_text(kind, client.source, target, text) != text:
        # RFC 1459: a line is at most 512 bytes. Relaying this one with the sender's
        # prefix would break that, and cutting it would lose text silently: refuse it
        # (modern.ircdocs.horse 417 ERR_INPUTTOOLONG; the client may split it and resend).
        raise IrcError(N.ERR_INPUTTOOLONG,
                       "Message too long once relayed with your nick!user@host; split it")
    send_checked(hub, client, kind, target, text, tags)


def send_checked(hub: Hub, client: ClientRecord, kind: str, target: str, text: str,
                 tags: str) -> None:
    """PRIVMSG, NOTICE or TAGMSG to one target, whose every line is known to fit 512 bytes
    (a multi-line message is checked line by line: chatd/hub/multiline_messages.py)."""
    if is_channel(target):
        _send_to_channel(hub, client, kind, target, text, tags)
    else:
        _send_to_nick(hub, client, kind, target, text, tags)


def _send_to_channel(hub: Hub, client: ClientRecord, kind: str, target: str, text: str,
                     tags: str) -> None:
    channel = hub.registry.channel(target)
    if channel is None:
        raise IrcError(N.ERR_NOSUCHCHANNEL, target, "No such channel")
    check_can_send(channel, client)  # +n, +m, +b
    convs = _timelines(hub, client, kind, channel.name, text, tags, (channel.folded,))
    if convs is None:
        return
    hub.emit(Emit(kind=kind, source=client.source, target=channel.name, text=text,
                  convs=convs, channels=(channel.folded,), to_conns=(),
                  origin=client.conn_id, workers=channel.workers(), tags=tags,
                  stored_tags=storing.stored_tags(tags), account=client.account or ""))


def _send_to_nick(hub: Hub, client: ClientRecord, kind: str, target: str, text: str,
                  tags: str) -> None:
    other = hub.registry.find_nick(target)
    if other is None or not other.registered:
        raise IrcError(N.ERR_NOSUCHNICK, target, "No such nick/channel")
    convs = _timelines(hub, client, kind, other.nick or "", text, tags, events.private_timelines(
        hub.history_owner(client), client.nick or "", hub.history_owner(other), other.nick or ""))
    if convs is None:
        return
    # The sender's worker gets it too: it echoes the message (echo-message) once stored.
    workers = tuple({other.worker, client.worker})
    hub.emit(Emit(kind=kind, source=client.source, target=other.nick or "", text=text,
                  convs=convs, channels=(), to_conns=(other.conn_id,), origin=client.conn_id,
                  workers=workers, tags=tags, stored_tags=storing.stored_tags(tags),
                  account=client.account or ""))
    if other.away is not None and gets_automatic_replies(kind):
        hub.send_numeric(client, N.RPL_AWAY, other.nick or "", other.away)


def _timelines(hub: Hub, client: ClientRecord, kind: str, target: str, text: str, tags: str,
               convs: tuple[str, ...]) -> tuple[str, ...] | None:
    """The timelines a message is stored in (none for a TAGMSG that is only relayed), or None
    if the client may not store it now: it was told why, and nothing is sent."""
    if kind == "TAGMSG" and not storing.keeps_tagmsg(tags):
        return ()
    size = storing.stored_bytes(client.source, target, text, storing.stored_tags(tags), convs)
    return convs if storing.admit(hub, client, kind, target, size) else None
