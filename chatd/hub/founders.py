"""Registered channels, on the master (README "Registered channels"; docs/history.md "Channels
that are kept"): a channel whose founder is an account keeps its modes, key, limit, topic,
mask lists and operator accounts while nobody is in it and across restarts; an autojoin
channel keeps its topic; any other channel vanishes with its last member (RFC 2811 3.1:
"the channel ceases to exist when the last client leaves it"). Pure.

- The founder is MODE +r's parameter: a logged-in operator registers a channel to its own
  account (`MODE #c +r`), the founder hands it over to an account logged in in the channel
  (`MODE #c +r bob`) or drops it (`MODE #c -r`). A logged-in user who creates a channel
  founds it (chatd/hub/channel_access.py, founds_on_create).
- `MODE #c +o nick` on a member logged in to an account makes that account an operator
  account of a registered channel (opped on every join); `-o` forgets it.
- What changed is written, once per handled request, into the ordered stream as writes of
  kind CHANNEL_KIND carrying the whole state (chatd/stored_channel.py), which the writer
  applies to its `channels` table (chatd/store/channels.py) and hands back in Ready at start.
"""

from __future__ import annotations

from chatd.events import CHANNEL_KIND
from chatd.hub.channel_access import founding_refusal, is_autojoin
from chatd.hub.channel_modes import ModeChange
from chatd.hub.channel_state import ListEntry
from chatd.hub.hub import Emit, Hub
from chatd.hub.registry import ChannelRecord, ClientRecord, Registry
from chatd.limits import FLAG_MODES, FOUNDER_MODE, LIST_MODES, MAX_OPERATOR_ACCOUNTS
from chatd.stored_channel import StoredChannel, to_json
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError
from ircproto.message import as_middle_param


class FounderModes:
    """What a MODE command of `client` on `channel` does to what the channel keeps
    (chatd/hub/channel_modes.py's KeptModes)."""

    def __init__(self, hub: Hub, client: ClientRecord, channel: ChannelRecord) -> None:
        self.hub, self.client, self.channel = hub, client, channel

    def change_founder(self, change: ModeChange) -> ModeChange | None:
        channel, registry = self.channel, self.hub.registry
        mine = casefold(self.client.account) if self.client.account else None
        if channel.founder and mine != channel.founder:
            raise IrcError(N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not the channel founder")
        if not change.adding:  # dropped: nothing of it is kept once it empties
            if not channel.founder:
                return None
            registry.set_founder(channel, None)
            channel.operators.clear()
            return change
        if mine is None:
            raise _refused(channel, change.param, "Log in to an account to register a channel")
        record = self.hub.accounts.get(change.param or mine)
        if record is None:
            raise _refused(channel, change.param, f"There is no account {change.param}")
        account = casefold(record.name)
        if account == channel.founder:
            return None
        if not channel.founder and account != mine:
            raise _refused(channel, record.name, "Register the channel to your own account,"
                                                 " then hand it over")
        if channel.founder and not any(member.account and casefold(member.account) == account
                                       for member in channel.members.values()):
            raise _refused(channel, record.name, "The new founder must be in the channel,"
                                                 " logged in to that account")
        refusal = founding_refusal(registry, account)
        if refusal is not None:
            raise _refused(channel, record.name, refusal)
        registry.set_founder(channel, account)
        return ModeChange(True, FOUNDER_MODE, record.name)

    def note_rank(self, member: ClientRecord, change: ModeChange) -> bool:
        channel = self.channel
        if change.letter != "o" or not channel.founder or member.account is None:
            return False
        account = casefold(member.account)
        if account == channel.founder or (account in channel.operators) == change.adding:
            return False
        if change.adding and len(channel.operators) >= MAX_OPERATOR_ACCOUNTS:
            raise IrcError(N.ERR_BANLISTFULL, channel.name, "o",
                           f"Channel list is full: {MAX_OPERATOR_ACCOUNTS} operator accounts")
        (channel.operators.add if change.adding else channel.operators.discard)(account)
        self.hub.registry.touched[channel.folded] = channel
        return True


def _refused(channel: ChannelRecord, param: str | None, why: str) -> IrcError:
    return IrcError(N.ERR_INVALIDMODEPARAM, channel.name, FOUNDER_MODE,
                    as_middle_param(param or "*"), why)


def modes_changed(hub: Hub, channel: ChannelRecord, changes: list[ModeChange]) -> None:
    """After a MODE: a registered channel's modes or lists are kept (ranks are not: the
    operator accounts are, through note_rank)."""
    if channel.founder and any(change.letter not in "ov" for change in changes):
        hub.registry.touched[channel.folded] = channel


def founder_name(hub: Hub, channel: ChannelRecord) -> str | None:
    """The founder's account as registered (MODE +r's parameter), or None."""
    if not channel.founder:
        return None
    record = hub.accounts.get(channel.founder)
    return record.name if record is not None else channel.founder


def forget_account(hub: Hub, name: str) -> None:
    """A deleted account founds nothing and opps nowhere any more: a new account of that
    name must not inherit its channels (they are no longer registered)."""
    account = casefold(name)
    registry = hub.registry
    for channel in [*registry.channels.values(), *registry.dormant.values()]:
        if channel.founder == account:
            registry.set_founder(channel, None)
            channel.operators.clear()
        elif account in channel.operators:
            channel.operators.discard(account)
            registry.touched[channel.folded] = channel


def write_changes(hub: Hub) -> None:
    """Write what the registry marked as changed: the whole state of a registered channel,
    an autojoin channel's topic, or the deletion of what was kept of any other channel (an
    unregistered channel empty, or dropped)."""
    registry = hub.registry
    if not registry.touched:  # the common case: called after every batch of frames
        return
    touched, registry.touched = registry.touched, {}
    for folded, channel in touched.items():
        # The channel of that name now: it may have emptied and been made again since.
        current = registry.channels.get(folded) or registry.dormant.get(folded) or channel
        if current.founder or (current.topic and is_autojoin(hub.config, current)):
            _write(hub, "set", folded, to_json(snapshot(current)))
            current.kept = True
            continue
        if registry.dormant.get(folded) is current:
            del registry.dormant[folded]
        if current.kept:
            _write(hub, "del", folded, "")
            current.kept = False


def _write(hub: Hub, op: str, folded: str, text: str) -> None:
    """A channel write into the ordered stream (stored by the writer, delivered to nobody)."""
    hub.emit(Emit(kind=CHANNEL_KIND, source=op, target=folded, text=text, convs=(),
                  channels=(), to_conns=(), origin=0, workers=()))


def snapshot(channel: ChannelRecord) -> StoredChannel:
    """What is kept of the channel: everything if it is registered, else its topic."""
    state = StoredChannel(
        name=channel.name, founder="", created_s=channel.created_s, flags="", key=None,
        limit=None, topic=channel.topic, topic_setter=channel.topic_setter,
        topic_ts_ms=channel.topic_ts_ms, lists={}, operators=())
    if not channel.founder:
        return state
    modes = channel.modes
    return state._replace(
        founder=channel.founder, flags="".join(sorted(modes.flags)), key=modes.key,
        limit=modes.limit, operators=tuple(sorted(channel.operators)),
        lists={letter: tuple((e.mask, e.setter, e.set_s) for e in entries)
               for letter, entries in modes.lists.items() if entries})


def restored(state: StoredChannel) -> ChannelRecord:
    """A kept channel as the writer's Ready gives it back (nobody in it yet)."""
    channel = ChannelRecord(state.name, state.created_s, topic=state.topic,
                            topic_setter=state.topic_setter, topic_ts_ms=state.topic_ts_ms)
    if state.founder:
        channel.founder, channel.operators = state.founder, set(state.operators)
        modes = channel.modes
        modes.flags = set(state.flags) & set(FLAG_MODES)
        modes.key, modes.limit = state.key, state.limit
        for letter in LIST_MODES:
            modes.lists[letter] = [ListEntry(*entry) for entry in state.lists.get(letter, ())]
    return channel


def load(registry: Registry, states: list[StoredChannel]) -> None:
    """The kept channels the writer reported at start: each waits for its first joiner."""
    for state in states:
        registry.keep(restored(state))
