"""Handlers of the channel commands the master answers: JOIN, PART, TOPIC, NAMES, MODE (a
channel's MODE is chatd/hub/mode_command.py's; KICK and INVITE are in moderation.py). They
change membership and channel state through the Hub and raise IrcError for the client's
mistakes (answered in chatd/hub/error_replies.py). Pure."""

from __future__ import annotations

from chatd import events
from chatd.hub import mode_command, storing
from chatd.hub.channel_access import is_visible_to, joined_channel, require_operator
from chatd.hub.error_replies import distinct_targets, each_target
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import truncate_utf8
from ircproto.message import Message
from chatd.limits import TOPICLEN, is_channel
from chatd.serverinfo import BOT_MODE, MAX_QUERY_TARGETS


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
    names = distinct_targets(params[0])[:MAX_QUERY_TARGETS] or [params[0]]
    budget = hub.reply_budget(client)
    lines = []
    for name in names:
        channel = hub.registry.channel(name)
        if channel is None or not is_visible_to(channel, client):
            # Not an error: an empty list (RFC 2812 3.2.5; a secret channel, modern.ircdocs)
            lines.append(hub.numeric(client, N.RPL_ENDOFNAMES, name, "End of /NAMES list"))
        else:
            lines += hub.names_lines(client, channel, budget)
    hub.reply(client, *lines)


def handle_mode(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    target = params[0]
    if is_channel(target):
        mode_command.handle_channel_mode(hub, client, target, params[1:])
    else:
        _user_mode(hub, client, target, params[1:])


def _user_mode(hub: Hub, client: ClientRecord, nick: str, changes: tuple[str, ...]) -> None:
    other = hub.registry.find_nick(nick)
    if other is None:
        raise IrcError(N.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if other is not client:
        raise IrcError(N.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if not changes:
        hub.send_numeric(client, N.RPL_UMODEIS, "+" + "".join(
            mode for mode, flag in SETTABLE_USER_MODES.items() if getattr(client, flag)))
        return
    applied, unknown = _apply_user_modes(client, changes[0])
    if applied:
        hub.reply(client, Message("MODE", (client.nick or "*", applied), client.nick).format())
    if unknown:  # after the MODE line for the flags that were applied
        raise IrcError(N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


# The user modes a client sets and clears on itself: letter -> its ClientRecord flag.
# +B marks a bot (IRCv3 bot-mode: ISUPPORT BOT=B, WHOIS 335, WHO's B, the `bot` tag).
SETTABLE_USER_MODES = {BOT_MODE: "bot", "i": "invisible"}


def _apply_user_modes(client: ClientRecord, flags: str) -> tuple[str, bool]:
    """Apply +/- of SETTABLE_USER_MODES from `flags`; return (the changes made, as a MODE
    string; whether any flag was unknown)."""
    applied, unknown, adding = "", False, True
    for ch in flags:
        if ch in "+-":
            adding = ch == "+"
        elif ch in SETTABLE_USER_MODES:
            if getattr(client, SETTABLE_USER_MODES[ch]) != adding:
                setattr(client, SETTABLE_USER_MODES[ch], adding)
                applied += ("+" if adding else "-") + ch
        else:
            unknown = True
    return applied, unknown
