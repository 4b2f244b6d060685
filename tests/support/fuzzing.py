"""The fuzz test's driver: N connections to a chatd, each sending bursts of lines from its own
seeded FuzzLines stream and a PING after each burst. The PONG is the proof that chatd has
handled every line of the burst (it answers a client's lines in order), so only bursts whose
PONG came back count as processed; a connection chatd closed (a fuzzed QUIT, say) is
replaced by a new one. Every line received is checked against the line limits (512 bytes with
CRLF besides the tags, 8191 bytes of tags), and for chatd's "Internal server error". One thread, one selector, non-blocking sockets."""

from __future__ import annotations

import random
import selectors
import socket
import time
from dataclasses import dataclass, field

from ircproto.framing import MAX_BODY_BYTES, MAX_TAGS_BYTES, LineReader
from tests.support.fuzz_lines import FuzzLines

BURST_LINES = (20, 120)  # lines per burst, drawn at random (below chatd's 256 held lines)
PONG_TIMEOUT_S = 15.0  # a burst not answered by then: chatd is stuck (the test fails)


@dataclass
class FuzzFigures:
    processed: int = 0  # lines in bursts whose PONG came back
    sent: int = 0
    connections: int = 0
    closed_by_server: int = 0
    received: int = 0
    too_long: list[bytes] = field(default_factory=list)  # the first few, for the message
    internal_errors: list[bytes] = field(default_factory=list)  # chatd's own failures


class FuzzConnection:
    def __init__(self, port: int, number: int, lines: FuzzLines, rng: random.Random):
        self.number, self.lines, self.rng = number, lines, rng
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setblocking(False)
        self.reader = LineReader(max_body_bytes=1 << 20, max_tags_bytes=1 << 20)
        self.out = bytearray()
        self.token: bytes | None = None  # the PING token of the burst in flight
        self.burst = 0
        self.sent_at = 0.0
        self.bursts = 0
        if rng.random() < 0.9:  # most register first; the others fuzz unregistered
            caps = " ".join(rng.sample(("message-tags", "server-time", "echo-message",
                                        "batch", "labeled-response", "draft/chathistory",
                                        "draft/event-playback", "extended-join"),
                                       rng.randrange(0, 6)))
            if caps:
                self.out += f"CAP LS 302\r\nCAP REQ :{caps}\r\nCAP END\r\n".encode()
            self.out += f"NICK fz{number}\r\nUSER fz 0 * :fuzzer {number}\r\n".encode()
            self.out += f"JOIN {','.join(rng.sample(('#f0', '#f1', '#f2', '#f3'), 2))}\r\n".encode()

    def start_burst(self, now: float) -> int:
        count = self.rng.randrange(*BURST_LINES)
        for _ in range(count):
            self.out += self.lines.line()
        self.bursts += 1
        self.token = b"fz%d.%d" % (self.number, self.bursts)
        self.out += b"PING :" + self.token + b"\r\n"
        self.burst, self.sent_at = count, now
        return count


class Fuzzer:
    def __init__(self, port: int, connections: int, seed: int, nicks: tuple[str, ...]):
        self.port = port
        self.rng = random.Random(seed)
        self.nicks = nicks
        self.selector = selectors.DefaultSelector()
        self.figures = FuzzFigures()
        self.conns = [self._open(n) for n in range(connections)]

    def _open(self, number: int) -> FuzzConnection:
        rng = random.Random(self.rng.random())
        conn = FuzzConnection(self.port, number, FuzzLines(rng, self.nicks), rng)
        self.selector.register(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        self.figures.connections += 1
        return conn

    def run(self, lines: int, deadline_s: float) -> FuzzFigures:
        """Fuzz until `lines` lines were processed; fail past `deadline_s` seconds."""
        deadline = time.monotonic() + deadline_s
        try:
            while self.figures.processed < lines:
                now = time.monotonic()
                if now > deadline:
                    raise AssertionError(f"fuzzing did not finish in {deadline_s} s: {self.figures}")
                for conn in list(self.conns):
                    if conn.token is None:
                        self.figures.sent += conn.start_burst(now)
                    elif now - conn.sent_at > PONG_TIMEOUT_S:
                        raise AssertionError(f"no PONG in {PONG_TIMEOUT_S} s on fuzz "
                                             f"connection {conn.number}: {self.figures}")
                    self._watch(conn)
                for key, mask in self.selector.select(timeout=0.5):
                    conn = key.data
                    if mask & selectors.EVENT_READ:
                        self._read(conn)
                    if mask & selectors.EVENT_WRITE and conn in self.conns:
                        self._write(conn)
        finally:
            for conn in self.conns:
                conn.sock.close()
            self.selector.close()
        return self.figures

    def _watch(self, conn: FuzzConnection) -> None:
        """Wait for writability only while there is something to write (else select would
        return at once, all the time)."""
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
        if self.selector.get_key(conn.sock).events != events:
            self.selector.modify(conn.sock, events, conn)

    def _write(self, conn: FuzzConnection) -> None:
        if not conn.out:
            return
        try:
            sent = conn.sock.send(conn.out)
        except BlockingIOError:
            return
        except OSError:
            self._replace(conn)
            return
        del conn.out[:sent]

    def _read(self, conn: FuzzConnection) -> None:
        try:
            data = conn.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._replace(conn)
            return
        for line in conn.reader.feed(data):
            if isinstance(line, bytes):
                self._check(conn, line)

    def _check(self, conn: FuzzConnection, line: bytes) -> None:
        self.figures.received += 1
        tags_end = line.find(b" ") + 1 if line.startswith(b"@") else 0
        if tags_end > MAX_TAGS_BYTES or len(line) - tags_end > MAX_BODY_BYTES - 2:
            if len(self.figures.too_long) < 5:
                self.figures.too_long.append(line)
        if b"Internal server error" in line and len(self.figures.internal_errors) < 5:
            self.figures.internal_errors.append(line)
        if line.startswith(b"PING "):
            conn.out += b"PONG " + line[5:] + b"\r\n"
        elif (conn.token is not None and b" PONG " in line
              and (line.endswith(b" " + conn.token) or line.endswith(b":" + conn.token))):
            self.figures.processed += conn.burst
            conn.token = None

    def _replace(self, conn: FuzzConnection) -> None:
        """chatd closed it (a QUIT, an error): a new connection takes its place."""
        self.selector.unregister(conn.sock)
        conn.sock.close()
        self.figures.closed_by_server += 1
        self.conns[self.conns.index(conn)] = self._open(conn.number)
