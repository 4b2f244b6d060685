"""Frames between chatd's processes: one record type per opcode, and the codec. Pure (no
I/O); the socket that carries frames is chatd/ipc/pipe.py.

Each frame's layout is written once, here, as a NamedTuple: building one is calling its
class with keywords (or positions) and `encode`; `decode_frames` hands back the same record,
so no other module reads a frame by position. On the wire a frame is a 4-byte big-endian
length and a `marshal`led plain tuple `(opcode, *fields)` (marshal takes no tuple subclasses).
marshal is safe here because both ends are forks of one interpreter (same version) and the
peer is our own process, never a client.

Which process sends which frame is documented in docs/architecture.md.
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Iterable
from typing import NamedTuple

from chatd.events import StoreRow
from chatd.stored_channel import StoredChannel

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 << 20  # a frame larger than this means a bug or corruption

_RECORDS: dict[int, type] = {}


def _opcode(op: int):
    """Register a record class under its opcode (kept as the class attribute OP)."""
    def register(cls: type) -> type:
        assert op not in _RECORDS, op
        cls.OP = op
        # Records of different frames never compare equal, nor to a bare tuple (NamedTuple
        # compares as a plain tuple: Sync(1) would equal PingSync(1)).
        cls.__eq__ = _same_frame
        cls.__ne__ = lambda self, other: not _same_frame(self, other)
        cls.__hash__ = tuple.__hash__
        _RECORDS[op] = cls
        return cls
    return register


def _same_frame(self: tuple, other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)


# master -> worker ---------------------------------------------------------------------------
@_opcode(1)
class NewConn(NamedTuple):
    """A connection to serve; its socket's fd rides with this frame (SCM_RIGHTS)."""
    conn_id: int
    host: str
    tls: bool = False  # it came from a TLS listener: the worker does the handshake


@_opcode(2)
class Event(NamedTuple):
    """A committed event to deliver to the local members of `channels` and to `to_conns`
    (see chatd/events.py for the event fields)."""
    event_id: int
    ts_ms: int
    kind: str
    source: str
    target: str
    text: str
    tags: str  # the sender's client-only tags ("+a=b;+c") or ""
    origin: int  # conn_id of the client that caused it
    channels: tuple[str, ...]  # folded channel names
    to_conns: tuple[int, ...]
    extra: str  # the NAMES/TOPIC burst after a JOIN, only in the joiner's worker's copy
    account: str = ""  # the sender's account ("" if not logged in): account-tag, extended-join


@_opcode(3)
class Reply(NamedTuple):
    """Lines for one client, already formatted, not stored."""
    conn_id: int
    payload: bytes


@_opcode(4)
class NickOk(NamedTuple):
    """The nick is now this (unregistered) connection's."""
    conn_id: int
    nick: str


@_opcode(5)
class CloseConn(NamedTuple):
    """Close this client with ERROR."""
    conn_id: int
    reason: str


@_opcode(6)
class Shutdown(NamedTuple):
    """master -> worker or writer: finish up (tell clients / commit what is pending), exit."""


@_opcode(7)
class Synced(NamedTuple):
    """Answer to Sync or PingSync: the master's replies to this client's earlier commands
    are out."""
    conn_id: int


@_opcode(8)
class Welcome(NamedTuple):
    """Registration accepted: send the welcome burst."""
    conn_id: int
    host: str = ""  # the host others see (a cloak unless [server] cloak = off)


@_opcode(9)
class LabelStart(NamedTuple):
    """What follows for conn_id answers a labeled command (labeled-response) ..."""
    conn_id: int
    label: str


@_opcode(10)
class LabelEnd(NamedTuple):
    """... up to here."""
    conn_id: int


# worker -> master (each about one client: conn_id comes first) -----------------------------
@_opcode(20)
class Command(NamedTuple):
    """A command that needs global state (chatd/commandset.py: answered by the master)."""
    conn_id: int
    command: str
    params: tuple[str, ...]
    label: str | None  # the client's label (labeled-response), or None
    client_tags: str  # the client-only tags to relay ("+a=b;+c"), or ""


@_opcode(37)
class Multiline(NamedTuple):
    """A multi-line message (IRCv3 draft/multiline): the batch a client sent, checked by its
    worker (chatd/session/client_batch.py), for the master to send as one message."""
    conn_id: int
    kind: str  # PRIVMSG or NOTICE
    target: str
    lines: tuple[str, ...]
    concat: tuple[bool, ...]  # per line: joined to the one before without a line feed
    label: str | None  # the label of the BATCH + that opened it (labeled-response), or None
    client_tags: str  # the client-only tags of that BATCH + ("+a=b;+c"), or ""


@_opcode(21)
class ConnClosed(NamedTuple):
    """The client is gone (QUIT, EOF, error, timeout, send queue overflow)."""
    conn_id: int
    reason: str


@_opcode(22)
class Registered(NamedTuple):
    """The client completed registration (NICK granted, USER given, CAP ended)."""
    conn_id: int
    user: str
    realname: str
    host: str
    secure: bool = False  # connected over TLS (WHOIS 671)
    certfp: str | None = None  # SHA-256 of its TLS client certificate (WHOIS 276 to itself), or None
    pass_ok: bool = True  # the server PASS matched (the master throttles wrong guesses)


@_opcode(23)
class ClaimNick(NamedTuple):
    """Reserve or change a nick (syntax already checked by the worker)."""
    conn_id: int
    nick: str
    label: str | None


@_opcode(24)
class Sync(NamedTuple):
    """A barrier: answered with Synced in order after the master's earlier replies."""
    conn_id: int


@_opcode(25)
class Caps(NamedTuple):
    """The capabilities the master formats for (NAMES) changed."""
    conn_id: int
    caps: tuple[str, ...]


@_opcode(26)
class PingSync(NamedTuple):
    """Sync for a PING: the master answers it a moment later (chatd/hub/barriers.py)."""
    conn_id: int


# accounts (docs/architecture.md "Accounts"): a password never crosses; the worker hashes
# and verifies, the master decides (names, throttle) and orders the writes.
@_opcode(27)
class AuthRequest(NamedTuple):
    """worker -> master: this client wants to log in to `account` (PLAIN, SCRAM-SHA-256,
    or PASSWORD to change its password); for EXTERNAL, by its certificate fingerprint."""
    conn_id: int
    mechanism: str
    account: str
    certfp: str


@_opcode(28)
class AuthResult(NamedTuple):
    """worker -> master: the outcome of checking a password or SCRAM proof; for PASSWORD,
    the new credentials."""
    conn_id: int
    mechanism: str
    account: str
    ok: bool
    password_hash: str
    scram: str


@_opcode(29)
class RegisterAccount(NamedTuple):
    """worker -> master: REGISTER, with the credentials the worker computed."""
    conn_id: int
    account: str
    email: str
    password_hash: str
    scram: str


@_opcode(11)
class AuthCreds(NamedTuple):
    """master -> worker: the stored credentials to check an AuthRequest against (account ""
    and empty records: no such account — the worker checks a dummy, same cost)."""
    conn_id: int
    account: str
    password_hash: str
    scram: str


@_opcode(12)
class AuthOk(NamedTuple):
    """master -> worker: the request the worker waits on succeeded (logged in / registered
    / password changed), after its write is committed."""
    conn_id: int
    account: str


@_opcode(13)
class AuthFailed(NamedTuple):
    """master -> worker: the request failed; `code` is a standard-reply code."""
    conn_id: int
    code: str
    reason: str


@_opcode(14)
class RegistrationRefused(NamedTuple):
    """master -> worker: the registration was refused (a nick reserved for an account);
    the client stays unregistered and may pick another nick or log in."""
    conn_id: int


@_opcode(15)
class LoggedOut(NamedTuple):
    """master -> worker: the client is no longer logged in (its account was deleted): the
    worker forgets the account and tells the client (901)."""
    conn_id: int
    reason: str


@_opcode(16)
class Notify(NamedTuple):
    """master -> worker: one line, not stored, for these of its clients — what they asked to
    be told of others (chatd/hub/presence.py): account-notify's ACCOUNT, away-notify's AWAY,
    setname's SETNAME, to those sharing a channel (or, extended-monitor, watching the nick)."""
    conn_ids: tuple[int, ...]
    line: str


# server operators (chatd/hub/opers.py): a password never crosses; the worker checks it
# against the config's [opers] record, the master decides (throttle) and grants +o.
@_opcode(31)
class OperAttempt(NamedTuple):
    """worker -> master: OPER <name> was tried; `ok`: the password matched that entry's
    record (checked on the verification thread)."""
    conn_id: int
    name: str
    ok: bool


# IRCv3 message redaction (chatd/session/redaction.py finds the message, chatd/hub/redaction.py
# decides): the worker has read the history, the master knows who is a channel operator.
@_opcode(32)
class Redaction(NamedTuple):
    """worker -> master: REDACT <target> <msgid> [:<reason>] names a message that the
    client may read in `target`'s timeline; `convs`: every timeline holding it; `author`:
    the client sent it (its account then, or its own private timeline says so)."""
    conn_id: int
    label: str | None
    target: str
    msgid: int
    reason: str
    convs: tuple[str, ...]
    author: bool


@_opcode(18)
class OperStatus(NamedTuple):
    """master -> worker: the client is now a server operator (user mode +o) or no longer
    one: opers are exempt from fakelag."""
    conn_id: int
    oper: bool


# read markers (chatd/hub/read_markers.py, chatd/session/read_markers.py, chatd/session/seen.py)
@_opcode(70)
class ReadMarker(NamedTuple):
    """master -> worker: a MARKREAD to answer or pass on. `account` "": the client `conn_id`
    is not logged in (its worker keeps its markers); else the worker reads the account's
    marker for `target` from the history (committed by now) and sends it to `conn_id` (0: no
    client of this worker asked) and, if it moved to `ts_ms`, to its other clients of the
    account that negotiated draft/read-marker. `ts_ms` 0: a get, nothing was set."""
    conn_id: int
    account: str
    target: str  # as the client wrote it
    ts_ms: int


@_opcode(71)
class SeenUpTo(NamedTuple):
    """worker -> master: the client, which left these channels (or the server), had been
    shown every message of channels[i] up to ids[i] (it answered a PING sent after them):
    stored for its account, whose next JOIN replay leaves them out."""
    conn_id: int
    channels: tuple[str, ...]  # folded
    ids: tuple[int, ...]


# master <-> writer --------------------------------------------------------------------------
@_opcode(40)
class Store(NamedTuple):
    """master -> writer: events (and account writes) that already carry their id and time, as
    plain tuples of chatd.events.StoreRow: build with `store`, read with `stored_rows`."""
    rows: list[tuple]


def store(rows: Iterable[StoreRow]) -> Store:
    return Store(rows=[tuple(row) for row in rows])


def stored_rows(frame: Store) -> list[StoreRow]:
    return [StoreRow._make(row) for row in frame.rows]


@_opcode(41)
class Ready(NamedTuple):
    """writer -> master, once the history is open."""
    last_id: int
    last_ts_ms: int
    # the kept channels (chatd/stored_channel.py) as plain tuples: read with kept_channels()
    channels: tuple
    # (name, password_hash, scram, cert fingerprints): chatd/store/accounts.py AccountRow
    accounts: tuple = ()
    cloak_secret: str = ""  # hex, generated into the history at first start (chatd/hub/cloak.py)
    # K-lines in force: (mask, reason, setter, set_ms, expires_ms), chatd/store/bans.py
    bans: tuple = ()


def kept_channels(frame: Ready) -> list[StoredChannel]:
    return [StoredChannel._make(row) for row in frame.channels]


@_opcode(42)
class Committed(NamedTuple):
    """writer -> master: every id <= up_to_id is durable."""
    up_to_id: int


@_opcode(43)
class Stalled(NamedTuple):
    """writer -> master: alive, but commits fail (disk full ...); the rows are kept and
    retried, so the master must not replace it."""
    reason: str


@_opcode(44)
class DiskSpace(NamedTuple):
    """writer -> master: whether the history's file system has less free space than
    [history] min_free_mb (then clients' messages are refused: chatd/hub/storing.py). Sent
    after the writer's first look and whenever the answer changes."""
    low: bool
    free_bytes: int


# master <-> every child -----------------------------------------------------------------
@_opcode(60)
class Heartbeat(NamedTuple):
    """master -> writer or worker (only under systemd's watchdog): answer from your loop."""
    seq: int


@_opcode(61)
class HeartbeatAck(NamedTuple):
    """writer or worker -> master: the answer to Heartbeat `seq` (chatd/processes/liveness.py)."""
    seq: int


@_opcode(62)
class Reconfigure(NamedTuple):
    """master -> writer and workers, after a reload (SIGHUP): the new settings, pickled — a
    ServerInfo for a worker, a Config for the writer (chatd/reload.py). Pickle, like marshal
    here, only ever carries what our own master built."""
    settings: bytes


def encode(frame: NamedTuple) -> bytes:
    """The bytes of one frame: length, then marshal((opcode, *fields))."""
    body = marshal.dumps((frame.OP, *frame))  # type: ignore[attr-defined]
    return HEADER.pack(len(body)) + body


class FrameError(Exception):
    """A frame that cannot be right (corrupt length, unknown opcode)."""


def decode_frames(buf: bytearray) -> list[NamedTuple]:
    """Remove and return the complete frames at the start of `buf`, as their records."""
    frames = []
    pos = 0
    records = _RECORDS
    while len(buf) - pos >= 4:
        (size,) = HEADER.unpack_from(buf, pos)
        if size > MAX_FRAME_BYTES:
            raise FrameError(f"corrupt frame of {size} bytes")
        end = pos + 4 + size
        if end > len(buf):
            break
        fields = marshal.loads(buf[pos + 4:end])
        record = records.get(fields[0])
        if record is None:
            raise FrameError(f"unknown opcode {fields[0]!r}")
        frames.append(record._make(fields[1:]))
        pos = end
    if pos:
        del buf[:pos]
    return frames
