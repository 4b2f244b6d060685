"""Handlers of the queries the master answers from its global tables — WHO, WHOIS, LIST,
ISON, USERHOST, LUSERS — and of AWAY, which sets what WHO, WHOIS and messages report. They
only read the tables (AWAY sets the client's own flag) and reply. WHO, WHOIS and LIST build
their lines only while the requester's reply budget lasts (chatd/hub/reply_budget.py) and
always end with their end numeric. Pure."""

from __future__ import annotations

from itertools import islice
from typing import Callable, Iterable, Iterator

from chatd.hub import presence
from chatd.hub.channel_access import is_visible_to
from chatd.hub.error_replies import distinct_targets
from chatd.hub.hub import Hub
from chatd.hub.registry import ChannelRecord, ClientRecord
from chatd.hub.reply_budget import ReplyBudget
from chatd.hub.whox import parse_whox, whox_lines
from chatd.serverinfo import AWAYLEN, BOT_MODE, MAX_QUERY_TARGETS
from ircproto import numerics as N
from ircproto.casemap import casefold, mask_matcher, mask_min_length
from ircproto.framing import MAX_BODY_BYTES, pack_words, truncate_utf8
from chatd.limits import NICKLEN, is_channel

LINE_BYTES = MAX_BODY_BYTES - 2  # the most a line may take, without its CRLF


WHO_MAX_MATCHES = 500  # a wildcard WHO answers at most this many users


def handle_who(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    mask = params[0] if params and params[0] else "*"
    whox = parse_whox(params[1]) if len(params) > 1 else None
    budget = hub.reply_budget(client)
    found: Iterable[ClientRecord] = ()
    prefix_of: Callable[[ClientRecord], str] | None = None
    if is_channel(mask):
        channel = hub.registry.channel(mask)
        if channel is not None and is_visible_to(channel, client):
            found = channel.members.values()
            multi = "multi-prefix" in client.caps
            prefix_of = lambda member: channel.prefix(member, multi)  # H@, G+ ...: the rank
        channel_name = channel.name if channel else mask
    elif "*" not in mask and "?" not in mask and mask != "0":
        other = hub.registry.find_nick(mask)
        if other is not None and other.registered:
            found = (other,)
        channel_name = "*"
    else:
        # The channel field may be any channel of theirs or "*" (modern.ircdocs): "*".
        found = _who_matches(hub, client, mask, budget)
        channel_name = "*"
    if whox is not None:
        lines = budget.take(whox_lines(hub, client, channel_name, found,
                                       lambda who: who_flags(who, prefix_of), whox))
    else:
        lines = budget.take(_who_lines(hub, client, channel_name, found, prefix_of))
    lines.append(hub.numeric(client, N.RPL_ENDOFWHO, mask, "End of /WHO list"))
    hub.reply(client, *lines)


def _who_matches(hub: Hub, client: ClientRecord, mask: str,
                 budget: ReplyBudget) -> list[ClientRecord]:
    """The users whose nick a `*`/`?` mask matches ("0" is RFC 1459's "*"), at most
    WHO_MAX_MATCHES. As RFC 2812 3.6.1 has it, invisible (+i) users show only to those
    sharing a channel with them. Bounded per command: a mask longer than any nick can be is
    not tried at all, each nick is one linear regex match (ircproto/casemap.py), and the
    nicks tried are charged to the requester's allowance (budget.search)."""
    mask = "*" if mask == "0" else mask
    if mask_min_length(mask) > NICKLEN:
        return []
    nicks = hub.registry.folded_nicks()
    searchable = budget.search(len(nicks))
    if not searchable:
        return []
    matches = mask_matcher(mask, names_folded=True)
    found = []
    for folded, other in islice(nicks, searchable):
        if (matches(folded) and other.registered
                and (not other.invisible or other is client
                     or not client.channels.keys().isdisjoint(other.channels))):
            found.append(other)
            if len(found) >= WHO_MAX_MATCHES:
                break
    return found


def _who_lines(hub: Hub, asker: ClientRecord, channel_name: str, found: Iterable[ClientRecord],
               prefix_of: Callable[[ClientRecord], str] | None = None) -> Iterator[str]:
    """352 lines for `found` (with `prefix_of`: each one's rank in the channel after H/G/B),
    made as they are taken (a cut WHO builds no line past its budget).

    Built with one f-string each: hub.numeric takes ~10 us a line, and `WHO #big` is
    thousands of lines. Every field but the host is plain by construction (validated nicks
    and channel names, the worker's sanitized username, H/G); a line whose host could not be
    a middle parameter as it is (an IPv6 address starting with ':') or that is over 512 bytes
    is made by hub.numeric instead, which fixes both. Same text either way (unit-tested)."""
    server = hub.config.server_name
    head = ""  # ":server 352 me #chan ", made for the first row (most WHO masks find none)
    for who in found:
        head = head or hub.numeric(asker, N.RPL_WHOREPLY, channel_name, "")[:-1]
        flags = who_flags(who, prefix_of)
        line = f"{head}{who.user} {who.host} {server} {who.nick} {flags} :0 {who.realname}"
        if who.host.startswith(":") or len(line.encode("utf-8")) > LINE_BYTES:
            line = hub.numeric(asker, N.RPL_WHOREPLY, channel_name, who.user, who.host,
                               server, who.nick or "*", flags, f"0 {who.realname}")
        yield line


def who_flags(who: ClientRecord, prefix_of: Callable[[ClientRecord], str] | None) -> str:
    """H(ere) or G(one), * for a server operator, B for a bot (IRCv3 bot-mode), then the
    rank in the channel (RFC 2812; `prefix_of`, in a channel WHO)."""
    return (("G" if who.away is not None else "H") + ("*" if who.oper is not None else "")
            + (BOT_MODE if who.bot else "") + (prefix_of(who) if prefix_of else ""))


def handle_whois(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    # "WHOIS server nick" is allowed: the nicks are the last parameter. Each distinct one,
    # the first MAX_QUERY_TARGETS, is answered on its own, ending with its 318.
    nicks = distinct_targets(params[-1])[:MAX_QUERY_TARGETS] or [params[-1]]
    budget = hub.reply_budget(client)
    lines = []
    for nick in nicks:
        other = hub.registry.find_nick(nick)
        if other is None or not other.registered:
            # Not raised as an IrcError: the error is followed by the end of the list.
            lines.append(hub.numeric(client, N.ERR_NOSUCHNICK, nick, "No such nick/channel"))
            lines.append(hub.numeric(client, N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list"))
        else:
            lines += budget.take(_whois_lines(hub, client, other))
            lines.append(hub.numeric(client, N.RPL_ENDOFWHOIS, other.nick or "*",
                                     "End of /WHOIS list"))
    hub.reply(client, *lines)


def _whois_lines(hub: Hub, client: ClientRecord, other: ClientRecord) -> list[str]:
    """What WHOIS says of `other` to `client`, without the closing 318."""
    name = other.nick or "*"
    lines = [hub.numeric(client, N.RPL_WHOISUSER, name, other.user, other.host, "*",
                         other.realname)]
    if hub.shows_address(client, other) and other.address != other.host:
        lines.append(hub.numeric(client, N.RPL_WHOISHOST, name,
                                 f"is connecting from *@{other.address} {other.address}"))
    if other.channels:
        # As many 319 lines as the channels need, each within the 512-byte limit.
        head = hub.numeric(client, N.RPL_WHOISCHANNELS, name, "")
        room = MAX_BODY_BYTES - 2 - len(head.encode())  # 2: CRLF
        multi = "multi-prefix" in client.caps
        chans = " ".join(ch.prefix(other, multi) + ch.name for ch in other.channels.values()
                         if is_visible_to(ch, client))
        lines += [head + piece for piece in pack_words(chans, room)]
    lines.append(hub.numeric(client, N.RPL_WHOISSERVER, name, hub.config.server_name,
                             hub.config.network))
    if other.oper is not None:
        lines.append(hub.numeric(client, N.RPL_WHOISOPERATOR, name, "is an IRC operator"))
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
    if other.certfp and hub.shows_address(client, other):  # the user themself and opers
        lines.append(hub.numeric(client, N.RPL_WHOISCERTFP, name,
                                 f"has client certificate fingerprint {other.certfp}"))
    lines.append(hub.numeric(client, N.RPL_WHOISIDLE, name, "0", str(other.signon_s),
                             "seconds idle, signon time"))
    return lines


def handle_list(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    registry = hub.registry
    budget = hub.reply_budget(client)
    if params and params[0]:  # the distinct channels asked for, the first MAX_QUERY_TARGETS
        wanted = {casefold(name) for name in distinct_targets(params[0])[:MAX_QUERY_TARGETS]}
        folded_names = sorted(name for name in wanted if name in registry.channels)
    else:  # every channel: a search, charged (a client short of allowance sees fewer)
        folded_names = sorted(islice(registry.channels, budget.search(len(registry.channels))))
    channels = (registry.channels[name] for name in folded_names
                if is_visible_to(registry.channels[name], client))  # +s: members only
    lines = [hub.numeric(client, N.RPL_LISTSTART, "Channel", "Users  Name")]
    lines += budget.take(_list_lines(hub, client, channels))
    lines.append(hub.numeric(client, N.RPL_LISTEND, "End of /LIST"))
    hub.reply(client, *lines)


def _list_lines(hub: Hub, client: ClientRecord,
                channels: Iterable[ChannelRecord]) -> Iterator[str]:
    """322 lines, made as they are taken (a cut LIST builds no line past its budget). One
    f-string each, as in _who_lines; a line over 512 bytes is made by hub.numeric, which cuts
    the topic; the topic is the trailing parameter as numeric_line writes it."""
    head = hub.numeric(client, N.RPL_LIST, "")[:-1]  # ":server 322 me "
    for channel in channels:
        topic = channel.topic
        colon = ":" if not topic or " " in topic or topic[0] == ":" else ""
        line = f"{head}{channel.name} {len(channel.members)} {colon}{topic}"
        if len(line.encode("utf-8")) > LINE_BYTES:
            line = hub.numeric(client, N.RPL_LIST, channel.name, str(len(channel.members)),
                               topic)
        yield line


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
            oper = "*" if other.oper is not None else ""  # RFC 2812 RPL_USERHOST
            replies.append(f"{other.nick}{oper}={away}{other.user}@{other.host}")
    hub.send_numeric(client, N.RPL_USERHOST, " ".join(replies))


def handle_lusers(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    registry = hub.registry
    users, most = registry.users, registry.max_users
    unknown = len(registry.clients) - users  # connected, not registered yet
    lines = [hub.numeric(client, N.RPL_LUSERCLIENT,
                         f"There are {users} users and 0 invisible on 1 servers")]
    opers = sum(1 for c in registry.clients.values() if c.registered and c.oper is not None)
    if opers:  # modern.ircdocs: SHOULD be sent when there are any
        lines.append(hub.numeric(client, N.RPL_LUSEROP, str(opers), "operator(s) online"))
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
