"""The master's decision-maker: applies a client's request to the global tables and says what
must happen next, as effects — replies for one client, events to store and then deliver. Pure:
no sockets, no SQLite; time comes in as an argument. The master turns effects into frames.

Ordering rule: effects are produced in decision order, and the master keeps that order when it
releases them (a reply decided after an event waits until that event is committed). So a client
never sees, say, a topic reply for a channel before its own JOIN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable

from chatd import events
from chatd.config import Config
from chatd.hub import channel_access
from chatd.hub.accounts import AccountBook
from chatd.hub.addresses import MAX_RATE_KEYS, AddressBook, AddressLimits
from chatd.hub.rate_windows import RateWindows
from chatd.hub.cloak import shown_host
from chatd.hub.monitor import MonitorBook
from chatd.hub.throttle import Throttle
from chatd.hub.error_replies import each_target
from chatd.hub.registry import ChannelRecord, ClientRecord, Registry
from chatd.hub.reply_budget import ReplyAllowances, ReplyBudget
from chatd.hub.server_bans import ServerBans
from chatd.hub.whowas import WhowasEntry, WhowasTable
from chatd.ipc import frames
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError
from ircproto.framing import MAX_BODY_BYTES, pack_words
from ircproto.message import escape_tag_value, numeric_line
from chatd.limits import is_illegal_channel, is_valid_channel


log = logging.getLogger(__name__)

REGISTRATION_WINDOW_S = 3600.0  # [accounts] registrations_per_hour_per_ip counts this long

@dataclass(slots=True)
class ReplyLines:
    """Lines for one client that are not stored."""
    worker: int
    conn_id: int
    lines: list[str]


@dataclass(slots=True)
class Emit:
    """An event to store, then deliver: to the local members of `channels` on each worker in
    `workers`, and to the connections in `to_conns`. `extra` is sent to the origin right after
    the event (the NAMES burst after its own JOIN); only `origin_worker` is sent it."""
    kind: str
    source: str
    target: str
    text: str
    convs: tuple[str, ...]
    channels: tuple[str, ...]
    to_conns: tuple[int, ...]
    origin: int
    workers: tuple[int, ...]
    extra: str = ""
    tags: str = ""  # client-only tags sent with a PRIVMSG/NOTICE/TAGMSG
    stored_tags: str | None = None  # what the history keeps of them (None: all of `tags`)
    origin_worker: int = -1
    account: str = ""  # the sender's account when it sent it (account-tag, extended-join)


@dataclass(slots=True)
class ToWorker:
    """A frame for one client's worker that is not stored — a nick granted, the welcome, a
    sync answer, label brackets (chatd/ipc/frames.py) — released in decision order."""
    worker: int
    frame: Any


Effect = ReplyLines | Emit | ToWorker


class Hub:
    """Global state plus the rules that change it. The handlers of the commands the master
    answers (chatd/hub/commands.py) call it; they raise IrcError, answered in error_replies."""

    def __init__(self, config: Config, boot_id: int = 0) -> None:
        self.config = config
        self.boot_id = boot_id  # tells this run's connections from earlier runs' (history keys)
        self.registry = Registry()
        self.effects: list[Effect] = []
        self.now_ms = 0  # wall-clock milliseconds, set by the master before each batch of frames
        self.command_tags = ""  # client-only tags of the command being handled (message-tags)
        self.accounts = AccountBook()  # learned from the writer's Ready (Pipeline.writer_ready)
        self.throttle = Throttle()  # failed logins and server passwords, per account and address
        # accounts REGISTERed per address in the last hour (chatd/hub/account_requests.py)
        self.registrations = RateWindows(REGISTRATION_WINDOW_S, MAX_RATE_KEYS)
        self.cloak_secret = ""  # from the writer's Ready (Pipeline.writer_ready)
        # Connections held per address, kept in step with the registry (opened, registered,
        # closed — a dead worker's clients too); the acceptor asks it before taking one.
        self.addresses = AddressBook(AddressLimits.from_config(config))
        # The writer's last word on the history's disk (frames.DiskSpace): below [history]
        # min_free_mb, clients' messages are refused (chatd/hub/storing.py).
        self.disk_low = False
        # What each client's query replies may still take (chatd/hub/reply_budget.py).
        self.reply_allowances = ReplyAllowances(config.sendq_bytes)
        # K-lines (chatd/hub/server_bans.py): learned from the writer's Ready, then kept up
        # to date by the KLINE/UNKLINE writes the master orders
        self.server_bans = ServerBans()
        self.reload_requested_by: str | None = None  # an oper's REHASH, for the master to do
        self.monitors = MonitorBook()  # MONITOR lists (chatd/hub/presence.py)
        self.whowas = WhowasTable(config.whowas_entries)  # nicks given up, for WHOWAS

    def history_owner(self, client: ClientRecord) -> str:
        """Whose private history `client`'s messages are stored for (events.history_owner)."""
        return events.history_owner(client.account, self.boot_id, client.conn_id)

    @property
    def now_s(self) -> int:
        return self.now_ms // 1000

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    # replies
    def numeric(self, client: ClientRecord, code: str, *params: str) -> str:
        return numeric_line(self.config.server_name, client.nick, code, *params)

    def reconfigure(self, config: Config) -> None:
        """A reload (chatd/reload.py): the rules read the new settings from now on."""
        self.config = config
        self.addresses.limits = AddressLimits.from_config(config)
        self.reply_allowances.set_sendq(config.sendq_bytes)
        self.whowas.resize(config.whowas_entries)

    def reply(self, client: ClientRecord, *lines: str) -> None:
        self.effects.append(ReplyLines(worker=client.worker, conn_id=client.conn_id,
                                  lines=list(lines)))

    def send_numeric(self, client: ClientRecord, code: str, *params: str) -> None:
        self.reply(client, self.numeric(client, code, *params))

    def reply_budget(self, client: ClientRecord) -> ReplyBudget:
        """The bytes one reply to `client` may take, charged to its allowance."""
        return self.reply_allowances.budget(client.conn_id, self.now_ms)

    def to_worker(self, client: ClientRecord, frame: Any) -> None:
        self.effects.append(ToWorker(worker=client.worker, frame=frame))

    def notify(self, clients: Iterable[ClientRecord], line: str) -> None:
        """One line, not stored, for these clients — what they asked to be told of others
        (chatd/hub/presence.py): a Notify frame per worker, released in decision order."""
        by_worker: dict[int, list[int]] = {}
        for client in clients:
            by_worker.setdefault(client.worker, []).append(client.conn_id)
        for worker, conn_ids in sorted(by_worker.items()):
            self.effects.append(ToWorker(worker=worker, frame=frames.Notify(
                conn_ids=tuple(conn_ids), line=line)))

    def reply_from(self, sender: ClientRecord, client: ClientRecord, line: str) -> None:
        """`line`, a command `sender` sent that is not stored (INVITE, KILL, ...), to
        `client`, with the account tag when it asked for it (user_line)."""
        self.reply(client, user_line(sender, client, line))

    def notify_from(self, sender: ClientRecord, clients: Iterable[ClientRecord],
                    line: str) -> None:
        """notify() of a command `sender` sent (AWAY, SETNAME): the clients that asked for
        account-tag get the tagged line (user_line), the others the plain one."""
        tagged: list[ClientRecord] = []
        plain: list[ClientRecord] = []
        for client in clients:
            (tagged if wants_account_tag(sender, client) else plain).append(client)
        self.notify(plain, line)
        if tagged:
            self.notify(tagged, account_tagged(sender, line))

    def tell_watchers(self, nick: str, code: str, target: str) -> None:
        """MONITOR: `code` (730 online, 731 offline) with `target` to each client watching
        `nick` (ircv3.net monitor: as the watched nick comes, goes or is renamed)."""
        for watcher in self.monitors.watchers(nick):
            self.send_numeric(watcher, code, target)

    def _gave_up_nick(self, client: ClientRecord) -> None:
        """`client` no longer holds its nick (it quit or took another): WHOWAS remembers it
        and those watching it hear it is offline."""
        nick = client.nick or ""
        self.whowas.remember(WhowasEntry(nick, client.user, client.host, client.realname,
                                         self.now_s))
        self.tell_watchers(nick, N.RPL_MONOFFLINE, nick)

    # connection lifecycle
    def connection_opened(self, conn_id: int, worker: int, address: str, now_s: int) -> None:
        # `host` is what every reply and prefix shows; the real address is kept apart, for
        # the user themself, the throttles and (when they exist) opers: shows_address().
        host = shown_host(self.config.cloak, self.cloak_secret, address)
        self.registry.add_client(conn_id, worker, host, now_s, address)
        self.addresses.opened(conn_id, address)  # counted by the real address

    @staticmethod
    def shows_address(viewer: ClientRecord, other: ClientRecord) -> bool:
        """Whether `viewer` may see `other`'s real address (and certificate fingerprint):
        the user themself and server operators (issue 11: "shown only to the user and to
        opers")."""
        return viewer is other or viewer.oper is not None

    def claim_nick(self, client: ClientRecord, nick: str) -> None:
        """NICK from a client (validated by the worker)."""
        if client.nick == nick:
            return
        if self.registry.nick_owner_is_other(client, nick):
            raise IrcError(N.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
        if not client.registered:
            self.registry.set_nick(client, nick)
            self.to_worker(client, frames.NickOk(conn_id=client.conn_id, nick=nick))
            return
        channel_access.check_nick_change(client, nick)
        old_source = client.source
        workers = self.registry.workers_sharing_channels(client)
        convs = tuple(client.channels)
        renamed = casefold(client.nick or "") != casefold(nick)  # not a mere change of case
        if renamed:
            self._gave_up_nick(client)
        self.registry.set_nick(client, nick)
        self.effects.append(Emit(kind="NICK", source=old_source, target=nick, text="",
                                 convs=convs, channels=convs, to_conns=(client.conn_id,),
                                 origin=client.conn_id, workers=tuple(workers),
                                 account=client.account or ""))
        if renamed:
            self.tell_watchers(nick, N.RPL_MONONLINE, client.source)

    def label_start(self, client: ClientRecord, label: str) -> None:
        self.to_worker(client, frames.LabelStart(conn_id=client.conn_id, label=label))

    def label_end(self, client: ClientRecord) -> None:
        self.to_worker(client, frames.LabelEnd(conn_id=client.conn_id))

    def sync(self, client: ClientRecord) -> None:
        self.to_worker(client, frames.Synced(conn_id=client.conn_id))

    def registered(self, client: ClientRecord, user: str, realname: str, secure: bool = False,
                   certfp: str | None = None) -> None:
        if client.registered:  # a retry after a login crossed the first attempt
            return
        client.user, client.realname = user, realname
        client.secure, client.certfp = secure, certfp
        self.registry.mark_registered(client)
        self.addresses.registered(client.conn_id)
        log.info("connection %d registered as %s%s", client.conn_id, client.nick,
                 f" (account {client.account})" if client.account else "")
        self.to_worker(client, frames.Welcome(conn_id=client.conn_id, host=client.host))
        self.tell_watchers(client.nick or "", N.RPL_MONONLINE, client.source)
        # Each autojoin channel is joined as if the client had sent JOIN for it.
        each_target(self, client, "JOIN", self.config.autojoin,
                    lambda name: self.join(client, name))

    def connection_closed(self, client: ClientRecord, reason: str) -> None:
        # A QUIT's own text is the user's words: logged as "Quit", never its text.
        log.info("connection %d (%s) closed: %s", client.conn_id, client.nick or "unregistered",
                 "Quit" if reason.startswith("Quit:") else reason)
        self.monitors.clear(client)  # its MONITOR list goes with it
        if client.registered:
            convs = tuple(client.channels)
            workers = tuple(self.registry.workers_sharing_channels(client))
            reason = events.fit_event_text("QUIT", client.source, "", reason)
            self.effects.append(Emit(kind="QUIT", source=client.source, target="", text=reason,
                                     convs=convs, channels=convs, to_conns=(),
                                     origin=client.conn_id, workers=workers,
                                     account=client.account or ""))
            self._gave_up_nick(client)
        self.registry.remove_client(client.conn_id)
        self.addresses.closed(client.conn_id)
        self.reply_allowances.forget(client.conn_id)

    # channel membership
    def join(self, client: ClientRecord, name: str, key: str | None = None) -> None:
        if is_illegal_channel(name):
            raise IrcError(N.ERR_BADCHANNAME, name, "Illegal channel name")
        if not is_valid_channel(name):
            raise IrcError(N.ERR_NOSUCHCHANNEL, name, "No such channel")
        folded = casefold(name)
        if folded in client.channels:
            return
        if len(client.channels) >= self.config.channels_per_client:
            raise IrcError(N.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
        # A registered channel exists even when empty (its state is kept: founders.py).
        existing = self.registry.channel(name) or self.registry.dormant_registered(name)
        if existing is not None:
            channel_access.check_join(self.config, existing, client, key)
        channel = self.registry.join(client, name, self.now_s)
        client.invites.pop(folded, None)  # an invite lets one JOIN in
        if existing is None:
            channel.modes.flags.update(self.config.default_modes)
            if channel_access.founds_on_create(self.config, self.registry, client, channel):
                self.registry.set_founder(channel, casefold(client.account or ""))
        rank = channel_access.rank_on_join(self.config, client, channel, existing is None)
        if rank:
            channel.set_rank(client, rank)
        extra = (self.topic_lines(client, channel, on_join=True)
                 + self.names_lines(client, channel, self.reply_budget(client)))
        # The text of a JOIN is the joiner's realname (extended-join, live and replayed).
        realname = events.fit_event_text("JOIN", client.source, channel.name, client.realname,
                                         client.account or "")
        self.effects.append(Emit(kind="JOIN", source=client.source, target=channel.name,
                                 text=realname, convs=(folded,), channels=(folded,),
                                 to_conns=(), origin=client.conn_id, workers=channel.workers(),
                                 extra="\r\n".join(extra), origin_worker=client.worker,
                                 account=client.account or ""))
        if client.away is not None:  # away-notify: an away joiner's AWAY follows its JOIN
            self.notify_from(client, (member for member in channel.members.values()
                                      if member is not client and "away-notify" in member.caps),
                             away_line(client))

    def part(self, client: ClientRecord, channel: ChannelRecord, reason: str) -> None:
        folded = channel.folded
        workers = channel.workers()
        self.registry.part(client, channel)
        reason = events.fit_event_text("PART", client.source, channel.name, reason)
        self.effects.append(Emit(kind="PART", source=client.source, target=channel.name,
                                 text=reason, convs=(folded,), channels=(folded,),
                                 to_conns=(client.conn_id,), origin=client.conn_id,
                                 workers=workers, account=client.account or ""))

    def topic_lines(self, client: ClientRecord, channel: ChannelRecord,
                    on_join: bool = False) -> list[str]:
        if not channel.topic:
            return [] if on_join else [self.numeric(client, N.RPL_NOTOPIC, channel.name,
                                                    "No topic is set")]
        return [self.numeric(client, N.RPL_TOPIC, channel.name, channel.topic),
                self.numeric(client, N.RPL_TOPICWHOTIME, channel.name, channel.topic_setter,
                             str(channel.topic_ts_ms // 1000))]

    def names_lines(self, client: ClientRecord, channel: ChannelRecord,
                    budget: ReplyBudget, end: bool = True) -> list[str]:
        """353 lines (each kept under the 512-byte limit) while `budget` lasts, and the
        closing 366 (unless `end` is False: a NAMES of several channels ends once)."""
        # An empty last parameter formats as " :", so the names joined below are the trailing
        # parameter (353 <client> <symbol> <channel> :<nick>{ <nick>}).
        symbol = "@" if "s" in channel.modes.flags else "="  # RFC 2812 353: @ secret
        head = self.numeric(client, N.RPL_NAMREPLY, symbol, channel.name, "")
        room = MAX_BODY_BYTES - 2 - len(head.encode())  # 2: CRLF
        full = "userhost-in-names" in client.caps  # IRCv3: nick!user@host in NAMES
        names = channel.names_text(full, "multi-prefix" in client.caps)
        lines = budget.take(head + piece for piece in pack_words(names, room))
        if end:
            lines.append(self.numeric(client, N.RPL_ENDOFNAMES, channel.name,
                                      "End of /NAMES list"))
        return lines

    def set_topic(self, client: ClientRecord, channel: ChannelRecord, text: str,
                  ts_ms: int) -> None:
        self.registry.set_topic(channel, text, client.nick or "", ts_ms)
        self.effects.append(Emit(kind="TOPIC", source=client.source, target=channel.name,
                                 text=text, convs=(channel.folded,), channels=(channel.folded,),
                                 to_conns=(), origin=client.conn_id, workers=channel.workers(),
                                 account=client.account or ""))

    def emit(self, event: Emit) -> None:
        """An event to store, then deliver (see Emit)."""
        self.effects.append(event)


def away_line(client: ClientRecord) -> str:
    """IRCv3 away-notify's line for `client`'s away state: with its message when away, bare
    when back (ircv3.net/specs/extensions/away-notify)."""
    if client.away is None:
        return f":{client.source} AWAY"
    return f":{client.source} AWAY :{client.away}"


def wants_account_tag(sender: ClientRecord, recipient: ClientRecord) -> bool:
    """IRCv3 account-tag puts the sender's account on "all commands sent by a user": a
    recipient that asked for it gets it on whatever a logged-in user sends. Stored events get
    theirs in chatd/events.py; this decides it for the lines that are not stored (INVITE,
    AWAY, SETNAME, KILL, WALLOPS)."""
    return bool(sender.account) and "account-tag" in recipient.caps


def account_tagged(sender: ClientRecord, line: str) -> str:
    return f"@account={escape_tag_value(sender.account or '')} {line}"


def user_line(sender: ClientRecord, recipient: ClientRecord, line: str) -> str:
    """`line`, sent by the user `sender`, as `recipient` gets it (wants_account_tag)."""
    return account_tagged(sender, line) if wants_account_tag(sender, recipient) else line
