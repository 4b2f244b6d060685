"""KICK and INVITE (RFC 2812 3.2.7-3.2.8; modern.ircdocs.horse "KICK message", "INVITE
message"; ircv3.net invite-notify). Pure: they change membership and invites in the registry
and say what to send; errors are raised as IrcError (chatd/hub/error_replies.py).

KICK: `KICK #c nick1,nick2 [:reason]` kicks each nick from one channel, `KICK #a,#b n1,n2`
pairs them; one KICK line per user (never several in one line), stored in the history like a
PART (event kind KICK: its text is `<nick> :<reason>`), the reason defaulting to the kicker's
nick (RFC 2812). INVITE: any member may invite to a channel without +i, only an operator to a
+i one; an operator's invite lets the invitee in once despite +i, +l and +b
(chatd/hub/channel_access.py). `INVITE` alone lists the channels the client is invited to."""

from __future__ import annotations

from chatd.hub.channel_access import joined_channel, require_operator
from chatd.hub.error_replies import each_target
from chatd.hub.hub import Emit, Hub
from chatd.hub.registry import ChannelRecord, ClientRecord
from chatd.limits import KICKLEN
from chatd.serverinfo import MAX_TARGETS
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import truncate_utf8

MAX_INVITES = 16  # invites one client holds; a newer one drops the oldest


def handle_kick(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    names = params[0].split(",")
    nicks = [nick for nick in params[1].split(",") if nick]
    reason = truncate_utf8(params[2] if len(params) > 2 and params[2] else client.nick or "",
                           KICKLEN)
    if len(names) == 1:
        pairs = [(names[0], nick) for nick in nicks]
    elif len(names) == len(nicks):
        pairs = list(zip(names, nicks))
    else:  # RFC 2812 3.2.8: as many channels as users, or one channel
        raise IrcError(N.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
    # Targets past TARGMAX are dropped silently (modern.ircdocs.horse "KICK message").
    each_target(hub, client, "KICK", pairs[:MAX_TARGETS],
                lambda pair: _kick_one(hub, client, *pair, reason))


def _kick_one(hub: Hub, client: ClientRecord, name: str, nick: str, reason: str) -> None:
    channel = joined_channel(hub.registry, client, name)
    require_operator(channel, client)
    target = _registered(hub, nick)
    if target.conn_id not in channel.members:
        raise IrcError(N.ERR_USERNOTINCHANNEL, target.nick or nick, channel.name,
                       "They aren't on that channel")
    workers = channel.workers()  # before the kicked one leaves: its worker is told too
    hub.registry.part(target, channel)
    # to_conns names the kicked client: its worker drops it from the channel on delivery.
    hub.emit(Emit(kind="KICK", source=client.source, target=channel.name,
                  text=f"{target.nick} :{reason}", convs=(channel.folded,),
                  channels=(channel.folded,), to_conns=(target.conn_id,),
                  origin=client.conn_id, workers=workers, account=client.account or ""))


def handle_invite(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    if not params:
        _list_invites(hub, client)
        return
    if len(params) < 2:
        raise IrcError(N.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
    target = _registered(hub, params[0])
    channel = joined_channel(hub.registry, client, params[1])
    if "i" in channel.modes.flags:
        require_operator(channel, client)
    if target.conn_id in channel.members:
        raise IrcError(N.ERR_USERONCHANNEL, target.nick or "", channel.name,
                       "is already on channel")
    if channel.is_operator(client):
        _record_invite(target, channel)
    hub.send_numeric(client, N.RPL_INVITING, target.nick or "", channel.name)
    if target.away is not None:
        hub.send_numeric(client, N.RPL_AWAY, target.nick or "", target.away)
    line = f":{client.source} INVITE {target.nick} {channel.name}"
    hub.reply_from(client, target, line)
    # invite-notify: the channel's other operators that asked for it see the invitation.
    for member in channel.members.values():
        if (member is not client and "invite-notify" in member.caps
                and channel.is_operator(member)):
            hub.reply_from(client, member, line)


def _record_invite(target: ClientRecord, channel: ChannelRecord) -> None:
    target.invites.pop(channel.folded, None)
    if len(target.invites) >= MAX_INVITES:
        del target.invites[next(iter(target.invites))]
    target.invites[channel.folded] = channel


def _list_invites(hub: Hub, client: ClientRecord) -> None:
    """RPL_INVITELIST (336) for each channel, still there, that an operator invited it to."""
    lines = [hub.numeric(client, N.RPL_INVITELIST, channel.name)
             for folded, channel in client.invites.items()
             if hub.registry.channels.get(folded) is channel]
    lines.append(hub.numeric(client, N.RPL_ENDOFINVITELIST, "End of /INVITE list"))
    hub.reply(client, *lines)


def _registered(hub: Hub, nick: str) -> ClientRecord:
    other = hub.registry.find_nick(nick)
    if other is None or not other.registered:
        raise IrcError(N.ERR_NOSUCHNICK, nick, "No such nick/channel")
    return other
