"""Frames between chatd's processes, and a non-blocking channel that carries them.

A frame is a 4-byte big-endian length and a `marshal`led tuple whose first item is an opcode
below. marshal is safe here because both ends are forks of one interpreter (same version) and
the peer is our own process, never a client. A channel may also carry file descriptors
(SCM_RIGHTS), which is how the master hands an accepted connection to a worker.

What crosses each socketpair is documented in docs/architecture.md.
"""

from __future__ import annotations

import array
import collections
import marshal
import os
import socket
import struct

# master -> worker
NEW_CONN = 1        # (op, conn_id, peer_host) + the connection's fd
EVENT = 2           # (op, *event fields) a committed event to deliver: see events.py
REPLY = 3           # (op, conn_id, payload bytes) lines for one client, not stored
NICK_OK = 4         # (op, conn_id, nick) the nick is now this connection's
CLOSE_CONN = 5      # (op, conn_id, reason) close this client with ERROR
SHUTDOWN = 6        # (op,) tell clients, flush, exit
# worker -> master
COMMAND = 20        # (op, conn_id, command, params) a command that needs global state
CONN_CLOSED = 21    # (op, conn_id, reason) the client is gone (QUIT, EOF, error, timeout)
REGISTERED = 22     # (op, conn_id, user, realname, host) registration completed
CLAIM_NICK = 23     # (op, conn_id, nick) reserve/change nick
# writer <-> master
STORE = 40          # (op, [event row, ...]) master -> writer; rows already carry id and time
READY = 41          # (op, last_id, last_ts_ms) writer -> master after opening the database
COMMITTED = 42      # (op, up_to_id) writer -> master: every id <= up_to_id is durable

_HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 << 20  # a frame larger than this means a bug or corruption
_MAX_FDS_PER_RECV = 64
_RECV_BYTES = 1 << 18


class ChannelClosed(Exception):
    """The peer closed its end (it exited or died)."""


class ChannelOverflow(Exception):
    """More than `max_pending_bytes` is waiting to be sent: the peer is not reading."""


def encode(frame: tuple) -> bytes:
    body = marshal.dumps(frame)
    return _HEADER.pack(len(body)) + body


class Channel:
    """One end of a socketpair, non-blocking: queue frames with `send`, push them with
    `flush` when the selector says writable; `receive` returns whole frames."""

    def __init__(self, sock: socket.socket, max_pending_bytes: int = 256 << 20):
        sock.setblocking(False)
        self.sock = sock
        self._inbuf = bytearray()
        self._received_fds: collections.deque[int] = collections.deque()
        # Outgoing segments: [bytes-like, fds]; fds ride with a segment's first byte.
        self._out: collections.deque[list] = collections.deque()
        self._pending = 0
        self._max_pending = max_pending_bytes

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def pending_bytes(self) -> int:
        return self._pending

    def send(self, frame: tuple, fds: tuple[int, ...] = ()) -> None:
        """Queue a frame, and optionally fds to pass along with it. The channel takes
        ownership of those fds: it closes them once the kernel has passed them on."""
        self.send_raw(encode(frame), fds)

    def send_raw(self, data: bytes, fds: tuple[int, ...] = ()) -> None:
        if fds or not self._out:
            self._out.append([bytearray(data), list(fds)])
        else:
            self._out[-1][0] += data
        self._pending += len(data)
        if self._pending > self._max_pending:
            raise ChannelOverflow(f"{self._pending} bytes pending")

    def flush(self) -> bool:
        """Send as much as the socket takes now. True when nothing is left queued."""
        while self._out:
            segment = self._out[0]
            data, fds = segment
            try:
                if fds:
                    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                    sent = self.sock.sendmsg([data], ancillary)
                else:
                    sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                return False
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise ChannelClosed(str(exc)) from None
            if fds:
                # The kernel duplicated them into the message: our copies can go.
                _close_fds(fds)
                segment[1] = []
            self._pending -= sent
            if sent == len(data):
                self._out.popleft()
            else:
                del data[:sent]
                return False
        return True

    def receive(self) -> list[tuple]:
        """Read what is available and return the complete frames. Raise ChannelClosed on EOF."""
        try:
            data, ancdata, _flags, _addr = self.sock.recvmsg(
                _RECV_BYTES, socket.CMSG_SPACE(_MAX_FDS_PER_RECV * 4))
        except (BlockingIOError, InterruptedError):
            return []
        except ConnectionResetError as exc:
            raise ChannelClosed(str(exc)) from None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
                self._received_fds.extend(fds)
        if not data:
            raise ChannelClosed("peer closed the channel")
        self._inbuf += data
        return self._parse_frames()

    def _parse_frames(self) -> list[tuple]:
        frames = []
        buf = self._inbuf
        pos = 0
        while len(buf) - pos >= 4:
            (size,) = _HEADER.unpack_from(buf, pos)
            if size > MAX_FRAME_BYTES:
                raise ChannelClosed(f"corrupt frame of {size} bytes")
            end = pos + 4 + size
            if end > len(buf):
                break
            frames.append(marshal.loads(buf[pos + 4:end]))
            pos = end
        if pos:
            del buf[:pos]
        return frames

    def take_fd(self) -> int:
        """The next file descriptor received (in the order they were sent)."""
        return self._received_fds.popleft()

    def close(self) -> None:
        _close_fds(self._received_fds)
        self._received_fds.clear()
        for _data, fds in self._out:
            _close_fds(fds)
        self._out.clear()
        self.sock.close()


def _close_fds(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
