"""`[metrics] listen`: a minimal HTTP/1.0 server in the master's event loop — no thread, no
blocking call — answering `GET /metrics` with the text chatd/metrics.py renders. Each scrape
is one connection: read the request (at most REQUEST_MAX_BYTES, within REQUEST_TIMEOUT_S),
answer, close. At most MAX_CONNECTIONS at once; more are closed at accept. Everything else
gets 404 (another path), 405 (another method) or 400."""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 8
REQUEST_MAX_BYTES = 8192
REQUEST_TIMEOUT_S = 5.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsSocket:
    """A socket of the metrics server in the master's selector: `handle` does its part."""

    def __init__(self, server: MetricsServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = b""
        self.opened = time.monotonic()

    def handle(self, mask: int) -> None:
        if self.sock is self.server.listener:
            self.server.accept()
        elif mask & selectors.EVENT_READ and not self.outbuf:
            self.server.read_request(self)
        elif mask & selectors.EVENT_WRITE:
            self.server.write_response(self)


class MetricsServer:
    def __init__(self, address: tuple[str, int], selector: selectors.BaseSelector,
                 render: Callable[[], str]) -> None:
        self.address = address
        self.selector = selector
        self.render = render
        self.listener: socket.socket | None = None
        self.conns: list[MetricsSocket] = []

    def start(self) -> tuple[str, int]:
        """Bind and listen (OSError if the address cannot be had); returns the bound address."""
        host, port = self.address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.listener = sock
        self.selector.register(sock, selectors.EVENT_READ, MetricsSocket(self, sock))
        return sock.getsockname()[:2]

    def close(self) -> None:
        for conn in list(self.conns):
            self._drop(conn)
        if self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None

    def close_in_child(self) -> None:
        """In a forked child: close the sockets, but leave the selector (its epoll instance is
        shared with the master's) alone."""
        for sock in [conn.sock for conn in self.conns] + [self.listener]:
            if sock is not None:
                sock.close()

    def accept(self) -> None:
        assert self.listener is not None
        try:
            sock, _peer = self.listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:  # out of descriptors: the next scrape will do
            log.warning("metrics: cannot accept: %s", exc)
            return
        if len(self.conns) >= MAX_CONNECTIONS:
            sock.close()
            return
        sock.setblocking(False)
        conn = MetricsSocket(self, sock)
        self.conns.append(conn)
        self.selector.register(sock, selectors.EVENT_READ, conn)

    def read_request(self, conn: MetricsSocket) -> None:
        try:
            data = conn.sock.recv(REQUEST_MAX_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.inbuf += data
        head, found, _ = bytes(conn.inbuf).partition(b"\r\n\r\n")
        if not found:
            head, found, _ = bytes(conn.inbuf).partition(b"\n\n")
        if found:
            self._respond(conn, *self.answer(head))
        elif len(conn.inbuf) > REQUEST_MAX_BYTES:
            self._respond(conn, 400, "request too large\n")

    def answer(self, head: bytes) -> tuple[int, str]:
        """Status and body for a request head."""
        words = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0].split()
        if len(words) != 3 or not words[2].startswith(b"HTTP/"):
            return 400, "bad request\n"
        method, path = words[0], words[1].split(b"?", 1)[0]
        if path != b"/metrics":
            return 404, "not found: try /metrics\n"
        if method not in (b"GET", b"HEAD"):
            return 405, "only GET\n"
        body = self.render()
        return 200, body if method == b"GET" else ""

    def _respond(self, conn: MetricsSocket, status: int, body: str) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found",
                  405: "Method Not Allowed"}[status]
        payload = body.encode("utf-8")
        content_type = CONTENT_TYPE if status == 200 else "text/plain; charset=utf-8"
        head = (f"HTTP/1.0 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
        conn.outbuf = head + payload
        self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        self.write_response(conn)

    def write_response(self, conn: MetricsSocket) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        conn.outbuf = conn.outbuf[sent:]
        if not conn.outbuf:
            self._drop(conn)

    def expire(self, now: float) -> None:
        """Close scrapes that have taken too long (a client that sends nothing, or never reads)."""
        for conn in [c for c in self.conns if now - c.opened > REQUEST_TIMEOUT_S]:
            self._drop(conn)

    def _drop(self, conn: MetricsSocket) -> None:
        self.conns.remove(conn)
        self.selector.unregister(conn.sock)
        conn.sock.close()
