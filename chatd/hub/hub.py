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

from chatd import events
from chatd.config import Config
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.message import numeric_line
from ircproto.framing import MAX_BODY_BYTES, pack_words
from ircproto.validate import is_channel_name, is_valid_channel
from chatd.hub.registry import ChannelRecord, ClientRecord, Registry

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Reply:
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
    origin_worker: int = -1


@dataclass(slots=True)
class NickGranted:
    worker: int
    conn_id: int
    nick: str


@dataclass(slots=True)
class Synced:
    """Answer to a worker's SYNC for one client, in order after everything decided before."""
    worker: int
    conn_id: int


@dataclass(slots=True)
class Welcome:
    worker: int
    conn_id: int


@dataclass(slots=True)
class LabelStart:
    """What follows for this client answers its labeled command, up to LabelEnd."""
    worker: int
    conn_id: int
    label: str


@dataclass(slots=True)
class LabelEnd:
    worker: int
    conn_id: int


Effect = Reply | Emit | NickGranted | Synced | Welcome | LabelStart | LabelEnd


class Hub:
    """Global state plus the rules that change it. Handlers live in global_commands.py."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.registry = Registry()
        self.effects: list[Effect] = []
        self.now_ms = 0  # wall-clock milliseconds, set by the master before each batch of frames
        self.command_tags = ""  # client-only tags of the command being handled (message-tags)

    @property
    def now_s(self) -> int:
        return self.now_ms // 1000

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    # replies
    def numeric(self, client: ClientRecord, code: str, *params: str) -> str:
        return numeric_line(self.config.server_name, client.nick, code, *params)

    def reply(self, client: ClientRecord, *lines: str) -> None:
        self.effects.append(Reply(client.worker, client.conn_id, list(lines)))

    def send_numeric(self, client: ClientRecord, code: str, *params: str) -> None:
        self.reply(client, self.numeric(client, code, *params))

    # connection lifecycle
    def connection_opened(self, conn_id: int, worker: int, host: str, now_s: int) -> None:
        self.registry.add_client(conn_id, worker, host, now_s)

    def claim_nick(self, client: ClientRecord, nick: str) -> None:
        """NICK from a client (validated by the worker)."""
        if client.nick == nick:
            return
        if self.registry.nick_owner_is_other(client, nick):
            self.send_numeric(client, N.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
            return
        if not client.registered:
            self.registry.set_nick(client, nick)
            self.effects.append(NickGranted(client.worker, client.conn_id, nick))
            return
        old_source = client.source
        workers = self.registry.workers_sharing_channels(client)
        convs = tuple(client.channels)
        self.registry.set_nick(client, nick)
        self.effects.append(Emit("NICK", old_source, nick, "", convs, convs,
                                 (client.conn_id,), client.conn_id, tuple(workers)))

    def label_start(self, client: ClientRecord, label: str) -> None:
        self.effects.append(LabelStart(client.worker, client.conn_id, label))

    def label_end(self, client: ClientRecord) -> None:
        self.effects.append(LabelEnd(client.worker, client.conn_id))

    def sync(self, client: ClientRecord) -> None:
        self.effects.append(Synced(client.worker, client.conn_id))

    def registered(self, client: ClientRecord, user: str, realname: str) -> None:
        client.user, client.realname = user, realname
        self.registry.mark_registered(client)
        self.effects.append(Welcome(client.worker, client.conn_id))
        for name in self.config.autojoin:
            self.join(client, name)

    def connection_closed(self, client: ClientRecord, reason: str) -> None:
        if client.registered:
            convs = tuple(client.channels)
            workers = tuple(self.registry.workers_sharing_channels(client))
            self.effects.append(Emit("QUIT", client.source, "", reason, convs, convs, (),
                                     client.conn_id, workers))
        self.registry.remove_client(client.conn_id)

    # channel membership
    def join(self, client: ClientRecord, name: str) -> None:
        if not is_valid_channel(name):
            self.send_numeric(client, N.ERR_NOSUCHCHANNEL, name, "No such channel")
            return
        folded = casefold(name)
        if folded in client.channels:
            return
        if len(client.channels) >= self.config.channels_per_client:
            self.send_numeric(client, N.ERR_TOOMANYCHANNELS, name,
                              "You have joined too many channels")
            return
        channel = self.registry.join(client, name, self.now_s)
        extra = self.topic_lines(client, channel, on_join=True) + self.names_lines(client, channel)
        self.effects.append(Emit("JOIN", client.source, channel.name, "", (folded,), (folded,),
                                 (), client.conn_id, channel.workers(), "\r\n".join(extra),
                                 origin_worker=client.worker))

    def part(self, client: ClientRecord, channel: ChannelRecord, reason: str) -> None:
        folded = channel.folded
        workers = channel.workers()
        self.registry.part(client, channel)
        self.effects.append(Emit("PART", client.source, channel.name, reason, (folded,),
                                 (folded,), (client.conn_id,), client.conn_id, workers))

    def topic_lines(self, client: ClientRecord, channel: ChannelRecord,
                    on_join: bool = False) -> list[str]:
        if not channel.topic:
            return [] if on_join else [self.numeric(client, N.RPL_NOTOPIC, channel.name,
                                                    "No topic is set")]
        return [self.numeric(client, N.RPL_TOPIC, channel.name, channel.topic),
                self.numeric(client, N.RPL_TOPICWHOTIME, channel.name, channel.topic_setter,
                             str(channel.topic_ts_ms // 1000))]

    def names_lines(self, client: ClientRecord, channel: ChannelRecord) -> list[str]:
        """353 lines (each kept under the 512-byte limit) and the closing 366."""
        # An empty last parameter formats as " :", so the names joined below are the trailing
        # parameter (353 <client> <symbol> <channel> :<nick>{ <nick>}).
        head = self.numeric(client, N.RPL_NAMREPLY, "=", channel.name, "")
        budget = MAX_BODY_BYTES - 2 - len(head.encode())  # 2: CRLF
        full = "userhost-in-names" in client.caps  # IRCv3: nick!user@host in NAMES
        lines = [head + piece for piece in pack_words(channel.names_text(full), budget)]
        lines.append(self.numeric(client, N.RPL_ENDOFNAMES, channel.name, "End of /NAMES list"))
        return lines

    @staticmethod
    def _relayed_too_long(client: ClientRecord, kind: str, target: str, text: str) -> bool:
        line = f":{client.source} {kind} {target} :{text}"
        return len(line.encode("utf-8")) + 2 > MAX_BODY_BYTES

    def set_topic(self, client: ClientRecord, channel: ChannelRecord, text: str,
                  ts_ms: int) -> None:
        self.registry.set_topic(channel, text, client.nick or "", ts_ms)
        self.effects.append(Emit("TOPIC", client.source, channel.name, text, (channel.folded,),
                                 (channel.folded,), (), client.conn_id, channel.workers()))

    def message(self, client: ClientRecord, kind: str, target: str, text: str,
                tags: str = "") -> None:
        """PRIVMSG, NOTICE or TAGMSG to one target. Per RFC 2812 3.3.2, no error goes back
        for a NOTICE."""
        quiet = kind == "NOTICE"
        if self._relayed_too_long(client, kind, target, text):
            # RFC 1459: a line is at most 512 bytes. Relaying this one with the sender's
            # prefix would break that, and cutting it would lose text silently: refuse it.
            if not quiet:
                self.send_numeric(client, N.ERR_INPUTTOOLONG,
                                  "Message too long once relayed with your nick!user@host; "
                                  "split it")
            return
        if is_channel_name(target):
            channel = self.registry.channel(target)
            if channel is None:
                if not quiet:
                    self.send_numeric(client, N.ERR_NOSUCHCHANNEL, target, "No such channel")
                return
            if client.conn_id not in channel.members:  # channel mode +n
                if not quiet:
                    self.send_numeric(client, N.ERR_CANNOTSENDTOCHAN, channel.name,
                                      "Cannot send to channel (you are not in it)")
                return
            self.effects.append(Emit(kind, client.source, channel.name, text, (channel.folded,),
                                     (channel.folded,), (), client.conn_id, channel.workers(),
                                     tags=tags))
            return
        other = self.registry.find_nick(target)
        if other is None or not other.registered:
            if not quiet:
                self.send_numeric(client, N.ERR_NOSUCHNICK, target, "No such nick/channel")
            return
        convs = events.private_timelines(client.nick or "", other.nick or "")
        # The sender's worker gets it too: it echoes the message (echo-message) once stored.
        workers = tuple({other.worker, client.worker})
        self.effects.append(Emit(kind, client.source, other.nick or "", text, convs, (),
                                 (other.conn_id,), client.conn_id, workers, tags=tags))
        if other.away is not None and not quiet:
            self.send_numeric(client, N.RPL_AWAY, other.nick or "", other.away)
