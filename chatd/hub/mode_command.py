"""MODE on a channel (modern.ircdocs.horse "MODE message"): without a mode string, the
channel's modes (324, the key only to members) and creation time (329); a list mode without
a mask, that list (367/368 bans, to whoever may see the channel; 348/349 exceptions and
346/347 invite exceptions, to operators); otherwise changes, which only an operator may make
(482, once, and nothing is changed). What changed is one MODE line to every member (more
than one only if it would not fit 512 bytes), stored in the history like a TOPIC (event kind
MODE), so draft/event-playback replays it; what a registered channel keeps of it (+r, its
modes and lists, its operator accounts) is chatd/hub/founders.py's. Pure."""

from __future__ import annotations

from chatd.hub import founders
from chatd.hub.channel_access import (existing_channel, is_founder, is_visible_to,
                                      require_operator)
from chatd.hub.channel_modes import (ModeChange, apply_changes, format_changes, parse_modes,
                                     split_changes)
from chatd.hub.error_replies import answer_errors
from chatd.hub.hub import Emit, Hub
from chatd.hub.registry import ChannelRecord, ClientRecord
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import MAX_BODY_BYTES

# list mode -> (entry numeric, end numeric, end text)
LIST_REPLIES = {
    "b": (N.RPL_BANLIST, N.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (N.RPL_EXCEPTLIST, N.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (N.RPL_INVEXLIST, N.RPL_ENDOFINVEXLIST, "End of channel invite exception list"),
}


def handle_channel_mode(hub: Hub, client: ClientRecord, name: str,
                        words: tuple[str, ...]) -> None:
    channel = existing_channel(hub.registry, name)
    if not words or not words[0]:  # "MODE #c" (or an empty mode string): the modes
        shown = channel.modes.summary(show_key=client.conn_id in channel.members,
                                      founder=founders.founder_name(hub, channel))
        hub.reply(client, hub.numeric(client, N.RPL_CHANNELMODEIS, channel.name, *shown),
                  hub.numeric(client, N.RPL_CREATIONTIME, channel.name, str(channel.created_s)))
        return
    parsed = parse_modes(words[0], words[1:])
    for letter in parsed.unknown:
        hub.send_numeric(client, N.ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
    for letter in parsed.list_queries:
        answer_errors(hub, client, "MODE", _send_list, hub, client, channel, letter)
    if parsed.changes:
        _change(hub, client, channel, parsed.changes)


def _send_list(hub: Hub, client: ClientRecord, channel: ChannelRecord, letter: str) -> None:
    entry_code, end_code, end_text = LIST_REPLIES[letter]
    if letter != "b":  # exceptions say who is let through: operators only (as Solanum)
        require_operator(channel, client)
    lines = []
    if is_visible_to(channel, client):
        lines = [hub.numeric(client, entry_code, channel.name, entry.mask, entry.setter,
                             str(entry.set_s)) for entry in channel.modes.lists[letter]]
    lines.append(hub.numeric(client, end_code, channel.name, end_text))
    hub.reply(client, *lines)


def _change(hub: Hub, client: ClientRecord, channel: ChannelRecord,
            changes: list[ModeChange]) -> None:
    # The founder keeps the right to set modes when deopped (to op itself again, say), as
    # long as it is in the channel: its rank is the channel's to give, not its rights.
    founder_here = is_founder(client, channel) and client.conn_id in channel.members
    if not (channel.is_operator(client) or founder_here):
        hub.send_numeric(client, N.ERR_CHANOPRIVSNEEDED, channel.name,
                         "You're not channel operator")
        return
    applied = apply_changes(channel, changes, client.source, hub.now_s,
                            lambda nick: _member(hub, channel, nick),
                            founders.FounderModes(hub, client, channel))
    founders.modes_changed(hub, channel, applied.changes)
    for error in applied.errors:
        hub.send_numeric(client, error.code, *error.params)
    head = f":{client.source} MODE {channel.name} "
    budget = MAX_BODY_BYTES - 2 - len(head.encode())  # 2: CRLF
    for run in split_changes(applied.changes, budget):
        hub.emit(Emit(kind="MODE", source=client.source, target=channel.name,
                      text=format_changes(run), convs=(channel.folded,),
                      channels=(channel.folded,), to_conns=(), origin=client.conn_id,
                      workers=channel.workers(), account=client.account or ""))


def _member(hub: Hub, channel: ChannelRecord, nick: str) -> ClientRecord:
    """The member of `channel` called `nick` (401, 441 otherwise)."""
    other = hub.registry.find_nick(nick)
    if other is None or not other.registered:
        raise IrcError(N.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if other.conn_id not in channel.members:
        raise IrcError(N.ERR_USERNOTINCHANNEL, other.nick or nick, channel.name,
                       "They aren't on that channel")
    return other
