"""A small line-based IRC client for tests: send lines, expect lines matching a regex within a
deadline. Uses the project's own parser so tests read messages, not strings."""

from __future__ import annotations

import re
import socket
import ssl
import struct
import time
import unittest

from ircproto.framing import LineReader, decode_line
from ircproto.message import Message, parse


class IRCClient:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout_s: float = 10.0,
                 tls: ssl.SSLContext | None = None, source: str | None = None):
        # `source`: connect from this local address (e.g. 127.0.0.2, loopback too, to be
        # "another address" to the server).
        self.sock = socket.create_connection(
            (host, port), timeout=timeout_s,
            source_address=(source, 0) if source is not None else None)
        # Each line leaves at once: with Nagle, a line sent right after another waits in our
        # kernel for the server's (delayed) ACK, up to 40 ms, which no server can help.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:  # the handshake happens here, within timeout_s
            self.sock = tls.wrap_socket(self.sock)
        self.timeout_s = timeout_s
        self.reader = LineReader(max_body_bytes=1 << 16, max_tags_bytes=1 << 16)
        self.backlog: list[str] = []  # received lines not yet consumed by expect()
        self.seen: list[str] = []  # every line received, for failure messages
        self.closed = False
        self.answer_pings = False  # reply PONG to the server's PINGs while reading

    @property
    def local_port(self) -> int:
        """Our end's port: the master logs it with the worker that got the connection."""
        return self.sock.getsockname()[1]

    # sending
    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def register(self, nick: str, user: str | None = None, caps: tuple[str, ...] = ()) -> list[str]:
        """NICK/USER (with optional CAP REQ) and wait for the end of the MOTD."""
        if caps:
            self.send("CAP LS 302")
            self.send("CAP REQ :" + " ".join(caps))
        self.send(f"NICK {nick}")
        self.send(f"USER {user or nick} 0 * :Test {nick}")
        if caps:
            self.send("CAP END")
        return self.expect_until(r" (376|422) ")

    # receiving
    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.closed:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for raw in self.reader.feed(data):
            line = decode_line(raw) if isinstance(raw, bytes) else f"<too long {raw.length}>"
            self.backlog.append(line)
            self.seen.append(line)
            if self.answer_pings and line.startswith("PING "):
                self.send("PONG " + line[len("PING "):])
        return True

    def expect(self, pattern: str, timeout_s: float | None = None) -> str:
        """Consume lines until one matches `pattern` (re.search); return it. Lines before it
        are dropped. Fail with the lines seen if none matches in time."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.timeout_s)
        regex = re.compile(pattern)
        while True:
            while self.backlog:
                line = self.backlog.pop(0)
                if regex.search(line):
                    return line
            if not self._fill(deadline):
                raise AssertionError(f"no line matching {pattern!r}; received:\n  "
                                     + "\n  ".join(self.seen[-40:]))

    def expect_msg(self, pattern: str, timeout_s: float | None = None) -> Message:
        return parse(self.expect(pattern, timeout_s))

    def expect_until(self, pattern: str, timeout_s: float | None = None) -> list[str]:
        """Collect lines up to and including the first matching `pattern`."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.timeout_s)
        regex = re.compile(pattern)
        collected = []
        while True:
            while self.backlog:
                line = self.backlog.pop(0)
                collected.append(line)
                if regex.search(line):
                    return collected
            if not self._fill(deadline):
                raise AssertionError(f"no line matching {pattern!r}; received:\n  "
                                     + "\n  ".join(self.seen[-40:]))

    def assert_no_line(self, pattern: str, within_s: float = 0.3) -> None:
        """Assert nothing matching arrives within a short window (used only for negatives,
        after a positive marker such as a PING round trip)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + within_s
        while True:
            for line in self.backlog:
                if regex.search(line):
                    raise AssertionError(f"unexpected line {line!r}")
            if not self._fill(deadline):
                return

    def sync(self, token: str = "sync") -> list[str]:
        """Round-trip a PING; return the lines that arrived before its PONG. Everything the
        server sent us before handling our PING is in that list."""
        self.send(f"PING :{token}")
        return self.expect_until(rf"PONG \S+ :?{re.escape(token)}$")[:-1]

    def wait_closed(self, timeout_s: float | None = None) -> list[str]:
        """Read until the server closes the connection; return the lines received."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.timeout_s)
        start = len(self.seen)
        while not self.closed:
            if not self._fill(deadline) and not self.closed:
                raise AssertionError("connection was not closed; received:\n  "
                                     + "\n  ".join(self.seen[-40:]))
        return self.seen[start:]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Hang up abruptly: close with a TCP reset instead of an orderly FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()


def open_client(testcase: unittest.TestCase | type[unittest.TestCase], port: int,
                nick: str | None = None, caps: tuple[str, ...] = (),
                tls: ssl.SSLContext | None = None, source: str | None = None) -> IRCClient:
    """Connect (over TLS with `tls`; and register as `nick`, if given); the socket is closed
    at cleanup (class cleanup when given a TestCase class, e.g. from setUpClass)."""
    client = IRCClient(port, tls=tls, source=source)
    add_cleanup = testcase.addClassCleanup if isinstance(testcase, type) else testcase.addCleanup
    add_cleanup(client.close)
    if nick is not None:
        client.register(nick, caps=caps)
    return client
