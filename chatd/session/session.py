"""One client connection's protocol state, as seen by its worker: registration (NICK, USER,
PASS, CAP), ping timeouts and the commands a worker answers alone. Pure: lines come in with
the current time, and the session collects effects for the worker to carry out — lines for
the client (`out`), frames for the master (`to_master`) and whether to close (`close_reason`).

Order of replies. A client's commands must be answered in the order it sent them, but some
are answered here at once and others by the master later. So when this session is about to
send a reply of its own after forwarding something to the master, it first sends the master a
SYNC and puts a SYNC_POINT in `out`: the worker holds everything after that point until the
master's SYNCED comes back, which the master sends only after its replies to the earlier
commands. Before registration, input itself waits for the master (a nick claim, the
registration) in the same way, so a client may send NICK, USER and JOIN in one go.
Once registered, input also waits for fakelag (fakelag.py): `wake_at` says when the next held
line may run, and the switchboard calls on_wake then; held input is bounded by recvq.

Errors. Command handlers (local_commands.py, capabilities.py, chathistory.py) see this
session only as a CommandContext (context.py) and raise IrcError or StandardReplyError;
`_handle_line` is the one boundary that writes those as the numeric or FAIL reply, and the one
place for the rule that a NOTICE gets no error reply.

Labels (IRCv3 labeled-response). A labeled command answered here has its reply collected and
labeled at once (labels.py). A labeled command forwarded to the master carries its label; the
master brackets its answer with LABEL_START/LABEL_END and the worker labels what is between.
"""

from __future__ import annotations

import hmac
from typing import AbstractSet, Any, Callable, NamedTuple

from chatd import events
from chatd.commandset import gets_automatic_replies
from chatd.ipc import frames
from chatd.serverinfo import ServerInfo, closing_link
from chatd.session import authentication, labels
from chatd.session.client_batch import ClientBatch, held_allowance_bytes
from chatd.session.context import HistoryReading
from chatd.session.fakelag import fakelag_for, flood_settings
from chatd.session.raw_lines import command_of, held_size, is_history_read, parse_client_line
from chatd.session.sasl import AuthState
from chatd.session.local_commands import dispatch
from chatd.session.welcome import motd_lines, welcome_lines
from ircproto import numerics as N
from ircproto.errors import IrcError, StandardReplyError
from ircproto.framing import LineTooLong, encode_line
from ircproto.message import (Message, as_middle_param, client_only_tags, fitted_line,
                              format_tags, numeric_line)

SYNC_POINT = b""  # marker in Session.out: hold what follows until the master's SYNCED
# Commands whose client-only tags are relayed (and stored) with them.
TAGGED_COMMANDS = ("PRIVMSG", "NOTICE", "TAGMSG")
MAX_HELD_LINES = 256  # lines a client may send before its welcome (a bouncer may send many JOINs)


class Work(NamedTuple):
    """A slow computation (password hashing) for the worker's verification thread: the loop
    runs fn(*args) off its thread and hands the result to Session.on_work_done."""
    conn_id: int
    fn: Callable[..., Any]
    args: tuple


class Session:
    """The state machine of one client connection; what its command handlers may read and
    do is chatd/session/context.py's CommandContext, which this class satisfies."""

    def __init__(self, conn_id: int, host: str, info: ServerInfo, now: float,
                 history: HistoryReading | None = None):
        self.conn_id = conn_id
        self.history = history  # for CHATHISTORY
        self.host = host
        self.info = info
        self.nick: str | None = None  # granted by the master
        self.account: str | None = None  # the account it is logged in to
        self.user: str | None = None
        self.realname = ""
        self.registered = False
        self.caps: frozenset[str] = frozenset()  # set through the property: see tag_variant
        self.cap_version = 0
        self.cap_negotiating = False
        self.channels: set[str] = set()  # folded names, as committed events say (worker)
        self._batches = 0
        # The answer to the labeled command being handled, and whether it went to the master
        # (which then labels it: LABEL_START/LABEL_END).
        self._labeled = labels.LabelCapture()
        self._label_forwarded = False
        # A CHATHISTORY read must see what this client sent before it, so it waits until the
        # master has answered (committed) everything forwarded so far.
        self._reading_history = False
        self.password: str | None = None
        # TLS, once the worker's handshake is done: the client certificate's SHA-256
        # fingerprint (hex) identifies it to SASL EXTERNAL and to WHOIS (276, to itself).
        self.secure = False
        self.certfp: str | None = None
        self.auth = AuthState()
        self.client_batch = ClientBatch()  # a multiline batch being received
        self.work: list[Work] = []  # effect: computations for the verification thread
        self._work_done: Callable[[Any], None] | None = None  # the one in flight
        self._later: tuple[float, str] | None = None  # (when, line): a paused 904
        self.connected_at = now
        self.last_recv = now
        self.ping_sent_at: float | None = None
        # ordering with the master (see the module docstring)
        self.forwarded_since_sync = False
        self.syncs_outstanding = 0
        self.held_lines: list[bytes | LineTooLong] = []
        # Held input is bounded by recvq (bytes); `wake_at`: when the next held line may run.
        self.fakelag = fakelag_for(info.config, host, now)  # None: exempt, or fakelag off
        self.held_bytes = 0
        self.oper = False  # a server operator (the master's OperStatus): exempt from fakelag
        self.wake_at: float | None = None
        self.clock_s = now  # the latest time we were told (on_line, on_synced, on_timer)
        # effects
        self.out: list[bytes] = []
        self.to_master: list[NamedTuple] = []  # frames (chatd/ipc/frames.py)
        self.close_reason: str | None = None

    def reconfigure(self, info: ServerInfo) -> None:
        """A reload: new settings from now on (fakelag afresh if its settings changed)."""
        if flood_settings(info.config) != flood_settings(self.info.config):
            self.fakelag = fakelag_for(info.config, self.host, self.clock_s)
        self.info = info

    @property
    def history_owner(self) -> str:
        """Whose private history this connection reads (events.history_owner)."""
        return events.history_owner(self.account, self.info.boot_id, self.conn_id)

    @property
    def server_name(self) -> str:
        return self.info.config.server_name

    @property
    def caps(self) -> frozenset[str]:
        return self._caps

    @caps.setter
    def caps(self, caps: AbstractSet[str]) -> None:
        self._caps = frozenset(caps)
        # Which tags this client gets on events (events.WANTS_*): read once per delivery by
        # the worker's fan-out loop, so kept as a plain attribute, not computed each time.
        self.tag_variant = events.variant_for(self._caps)

    # state the command handlers change (CommandContext)
    def on_tls_established(self, certfp: str | None) -> None:
        """The worker finished the TLS handshake (before any line was read)."""
        self.secure, self.certfp = True, certfp

    def set_password(self, password: str) -> None:
        self.password = password

    def set_user(self, user: str, realname: str) -> None:
        self.user, self.realname = user, realname

    def set_caps(self, caps: AbstractSet[str], cap_version: int) -> None:
        self.caps, self.cap_version = caps, cap_version

    def set_cap_negotiating(self, negotiating: bool) -> None:
        self.cap_negotiating = negotiating

    def set_account(self, account: str | None) -> None:
        self.account = account

    def start_work(self, fn: Callable[..., Any], args: tuple,
                   on_done: Callable[[Any], None]) -> None:
        """Run fn(*args) on the verification thread; input waits until on_done ran."""
        assert self._work_done is None, "one verification in flight per connection"
        self._work_done = on_done
        self.work.append(Work(self.conn_id, fn, args))

    def on_work_done(self, result: Any) -> None:
        """The verification thread's result (None if it failed)."""
        done, self._work_done = self._work_done, None
        if done is not None:
            done(result)
        self._run_held_lines()

    def send_later(self, line: str, delay_s: float) -> None:
        """Send `line` after `delay_s` (a 904 after repeated failures); input waits."""
        self._later = (self.last_recv + delay_s, line)

    def charge_extra(self, tokens: float) -> None:
        if self.fakelag is not None and not self.oper:
            self.fakelag.lines.charge(tokens, self.clock_s)

    def on_account_frame(self, frame: NamedTuple) -> None:
        """The master's answer to an account request (AuthCreds, AuthOk, AuthFailed)."""
        authentication.MASTER_ANSWERS[type(frame)](self, frame)
        self._run_held_lines()

    def batch(self, lines: list[bytes], batch_type: str) -> list[bytes]:
        """Wrap lines in a batch if the client negotiated `batch`."""
        if "batch" not in self.caps:
            return lines
        return labels.wrap_batch(lines, self._next_batch_ref(), self.server_name, batch_type)

    def label_response(self, lines: list[bytes], label: str) -> list[bytes]:
        ref = self._next_batch_ref() if "batch" in self.caps else None
        return labels.label_response(lines, label, self.server_name, ref)

    def _next_batch_ref(self) -> str:
        self._batches += 1
        return f"b{self._batches}"

    # effects
    def send(self, line: str) -> None:
        self.send_lines([encode_line(line)])

    def send_lines(self, lines: list[bytes]) -> None:
        """Queue encoded lines for the client, behind the master's pending answers."""
        if not lines:  # nothing to order: no SYNC (a labeled forwarded command sends none)
            return
        if self._labeled.capturing:
            for line in lines:
                self._labeled.add(line)
            return
        if self.forwarded_since_sync:
            self.request_sync()
        self.out.extend(lines)

    def _forward(self, frame: NamedTuple) -> None:
        """Send a frame to the master whose answers the client must see before ours."""
        self.to_master.append(frame)
        self.forwarded_since_sync = True

    forward_frame = _forward  # its name in CommandContext

    def take_label(self) -> str | None:
        label = self._labeled.label  # see CommandContext
        self._labeled.discard()
        return label

    def notify_master(self, frame: NamedTuple) -> None:
        """A frame the master only takes note of: nothing of ours waits for it."""
        self.to_master.append(frame)

    def forward_command(self, msg: Message) -> None:
        client_tags = ""
        if msg.command in TAGGED_COMMANDS and "message-tags" in self.caps:
            client_tags = format_tags(client_only_tags(msg.tags))
        self.forward_request(lambda label: frames.Command(
            conn_id=self.conn_id, command=msg.command, params=msg.params, label=label,
            client_tags=client_tags))

    def claim_nick(self, nick: str) -> None:
        self.forward_request(lambda label: frames.ClaimNick(conn_id=self.conn_id, nick=nick,
                                                            label=label))

    def forward_request(self, build: Callable[[str | None], NamedTuple]) -> None:
        """A frame, built with this command's label, that the master answers (and labels)."""
        self._label_forwarded = self._labeled.capturing
        self._forward(build(self._labeled.label))

    def request_sync(self, ping: bool = False) -> None:
        """Ask the master for a Sync (for a PING, a PingSync) and hold what follows."""
        barrier = frames.PingSync if ping else frames.Sync
        self.to_master.append(barrier(conn_id=self.conn_id))
        self.out.append(SYNC_POINT)
        self.forwarded_since_sync = False
        self.syncs_outstanding += 1

    def on_synced(self, now: float) -> None:
        """The master answered a SYNC: continue with input held while we waited."""
        self.clock_s = max(self.clock_s, now)
        self.syncs_outstanding -= 1
        if self.syncs_outstanding == 0:
            self._reading_history = False
        self._run_held_lines()

    def _run_held_lines(self) -> None:
        # The time is the latest we were told: a master's answer or a verification thread's
        # result comes without one, and an earlier time only makes fakelag stricter (the
        # wake-up it asks for is then due at once).
        self.wake_at = None
        while self.held_lines and not self._must_hold_input() and self.close_reason is None:
            raw = self.held_lines[0]
            if is_history_read(raw) and (self.forwarded_since_sync or self.syncs_outstanding):
                if self.forwarded_since_sync:
                    self.request_sync()
                self._reading_history = True
                return
            if self.fakelag is not None and self.registered and not self.oper:
                command = command_of(raw) if isinstance(raw, bytes) else ""
                wait_s = self.fakelag.wait_s(command, self.clock_s)
                if wait_s > 0 and not self.client_batch.runs_at_once(raw):
                    self.wake_at = self.clock_s + wait_s
                    return
                self.fakelag.charge(command, self.clock_s)
            self.held_bytes -= held_size(raw)
            self._handle_line(self.held_lines.pop(0))

    def on_wake(self, now: float) -> None:
        """The time `wake_at` asked for has come: run what fakelag now allows."""
        self.clock_s = max(self.clock_s, now)
        self._run_held_lines()

    def _must_hold_input(self) -> bool:
        if self.auth.waiting or self._work_done is not None or self._later is not None:
            return True  # an account exchange is waiting for the master or a check
        return self.syncs_outstanding > 0 and (not self.registered or self._reading_history)

    def _send_numeric(self, code: str, *params: str) -> None:
        self.send(numeric_line(self.server_name, self.nick, code, *params))

    def close(self, reason: str, error_text: str | None = None) -> None:
        """Say ERROR to the client and mark the connection for closing."""
        if self.close_reason is None:
            self.send(closing_link(self.user, self.host, error_text or reason))
            self.close_reason = reason

    # input
    def on_line(self, raw: bytes | LineTooLong, now: float) -> None:
        """Handle one line from the client."""
        self.last_recv = now
        self.clock_s = max(self.clock_s, now)
        self.ping_sent_at = None
        size = held_size(raw)
        if self.held_lines:
            if self.fakelag is not None:
                # Issue 12: input is delayed, not dropped, up to recvq; past it the client
                # is flooding (InspIRCd's and Solanum's "Excess Flood").
                recvq = self.info.config.recvq_bytes + held_allowance_bytes(self.caps)
                if self.held_bytes + size > recvq:
                    self.close("Excess Flood")
                    return
            elif len(self.held_lines) >= MAX_HELD_LINES:
                self.close("Too many lines while waiting for the server")
                return
        self.held_lines.append(raw)
        self.held_bytes += size
        self._run_held_lines()

    def _handle_line(self, raw: bytes | LineTooLong) -> None:
        """Answer one line. The one boundary where a handler's typed error becomes its reply
        (inside the label capture, so an error answering a labeled command is labeled)."""
        command = ""
        try:
            msg = parse_client_line(raw)
            command = msg.command
            label = msg.tags.get("label") if "labeled-response" in self.caps else None
            if label:
                self._labeled.start(label)
                self._label_forwarded = False
            dispatch(self, msg)
        except IrcError as error:
            if _gets_error_reply(command, error):
                self._send_numeric(error.code, *error.params)
        except StandardReplyError as error:
            self.send(_standard_reply_line(self.server_name, error))
        except BaseException:
            self._labeled.discard()  # a bug: the connection is closed, unlabeled
            raise
        if self._labeled.capturing:
            self._send_labeled()

    def _send_labeled(self) -> None:
        label, captured = self._labeled.finish()
        if self._label_forwarded:  # the master labels the answer (LABEL_START/LABEL_END)
            self.send_lines(captured)
        else:
            self.send_lines(self.label_response(captured, label))
        self._label_forwarded = False

    def on_nick_granted(self, nick: str) -> None:
        old = self.nick
        self.nick = nick
        if self.registered and old is not None and old != nick:
            # A second NICK sent before registration was granted after the welcome went out
            # under the first one: the master now knows this nick, so the client must too.
            self.send(f":{old}!{self.user}@{self.host} NICK {nick}")
            return
        self.try_complete_registration()

    def on_nick_changed(self, nick: str) -> None:
        self.nick = nick

    def excuse(self, seconds: float) -> None:
        """The server did not read this client for `seconds` (backpressure): that silence
        is not the client's, so it does not count toward its timeouts."""
        self.connected_at += seconds
        self.last_recv += seconds
        if self.ping_sent_at is not None:
            self.ping_sent_at += seconds

    def on_timer(self, now: float) -> None:
        """Registration and ping timeouts (modern.ircdocs.horse: servers ping idle clients)."""
        config = self.info.config
        self.clock_s = max(self.clock_s, now)
        if self._later is not None and now >= self._later[0]:
            line, self._later = self._later[1], None
            self.send(line)
            self._run_held_lines()
        self.client_batch.on_timer(self, now, bool(self.held_lines))
        if not self.registered:
            if now - self.connected_at >= config.registration_timeout_s:
                self.close("Registration timed out")
            return
        if self.ping_sent_at is not None:
            if now - self.ping_sent_at >= config.ping_timeout_s:
                self.close(f"Ping timeout: {int(now - self.last_recv)} seconds")
        elif now - self.last_recv >= config.ping_interval_s:
            self.send(f"PING :{self.server_name}")
            self.ping_sent_at = now

    # registration
    def try_complete_registration(self) -> None:
        if self.registered or self.nick is None or self.user is None or self.cap_negotiating:
            return
        # The master judges the server password (it throttles wrong guesses per address):
        # it is told only whether the PASS matched.
        expected = self.info.config.password
        pass_ok = not expected or hmac.compare_digest(
            (self.password or "").encode("utf-8"), expected.encode("utf-8"))
        self._forward(frames.Registered(conn_id=self.conn_id, user=self.user,
                                       realname=self.realname, host=self.host,
                                       secure=self.secure, certfp=self.certfp,
                                       pass_ok=pass_ok))
        self.request_sync()

    def on_welcome(self, shown_host: str = "") -> None:
        """The master accepted the registration: the client is in, greet it. (The master
        does it this way round so that nobody can see or message a client it has not
        registered yet.)"""
        if not self.registered:
            self.registered = True
            self._send_welcome(shown_host or self.host)

    def _send_welcome(self, shown_host: str) -> None:
        for line in welcome_lines(self.info, self.nick or "*", self.user or "", shown_host):
            self.send(line)

    def send_motd(self) -> None:
        for line in motd_lines(self.info, self.nick or "*"):
            self.send(line)


def _gets_error_reply(command: str, error: IrcError) -> bool:
    """The NOTICE rule (chatd.commandset.gets_automatic_replies), but for 451 before
    registration: that one is about the connection rather than the notice, and has always
    been sent."""
    return gets_automatic_replies(command) or error.code == N.ERR_NOTREGISTERED


def _standard_reply_line(server: str, error: StandardReplyError) -> str:
    # The context echoes words the client sent: one that cannot be a middle parameter
    # (empty, or starting with ':') is shown as '*' rather than break the reply.
    context = tuple(as_middle_param(word) for word in error.context)
    return fitted_line(Message("FAIL", (error.command, error.code, *context, error.description),
                               server))
