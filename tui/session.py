"""The client side of one user's IRC conversation, across connections: the connection's
lifecycle and timers, batches and labels, routing what the server says to the part that
handles it, and the requests the user makes (join, query, say).

`Session` is sans-I/O: the event loop hands it received lines (and the current time) and
executes the effects it returns (`Send` a line, `AskNick` the user for another nick,
`Disconnect`). Timers (CAP fallback, autojoin fallback, keepalive, history requests) are
driven by `tick(now)` and `next_deadline()`. It owns the `ClientContext` its parts read and
applies the changes they return: registration in `registration`, chat lines in `chat`,
membership events in `membership`, modes, lists and invites in `moderation`, CHATHISTORY in
`history`, our unacknowledged messages in `outbox`, the PING probe in `keepalive`, SASL and
/register in `login`. No sockets, no terminal; it handles no IRC reply itself beyond routing
and the end of registration.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.ctcp import ACTION_PREFIX, DELIM
from ircproto.framing import MAX_BODY_BYTES, split_utf8
from ircproto.message import Message, ProtocolError, parse
from ircproto.servertime import server_time_datetime
from tui import multiline
from tui.batch import Batch, Batches
from tui.caps import CapNegotiation
from tui.chat import Chat
from tui.context import ClientContext
from tui.effects import Effect, send
from tui.history import REQUIRED_CAPS, History
from tui.keepalive import Keepalive
from tui.login import Login
from tui.membership import (Change, JoinedChannel, LeftChannel, Membership, NickChanged,
                            PartnerRenamed)
from tui.moderation import Moderation
from tui.outbox import Outbox
from tui.people import People
from tui.read_markers import ReadMarkers
from tui.registration import (CapsChanged, NickReserved, Registration, RegistrationChange,
                              ServerSupport, Welcomed)
from tui.rejoining import Joins, no_history_to_restore
from tui.results import Results
from tui.search import BATCH_TYPES, Search
from tui.state import Buffer, BufferKind, Kind, Line, State
from tui.typing_notices import TypingNotices

AUTOJOIN_WAIT = timedelta(seconds=1)  # after end of MOTD: time for the server's autojoin
WELCOME_JOIN_WAIT = timedelta(seconds=4)  # when no end-of-MOTD ever comes
# Without our exact user@host, assume the longest usual ones (user 10, host 63 bytes) so a
# relayed message never exceeds 512 bytes.
UNKNOWN_MASK_TAIL = "!" + "u" * 10 + "@" + "h" * 63

Handler = Callable[[Message, datetime], list[Effect | Change | RegistrationChange]]


class Session:
    """One user's IRC state across connections (buffers survive a reconnect)."""

    def __init__(self, state: State, nick: str, *, user: str = "tui", realname: str = "tui",
                 channel: str = "#lobby", channel_explicit: bool = False,
                 autojoin: tuple[str, ...] = (),
                 new_nonce: Callable[[], str] = lambda: secrets.token_hex(8)):
        self.state = state
        cap = CapNegotiation()
        self.ctx = ClientContext(state, nick, caps=cap.enabled, now=datetime.now().astimezone())
        self.joins = Joins(self.ctx, channel, channel_explicit, autojoin)
        self.registration = Registration(self.ctx, cap, user=user, realname=realname)
        self.login = Login(self.ctx, cap)
        self.batches = Batches()
        self.outbox = Outbox(self.ctx, new_nonce)
        self.history = History(self.ctx, self.outbox)
        self.membership = Membership(self.ctx)
        self.moderation = Moderation(self.ctx)
        self.read_markers = ReadMarkers(self.ctx)
        self.chat = Chat(self.ctx, self.outbox, self.history)
        self.people = People(self.ctx)
        self.typing = TypingNotices(self.ctx)
        self.results = Results(self.ctx)
        self.search = Search(self.ctx, self.history, self.results)
        self.keepalive = Keepalive()
        self.last_server_time: datetime | None = None  # newest `time` tag received
        self._resume_from: datetime | None = None  # last_server_time when we were in sync
        self._label: str | None = None  # label of the response being handled
        self._join_deadline: datetime | None = None
        self._handlers: dict[str, Handler] = {
            "PRIVMSG": lambda m, w: self.chat.handle_privmsg(m, w, self._label),
            "NOTICE": lambda m, w: self.chat.handle_notice(m, w, self._label),
            "PONG": lambda m, w: [], "ACK": lambda m, w: [], "BATCH": lambda m, w: [],
            "FAIL": self.handle_standard_reply, "WARN": self.handle_standard_reply,
            "NOTE": self.handle_standard_reply, "JOIN": self.handle_join,
            N.RPL_ENDOFMOTD: self.handle_endofmotd, N.ERR_NOMOTD: self.handle_endofmotd,
            N.ERR_UNKNOWNCOMMAND: self.handle_unknowncommand,
            **self.registration.handlers(), **self.login.handlers(),
            **self.membership.handlers(), **self.moderation.handlers(),
            **self.read_markers.handlers(),
            **self.people.handlers(), "TAGMSG": self.typing.handle_tagmsg,
            **self.results.handlers(),
        }

    # The session's view for the UI: the context holds the values, the session writes them.
    @property
    def nick(self) -> str:
        return self.ctx.nick

    @nick.setter
    def nick(self, nick: str) -> None:
        self.ctx.nick = nick

    @property
    def caps(self) -> set[str]:
        return self.ctx.caps

    @property
    def mask(self) -> str | None:
        return self.registration.mask

    @property
    def connected(self) -> bool:
        return self.ctx.connected

    @property
    def registered(self) -> bool:
        return self.ctx.registered

    def is_me(self, nick: str | None) -> bool:
        return self.ctx.is_me(nick)

    def is_channel(self, name: str) -> bool:
        return self.ctx.is_channel(name)

    def nick_max_len(self) -> int:
        return self.ctx.nick_max_len()

    # -- connection lifecycle ------------------------------------------------------------
    def connect(self, now: datetime) -> list[Effect]:
        """A new connection is up: start registration."""
        ctx = self.ctx
        ctx.now = now
        ctx.connected, ctx.registered, ctx.ready = True, False, False
        ctx.labels = 0
        self._join_deadline = None
        self.membership.reset()
        self.moderation.reset()
        self.read_markers.reset()
        self.people.reset()
        self.typing.reset()
        self.search.reset()
        self.keepalive.start(now)
        self._info(self.state.server, f"Connecting as {ctx.nick}...", now)
        self.login.connection_started()
        return self.registration.start(now)

    def disconnected(self, reason: str, now: datetime) -> None:
        """The connection is gone: remember joined channels for the next connection, and
        what we may have missed since when."""
        ctx = self.ctx
        if not ctx.connected:
            return
        if ctx.ready and not self.history.busy and self.last_server_time is not None:
            # Everything up to here was seen (a catch-up cut short keeps the older mark).
            self._resume_from = self.last_server_time
        ctx.connected, ctx.registered, ctx.ready = False, False, False
        self._join_deadline = None
        self.registration.stop()
        self.login.stop()
        self.keepalive.stop()
        self.batches.reset()
        self.history.reset()
        self.outbox.connection_lost()
        self.joins.connection_lost()
        for buf in self.state.buffers:
            if buf.kind in (BufferKind.SERVER, BufferKind.CHANNEL):
                self.state.add(buf, Line(now, Kind.ERROR, "Disconnected: " + reason))

    def quit(self, reason: str) -> list[Effect]:
        return [send("QUIT", reason)] if self.ctx.connected else []

    def choose_nick(self, nick: str) -> list[Effect]:
        """The user's answer to AskNick (or /nick)."""
        if not self.ctx.registered:
            self.ctx.nick = nick
        return [send("NICK", nick)] if self.ctx.connected else []

    # -- timers ----------------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        deadlines = [self.registration.cap_deadline, self._join_deadline,
                     self.history.deadline(), self.login.deadline, self.read_markers.due,
                     self.typing.deadline()]
        if self.ctx.connected:
            deadlines.append(self.keepalive.deadline())
        return min((d for d in deadlines if d is not None), default=None)

    def tick(self, now: datetime) -> list[Effect]:
        self.ctx.now = now
        out = self.registration.tick(now) + self.login.tick(now)
        if self._join_deadline is not None and now >= self._join_deadline:
            self._join_deadline = None
            out += self._fallback_joins()
            out += self._on_ready()
        out += self.history.expire(now) + self.read_markers.outgoing(now)
        out += self.typing.tick(now)
        if self.ctx.connected:
            out += self.keepalive.tick(now)
        return out

    def _fallback_joins(self) -> list[Effect]:
        out, focus = self.joins.after_registration()
        if focus is not None:
            self.membership.focus_on_join.add(casefold(focus))
        return out

    def _on_ready(self) -> list[Effect]:
        """Registered and ISUPPORT read: catch up private conversations (those we have, and
        with TARGETS those we missed entirely), then send what waits for them."""
        ctx = self.ctx
        if ctx.ready or not ctx.registered:
            return []
        ctx.ready = True
        out: list[Effect] = []
        if self.history.enabled:
            if self._resume_from is not None:
                out += self.history.discover(self._resume_from,
                                             max(ctx.now, self.last_server_time or ctx.now))
            for buf in list(self.state.buffers):
                if buf.kind == BufferKind.QUERY:
                    out += self.history.sync(buf)
        else:
            no_history_to_restore(self.state, ctx.now)
        return out + self.people.on_ready() + self.flush()

    def remember(self, channels: list[str], seen_until: datetime | None) -> None:
        """From the last run: channels to join once connected, and until when we had seen
        everything (private conversations started since are looked for)."""
        self.joins.remember(channels)
        self._resume_from = seen_until

    def seen_until(self) -> datetime | None:
        """Until when we have seen everything: the newest server time while in sync."""
        if self.ctx.ready and not self.history.busy and self.last_server_time is not None:
            return self.last_server_time
        return self._resume_from

    # -- receiving -------------------------------------------------------------------------
    def receive(self, raw: str, now: datetime) -> list[Effect]:
        """Handle one received line (already decoded, without CRLF)."""
        self.ctx.now = now
        self.keepalive.heard(now)
        try:
            msg = parse(raw)
        except ProtocolError:
            return []  # a malformed line from the server is not worth a crash or a popup
        stamp = server_time_datetime(msg.tags.get("time"))
        if stamp is not None and (self.last_server_time is None
                                  or stamp > self.last_server_time):
            self.last_server_time = stamp
        consumed, finished = self.batches.feed(msg)
        if finished is not None:
            return self._on_batch(finished, None)
        if consumed:
            return []
        label = msg.tags.get("label") if "labeled-response" in self.caps else None
        return self._dispatch(msg, label, stamp) + \
            (self.outbox.label_done(label) if label else [])

    def _dispatch(self, msg: Message, label: str | None,
                  stamp: datetime | None = None) -> list[Effect]:
        when = stamp or server_time_datetime(msg.tags.get("time")) or self.ctx.now
        handler = self._handlers.get(msg.command)
        if handler is None:
            handler = self.handle_numeric if msg.command.isdigit() else None
        if handler is None:
            return []
        self.people.observe(msg)  # quits and renames: away states and typers follow them
        self.typing.observe(msg)
        outer, self._label = self._label, label
        try:
            return self._apply(handler(msg, when))
        finally:
            self._label = outer

    def _on_batch(self, batch: Batch, label: str | None) -> list[Effect]:
        label = batch.label or label
        if batch.type == "chathistory":
            out = self.history.on_page(batch, label)
        elif batch.type == "draft/chathistory-targets":
            out = self.history.on_targets(batch, label)
        elif batch.type == multiline.BATCH_TYPE:  # one message of several lines
            combined = multiline.combine(batch)
            out = self._dispatch(combined, label) if combined is not None else []
        elif batch.type in BATCH_TYPES:
            out = self.search.on_results(batch, label)
        else:  # labeled-response, netsplit, ...: the lines as if unbatched
            out = []
            for item in batch.items:
                out += self._on_batch(item, label) if isinstance(item, Batch) \
                    else self._dispatch(item, label)
        if batch.parent is None and batch.label:
            out += self.outbox.label_done(batch.label)
        return out

    def _apply(self, results: list[Effect | Change | RegistrationChange]) -> list[Effect]:
        """Apply the changes a part returned, in order; pass the effects on."""
        out: list[Effect] = []
        for result in results:
            if isinstance(result, Welcomed):
                self.ctx.registered, self.ctx.nick = True, result.nick
                self._join_deadline = self.ctx.now + WELCOME_JOIN_WAIT
            elif isinstance(result, ServerSupport):
                self.ctx.isupport = result.isupport
            elif isinstance(result, CapsChanged):
                out += self.login.caps_changed(result.before) + self._caps_changed(result.before)
            elif isinstance(result, NickReserved):
                out += self.login.nick_reserved(result.nick, result.reason)
            elif isinstance(result, NickChanged):
                self.ctx.nick = result.nick
            elif isinstance(result, JoinedChannel):
                # Fetch the history we lack, then send what waited for the join.
                out += self.history.sync(result.buffer) + self.flush()
                self.membership.show_joined(result)
            elif isinstance(result, LeftChannel):
                self.outbox.left(result.buffer)
            elif isinstance(result, PartnerRenamed):
                self.outbox.retarget(result.old, result.new)
            else:
                out.append(result)
        return out

    def handle_join(self, msg: Message, when: datetime) -> list[Effect]:
        # One channel at a time: our JOIN's catch-up is decided before the next channel.
        out: list[Effect] = []
        for name in (msg.param(0) or "").split(","):
            out += self._apply(self.membership.join(msg, name, when))
        return out

    def handle_standard_reply(self, msg: Message, when: datetime) -> list[Effect]:
        self.search.failed(msg, self._label)
        handled = self.login.standard_reply(msg, when)
        return self.chat.handle_standard_reply(msg, when, self._label) if handled is None \
            else handled

    def handle_numeric(self, msg: Message, when: datetime) -> list[Effect]:
        handled = self.login.other_numeric(msg)
        return self.chat.handle_numeric(msg, when, self._label) if handled is None else handled

    # -- end of registration ---------------------------------------------------------------
    def _caps_changed(self, before: frozenset[str]) -> list[Effect]:
        if "echo-message" in before and "echo-message" not in self.caps:
            # No echo will come for what was written: count it as sent, as without echoes.
            self.outbox.echo_lost()
        if REQUIRED_CAPS <= before and not self.history.enabled:
            return self.history.fail_all()
        return []

    def handle_unknowncommand(self, msg: Message, when: datetime) -> list[Effect]:
        command = (msg.param(1) or "").upper()
        if command == "CAP":
            self.registration.cap_unknown()
            return []
        if command == "CHATHISTORY":
            return self.history.fail_all()
        handled = self.login.unknown_command(command)
        return self.handle_numeric(msg, when) if handled is None else handled

    def handle_endofmotd(self, msg: Message, when: datetime) -> list[Effect]:
        if msg.command == N.ERR_NOMOTD:
            self._info(self.state.server, msg.params[-1] if msg.params else "No MOTD", when)
        if not self.ctx.registered:
            return []
        deadline = self.ctx.now + AUTOJOIN_WAIT
        if self._join_deadline is None or deadline < self._join_deadline:
            self._join_deadline = deadline
        return self._on_ready()

    # -- what the user asks for --------------------------------------------------------------
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
        return buf, (self.history.sync(buf) if self.ctx.ready else [])

    def load_older(self, buf: Buffer) -> list[Effect]:
        return self.history.load_older(buf) if self.ctx.registered else []

    def close(self, buf: Buffer) -> None:
        """Close a buffer the server need not hear about; what waits to be sent there cannot
        be (visibly)."""
        self.outbox.left(buf)
        self.state.close(buf)

    def text_budget(self, command: str, target: str) -> int:
        """UTF-8 bytes of text one message may carry so the line the server relays to others
        (`:nick!user@host COMMAND target :text\\r\\n`) stays within 512 bytes."""
        mask = self.mask if self.mask and self.is_me(self.mask.split("!")[0]) \
            else self.ctx.nick + UNKNOWN_MASK_TAIL
        overhead = len(f":{mask} {command} {target} :".encode()) + 2
        return max(MAX_BODY_BYTES - overhead, 16)

    def say(self, target: str, text: str, now: datetime, *, action: bool = False,
            show_in: Buffer | None = None) -> list[Effect]:
        """Send a message (or /me action) to a channel or nick, split into as many messages
        as needed, shown in the right buffer; offline, it waits in the outbox."""
        if not text:
            return []
        budget = self.text_budget("PRIVMSG", target) - (len(ACTION_PREFIX + DELIM)
                                                        if action else 0)
        buf = show_in or (self.state.open(target, BufferKind.CHANNEL if self.is_channel(target)
                                          else BufferKind.QUERY))
        if "\n" in text:  # the caller checked that it fits (multiline.can_send)
            self.outbox.add(target, text, buf, now, budget=budget)
            return self.flush()
        for piece in split_utf8(text, budget):
            self.outbox.add(target, piece, buf, now, action=action)
        return self.flush()

    def resend(self, buf: Buffer) -> list[Effect]:
        """/resend: the user decides that the unconfirmed messages in `buf` were lost."""
        self.outbox.resend(buf)
        return self.flush()

    def flush(self) -> list[Effect]:
        """Write what waits in the outbox and may be written now."""
        return self.history.flush_outbox()

    def _info(self, buf: Buffer, text: str, when: datetime) -> None:
        self.state.add(buf, Line(when, Kind.INFO, text))
