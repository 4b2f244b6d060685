"""K-lines in the master: the oper commands KLINE, UNKLINE and STATS k, and where a ban bites —
a connection from a banned address is refused when it is accepted (before registration:
`connection_refusal`, asked by the acceptor), a user@host ban naming a user is applied when
the client registers (`refuse_banned`), an account ban when someone logs in to the account
(chatd/hub/account_requests.py), and a new K-line disconnects whoever it matches at once.
A banned client gets 465 ERR_YOUREBANNEDCREEP with the reason, then
`ERROR :Closing link: (...) [K-lined: <reason>]`.

Every change is a write in the ordered stream, like an account write: an Emit of kind
BAN_KIND (chatd/events.py) that the writer applies to its table (chatd/store/bans.py), so a
K-line survives restarts and the oper's answer is sent once it is stored. Pure.

    KLINE [duration] <mask> [:reason]   duration: minutes, or with a unit: 30s 10m 2h 7d 1w
    KLINE [duration] <nick> [:reason]   bans *@<that user's address>
    UNKLINE <mask>                      STATS k  (lists them: 216 ... 219)
"""

from __future__ import annotations

import json
import logging
import time

from chatd.events import BAN_KIND
from chatd.hub.cloak import shown_host
from chatd.hub.hub import Emit, Hub
from chatd.hub.opers import (disconnect, notice, notice_line, require_oper, server_notice,
                             who_is)
from chatd.hub.registry import ClientRecord
from chatd.hub.server_bans import (MAX_BANS, MAX_REASON_BYTES, BanMask, ServerBan,
                                   describe_duration, matches_address, parse_duration,
                                   parse_mask)
from chatd.limits import is_nick
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError
from ircproto.framing import truncate_utf8

log = logging.getLogger(__name__)

NO_REASON = "No reason given"
NICKS_SHOWN = 10  # in the notice of whom a new K-line disconnected
# STATS k lines sent at most: all 10,000 K-lines (~300 bytes each) would overflow the oper's
# sendq and drop it.
MAX_STATS_LINES = 1000


# where a ban bites
def connection_refusal(hub: Hub, host: str, now: float, now_ms: int) -> str | None:
    """The acceptor's question for a new connection from `host` (monotonic `now` for the
    per-address limits, wall-clock `now_ms` for expiry): None to take it, or the reason to
    refuse it. A K-line comes first: its reason says more than a limit's."""
    if len(hub.server_bans):
        shown = shown_host(hub.config.cloak, hub.cloak_secret, host)
        ban = hub.server_bans.address_ban(None, host, shown, now_ms)
        if ban is not None:
            return f"K-lined: {ban.reason}"
    return hub.addresses.refusal(host, now)


def refuse_banned(hub: Hub, client: ClientRecord, user: str) -> bool:
    """At registration, once USER is known: True (and the client is sent away) when a
    K-line matches it."""
    ban = hub.server_bans.address_ban(user, client.address, client.host, hub.now_ms)
    if ban is None:
        return False
    banish(hub, client, ban)
    return True


def banish(hub: Hub, client: ClientRecord, ban: ServerBan) -> None:
    log.info("%s disconnected: K-line %s", who_is(client), ban.mask)
    hub.send_numeric(client, N.ERR_YOUREBANNEDCREEP,
                     f"You are banned from this server: {ban.reason}")
    disconnect(hub, client, f"K-lined: {ban.reason}")


def _matches(mask: BanMask, client: ClientRecord) -> bool:
    if mask.account:
        return client.account is not None and casefold(client.account) == mask.account
    return matches_address(mask, client.user if client.registered else None, client.address,
                           client.host)


# KLINE, UNKLINE, STATS
def handle_kline(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    require_oper(client)
    args = list(params)
    seconds = parse_duration(args[0]) if len(args) > 1 else None
    if seconds is not None:
        args.pop(0)
    if len(args) > 2 and args[1].upper() == "ON":
        raise IrcError(N.ERR_UNKNOWNERROR, "KLINE", "There are no other servers to ban on")
    mask = _kline_mask(hub, args[0])
    if _matches(mask, client):
        raise IrcError(N.ERR_UNKNOWNERROR, "KLINE", f"{mask.text} matches you: not added")
    if len(hub.server_bans) >= MAX_BANS:
        hub.server_bans.in_force(hub.now_ms)  # forgets the expired ones
    if len(hub.server_bans) >= MAX_BANS and hub.server_bans.get(mask.text) is None:
        raise IrcError(N.ERR_UNKNOWNERROR, "KLINE", f"There are {MAX_BANS} K-lines already")
    reason = truncate_utf8(args[1] if len(args) > 1 and args[1] else NO_REASON,
                           MAX_REASON_BYTES)
    ban = ServerBan(mask.text, reason, client.oper or "", hub.now_ms,
                    hub.now_ms + seconds * 1000 if seconds else 0)
    hub.server_bans.add(ban)
    _store(hub, client, "add", ban)
    how = f"for {describe_duration(seconds)}" if seconds else "permanently"
    log.info("K-line %s added %s by %s: %s", mask.text, how, who_is(client), reason)
    notice(hub, client, f"Added K-line for {mask.text} {how}: {reason}")
    server_notice(hub, f"{client.nick} ({client.oper}) added a K-line {how} for {mask.text}: "
                       f"{reason}", skip=client)
    gone = [other for other in list(hub.registry.clients.values())
            if not other.closing and _matches(mask, other)]
    for other in gone:
        banish(hub, other, ban)
    if gone:
        nicks = [other.nick or "(unregistered)" for other in gone[:NICKS_SHOWN]]
        more = f" and {len(gone) - NICKS_SHOWN} more" if len(gone) > NICKS_SHOWN else ""
        server_notice(hub, f"K-line for {mask.text} disconnected {len(gone)}: "
                           f"{', '.join(nicks)}{more}")


def _kline_mask(hub: Hub, target: str) -> BanMask:
    """The mask KLINE names; a connected user's nick stands for *@<its address>."""
    if "@" not in target and is_nick(target):  # (no address or cloak is a nick)
        other = hub.registry.find_nick(target)
        if other is None or not other.registered:
            raise IrcError(N.ERR_NOSUCHNICK, target, "No such nick/channel")
        target = f"*@{other.address}"
    try:
        return parse_mask(target)
    except ValueError as exc:
        raise IrcError(N.ERR_UNKNOWNERROR, "KLINE", f"Bad mask: {exc}") from None


def handle_unkline(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    require_oper(client)
    try:
        key = parse_mask(params[0]).text
    except ValueError as exc:
        raise IrcError(N.ERR_UNKNOWNERROR, "UNKLINE", f"Bad mask: {exc}") from None
    ban = hub.server_bans.remove(key)
    if ban is None:
        notice(hub, client, f"No K-line for {key}")
        return
    _store(hub, client, "del", ban)
    log.info("K-line %s removed by %s", key, who_is(client))
    notice(hub, client, f"Removed K-line for {key}")
    server_notice(hub, f"{client.nick} ({client.oper}) removed the K-line for {key}",
                  skip=client)


def handle_stats(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """STATS k (or K): the K-lines, for opers; any other query has nothing to report."""
    query = params[0][:1]
    lines = []
    if query in ("k", "K"):
        require_oper(client)
        bans = hub.server_bans.in_force(hub.now_ms)
        lines = [_stats_line(hub, client, ban) for ban in bans[:MAX_STATS_LINES]]
        if len(bans) > MAX_STATS_LINES:
            lines.append(notice_line(hub, client, f"{len(bans) - MAX_STATS_LINES} more "
                                                   "K-lines not shown"))
    lines.append(hub.numeric(client, N.RPL_ENDOFSTATS, query or "*", "End of /STATS report"))
    hub.reply(client, *lines)


def _stats_line(hub: Hub, client: ClientRecord, ban: ServerBan) -> str:
    """216 <client> K <host> * <user> :<reason> (as Solanum and Hybrid have it; an account
    ban shows $a:name as its host)."""
    user, _, host = ban.mask.rpartition("@")
    if host.startswith(":"):
        host = "0" + host  # an IPv6 '::/..' would read as the trailing parameter
    set_on = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ban.set_ms // 1000))
    left = (f"expires in {describe_duration(max(1, (ban.expires_ms - hub.now_ms) // 1000))}"
            if ban.expires_ms else "permanent")
    return hub.numeric(client, N.RPL_STATSKLINE, "K", host, "*", user or "*",
                       f"{ban.reason} (set by {ban.setter} on {set_on}; {left})")


def _store(hub: Hub, client: ClientRecord, op: str, ban: ServerBan) -> None:
    """A K-line write into the ordered stream (chatd/store/bans.py applies it); what the Hub
    decides after it waits until it is stored."""
    payload = {"reason": ban.reason, "setter": ban.setter, "set_ms": ban.set_ms,
               "expires_ms": ban.expires_ms}
    hub.emit(Emit(kind=BAN_KIND, source=op, target=ban.mask,
                  text=json.dumps(payload) if op == "add" else "{}", convs=(), channels=(),
                  to_conns=(), origin=client.conn_id, workers=()))
