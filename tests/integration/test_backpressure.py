"""A client that sends faster than the history can be written, against a real chatd: chatd
stops reading it (TCP slows it down) instead of queueing without bound, and once the writer
catches up every message is committed and delivered, in order. The writer is frozen with
SIGSTOP so that "faster than the disk" holds on any machine."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client

# More than chatd may hold for a stalled writer (10,000 events and a 16 MiB read in the master,
# up to ~13 MiB of frames in a worker, the TCP buffers of both ends), far less than a server
# reading everything would take in before the deadline.
MAX_BYTES_TAKEN = 96 << 20
TEXT = "x" * 400  # long lines: bytes, not frame overhead, fill the buffers
BLOCKED_FOR_S = 1.0  # the flooder counts as blocked once it could send nothing for this long
DEADLINE_S = 30.0


class StalledWriterTest(unittest.TestCase):
    def test_a_flooder_is_slowed_not_buffered_and_nothing_is_lost(self) -> None:
        # A large sendq: the reader is not what this test is about.
        server = start_chatd(self, extra={"channels": {"autojoin": "#flood"},
                                          "limits": {"sendq": str(256 << 20)}})
        reader = open_client(self, server.port, "reader")
        flooder = open_client(self, server.port, "flooder")
        reader.expect(r"^:flooder!\S+ JOIN #flood$")
        writer_pid = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])

        os.kill(writer_pid, signal.SIGSTOP)
        self.addCleanup(_continue, writer_pid)
        sent, rest_of_line = flood_until_blocked(flooder.sock)
        self.assertLess(sent * len(line_for(sent)), MAX_BYTES_TAKEN,
                        "chatd kept reading a client it cannot store for")

        os.kill(writer_pid, signal.SIGCONT)
        if rest_of_line:  # the line the kernel took only part of
            flooder.sock.setblocking(True)
            flooder.sock.sendall(rest_of_line)
            sent += 1
        # Everything sent is committed and delivered, in order.
        expected = 0
        deadline = time.monotonic() + DEADLINE_S
        pattern = re.compile(rf"^:flooder!\S+ PRIVMSG #flood :m(\d+) {TEXT}$")
        while expected < sent:
            line = reader.expect(r" PRIVMSG #flood ", max(0.1, deadline - time.monotonic()))
            match = pattern.match(line)
            self.assertIsNotNone(match, line)
            self.assertEqual(expected, int(match.group(1)))
            expected += 1
        flooder.sock.setblocking(True)
        flooder.sync()  # the flooder was not dropped either


def flood_until_blocked(sock: socket.socket) -> tuple[int, bytes]:
    """Send numbered PRIVMSGs without reading until chatd stops taking them; return how many
    whole lines were sent and the rest of a line sent in part. Fails if chatd is still taking
    them at the deadline."""
    sock.setblocking(False)
    sent = 0
    pending = b""
    blocked_since = None
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if not pending:
            pending = b"".join(line_for(n) for n in range(sent, sent + 100))
        try:
            count = sock.send(pending)
        except BlockingIOError:
            count = 0
        if count:
            sent += pending[:count].count(b"\n")
            pending = pending[count:]
            blocked_since = None
        elif blocked_since is None:
            blocked_since = time.monotonic()
        elif time.monotonic() - blocked_since >= BLOCKED_FOR_S:
            cut = pending and not pending.startswith(b"PRIVMSG")
            return sent, pending[: pending.index(b"\n") + 1] if cut else b""
        if count == 0:
            time.sleep(0.01)  # poll interval while the socket is full, not synchronization
    raise AssertionError(f"chatd still reading the flooder after {DEADLINE_S} s ({sent} lines)")


def line_for(number: int) -> bytes:
    return f"PRIVMSG #flood :m{number} {TEXT}\r\n".encode()


def _continue(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
