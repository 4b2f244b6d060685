"""Handlers of the queries the master answers from its global tables — WHO, WHOIS, LIST,
ISON, USERHOST, LUSERS — and of AWAY, which sets what WHO, WHOIS and messages report. They
only read the tables (AWAY sets the client's own flag) and reply. Pure."""

from __future__ import annotations

from chatd.hub import presence
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.serverinfo import AWAYLEN, BOT_MODE
from ircproto import numerics as N
from ircproto.casemap import casefold, mask_matcher
from ircproto.framing import MAX_BODY_BYTES, pack_words, truncate_utf8
from chatd.limits import is_channel


def _who_line(hub: Hub, asker: ClientRecord, channel_name: str, who: ClientRecord) -> str:
    flags = ("G" if who.away is not None else "H") + (BOT_MODE if who.bot else "")
    return hub.numeric(asker, N.RPL_WHOREPLY, channel_name, who.user, who.host,
                       hub.config.server_name, who.nick or "*", flags, f"0 {who.realname}")


WHO_MAX_MATCHES = 500  # a wildcard WHO answers at most this many users (one reply, one sendq)


def handle_who(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    mask = params[0] if params and params[0] else "*"
    lines = []
    if is_channel(mask):
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
        # Not raised as an IrcError: the error is followed by the end of the list.
        hub.send_numeric(client, N.ERR_NOSUCHNICK, nick, "No such nick/channel")
        hub.send_numeric(client, N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    name = other.nick or "*"
    lines = [hub.numeric(client, N.RPL_WHOISUSER, name, other.user, other.host, "*",
                         other.realname)]
    if hub.shows_address(client, other) and other.address != other.host:
        lines.append(hub.numeric(client, N.RPL_WHOISHOST, name,
                                 f"is connecting from *@{other.address} {other.address}"))
    if other.channels:
        # As many 319 lines as the channels need, each within the 512-byte limit.
        head = hub.numeric(client, N.RPL_WHOISCHANNELS, name, "")
        budget = MAX_BODY_BYTES - 2 - len(head.encode())  # 2: CRLF
        chans = " ".join(ch.name for ch in other.channels.values())
        lines += [head + piece for piece in pack_words(chans, budget)]
    lines.append(hub.numeric(client, N.RPL_WHOISSERVER, name, hub.config.server_name,
                             hub.config.network))
    if other.account is not None:
        lines.append(hub.numeric(client, N.RPL_WHOISACCOUNT, name, other.account,
                                 "is logged in as"))
    if other.away is not None:
        lines.append(hub.numeric(client, N.RPL_AWAY, name, other.away))
    if other.bot:
        lines.append(hub.numeric(client, N.RPL_WHOISBOT, name,
                                 f"is a bot on {hub.config.network}"))
    if other.secure:
        lines.append(hub.numeric(client, N.RPL_WHOISSECURE, name, "is using a secure connection"))
    if other.certfp and other is client:  # the user themself only (no opers yet)
        lines.append(hub.numeric(client, N.RPL_WHOISCERTFP, name,
                                 f"has client certificate fingerprint {other.certfp}"))
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


def handle_away(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    before = client.away
    if params and params[0]:
        client.away = truncate_utf8(params[0], AWAYLEN)
        hub.send_numeric(client, N.RPL_NOWAWAY, "You have been marked as being away")
    else:
        client.away = None
        hub.send_numeric(client, N.RPL_UNAWAY, "You are no longer marked as being away")
    if client.away != before:  # away-notify, for a change only
        presence.announce_away(hub, client)


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
