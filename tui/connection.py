"""The socket edge of the client: a non-blocking TCP connection that speaks IRC lines.

Owns connecting (every address `getaddrinfo` returns, with a deadline), a bounded send queue,
and framing with the shared `LineReader` limits. It knows nothing about IRC semantics or the
screen; the event loop registers `fileno()` with its selector and calls `on_readable` /
`on_writable`.
"""

from __future__ import annotations

import errno
import os
import socket
import time

from ircproto.framing import LineReader, LineTooLong, decode_line, encode_line

CONNECT_TIMEOUT_S = 10.0
MAX_QUEUED_BYTES = 1 << 20  # a server that stops reading must not make us grow forever
RECV_BYTES = 65536


class ConnectionClosed(Exception):
    """The connection ended (or never came up); the message says why, for the user."""


def describe(error: OSError) -> str:
    return error.strerror or str(error)


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.sock: socket.socket | None = None
        self.connecting = False
        self.deadline_s: float | None = None  # time.monotonic() deadline while connecting
        self._addresses: list[tuple] = []
        self._last_error = "no address"
        self._reader = LineReader()
        self._out = bytearray()

    # -- connecting ------------------------------------------------------------------------
    def start(self) -> None:
        """Begin connecting without blocking (the name lookup itself may block briefly)."""
        try:
            self._addresses = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectionClosed(f"cannot resolve {self.host}: {describe(exc)}") from None
        self.deadline_s = time.monotonic() + CONNECT_TIMEOUT_S
        self._try_next()

    def connect_now(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Connect, blocking up to `timeout_s` (used before the terminal UI starts)."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        except OSError as exc:
            raise ConnectionClosed(
                f"cannot connect to {self.host}:{self.port}: {describe(exc)}") from None
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.sock = sock
        self.connecting = False

    def _try_next(self) -> None:
        while self._addresses:
            family, kind, proto, _, address = self._addresses.pop(0)
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            err = sock.connect_ex(address)
            if err in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                self.sock = sock
                self.connecting = True
                return
            sock.close()
            self._last_error = os.strerror(err)
        raise ConnectionClosed(f"cannot connect to {self.host}:{self.port}: {self._last_error}")

    def check_connected(self) -> bool:
        """After the socket became writable while connecting: True when connected. Tries the
        next address (or raises ConnectionClosed) when this one failed."""
        assert self.sock is not None
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            self.connecting = False
            self.deadline_s = None
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            return True
        self._last_error = os.strerror(err)
        self.sock.close()
        self.sock = None
        self._try_next()
        return False

    def check_timeout(self, now_s: float) -> None:
        if self.connecting and self.deadline_s is not None and now_s >= self.deadline_s:
            self.close()
            raise ConnectionClosed(f"cannot connect to {self.host}:{self.port}: timed out")

    # -- traffic -------------------------------------------------------------------------------
    def fileno(self) -> int:
        return self.sock.fileno() if self.sock is not None else -1

    @property
    def wants_write(self) -> bool:
        return self.connecting or bool(self._out)

    def send_line(self, line: str) -> None:
        if len(self._out) > MAX_QUEUED_BYTES:
            raise ConnectionClosed("the server is not reading (send queue full)")
        self._out += encode_line(line)

    def on_writable(self) -> None:
        if self.sock is None or not self._out:
            return
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            raise ConnectionClosed(describe(exc)) from None
        del self._out[:sent]

    def on_readable(self) -> list[str]:
        """Received lines, decoded. Too-long lines are dropped (they cannot be parsed)."""
        assert self.sock is not None
        try:
            data = self.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as exc:
            raise ConnectionClosed(describe(exc)) from None
        if not data:
            raise ConnectionClosed("the server closed the connection")
        return [decode_line(item) for item in self._reader.feed(data)
                if not isinstance(item, LineTooLong)]

    def flush(self, timeout_s: float) -> None:
        """Best effort to send what is queued (the QUIT) before closing."""
        if self.sock is None or self.connecting:
            return
        try:
            self.sock.settimeout(timeout_s)
            self.sock.sendall(self._out)
            self._out.clear()
        except OSError:
            pass  # leaving anyway; the server will notice the close

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.connecting = False
