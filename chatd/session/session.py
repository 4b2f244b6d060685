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

Labels (IRCv3 labeled-response). A labeled command answered here has its reply collected and
labeled at once (labels.py). A labeled command forwarded to the master carries its label; the
master brackets its answer with LABEL_START/LABEL_END and the worker labels what is between.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from chatd import events
from chatd.ipc import frames
from chatd.session import labels
from chatd.session.local_commands import dispatch
from chatd.serverinfo import VERSION, ServerInfo, build_server_info, closing_link  # noqa: F401
from chatd.config import Config
from ircproto import numerics as N
from ircproto.framing import LineTooLong, decode_line, encode_line
from ircproto.message import Message, ProtocolError, format_tags, numeric_line, parse





SYNC_POINT = b""  # marker in Session.out: hold what follows until the master's SYNCED
MAX_CLIENT_TAG_BYTES = 4094  # IRCv3 message-tags: a client's tag data, beyond: 417
# Commands whose client-only tags are relayed (and stored) with them.
TAGGED_COMMANDS = ("PRIVMSG", "NOTICE", "TAGMSG")
MAX_HELD_LINES = 256  # lines a client may send before its welcome (a bouncer may send many JOINs)


class Session:
    """The state machine of one client connection."""

    def __init__(self, conn_id: int, host: str, info: ServerInfo, now: float,
                 history=None):
        self.conn_id = conn_id
        self.history = history  # a history.HistoryReader (or a fake), for CHATHISTORY
        self.host = host
        self.info = info
        self.nick: str | None = None  # granted by the master
        self.user: str | None = None
        self.realname = ""
        self.registered = False
        self.caps: frozenset[str] = frozenset()  # set through the property: see tag_variant
        self.cap_version = 0
        self.cap_negotiating = False
        self.channels: set[str] = set()  # folded names, as committed events say (worker)
        self._batches = 0
        self._label: str | None = None  # label of the command being handled
        self._label_forwarded = False
        self._capture: list[bytes] | None = None
        # A CHATHISTORY read must see what this client sent before it, so it waits until the
        # master has answered (committed) everything forwarded so far.
        self._reading_history = False
        self.password: str | None = None
        self.connected_at = now
        self.last_recv = now
        self.ping_sent_at: float | None = None
        # ordering with the master (see the module docstring)
        self.forwarded_since_sync = False
        self.syncs_outstanding = 0
        self.held_lines: list[bytes | LineTooLong] = []
        # effects
        self.out: list[bytes] = []
        self.to_master: list[NamedTuple] = []  # frames (chatd/ipc/frames.py)
        self.close_reason: str | None = None

    @property
    def server_name(self) -> str:
        return self.info.config.server_name

    @property
    def wants_server_time(self) -> bool:
        return "server-time" in self.caps

    @property
    def caps(self) -> frozenset[str]:
        return self._caps

    @caps.setter
    def caps(self, caps) -> None:
        self._caps = frozenset(caps)
        # Which tags this client gets on events (events.WANTS_*): read once per delivery by
        # the worker's fan-out loop, so kept as a plain attribute, not computed each time.
        self.tag_variant = ((events.WANTS_TIME if "server-time" in self._caps else 0)
                            | (events.WANTS_TAGS if "message-tags" in self._caps else 0))

    def next_batch_ref(self) -> str:
        self._batches += 1
        return f"b{self._batches}"

    def batch(self, lines: list[bytes], batch_type: str) -> list[bytes]:
        """Wrap lines in a batch if the client negotiated `batch`."""
        if "batch" not in self.caps:
            return lines
        return labels.wrap_batch(lines, self.next_batch_ref(), self.server_name, batch_type)

    def label_response(self, lines: list[bytes], label: str) -> list[bytes]:
        ref = self.next_batch_ref() if "batch" in self.caps else None
        return labels.label_response(lines, label, self.server_name, ref)

    # effects
    def send(self, line: str) -> None:
        self.send_lines([encode_line(line)])

    def send_lines(self, lines: list[bytes]) -> None:
        """Queue encoded lines for the client, behind the master's pending answers."""
        if not lines:  # nothing to order: no SYNC (a labeled forwarded command sends none)
            return
        if self._capture is not None:
            self._capture.extend(lines)
            return
        if self.forwarded_since_sync:
            self.request_sync()
        self.out.extend(lines)

    def forward(self, frame: NamedTuple) -> None:
        """Send a frame to the master whose answers the client must see before ours."""
        self.to_master.append(frame)
        self.forwarded_since_sync = True

    def forward_command(self, msg: Message) -> None:
        client_tags = ""
        if msg.command in TAGGED_COMMANDS and "message-tags" in self.caps:
            client_tags = format_tags({k: v for k, v in msg.tags.items() if k.startswith("+")})
        self._label_forwarded = self._label is not None
        self.forward(frames.Command(conn_id=self.conn_id, command=msg.command,
                                    params=msg.params, label=self._label,
                                    client_tags=client_tags))

    def forward_nick(self, nick: str) -> None:
        self._label_forwarded = self._label is not None
        self.forward(frames.ClaimNick(self.conn_id, nick, self._label))

    def request_sync(self, barrier: type = frames.Sync) -> None:
        """Ask the master for a Sync (or, for a PING, a PingSync) and hold what follows."""
        self.to_master.append(barrier(self.conn_id))
        self.out.append(SYNC_POINT)
        self.forwarded_since_sync = False
        self.syncs_outstanding += 1

    def on_synced(self, now: float) -> None:
        """The master answered a SYNC: continue with input held while we waited."""
        self.syncs_outstanding -= 1
        if self.syncs_outstanding == 0:
            self._reading_history = False
        self._run_held_lines()

    def _run_held_lines(self) -> None:
        while self.held_lines and not self._must_hold_input() and self.close_reason is None:
            raw = self.held_lines[0]
            if _is_history_read(raw) and (self.forwarded_since_sync or self.syncs_outstanding):
                if self.forwarded_since_sync:
                    self.request_sync()
                self._reading_history = True
                return
            self._handle_line(self.held_lines.pop(0))

    def _must_hold_input(self) -> bool:
        return self.syncs_outstanding > 0 and (not self.registered or self._reading_history)

    def send_numeric(self, code: str, *params: str) -> None:
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
        self.ping_sent_at = None
        if self.held_lines and len(self.held_lines) >= MAX_HELD_LINES:
            self.close("Too many lines while waiting for the server")
            return
        self.held_lines.append(raw)
        self._run_held_lines()

    def _handle_line(self, raw: bytes | LineTooLong) -> None:
        if isinstance(raw, LineTooLong) or _client_tag_bytes(raw) > MAX_CLIENT_TAG_BYTES:
            self.send_numeric(N.ERR_INPUTTOOLONG, "Input line was too long")
            return
        try:
            msg = parse(decode_line(raw))
        except ProtocolError as exc:
            self.send_numeric(N.ERR_UNKNOWNERROR, "*", f"Could not parse your line: {exc}")
            return
        label = msg.tags.get("label") if "labeled-response" in self.caps else None
        if not label:
            dispatch(self, msg)
            return
        self._label, self._label_forwarded, self._capture = label, False, []
        try:
            dispatch(self, msg)
        finally:
            captured, forwarded = self._capture, self._label_forwarded
            self._label, self._label_forwarded, self._capture = None, False, None
        if forwarded:  # the master labels the answer (LABEL_START/LABEL_END)
            self.send_lines(captured)
        else:
            self.send_lines(self.label_response(captured, label))

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
        if self.info.config.password and self.password != self.info.config.password:
            self.send_numeric(N.ERR_PASSWDMISMATCH, "Password incorrect")
            self.close("Bad password")
            return
        self.forward(frames.Registered(conn_id=self.conn_id, user=self.user,
                                       realname=self.realname, host=self.host))
        self.request_sync()

    def on_welcome(self) -> None:
        """The master accepted the registration: the client is in, greet it. (The master
        does it this way round so that nobody can see or message a client it has not
        registered yet.)"""
        self.registered = True
        self._send_welcome()

    def _send_welcome(self) -> None:
        info, nick = self.info, self.nick
        cfg = info.config
        self.send_numeric(N.RPL_WELCOME,
                          f"Welcome to the {cfg.network} IRC Network {nick}!{self.user}@{self.host}")
        self.send_numeric(N.RPL_YOURHOST, f"Your host is {cfg.server_name}, running version {VERSION}")
        self.send_numeric(N.RPL_CREATED, f"This server was created {info.created}")
        self.send_numeric(N.RPL_MYINFO, cfg.server_name, VERSION, "i", "bn")
        tokens = info.isupport
        for start in range(0, len(tokens), 12):  # ISUPPORT allows at most 13 tokens a line
            self.send_numeric(N.RPL_ISUPPORT, *tokens[start:start + 12],
                              "are supported by this server")
        self.send_motd()

    def send_motd(self) -> None:
        motd = self.info.motd_lines
        if motd is None:
            self.send_numeric(N.ERR_NOMOTD, "MOTD File is missing")
            return
        self.send_numeric(N.RPL_MOTDSTART, f"- {self.server_name} Message of the day -")
        for line in motd:
            self.send_numeric(N.RPL_MOTD, f"- {line}")
        self.send_numeric(N.RPL_ENDOFMOTD, "End of /MOTD command.")


def _client_tag_bytes(raw: bytes) -> int:
    """Length of the tag data a client sent (between '@' and the first space)."""
    if not raw.startswith(b"@"):
        return 0
    space = raw.find(b" ")
    return (space if space >= 0 else len(raw)) - 1


def _is_history_read(raw: bytes | LineTooLong) -> bool:
    """Whether a raw line is a CHATHISTORY command (checked before parsing, cheaply)."""
    if isinstance(raw, LineTooLong):
        return False
    if raw.startswith(b"@"):
        raw = raw[raw.find(b" ") + 1:]
    raw = raw.lstrip(b" ")
    if raw.startswith(b":"):  # a source prefix, which a client may send (and we ignore)
        raw = raw[raw.find(b" ") + 1:].lstrip(b" ")
    return raw[:12].upper() == b"CHATHISTORY "
