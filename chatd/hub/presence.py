"""What others learn of a user besides its messages: MONITOR (who is online), WHOWAS (who held
a nick), SETNAME (a new realname), and who is told when a user's away state, account or
realname changes — those sharing a channel with it that asked (away-notify, account-notify,
setname) and, with extended-monitor, those watching its nick. Nothing here is stored: these
are state, not conversation (docs/history.md). Pure: the Hub records the effects."""

from __future__ import annotations

import time

from chatd.hub.hub import Hub, away_line
from chatd.hub.registry import ClientRecord
from chatd.limits import REALNAMELEN, is_nick
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError
from ircproto.framing import MAX_BODY_BYTES, pack_words
from ircproto.message import Message

EXTENDED_MONITOR = "extended-monitor"
WHOWAS_MAX_ENTRIES = 10  # entries one WHOWAS answers at most, whatever count it asks


# who is told
def told_of(hub: Hub, client: ClientRecord, cap: str, include_self: bool) -> list[ClientRecord]:
    """The clients to tell of a change to `client` that negotiated `cap`: those sharing a
    channel with it, those watching its nick with extended-monitor (ircv3.net
    extended-monitor), and itself when `include_self`. Each once."""
    told: dict[int, ClientRecord] = {}
    if include_self and cap in client.caps:
        told[client.conn_id] = client
    for channel in client.channels.values():
        for member in channel.members.values():
            if cap in member.caps and member is not client:
                told[member.conn_id] = member
    for watcher in hub.monitors.watchers(client.nick or ""):
        if cap in watcher.caps and EXTENDED_MONITOR in watcher.caps and watcher is not client:
            told[watcher.conn_id] = watcher
    return list(told.values())


def announce_away(hub: Hub, client: ClientRecord) -> None:
    """IRCv3 away-notify: `client` went away, changed its message or came back. Not to
    itself: it has 305/306 (ircv3.net away-notify)."""
    hub.notify_from(client, told_of(hub, client, "away-notify", include_self=False),
                    away_line(client))


# SETNAME
def handle_setname(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """IRCv3 setname: a new realname, confirmed to the client (when it negotiated setname:
    otherwise silently, as the spec says) and told to those sharing a channel that asked."""
    realname = params[0]
    if not realname or len(realname.encode("utf-8")) > REALNAMELEN:
        hub.reply(client, Message("FAIL", ("SETNAME", "INVALID_REALNAME",
                                           f"Realname must be 1 to {REALNAMELEN} bytes"),
                                  hub.config.server_name).format())
        return
    client.realname = realname
    line = Message("SETNAME", (realname,), client.source).format()
    if "setname" in client.caps:
        hub.reply_from(client, client, line)  # its answer (labeled when the command was)
    hub.notify_from(client, told_of(hub, client, "setname", include_self=False), line)


# MONITOR
def handle_monitor(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    modifier = params[0]
    action = _MONITOR_ACTIONS.get(modifier.upper())
    if action is None:  # as ergo answers it: the spec names no error for this
        raise IrcError(N.ERR_UNKNOWNERROR, "MONITOR", modifier, "Unknown subcommand")
    if modifier in ("+", "-") and (len(params) < 2 or not params[1]):
        raise IrcError(N.ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
    action(hub, client, params[1] if len(params) > 1 else "")


def _monitor_add(hub: Hub, client: ClientRecord, targets: str) -> None:
    """Add each valid nick that is not there yet while the list has room, then say which of
    them are online (730) and offline (731), and which did not fit (734). A target that is
    not a nick (a mask, say: the spec refuses them) is left out silently, as ergo does."""
    limit = hub.config.monitor_limit
    book = hub.monitors
    answered, refused = [], []
    for nick in _distinct_nicks(targets):
        if not book.watches(client, nick) and book.count(client) >= limit:
            refused.append(nick)
            continue
        book.add(client, nick)
        answered.append(nick)
    lines = _status_lines(hub, client, answered)
    if refused:
        lines += _listing(hub, client, N.ERR_MONLISTFULL, refused, str(limit),
                          text="Monitor list is full")
    if lines:
        hub.reply(client, *lines)


def _monitor_remove(hub: Hub, client: ClientRecord, targets: str) -> None:
    for nick in targets.split(","):
        hub.monitors.remove(client, nick)


def _monitor_clear(hub: Hub, client: ClientRecord, _: str) -> None:
    hub.monitors.clear(client)


def _monitor_list(hub: Hub, client: ClientRecord, _: str) -> None:
    hub.reply(client, *_listing(hub, client, N.RPL_MONLIST, hub.monitors.targets(client)),
              hub.numeric(client, N.RPL_ENDOFMONLIST, "End of MONITOR list"))


def _monitor_status(hub: Hub, client: ClientRecord, _: str) -> None:
    lines = _status_lines(hub, client, hub.monitors.targets(client))
    if lines:
        hub.reply(client, *lines)


def _status_lines(hub: Hub, client: ClientRecord, nicks: list[str]) -> list[str]:
    """730 for those of `nicks` online (as nick!user@host), then 731 for the others."""
    online, offline = [], []
    for nick in nicks:
        other = hub.registry.find_nick(nick)
        if other is not None and other.registered:
            online.append(other.source)
        else:
            offline.append(nick)
    return (_listing(hub, client, N.RPL_MONONLINE, online)
            + _listing(hub, client, N.RPL_MONOFFLINE, offline))


_MONITOR_ACTIONS = {"+": _monitor_add, "-": _monitor_remove, "C": _monitor_clear,
                    "L": _monitor_list, "S": _monitor_status}


def _distinct_nicks(targets: str) -> list[str]:
    """The valid nicks of a comma-separated list, each once, in the order given."""
    nicks: dict[str, str] = {}
    for word in targets.split(","):
        if is_nick(word):
            nicks.setdefault(casefold(word), word)
    return list(nicks.values())


def _listing(hub: Hub, client: ClientRecord, code: str, items: list[str], *middle: str,
             text: str = "") -> list[str]:
    """`code` lines listing `items` comma-separated, as many as the 512-byte limit needs:
    the list is the trailing parameter (730-732), or with `text` the last middle one (734)."""
    if not items:
        return []
    if text:
        head = hub.numeric(client, code, *middle, "x", text)
        budget = MAX_BODY_BYTES - 2 - len(head.encode()) + 1  # 1: the "x" the list replaces
        return [hub.numeric(client, code, *middle, piece.replace(" ", ","), text)
                for piece in pack_words(" ".join(items), budget)]
    head = hub.numeric(client, code, *middle, "")
    budget = MAX_BODY_BYTES - 2 - len(head.encode())
    return [head + piece.replace(" ", ",") for piece in pack_words(" ".join(items), budget)]


# WHOWAS
def handle_whowas(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """modern.ircdocs.horse WHOWAS: a nick's former holders, most recent first, each as 314
    then 312 (with when it left), up to `count` of them (at most WHOWAS_MAX_ENTRIES); or 406;
    then 369. No nick: a single 431 (modern.ircdocs)."""
    if not params or not params[0]:
        raise IrcError(N.ERR_NONICKNAMEGIVEN, "No nickname given")
    nick = params[0]
    entries = hub.whowas.lookup(nick, _whowas_count(params[1] if len(params) > 1 else ""))
    lines = []
    for entry in entries:
        left = time.strftime("%a %b %d %H:%M:%S %Y UTC", time.gmtime(entry.left_s))
        lines += [hub.numeric(client, N.RPL_WHOWASUSER, entry.nick, entry.user, entry.host,
                              "*", entry.realname),
                  hub.numeric(client, N.RPL_WHOISSERVER, entry.nick, hub.config.server_name,
                              left)]
    if not entries:
        lines.append(hub.numeric(client, N.ERR_WASNOSUCHNICK, nick,
                                 "There was no such nickname"))
    lines.append(hub.numeric(client, N.RPL_ENDOFWHOWAS, nick, "End of WHOWAS"))
    hub.reply(client, *lines)


def _whowas_count(word: str) -> int:
    """How many entries WHOWAS answers: `count` if a positive number, else all (RFC 1459:
    none, or "a non-positive number", asks a full search) — never past WHOWAS_MAX_ENTRIES."""
    if word.isascii() and word.isdigit() and int(word) > 0:
        return min(int(word), WHOWAS_MAX_ENTRIES)
    return WHOWAS_MAX_ENTRIES
