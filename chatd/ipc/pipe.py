"""The non-blocking socket that carries frames (chatd/ipc/frames.py) between chatd's processes.

A pipe may also carry file descriptors (SCM_RIGHTS): that is how the master hands an
accepted connection to a worker. A frame carries at most one fd, riding with the frame's first
byte, so the receiver finds each one ready when it parses that frame. If the receiver has no
descriptor left (RLIMIT_NOFILE), the kernel drops the fd: the frame then gets LOST_FD in its
place, so the fds of later frames still line up.
"""

from __future__ import annotations

import array
import collections
import os
import socket
from typing import NamedTuple

from chatd.ipc.frames import FrameError, decode_frames, encode

_MAX_FDS_PER_RECV = 64
_RECV_BYTES = 1 << 18
_MAX_RECVS_PER_CALL = 64  # bounds one receive() call (16 MiB): the loop stays fair
LOST_FD = -1  # take_fd's answer for an fd the kernel could not install (MSG_CTRUNC)


class PipeClosed(Exception):
    """The peer closed its end (it exited or died)."""


class PipeOverflow(Exception):
    """More than `max_pending_bytes` is waiting to be sent: the peer is not reading. (The
    master's ends have no such limit: it bounds them by backpressure instead.)"""


class Pipe:
    """One end of a socketpair, non-blocking: queue frames with `send`, push them with
    `flush` when the selector says writable; `receive` returns whole frames."""

    def __init__(self, sock: socket.socket, max_pending_bytes: int | None = 256 << 20):
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

    def send(self, frame: NamedTuple, fds: tuple[int, ...] = ()) -> None:
        """Queue a frame, and optionally an fd (at most one) to pass along with it. The
        pipe takes ownership of it: it closes it once the kernel has passed it on."""
        self.send_raw(encode(frame), fds)

    def send_raw(self, data: bytes, fds: tuple[int, ...] = ()) -> None:
        if len(fds) > 1:
            # One fd per sendmsg is what lets the receiver tell which one was dropped.
            raise ValueError("a frame carries at most one fd")
        if fds or not self._out:
            self._out.append([bytearray(data), list(fds)])
        else:
            self._out[-1][0] += data
        self._pending += len(data)
        if self._max_pending is not None and self._pending > self._max_pending:
            raise PipeOverflow(f"{self._pending} bytes pending")

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
                raise PipeClosed(str(exc)) from None
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

    def receive(self) -> list[NamedTuple]:
        """Read what is available (up to a bound) and return the complete frames. Raise
        PipeClosed on EOF once nothing read before it is left to return."""
        got_data = False
        for _ in range(_MAX_RECVS_PER_CALL):
            # One recvmsg stops at each message that carries fds, so a burst of new
            # connections needs a recvmsg apiece: loop, or a busy worker would take one
            # connection per loop iteration.
            try:
                data, ancdata, flags, _addr = self.sock.recvmsg(
                    _RECV_BYTES, socket.CMSG_SPACE(_MAX_FDS_PER_RECV * 4))
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionResetError as exc:
                if got_data:
                    break
                raise PipeClosed(str(exc)) from None
            self._keep_fds(ancdata, truncated=bool(flags & socket.MSG_CTRUNC))
            if not data:
                if got_data:
                    break  # EOF again on the next call, after these frames are handled
                raise PipeClosed("peer closed the pipe")
            got_data = True
            self._inbuf += data
            if len(data) < _RECV_BYTES and not ancdata:
                break  # drained: skip the recvmsg that would only say EAGAIN
        return self._parse_frames() if got_data else []

    def _keep_fds(self, ancdata, truncated: bool) -> None:
        kept = 0
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
                self._received_fds.extend(fds)
                kept += len(fds)
        if truncated and not kept:
            # The one fd this message carried was dropped (EMFILE): hold its place.
            self._received_fds.append(LOST_FD)

    def _parse_frames(self) -> list[NamedTuple]:
        try:
            return decode_frames(self._inbuf)
        except FrameError as exc:
            raise PipeClosed(str(exc)) from None

    def take_fd(self) -> int:
        """The next file descriptor received (in the order they were sent), or LOST_FD."""
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
        if fd == LOST_FD:
            continue
        try:
            os.close(fd)
        except OSError:
            pass
