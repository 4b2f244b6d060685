"""The socket edge of the client: a non-blocking TCP connection, optionally TLS, that speaks
IRC lines.

Owns connecting (every address `getaddrinfo` returns, with a deadline that covers the TLS
handshake too), the non-blocking TLS handshake, a bounded send queue, and framing with the
shared `LineReader` limits. It knows nothing about IRC semantics or the
screen; the event loop registers `fileno()` with its selector and calls `on_readable` /
`on_writable`.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import time

from ircproto.framing import LineReader, LineTooLong, decode_line, encode_line

CONNECT_TIMEOUT_S = 10.0
MAX_QUEUED_BYTES = 1 << 20  # a server that stops reading must not make us grow forever
RECV_BYTES = 65536


class ConnectionClosed(Exception):
    """The connection ended (or never came up); the message says why, for the user."""


def describe(error: OSError) -> str:
    if isinstance(error, ssl.SSLError):
        return f"TLS: {getattr(error, 'verify_message', None) or error.reason or error}"
    return error.strerror or str(error)


def client_tls_context(verify: bool = True) -> ssl.SSLContext:
    """TLS 1.2+. `verify`: the server's certificate must chain to the system's trust store
    and name the host. Without it anyone on the path can pose as the server (and read and
    change everything): for a server with a self-signed certificate on a network you trust."""
    context = ssl.create_default_context() if verify else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Connection:
    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None):
        self.host, self.port = host, port
        self.tls = tls
        self.sock: socket.socket | None = None
        self.connecting = False  # until TCP is up and, with TLS, the handshake is done
        self.handshake_wants_read = False  # what the TLS handshake waits for, while connecting
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
        if self.tls is not None:
            try:  # blocking, within the timeout: the terminal UI has not started yet
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
            except (OSError, ValueError) as exc:
                sock.close()
                raise ConnectionClosed(f"cannot connect to {self.host}:{self.port}: "
                                       f"{describe(exc) if isinstance(exc, OSError) else exc}"
                                       ) from None
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
        if isinstance(self.sock, ssl.SSLSocket):
            return self._handshake()
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if self.tls is not None:
                self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host,
                                                 do_handshake_on_connect=False)
                return self._handshake()
            self.connecting = False
            self.deadline_s = None
            return True
        self._last_error = os.strerror(err)
        self.sock.close()
        self.sock = None
        self._try_next()
        return False

    def _handshake(self) -> bool:
        """Advance the TLS handshake without blocking; True once it is done."""
        assert isinstance(self.sock, ssl.SSLSocket)
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self.handshake_wants_read = True
            return False
        except ssl.SSLWantWriteError:
            self.handshake_wants_read = False
            return False
        except OSError as exc:  # certificate refused, not TLS, reset...
            self.close()
            raise ConnectionClosed(
                f"cannot connect to {self.host}:{self.port}: {describe(exc)}") from None
        self.connecting = self.handshake_wants_read = False
        self.deadline_s = None
        return True

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
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return  # (TLS: the same bytes are offered again, as OpenSSL requires)
        except OSError as exc:
            raise ConnectionClosed(describe(exc)) from None
        del self._out[:sent]

    def on_readable(self) -> list[str]:
        """Received lines, decoded. Too-long lines are dropped (they cannot be parsed)."""
        assert self.sock is not None
        try:
            data = self.sock.recv(RECV_BYTES)
            # TLS: bytes OpenSSL has decrypted already are invisible to select: take them
            # (pending() counts only those: the next recv cannot block or want more).
            while data and isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                data += self.sock.recv(self.sock.pending())
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
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
