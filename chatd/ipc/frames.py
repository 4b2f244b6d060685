"""Frames between chatd's processes: opcodes and the codec. Pure (no I/O); the socket that
carries frames is chatd/channel.py.

A frame is a 4-byte big-endian length and a `marshal`led tuple whose first item is an opcode
below. marshal is safe here because both ends are forks of one interpreter (same version) and
the peer is our own process, never a client.

What crosses each socketpair is documented in docs/architecture.md.
"""

from __future__ import annotations

import marshal
import struct

# master -> worker
NEW_CONN = 1        # (op, conn_id, peer_host) + the connection's fd
EVENT = 2           # (op, *event fields) a committed event to deliver: see events.py
REPLY = 3           # (op, conn_id, payload bytes) lines for one client, not stored
NICK_OK = 4         # (op, conn_id, nick) the nick is now this connection's
CLOSE_CONN = 5      # (op, conn_id, reason) close this client with ERROR
SHUTDOWN = 6        # (op,) tell clients, flush, exit
SYNCED = 7          # (op, conn_id) answer to SYNC: everything before it for this client is out
WELCOME = 8         # (op, conn_id) registration accepted: send the welcome burst
LABEL_START = 9     # (op, conn_id, label) what follows for conn_id answers a labeled command
LABEL_END = 10      # (op, conn_id) ... up to here (labeled-response, see labels.py)
# worker -> master
COMMAND = 20        # (op, conn_id, command, params, label, client_tags) a command that needs
                    # global state; label is None or the client's label, client_tags "+a=b"
CONN_CLOSED = 21    # (op, conn_id, reason) the client is gone (QUIT, EOF, error, timeout)
REGISTERED = 22     # (op, conn_id, user, realname, host) registration completed
CLAIM_NICK = 23     # (op, conn_id, nick, label) reserve/change nick
SYNC = 24           # (op, conn_id) a barrier: answered with SYNCED in order (see session.py)
CAPS = 25           # (op, conn_id, caps) the capabilities the master needs to know changed
PING_SYNC = 26      # (op, conn_id) SYNC for a PING: answered a moment later (barriers.py)
# writer <-> master
STORE = 40          # (op, [event row, ...]) master -> writer; rows already carry id and time
READY = 41          # (op, last_id, last_ts_ms) writer -> master after opening the database
COMMITTED = 42      # (op, up_to_id) writer -> master: every id <= up_to_id is durable
STALLED = 43        # (op, reason) writer -> master: alive, but commits fail (disk full...);
                    # the rows are kept and retried, so the master must not replace it

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 << 20  # a frame larger than this means a bug or corruption


def encode(frame: tuple) -> bytes:
    body = marshal.dumps(frame)
    return HEADER.pack(len(body)) + body


class FrameError(Exception):
    """A frame that cannot be right (corrupt length)."""


def decode_frames(buf: bytearray) -> list[tuple]:
    """Remove and return the complete frames at the start of `buf`."""
    frames = []
    pos = 0
    while len(buf) - pos >= 4:
        (size,) = HEADER.unpack_from(buf, pos)
        if size > MAX_FRAME_BYTES:
            raise FrameError(f"corrupt frame of {size} bytes")
        end = pos + 4 + size
        if end > len(buf):
            break
        frames.append(marshal.loads(buf[pos + 4:end]))
        pos = end
    if pos:
        del buf[:pos]
    return frames
