"""Handlers of the channel commands the master answers: JOIN, PART, TOPIC, NAMES, KICK, MODE.
They change membership and channel state through the Hub and raise IrcError for the client's
mistakes (answered in chatd/hub/error_replies.py). Pure."""

from __future__ import annotations

from chatd.hub.error_replies import each_target
from chatd.hub.hub import Hub
from chatd.hub.registry import ChannelRecord, ClientRecord
from chatd.serverinfo import BOT_MODE
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import truncate_utf8
from ircproto.message import Message
from chatd.limits import TOPICLEN, is_channel


def existing_channel(hub: Hub, name: str) -> ChannelRecord:
    channel = hub.registry.channel(name)
    if channel is None:
        raise IrcError(N.ERR_NOSUCHCHANNEL, name, "No such channel")
    return channel


def joined_channel(hub: Hub, client: ClientRecord, name: str) -> ChannelRecord:
    """The channel `name`, which `client` must be a member of."""
    channel = existing_channel(hub, name)
    if client.conn_id not in channel.members:
        raise IrcError(N.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
    return channel


def handle_join(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if params[0] == "0":  # RFC 2812 3.2.1: JOIN 0 leaves every channel
        for channel in list(client.channels.values()):
            hub.part(client, channel, "")
        return
    names = [name for name in params[0].split(",") if name]
    each_target(hub, client, "JOIN", names, lambda name: hub.join(client, name))


def handle_part(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    reason = params[1] if len(params) > 1 else ""

    def part_one(name: str) -> None:
        hub.part(client, joined_channel(hub, client, name), reason)

    each_target(hub, client, "PART", params[0].split(","), part_one)


def handle_topic(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    channel = joined_channel(hub, client, params[0])
    if len(params) == 1:
        hub.reply(client, *hub.topic_lines(client, channel))
        return
    text = truncate_utf8(params[1], TOPICLEN)
    if text == channel.topic:
        return  # unchanged: nothing to announce (modern.ircdocs: "changed or cleared")
    hub.set_topic(client, channel, text, hub.now_ms)


def handle_names(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        hub.send_numeric(client, N.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in params[0].split(","):
        channel = hub.registry.channel(name)
        if channel is None:  # not an error: an empty list (RFC 2812 3.2.5)
            hub.send_numeric(client, N.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            hub.reply(client, *hub.names_lines(client, channel))


def handle_kick(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    channel = joined_channel(hub, client, params[0])
    # chatd has no channel operators yet, so nobody may kick.
    raise IrcError(N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")


def handle_mode(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    target = params[0]
    if is_channel(target):
        _channel_mode(hub, client, target, params[1:])
    else:
        _user_mode(hub, client, target, params[1:])


def _channel_mode(hub: Hub, client: ClientRecord, name: str, changes: tuple[str, ...]) -> None:
    channel = existing_channel(hub, name)
    if not changes:
        hub.reply(client, hub.numeric(client, N.RPL_CHANNELMODEIS, channel.name, "+n"),
                  hub.numeric(client, N.RPL_CREATIONTIME, channel.name, str(channel.created_s)))
        return
    mode = changes[0].lstrip("+")
    if mode == "b":  # the ban list query (CHANMODES=b,,,n): chatd keeps no bans yet
        hub.send_numeric(client, N.RPL_ENDOFBANLIST, channel.name, "End of channel ban list")
        return
    if mode[:1] not in ("", "-") and mode[0] not in "bnov":  # CHANMODES and PREFIX modes
        raise IrcError(N.ERR_UNKNOWNMODE, mode[0], "is unknown mode char to me")
    # chatd has no channel operators yet, so nobody may change channel modes.
    raise IrcError(N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")


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
