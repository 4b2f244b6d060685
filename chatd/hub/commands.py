"""Handlers for the commands that need the global tables (channels, nicks): the worker
forwards them to the master, whose Hub runs them here. `GLOBAL_COMMANDS` is also how a worker
knows which commands to forward and how many parameters each needs (461 is answered there)."""

from __future__ import annotations

from typing import Callable

from chatd.hub.hub import Hub
from chatd.serverinfo import AWAYLEN, MAX_TARGETS
from ircproto import numerics as N
from ircproto.casemap import casefold, mask_matcher
from ircproto.framing import truncate_utf8
from ircproto.message import Message
from ircproto.validate import TOPICLEN, is_channel_name
from chatd.hub.registry import ClientRecord

Handler = Callable[[Hub, ClientRecord, tuple[str, ...]], None]



def handle_join(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if params[0] == "0":  # RFC 2812 3.2.1: JOIN 0 leaves every channel
        for channel in list(client.channels.values()):
            hub.part(client, channel, "")
        return
    for name in params[0].split(","):
        if name:
            hub.join(client, name)


def handle_part(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    reason = params[1] if len(params) > 1 else ""
    for name in params[0].split(","):
        channel = hub.registry.channel(name)
        if channel is None:
            hub.send_numeric(client, N.ERR_NOSUCHCHANNEL, name, "No such channel")
        elif client.conn_id not in channel.members:
            hub.send_numeric(client, N.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        else:
            hub.part(client, channel, reason)


def _handle_message(kind: str, hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    quiet = kind == "NOTICE"
    if not params or not params[0]:
        if not quiet:
            hub.send_numeric(client, N.ERR_NORECIPIENT, f"No recipient given ({kind})")
        return
    if kind == "TAGMSG":
        params = (params[0], "")
    elif len(params) < 2 or params[1] == "":
        if not quiet:
            hub.send_numeric(client, N.ERR_NOTEXTTOSEND, "No text to send")
        return
    targets: dict[str, str] = {}  # each target once, however it is spelled
    for target in params[0].split(","):
        if target:
            targets.setdefault(casefold(target), target)
    if len(targets) > MAX_TARGETS:
        if not quiet:
            hub.send_numeric(client, N.ERR_TOOMANYTARGETS, params[0],
                             f"Too many recipients (at most {MAX_TARGETS})")
        return
    for target in targets.values():
        hub.message(client, kind, target, params[1], hub.command_tags)


def handle_privmsg(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _handle_message("PRIVMSG", hub, client, params)


def handle_notice(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _handle_message("NOTICE", hub, client, params)


def handle_tagmsg(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """IRCv3 TAGMSG: a message that is only tags (reactions, typing notifications)."""
    _handle_message("TAGMSG", hub, client, params)


def handle_topic(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    channel = hub.registry.channel(params[0])
    if channel is None:
        hub.send_numeric(client, N.ERR_NOSUCHCHANNEL, params[0], "No such channel")
        return
    if client.conn_id not in channel.members:
        hub.send_numeric(client, N.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        return
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
        if channel is None:
            hub.send_numeric(client, N.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            hub.reply(client, *hub.names_lines(client, channel))


def _who_line(hub: Hub, asker: ClientRecord, channel_name: str, who: ClientRecord) -> str:
    flags = "G" if who.away is not None else "H"
    return hub.numeric(asker, N.RPL_WHOREPLY, channel_name, who.user, who.host,
                       hub.config.server_name, who.nick or "*", flags, f"0 {who.realname}")


WHO_MAX_MATCHES = 500  # a wildcard WHO answers at most this many users (one reply, one sendq)


def handle_who(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    mask = params[0] if params and params[0] else "*"
    lines = []
    if is_channel_name(mask):
        channel = hub.registry.channel(mask)
        if channel is not None:
            lines = [_who_line(hub, client, channel.name, m) for m in channel.members.values()]
    elif "*" not in mask and "?" not in mask and mask != "0":
        other = hub.registry.find_nick(mask)
        if other is not None and other.registered:
            lines = [_who_line(hub, client, "*", other)]
    else:
        # A mask with * and ? matched against nicks ("0" is RFC 1459's "*"). As RFC 2812
        # 3.6.1 has it, invisible (+i) users show only to those sharing a channel with them.
        # The channel field may be any channel of theirs or "*" (modern.ircdocs): "*".
        matches = mask_matcher("*" if mask == "0" else mask)
        shared = set().union(*(ch.members.keys() for ch in client.channels.values()))
        for other in hub.registry.clients.values():
            if (other.registered and other.nick and matches(other.nick)
                    and (not other.invisible or other is client or other.conn_id in shared)):
                lines.append(_who_line(hub, client, "*", other))
                if len(lines) >= WHO_MAX_MATCHES:
                    break
    lines.append(hub.numeric(client, N.RPL_ENDOFWHO, mask, "End of /WHO list"))
    hub.reply(client, *lines)


def handle_whois(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    # "WHOIS server nick" is allowed: the nick is the last parameter.
    nick = params[-1]
    other = hub.registry.find_nick(nick)
    if other is None or not other.registered:
        hub.send_numeric(client, N.ERR_NOSUCHNICK, nick, "No such nick/channel")
        hub.send_numeric(client, N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    name = other.nick or "*"
    lines = [hub.numeric(client, N.RPL_WHOISUSER, name, other.user, other.host, "*",
                         other.realname)]
    if other.channels:
        chans = " ".join(ch.name for ch in other.channels.values())
        lines.append(hub.numeric(client, N.RPL_WHOISCHANNELS, name, chans))
    lines.append(hub.numeric(client, N.RPL_WHOISSERVER, name, hub.config.server_name,
                             hub.config.network))
    if other.away is not None:
        lines.append(hub.numeric(client, N.RPL_AWAY, name, other.away))
    lines.append(hub.numeric(client, N.RPL_WHOISIDLE, name, "0", str(other.signon_s),
                             "seconds idle, signon time"))
    lines.append(hub.numeric(client, N.RPL_ENDOFWHOIS, name, "End of /WHOIS list"))
    hub.reply(client, *lines)


def handle_list(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    wanted = {casefold(n) for n in params[0].split(",")} if params and params[0] else None
    lines = [hub.numeric(client, N.RPL_LISTSTART, "Channel", "Users  Name")]
    for folded, channel in sorted(hub.registry.channels.items()):
        if wanted is None or folded in wanted:
            lines.append(hub.numeric(client, N.RPL_LIST, channel.name, str(len(channel.members)),
                                     channel.topic))
    lines.append(hub.numeric(client, N.RPL_LISTEND, "End of /LIST"))
    hub.reply(client, *lines)


def handle_mode(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    target = params[0]
    if is_channel_name(target):
        _channel_mode(hub, client, target, params[1:])
    else:
        _user_mode(hub, client, target, params[1:])


def _channel_mode(hub: Hub, client: ClientRecord, name: str, changes: tuple[str, ...]) -> None:
    channel = hub.registry.channel(name)
    if channel is None:
        hub.send_numeric(client, N.ERR_NOSUCHCHANNEL, name, "No such channel")
        return
    if not changes:
        hub.reply(client, hub.numeric(client, N.RPL_CHANNELMODEIS, channel.name, "+n"),
                  hub.numeric(client, N.RPL_CREATIONTIME, channel.name, str(channel.created_s)))
        return
    mode = changes[0].lstrip("+")
    if mode == "b":  # the ban list query (CHANMODES=b,,,n): chatd keeps no bans yet
        hub.send_numeric(client, N.RPL_ENDOFBANLIST, channel.name, "End of channel ban list")
        return
    if mode[:1] not in ("", "-") and mode[0] not in "bnov":  # CHANMODES and PREFIX modes
        hub.send_numeric(client, N.ERR_UNKNOWNMODE, mode[0], "is unknown mode char to me")
        return
    # chatd has no channel operators yet, so nobody may change channel modes.
    hub.send_numeric(client, N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")


def _user_mode(hub: Hub, client: ClientRecord, nick: str, changes: tuple[str, ...]) -> None:
    other = hub.registry.find_nick(nick)
    if other is None:
        hub.send_numeric(client, N.ERR_NOSUCHNICK, nick, "No such nick/channel")
        return
    if other is not client:
        hub.send_numeric(client, N.ERR_USERSDONTMATCH, "Can't change mode for other users")
        return
    if not changes:
        hub.send_numeric(client, N.RPL_UMODEIS, "+i" if client.invisible else "+")
        return
    applied, unknown, adding = "", False, True
    for ch in changes[0]:
        if ch in "+-":
            adding = ch == "+"
        elif ch == "i":
            if client.invisible != adding:
                client.invisible = adding
                applied += ("+" if adding else "-") + "i"
        else:
            unknown = True
    if applied:
        hub.reply(client, Message("MODE", (client.nick or "*", applied), client.nick).format())
    if unknown:
        hub.send_numeric(client, N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


def handle_away(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if params and params[0]:
        client.away = truncate_utf8(params[0], AWAYLEN)
        hub.send_numeric(client, N.RPL_NOWAWAY, "You have been marked as being away")
    else:
        client.away = None
        hub.send_numeric(client, N.RPL_UNAWAY, "You are no longer marked as being away")


def handle_ison(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    online = []
    for word in " ".join(params).split():
        other = hub.registry.find_nick(word)
        if other is not None and other.registered:
            online.append(other.nick or "")
    hub.send_numeric(client, N.RPL_ISON, " ".join(online))


def handle_userhost(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    replies = []
    for word in params[:5]:
        other = hub.registry.find_nick(word)
        if other is not None and other.registered:
            away = "-" if other.away is not None else "+"
            replies.append(f"{other.nick}={away}{other.user}@{other.host}")
    hub.send_numeric(client, N.RPL_USERHOST, " ".join(replies))


def handle_lusers(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    registry = hub.registry
    users, most = registry.users, registry.max_users
    unknown = len(registry.clients) - users  # connected, not registered yet
    lines = [hub.numeric(client, N.RPL_LUSERCLIENT,
                         f"There are {users} users and 0 invisible on 1 servers")]
    if unknown:
        lines.append(hub.numeric(client, N.RPL_LUSERUNKNOWN, str(unknown),
                                 "unknown connection(s)"))
    lines += [
        hub.numeric(client, N.RPL_LUSERCHANNELS, str(len(registry.channels)), "channels formed"),
        hub.numeric(client, N.RPL_LUSERME, f"I have {users} clients and 0 servers"),
        # One server: its local users are all the users.
        hub.numeric(client, N.RPL_LOCALUSERS, str(users), str(most),
                    f"Current local users {users}, max {most}"),
        hub.numeric(client, N.RPL_GLOBALUSERS, str(users), str(most),
                    f"Current global users {users}, max {most}"),
    ]
    hub.reply(client, *lines)


def handle_kick(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    channel = hub.registry.channel(params[0])
    if channel is None:
        hub.send_numeric(client, N.ERR_NOSUCHCHANNEL, params[0], "No such channel")
    elif client.conn_id not in channel.members:
        hub.send_numeric(client, N.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
    else:
        hub.send_numeric(client, N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")


# The commands the master answers (chatd/commandset.py has their parameter counts).
GLOBAL_COMMANDS: dict[str, Handler] = {
    "JOIN": handle_join,
    "PART": handle_part,
    "PRIVMSG": handle_privmsg,
    "NOTICE": handle_notice,
    "TAGMSG": handle_tagmsg,
    "TOPIC": handle_topic,
    "NAMES": handle_names,
    "WHO": handle_who,
    "WHOIS": handle_whois,
    "LIST": handle_list,
    "MODE": handle_mode,
    "AWAY": handle_away,
    "ISON": handle_ison,
    "USERHOST": handle_userhost,
    "LUSERS": handle_lusers,
    "KICK": handle_kick,
}
