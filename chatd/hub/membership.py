"""Handlers of the channel commands the master answers: JOIN, PART, TOPIC, NAMES, MODE (a
channel's MODE is chatd/hub/mode_command.py's, a nick's chatd/hub/user_modes.py's; KICK and
INVITE are in moderation.py). They change membership and channel state through the Hub and
raise IrcError for the client's mistakes (answered in chatd/hub/error_replies.py). Pure."""

from __future__ import annotations

from chatd import events
from chatd.hub import mode_command, storing, user_modes
from chatd.hub.channel_access import is_visible_to, joined_channel, require_operator
from chatd.hub.error_replies import distinct_targets, each_target
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from ircproto import numerics as N
from ircproto.framing import truncate_utf8
from chatd.limits import TOPICLEN, is_channel
from chatd.serverinfo import MAX_QUERY_TARGETS


def handle_join(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if params[0] == "0":  # RFC 2812 3.2.1: JOIN 0 leaves every channel
        for channel in list(client.channels.values()):
            hub.part(client, channel, "")
        return
    names = [name for name in params[0].split(",") if name]
    # Keys pair with the channels in order (RFC 2812 3.2.1: "JOIN #foo,#bar fubar").
    keys = params[1].split(",") if len(params) > 1 else []
    keyed = [(name, keys[i] if i < len(keys) else None) for i, name in enumerate(names)]
    each_target(hub, client, "JOIN", keyed, lambda pair: hub.join(client, *pair))


def handle_part(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    reason = params[1] if len(params) > 1 else ""

    def part_one(name: str) -> None:
        hub.part(client, joined_channel(hub.registry, client, name), reason)

    each_target(hub, client, "PART", params[0].split(","), part_one)


def handle_topic(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    channel = joined_channel(hub.registry, client, params[0])
    if len(params) == 1:
        hub.reply(client, *hub.topic_lines(client, channel))
        return
    if "t" in channel.modes.flags:  # +t: only operators set the topic
        require_operator(channel, client)
    # TOPICLEN, and then what fits the TOPIC line with the setter's nick!user@host.
    text = events.fit_event_text("TOPIC", client.source, channel.name,
                                 truncate_utf8(params[1], TOPICLEN))
    if text == channel.topic:
        return  # unchanged: nothing to announce (modern.ircdocs: "changed or cleared")
    size = storing.stored_bytes(client.source, channel.name, text, "", (channel.folded,))
    if storing.admit(hub, client, "TOPIC", channel.name, size):
        hub.set_topic(client, channel, text, hub.now_ms)


def handle_names(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        hub.send_numeric(client, N.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    # Each distinct channel once, the first MAX_QUERY_TARGETS of them; one budget for all.
    # A channel that does not exist, or is secret to the asker, is an empty list: no error
    # (RFC 2812 3.2.5; modern.ircdocs). Several channels end with one 366 naming them all,
    # as RFC 2812 has it ("NAMES #twilight_zone,#42": the 353s, then the end of the list).
    names = distinct_targets(params[0])[:MAX_QUERY_TARGETS] or [params[0]]
    budget = hub.reply_budget(client)
    lines = []
    for name in names:
        channel = hub.registry.channel(name)
        if channel is not None and is_visible_to(channel, client):
            lines += hub.names_lines(client, channel, budget, end=False)
    shown = channel.name if len(names) == 1 and lines else ",".join(names)
    lines.append(hub.numeric(client, N.RPL_ENDOFNAMES, shown, "End of /NAMES list"))
    hub.reply(client, *lines)


def handle_mode(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    target = params[0]
    if is_channel(target):
        mode_command.handle_channel_mode(hub, client, target, params[1:])
    else:
        user_modes.answer_user_mode(hub, client, target, params[1:])


