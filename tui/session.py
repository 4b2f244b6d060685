"""The client side of the IRC conversation: registration (with CAP), keeping the connection
alive, batches and labels, turning what the server says into lines in the buffers, and sending
our messages so that each is stored exactly once.

`Session` is sans-I/O: the event loop hands it received lines (and the current time) and
executes the effects it returns (`Send` a line, `AskNick` the user for another nick,
`Disconnect`). It mutates `State` directly: buffers are plain data shared with the UI. Timers
(CAP fallback, autojoin fallback, keepalive PING) are driven by `tick(now)` and
`next_deadline()`. Membership events live in `membership`, CHATHISTORY in `history`, our
unacknowledged messages in `outbox`. No sockets, no terminal.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from ircproto import numerics as N
from ircproto.casemap import casefold, irc_equal
from ircproto.framing import MAX_BODY_BYTES, split_utf8
from ircproto.message import Message, ProtocolError, format_message, parse
from ircproto.validate import NICKLEN
from tui.batch import Batch, Batches
from tui.caps import CapNegotiation
from tui.effects import AskNick, Disconnect, Effect, Send, send
from tui.history import History
from tui.membership import Membership, event_text
from tui.outbox import NONCE_TAG, Outbox
from tui.state import Buffer, BufferKind, Kind, Line, State

CAP_WAIT = timedelta(seconds=5)  # a server that swallows CAP LS must not block registration
AUTOJOIN_WAIT = timedelta(seconds=1)  # after end of MOTD: time for the server's autojoin
WELCOME_JOIN_WAIT = timedelta(seconds=4)  # when no end-of-MOTD ever comes
PING_IDLE = timedelta(seconds=60)  # silence before we probe the server
PING_TIMEOUT = timedelta(seconds=30)  # no answer to the probe: the connection is dead
# Without our exact user@host, assume the longest usual ones (user 10, host 63 bytes) so a
# relayed message never exceeds 512 bytes.
UNKNOWN_MASK_TAIL = "!" + "u" * 10 + "@" + "h" * 63
CTCP = "\x01"
# Errors that mean a message to that target was not delivered (when no label tells which).
DELIVERY_ERRORS = (N.ERR_NOSUCHNICK, N.ERR_NOSUCHCHANNEL, N.ERR_CANNOTSENDTOCHAN)

__all__ = ["AskNick", "Disconnect", "Effect", "Send", "Session", "parse_server_time", "send"]


def parse_server_time(value: str | None) -> datetime | None:
    """IRCv3 server-time (`2026-11-25T18:57:25.123Z`) to an aware datetime, None if absent or
    malformed (a bad tag must not lose the message)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11 reads the "Z"
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def suggest_nick(nick: str) -> str:
    """A variant of a taken nick: append '_' (or replace the last character when too long)."""
    return (nick + "_") if len(nick) < NICKLEN else (nick[:-1] + "_")


class Session:
    """One user's IRC state across connections (buffers survive a reconnect)."""

    def __init__(self, state: State, nick: str, *, user: str = "tui", realname: str = "tui",
                 channel: str = "#lobby", channel_explicit: bool = False,
                 new_nonce: Callable[[], str] = lambda: secrets.token_hex(8)):
        self.state = state
        self.nick = nick
        self.user = user
        self.realname = realname
        self.channel = channel
        self.channel_explicit = channel_explicit
        self.registered = False
        self.connected = False
        self.cap = CapNegotiation()
        self.batches = Batches()
        self.outbox = Outbox(self, new_nonce)
        self.history = History(self)
        self.membership = Membership(self)
        self.membership.on_joined = self._on_joined
        self.mask: str | None = None  # nick!user@host as the server announced it
        self.chantypes = "#&"
        self.prefixes = "~&@%+"
        self.now = datetime.now().astimezone()
        self.last_server_time: datetime | None = None  # newest `time` tag received
        self._resume_from: datetime | None = None  # last_server_time when we were in sync
        self._ready = False  # registered, ISUPPORT read, private conversations caught up
        self._labels = 0
        self._label: str | None = None  # label of the response being handled
        self._cap_deadline: datetime | None = None
        self._join_deadline: datetime | None = None
        self._rejoin: list[str] = []
        self._last_rx: datetime | None = None
        self._ping_sent: datetime | None = None
        self._handlers: dict[str, Callable[[Message, datetime], list[Effect]]] = {
            "CAP": self.handle_cap, "PING": self.handle_ping, "ERROR": self.handle_error,
            "PRIVMSG": self.handle_privmsg, "NOTICE": self.handle_notice,
            "PONG": lambda m, w: [], "ACK": lambda m, w: [], "BATCH": lambda m, w: [],
            "FAIL": self.handle_standard_reply, "WARN": self.handle_standard_reply,
            "NOTE": self.handle_standard_reply,
            N.RPL_WELCOME: self.handle_welcome, N.RPL_ISUPPORT: self.handle_isupport,
            N.RPL_ENDOFMOTD: self.handle_endofmotd, N.ERR_NOMOTD: self.handle_endofmotd,
            N.RPL_MOTDSTART: lambda m, w: [], N.RPL_MOTD: self.handle_motd,
            N.ERR_NICKNAMEINUSE: self.handle_nick_error,
            N.ERR_ERRONEUSNICKNAME: self.handle_nick_error,
            N.ERR_UNKNOWNCOMMAND: self.handle_unknowncommand,
            **self.membership.handlers(),
        }

    @property
    def caps(self) -> set[str]:
        return self.cap.enabled

    def new_label(self) -> str:
        self._labels += 1
        return f"tui{self._labels}"

    # -- connection lifecycle ------------------------------------------------------------
    def connect(self, now: datetime) -> list[Effect]:
        """A new connection is up: start registration. CAP LS 302 goes first so a CAP-aware
        server holds registration until CAP END (IRCv3 capability negotiation)."""
        self.now = now
        self.connected = True
        self.registered = False
        self._ready = False
        self.mask = None
        self._labels = 0
        self._cap_deadline = now + CAP_WAIT
        self._join_deadline = None
        self.membership.reset()
        self._last_rx = now
        self._ping_sent = None
        self._info(self.state.server, f"Connecting as {self.nick}...", now)
        return [Send(line) for line in self.cap.start()] + [
            send("NICK", self.nick), send("USER", self.user, "0", "*", self.realname)]

    def disconnected(self, reason: str, now: datetime) -> None:
        """The connection is gone: remember joined channels for the next connection, and
        what we may have missed since when."""
        if not self.connected:
            return
        if self._ready and not self.history.busy and self.last_server_time is not None:
            # Everything up to here was seen (a catch-up cut short keeps the older mark).
            self._resume_from = self.last_server_time
        self.connected = False
        self.registered = False
        self._ready = False
        self._cap_deadline = self._join_deadline = self._ping_sent = None
        self.batches.reset()
        self.history.reset()
        self.outbox.connection_lost()
        rejoin = []
        for buf in self.state.buffers:
            if buf.kind == BufferKind.CHANNEL and buf.joined:
                rejoin.append(buf.name)
                buf.joined = False
                buf.rejoin = True
                buf.users.clear()
            if buf.kind != BufferKind.QUERY:
                self.state.add(buf, Line(now, Kind.ERROR, "Disconnected: " + reason))
        self._rejoin = rejoin or self._rejoin

    def quit(self, reason: str) -> list[Effect]:
        return [send("QUIT", reason)] if self.connected else []

    def choose_nick(self, nick: str) -> list[Effect]:
        """The user's answer to AskNick (or /nick)."""
        if not self.registered:
            self.nick = nick
        return [send("NICK", nick)] if self.connected else []

    # -- timers ----------------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        deadlines = [d for d in (self._cap_deadline, self._join_deadline,
                                 self.history.deadline()) if d is not None]
        if self.connected and self._last_rx is not None:
            deadlines.append(self._ping_sent + PING_TIMEOUT if self._ping_sent
                             else self._last_rx + PING_IDLE)
        return min(deadlines, default=None)

    def tick(self, now: datetime) -> list[Effect]:
        self.now = now
        out: list[Effect] = []
        if self._cap_deadline is not None and now >= self._cap_deadline:
            self._cap_deadline = None
            out += [Send(line) for line in self.cap.give_up()]
        if self._join_deadline is not None and now >= self._join_deadline:
            self._join_deadline = None
            out += self._fallback_joins()
            out += self._on_ready()
        out += self.history.expire(now)
        if self.connected and self._last_rx is not None:
            if self._ping_sent is not None and now >= self._ping_sent + PING_TIMEOUT:
                self._ping_sent = None
                out.append(Disconnect("ping timeout"))
            elif self._ping_sent is None and now >= self._last_rx + PING_IDLE:
                self._ping_sent = now
                out.append(send("PING", "tui"))
        return out

    def _fallback_joins(self) -> list[Effect]:
        """After the server had its chance to autojoin us: join what the user asked for and
        what we were in before a reconnect."""
        wanted = list(self._rejoin)
        if self.channel_explicit or not any(
                b.joined for b in self.state.buffers if b.kind == BufferKind.CHANNEL):
            wanted.insert(0, self.channel)
        if self.channel_explicit and not self._rejoin:
            # First connection only: after a reconnect the user stays where they were.
            self.membership.focus_on_join.add(casefold(self.channel))
        out: list[Effect] = []
        seen = set()
        for name in wanted:
            buf = self.state.get(name)
            if casefold(name) in seen or (buf is not None and buf.joined):
                continue
            seen.add(casefold(name))
            out.append(send("JOIN", name))
        self._rejoin = []
        return out

    def _on_ready(self) -> list[Effect]:
        """Registered and ISUPPORT read: catch up private conversations (those we have, and
        with TARGETS those we missed entirely), then send what waits for them."""
        if self._ready or not self.registered:
            return []
        self._ready = True
        out: list[Effect] = []
        if self.history.enabled:
            if self._resume_from is not None:
                out += self.history.discover(self._resume_from,
                                             max(self.now, self.last_server_time or self.now))
            for buf in list(self.state.buffers):
                if buf.kind == BufferKind.QUERY:
                    out += self.history.sync(buf)
        return out + self.flush()

    # -- receiving -------------------------------------------------------------------------
    def receive(self, raw: str, now: datetime) -> list[Effect]:
        """Handle one received line (already decoded, without CRLF)."""
        self.now = now
        self._last_rx = now
        self._ping_sent = None
        try:
            msg = parse(raw)
        except ProtocolError:
            return []  # a malformed line from the server is not worth a crash or a popup
        stamp = parse_server_time(msg.tags.get("time"))
        if stamp is not None and (self.last_server_time is None
                                  or stamp > self.last_server_time):
            self.last_server_time = stamp
        consumed, finished = self.batches.feed(msg)
        if finished is not None:
            return self._on_batch(finished, None)
        if consumed:
            return []
        label = msg.tags.get("label") if "labeled-response" in self.caps else None
        return self._dispatch(msg, label) + (self.outbox.label_done(label) if label else [])

    @staticmethod
    def server_time(value: str | None) -> datetime | None:
        """For the modules that cannot import this one: `parse_server_time`."""
        return parse_server_time(value)

    def _dispatch(self, msg: Message, label: str | None) -> list[Effect]:
        when = parse_server_time(msg.tags.get("time")) or self.now
        handler = self._handlers.get(msg.command)
        if handler is None:
            handler = self.handle_numeric if msg.command.isdigit() else None
        if handler is None:
            return []
        outer, self._label = self._label, label
        try:
            return handler(msg, when)
        finally:
            self._label = outer

    def _on_batch(self, batch: Batch, label: str | None) -> list[Effect]:
        label = batch.label or label
        if batch.type == "chathistory":
            out = self.history.on_page(batch, label)
        elif batch.type == "draft/chathistory-targets":
            out = self.history.on_targets(batch, label)
        else:  # labeled-response, netsplit, ...: the lines as if unbatched
            out = []
            for item in batch.items:
                out += self._on_batch(item, label) if isinstance(item, Batch) \
                    else self._dispatch(item, label)
        if batch.parent is None and batch.label:
            out += self.outbox.label_done(batch.label)
        return out

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def is_me(self, nick: str | None) -> bool:
        return nick is not None and irc_equal(nick, self.nick)

    def strip_prefix(self, name: str) -> str:
        return name.lstrip(self.prefixes)

    # -- registration ------------------------------------------------------------------------
    def handle_cap(self, msg: Message, when: datetime) -> list[Effect]:
        had_history, had_echo = self.history.enabled, "echo-message" in self.caps
        lines, changed = self.cap.on_cap(msg)
        out: list[Effect] = [Send(line) for line in lines]
        if self.cap.ended:
            self._cap_deadline = None
        if changed and had_echo and "echo-message" not in self.caps:
            # No echo will come for what was written: count it as sent, as without echoes.
            self.outbox.echo_lost()
        if changed and had_history and not self.history.enabled:
            out += self.history.fail_all()
        return out

    def handle_unknowncommand(self, msg: Message, when: datetime) -> list[Effect]:
        command = (msg.param(1) or "").upper()
        if command == "CAP":
            self._cap_deadline = None  # a pre-IRCv3 server: registration goes on without CAP
            self.cap.ended = True
            return []
        if command == "CHATHISTORY":
            return self.history.fail_all()
        return self.handle_numeric(msg, when)

    def handle_welcome(self, msg: Message, when: datetime) -> list[Effect]:
        self.registered = True
        self.cap.ended = True
        self._cap_deadline = None
        self.nick = msg.param(0) or self.nick  # the server may have changed it
        last_word = (msg.params[-1] if msg.params else "").split(" ")[-1]
        if "!" in last_word and "@" in last_word:
            self.mask = last_word
        self._join_deadline = self.now + WELCOME_JOIN_WAIT
        self._info(self.state.server, msg.params[-1] if msg.params else "Welcome", when)
        return []

    def handle_isupport(self, msg: Message, when: datetime) -> list[Effect]:
        for token in msg.params[1:-1]:
            key, _, value = token.partition("=")
            if key == "CHANTYPES" and value:
                self.chantypes = value
            elif key == "PREFIX" and ")" in value:
                self.prefixes = value.split(")", 1)[1]
            else:
                self.history.on_isupport(key, value)
        return []

    def handle_motd(self, msg: Message, when: datetime) -> list[Effect]:
        self._info(self.state.server, msg.params[-1] if msg.params else "", when)
        return []

    def handle_endofmotd(self, msg: Message, when: datetime) -> list[Effect]:
        if msg.command == N.ERR_NOMOTD:
            self._info(self.state.server, msg.params[-1] if msg.params else "No MOTD", when)
        if not self.registered:
            return []
        deadline = self.now + AUTOJOIN_WAIT
        if self._join_deadline is None or deadline < self._join_deadline:
            self._join_deadline = deadline
        return self._on_ready()

    def handle_nick_error(self, msg: Message, when: datetime) -> list[Effect]:
        bad = msg.param(1) or self.nick
        reason = msg.params[-1] if len(msg.params) > 2 else ""
        if msg.command == N.ERR_NICKNAMEINUSE:
            text = f"The nick {bad} is already taken."
            suggestion = suggest_nick(bad)
        else:
            text = f"The nick {bad} is not allowed ({reason})." if reason else \
                f"The nick {bad} is not allowed."
            suggestion = "".join(ch for ch in bad if ch.isascii() and ch.isalnum()) or "guest"
            if suggestion[0].isdigit():
                suggestion = "g" + suggestion
        if self.registered:
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
            return []
        self.state.add(self.state.server, Line(when, Kind.ERROR, text))
        return [AskNick(text, suggestion[:NICKLEN])]

    def handle_ping(self, msg: Message, when: datetime) -> list[Effect]:
        return [Send(format_message(Message("PONG", msg.params or ("tui",))))]

    def handle_error(self, msg: Message, when: datetime) -> list[Effect]:
        text = msg.params[-1] if msg.params else "connection closed"
        self.state.add(self.state.server, Line(when, Kind.ERROR, "Server: " + text))
        return []

    def handle_standard_reply(self, msg: Message, when: datetime) -> list[Effect]:
        """IRCv3 standard replies: `FAIL|WARN|NOTE <command> <code> [context...] :text`."""
        if msg.command == "FAIL" and (msg.param(0) or "").upper() == "CHATHISTORY":
            handled = self.history.on_fail(msg, self._label)
            if handled is not None:
                return handled
        text = f"{msg.param(0)} {msg.param(1)}: {msg.params[-1]}" if len(msg.params) > 2 \
            else " ".join(msg.params)
        if msg.command == "FAIL":
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
        else:
            self._info(self.state.server, text, when)
        return []

    # -- channels and queries ----------------------------------------------------------------
    def _on_joined(self, buf: Buffer) -> list[Effect]:
        """Our JOIN arrived: fetch the history we lack, then send what waited for the join."""
        return self.history.sync(buf) + self.flush()

    def request_names(self, channel: str) -> list[Effect]:
        self.membership.names_show.add(casefold(channel))
        return [send("NAMES", channel)]

    def request_join(self, channel: str) -> list[Effect]:
        self.membership.focus_on_join.add(casefold(channel))
        buf = self.state.get(channel)
        if buf is not None and buf.joined:
            self.state.focus(buf)
            return []
        return [send("JOIN", channel)]

    def open_query(self, nick: str) -> tuple[Buffer, list[Effect]]:
        """A private buffer (new ones start with the conversation's latest history)."""
        buf = self.state.get(nick)
        if buf is not None:
            return buf, []
        buf = self.state.open(nick, BufferKind.QUERY)
        return buf, (self.history.sync(buf) if self._ready else [])

    def load_older(self, buf: Buffer) -> list[Effect]:
        return self.history.load_older(buf) if self.registered else []

    # -- messages ------------------------------------------------------------------------------
    def _target_buffer(self, msg: Message, target: str, create: bool) -> tuple[Buffer, bool]:
        """The buffer a message belongs in, and whether it was just created."""
        nick = msg.source_nick
        if self.is_channel(target):
            return self.state.open(target, BufferKind.CHANNEL), False
        if msg.source is None or (nick and "." in nick and "!" not in msg.source):
            return self.state.server, False  # from the server itself
        other = target if self.is_me(nick) else nick or target
        if irc_equal(other, self.nick) or other == "*":
            return self.state.server, False
        existing = self.state.get(other)
        if existing is not None:
            return existing, False
        if create:
            return self.state.open(other, BufferKind.QUERY), True
        return self.state.current, False

    def handle_privmsg(self, msg: Message, when: datetime) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if text.startswith(CTCP):
            command, _, arg = text.strip(CTCP).partition(" ")
            if command.upper() != "ACTION":
                return self._ctcp_request(msg, nick, command.upper(), arg, when)
        if self.is_me(nick) and self.outbox.confirm_echo(msg, when, self._label):
            return []
        buf, created = self._target_buffer(msg, target, create=True)
        self._chat(buf, msg, when)
        if created and self._ready:
            return self.history.sync(buf)  # a new conversation: show what came before
        return []

    def handle_notice(self, msg: Message, when: datetime) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if self.is_me(nick) and (text.startswith(CTCP)
                                 or self.outbox.confirm_echo(msg, when, self._label)):
            return []  # the echo of our CTCP reply, or of a NOTICE we sent
        if not self.registered and not self.is_channel(target):
            buf = self.state.server
        else:
            buf, _ = self._target_buffer(msg, target, create=False)
        self._chat(buf, msg, when)
        return []

    def _ctcp_request(self, msg: Message, nick: str, command: str, arg: str,
                      when: datetime) -> list[Effect]:
        if self.is_me(nick):
            return []  # the echo of a CTCP we sent
        self._info(self.state.server, f"CTCP {command} from {nick}", when)
        if self.is_channel(msg.param(0) or ""):
            return []  # replying to a channel CTCP invites floods
        if command == "VERSION":
            return [send("NOTICE", nick, f"{CTCP}VERSION tui (chatd client){CTCP}")]
        if command == "PING":
            return [send("NOTICE", nick, f"{CTCP}PING {arg}{CTCP}")]
        return []

    def message_line(self, msg: Message, when: datetime, history: bool) -> Line | None:
        """A PRIVMSG/NOTICE (a /me included) as a buffer line; None for CTCP requests."""
        nick = msg.source_nick or "server"
        text = msg.param(1) or ""
        kind = Kind.MESSAGE if msg.command == "PRIVMSG" else Kind.NOTICE
        if text.startswith(CTCP):
            command, _, rest = text.strip(CTCP).partition(" ")
            if msg.command == "NOTICE":
                text = "CTCP reply: " + text.strip(CTCP)
            elif command.upper() == "ACTION":
                kind, text = Kind.ACTION, rest
            else:
                return None
        own = self.is_me(nick)
        return Line(when, kind, text, nick=nick, own=own,
                    mention=not own and self.mentions_me(text), history=history,
                    msgid=msg.tags.get("msgid", ""),
                    nonce=msg.tags.get(NONCE_TAG, "") if own else "")

    def history_line(self, msg: Message) -> Line | None:
        """A line of a history page (events only come with draft/event-playback)."""
        when = parse_server_time(msg.tags.get("time")) or self.now
        if msg.command in ("PRIVMSG", "NOTICE"):
            return self.message_line(msg, when, history=True)
        text = event_text(msg)
        if text is None:
            return None  # TAGMSG and anything else without a visible form
        return Line(when, Kind.EVENT, text, history=True, msgid=msg.tags.get("msgid", ""))

    def _chat(self, buf: Buffer, msg: Message, when: datetime) -> None:
        history = "time" in msg.tags and buf.join_time is not None and when < buf.join_time
        line = self.message_line(msg, when, history)
        if line is None:
            return
        if history and line.own:
            # A server without CHATHISTORY replays on JOIN: a message of ours we could not
            # confirm may be in it (compared by text: there may be no tags).
            entry = self.outbox.find_text(msg.param(0) or "", msg.param(1) or "")
            if entry is not None:
                self.outbox.confirm(entry, line)
                return
        self.state.add(buf, line)

    def mentions_me(self, text: str) -> bool:
        pattern = r"(?<![\w\[\]\\`^{|}-])" + re.escape(casefold(self.nick)) + \
            r"(?![\w\[\]\\`^{|}-])"
        return re.search(pattern, casefold(text)) is not None

    # -- numerics nobody else handles --------------------------------------------------------
    def handle_numeric(self, msg: Message, when: datetime) -> list[Effect]:
        params = list(msg.params[1:])  # params[0] is our nick
        if not params:
            return []
        if msg.command in DELIVERY_ERRORS and not self._label:
            self.outbox.delivery_failed(params[0])
        text = " ".join(params)
        if msg.command[0] in "45":
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
        else:
            self._info(self.state.server, text, when)
        return []

    # -- sending ---------------------------------------------------------------------------
    def text_budget(self, command: str, target: str) -> int:
        """UTF-8 bytes of text one message may carry so the line the server relays to others
        (`:nick!user@host COMMAND target :text\\r\\n`) stays within 512 bytes."""
        mask = self.mask if self.mask and self.is_me(self.mask.split("!")[0]) \
            else self.nick + UNKNOWN_MASK_TAIL
        overhead = len(f":{mask} {command} {target} :".encode()) + 2
        return max(MAX_BODY_BYTES - overhead, 16)

    def say(self, target: str, text: str, now: datetime, *, action: bool = False,
            show_in: Buffer | None = None) -> list[Effect]:
        """Send a message (or /me action) to a channel or nick, split into as many messages
        as needed, shown in the right buffer; offline, it waits in the outbox."""
        if not text:
            return []
        budget = self.text_budget("PRIVMSG", target) - (len(CTCP + "ACTION " + CTCP)
                                                        if action else 0)
        buf = show_in or (self.state.open(target, BufferKind.CHANNEL if self.is_channel(target)
                                          else BufferKind.QUERY))
        for piece in split_utf8(text, budget):
            self.outbox.add(target, piece, buf, now, action=action)
        return self.flush()

    def flush(self) -> list[Effect]:
        return self.outbox.flush()

    def can_write_to(self, buf: Buffer) -> bool:
        """May a message shown in `buf` be written now? Registered, the channel joined, its
        history caught up (so a message stored before a reconnect is found there by its
        nonce, not sent twice)."""
        if not (self.connected and self.registered) or buf in self.history.syncing:
            return False
        if buf.kind == BufferKind.CHANNEL and (buf.joined or buf.rejoin):
            return buf.joined  # a channel we are (re)joining: after the join
        return self._ready

    def _info(self, buf: Buffer, text: str, when: datetime) -> None:
        self.state.add(buf, Line(when, Kind.INFO, text))
