"""The master's global tables: every client (by connection id and by nick) and every channel
with its members, their ranks, its topic and modes (chatd/hub/channel_state.py), and the
channels kept while nobody is in them (a registered channel, an autojoin channel's topic:
chatd/hub/founders.py decides and writes them). Pure data with small consistent operations;
no I/O, no IRC formatting. The master is the only holder of these tables, which is what makes
nicks unique and channel membership consistent across workers."""

from __future__ import annotations

import collections
from collections.abc import ItemsView
from dataclasses import dataclass, field

from chatd.hub.channel_state import ChannelModes, rank_prefix
from ircproto.casemap import casefold


@dataclass(slots=True, eq=False)
class ClientRecord:
    conn_id: int
    worker: int
    host: str  # what others see: a cloak (chatd/hub/cloak.py) unless [server] cloak = off
    signon_s: int
    address: str = ""  # the real address: throttle keys; shown only by Hub.shows_address
    nick: str | None = None
    user: str = ""
    realname: str = ""
    registered: bool = False
    away: str | None = None
    invisible: bool = False
    # server operators (chatd/hub/opers.py): user modes +o (the [opers] entry it used) and +w
    oper: str | None = None
    wallops: bool = False
    closing: bool = False  # told to leave (KILL, K-line): its further commands are ignored
    bot: bool = False  # user mode +B (IRCv3 bot-mode)
    account: str | None = None  # the account it is logged in to (SASL or REGISTER)
    caps: frozenset = frozenset()  # the capabilities the master needs (capabilities.MASTER_CAPS)
    secure: bool = False  # connected over TLS
    certfp: str | None = None  # TLS client certificate fingerprint: shown only to the client
    auth_pending: str | None = None  # folded account whose credentials the worker is checking
    channels: dict[str, "ChannelRecord"] = field(default_factory=dict)  # folded -> channel
    # its budget of stored bytes (chatd/hub/storing.py): what was left at stored_at_ms
    # (-1: never charged, the budget is full)
    stored_allowance: float = 0.0
    stored_at_ms: int = -1
    # Channels an operator invited it to (folded -> that channel, so an invite to a channel
    # that emptied and was made again does not count): used up by the JOIN they allow.
    invites: dict[str, "ChannelRecord"] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.nick}!{self.user}@{self.host}"


@dataclass(slots=True, eq=False)
class ChannelRecord:
    name: str
    created_s: int
    members: dict[int, ClientRecord] = field(default_factory=dict)  # conn_id -> client
    # How many members each worker holds: events are routed only to workers with members.
    worker_counts: collections.Counter = field(default_factory=collections.Counter)
    topic: str = ""
    topic_setter: str = ""
    topic_ts_ms: int = 0
    modes: ChannelModes = field(default_factory=ChannelModes)
    ranks: dict[int, str] = field(default_factory=dict)  # conn_id -> "o", "v" or "ov"
    # A registered channel's founder (MODE +r) and the accounts it opps on join, folded
    founder: str | None = None
    operators: set[str] = field(default_factory=set)
    kept: bool = False  # the history's channels table holds a row for it
    # The NAMES text (members' prefixed names joined by spaces, in join order), by (full:
    # nick!user@host for userhost-in-names; multi: every prefix, multi-prefix): extended on
    # each JOIN and rebuilt after a PART, NICK or rank change, so a JOIN storm does not
    # rebuild it from every member for every joiner.
    _names: dict[tuple[bool, bool], str] = field(default_factory=dict)

    @property
    def folded(self) -> str:
        return casefold(self.name)

    def names_text(self, full: bool, multi: bool = False) -> str:
        text = self._names.get((full, multi))
        if text is None:
            text = self._names[full, multi] = " ".join(
                self.prefix(member, multi) + _names_entry(member, full)
                for member in self.members.values())
        return text

    def _appended(self, client: ClientRecord) -> None:
        for (full, multi), text in self._names.items():
            entry = self.prefix(client, multi) + _names_entry(client, full)
            self._names[full, multi] = f"{text} {entry}" if text else entry

    def prefix(self, client: ClientRecord, multi: bool = False) -> str:
        """The member's prefix here ("@", "+", "@+" with multi-prefix, or "")."""
        rank = self.ranks.get(client.conn_id)
        return rank_prefix(rank, multi) if rank else ""

    def is_operator(self, client: ClientRecord) -> bool:
        return "o" in self.ranks.get(client.conn_id, "")

    def is_voiced(self, client: ClientRecord) -> bool:
        """Operator or voice: may speak when the channel is moderated (+m)."""
        return bool(self.ranks.get(client.conn_id))

    def set_rank(self, client: ClientRecord, rank: str) -> None:
        if rank:
            self.ranks[client.conn_id] = rank
        else:
            self.ranks.pop(client.conn_id, None)
        self.names_changed()

    def names_changed(self) -> None:
        self._names.clear()

    def workers(self) -> tuple[int, ...]:
        return tuple(self.worker_counts)


def _names_entry(client: ClientRecord, full: bool) -> str:
    return client.source if full else (client.nick or "")


class Registry:
    """Clients, nicks and channels, kept consistent with each other."""

    def __init__(self) -> None:
        self.clients: dict[int, ClientRecord] = {}
        self._nicks: dict[str, ClientRecord] = {}
        self.channels: dict[str, ChannelRecord] = {}  # folded -> a channel with members
        # Kept channels nobody is in (loaded from the writer's Ready at start), by folded name
        self.dormant: dict[str, ChannelRecord] = {}
        self.founded: collections.Counter[str] = collections.Counter()  # account -> channels
        # Channels whose kept state may have changed: written once the request is handled
        # (chatd/hub/founders.py, write_changes)
        self.touched: dict[str, ChannelRecord] = {}
        self.users = 0  # registered clients (LUSERS)
        self.max_users = 0  # the most there have been at once since start

    # clients and nicks
    def add_client(self, conn_id: int, worker: int, host: str, now_s: int,
                   address: str = "") -> ClientRecord:
        client = ClientRecord(conn_id, worker, host, now_s, address or host)
        self.clients[conn_id] = client
        return client

    def remove_client(self, conn_id: int) -> ClientRecord | None:
        client = self.clients.pop(conn_id, None)
        if client is None:
            return None
        if client.registered:
            self.users -= 1
        for channel in list(client.channels.values()):
            self.part(client, channel)
        if client.nick is not None and self._nicks.get(casefold(client.nick)) is client:
            del self._nicks[casefold(client.nick)]
        return client

    def find_nick(self, nick: str) -> ClientRecord | None:
        return self._nicks.get(casefold(nick))

    def folded_nicks(self) -> ItemsView[str, ClientRecord]:
        """Every nick held (registered or not), case-folded, with its client: what a WHO
        mask is matched against, without folding each nick again."""
        return self._nicks.items()

    def nick_owner_is_other(self, client: ClientRecord, nick: str) -> bool:
        owner = self._nicks.get(casefold(nick))
        return owner is not None and owner is not client

    def set_nick(self, client: ClientRecord, nick: str) -> None:
        """Give `client` the nick (the caller checked it is free)."""
        if client.nick is not None:
            self._nicks.pop(casefold(client.nick), None)
        client.nick = nick
        self._nicks[casefold(nick)] = client
        for channel in client.channels.values():
            channel.names_changed()

    def mark_registered(self, client: ClientRecord) -> None:
        if not client.registered:
            client.registered = True
            self.users += 1
            self.max_users = max(self.max_users, self.users)

    # channels
    def channel(self, name: str) -> ChannelRecord | None:
        return self.channels.get(casefold(name))

    def dormant_registered(self, name: str) -> ChannelRecord | None:
        """The registered channel `name` if nobody is in it (its state kept)."""
        channel = self.dormant.get(casefold(name))
        return channel if channel is not None and channel.founder else None

    def join(self, client: ClientRecord, name: str, now_s: int) -> ChannelRecord:
        folded = casefold(name)
        channel = self.channels.get(folded)
        if channel is None:
            channel = self.channels[folded] = self._revive(folded, name, now_s)
        if client.conn_id not in channel.members:
            channel._appended(client)
        channel.members[client.conn_id] = client
        channel.worker_counts[client.worker] += 1
        client.channels[folded] = channel
        return channel

    def part(self, client: ClientRecord, channel: ChannelRecord) -> None:
        folded = channel.folded
        channel.members.pop(client.conn_id, None)
        channel.ranks.pop(client.conn_id, None)
        channel.names_changed()
        channel.worker_counts[client.worker] -= 1
        if channel.worker_counts[client.worker] <= 0:
            del channel.worker_counts[client.worker]
        client.channels.pop(folded, None)
        if not channel.members:
            del self.channels[folded]
            if channel.founder or channel.kept:
                self.dormant[folded] = channel
            if channel.kept and not channel.founder:
                self.touched[folded] = channel  # an autojoin channel's topic, or nothing

    def _revive(self, folded: str, name: str, now_s: int) -> ChannelRecord:
        """The channel a first joiner enters: a registered one as it was kept; otherwise a new
        one (RFC 2811: a channel without members does not exist) with the topic kept of it."""
        kept = self.dormant.pop(folded, None)
        if kept is not None and kept.founder:
            return kept
        channel = ChannelRecord(name, now_s)
        if kept is not None:
            channel.topic, channel.topic_setter, channel.topic_ts_ms = (
                kept.topic, kept.topic_setter, kept.topic_ts_ms)
            channel.kept = True
        return channel

    def set_topic(self, channel: ChannelRecord, text: str, setter: str, ts_ms: int) -> None:
        channel.topic, channel.topic_setter, channel.topic_ts_ms = text, setter, ts_ms
        self.touched[channel.folded] = channel

    def set_founder(self, channel: ChannelRecord, account: str | None) -> None:
        """Make `account` (folded) the channel's founder, or nobody."""
        if channel.founder:
            self.founded[channel.founder] -= 1
            if self.founded[channel.founder] <= 0:
                del self.founded[channel.founder]
        channel.founder = account
        channel.operators.discard(account or "")
        if account:
            self.founded[account] += 1
        self.touched[channel.folded] = channel

    def keep(self, channel: ChannelRecord) -> None:
        """A kept channel loaded at start: nobody is in it yet."""
        channel.kept = True
        self.dormant[channel.folded] = channel
        if channel.founder:
            self.founded[channel.founder] += 1

    def registered_channels(self) -> int:
        return sum(self.founded.values())

    def workers_sharing_channels(self, client: ClientRecord) -> set[int]:
        workers = {client.worker}
        for channel in client.channels.values():
            workers.update(channel.worker_counts)
        return workers
