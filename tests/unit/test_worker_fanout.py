"""The worker's fan-out hot path (regression guard for issue 5, not a timed test): a committed
channel message is formatted once per tag variant, however many local members receive it,
and each member's buffer gets exactly the line its capabilities call for.

The Worker runs in-process with fake client sockets (never flushed) and an unused master
channel: on_event only queues."""

from __future__ import annotations

import dataclasses
import socket
import unittest
from pathlib import Path
from unittest import mock

from chatd import events
from chatd.ipc import frames as ipc
from chatd.ipc.pipe import Pipe
from chatd.config import Config
from chatd.session.session import Session, build_server_info
from chatd.worker import Connection, Worker

CHANNEL = "#lobby"
CAP_SETS = (frozenset(), frozenset({"server-time"}), frozenset({"message-tags"}),
            frozenset({"server-time", "message-tags"}))


class FanoutTest(unittest.TestCase):
    def setUp(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(theirs.close)
        config = dataclasses.replace(Config(), history_path=Path("/nonexistent/chatd.db"))
        self.info = build_server_info(config, None, 0)
        self.worker = Worker(0, Pipe(ours), self.info)
        self.addCleanup(self.worker.channel.close)
        self.addCleanup(self.worker.selector.close)

    def add_members(self, count: int, caps_of=lambda i: frozenset(),
                    real_sockets: bool = False) -> list[Connection]:
        conns = []
        for conn_id in range(1, count + 1):
            session = Session(conn_id, "127.0.0.1", self.info, 0.0)
            session.caps = caps_of(conn_id)
            if real_sockets:  # for a test that closes connections
                sock, peer = socket.socketpair()
                self.addCleanup(peer.close)
                self.addCleanup(sock.close)
                self.worker.selector.register(sock, 1, None)
            else:
                sock = mock.Mock(spec=socket.socket)
            conn = Connection(sock, session)
            self.worker.conns[conn_id] = conn
            self.worker.members.setdefault(CHANNEL, {})[conn_id] = conn
            conns.append(conn)
        return conns

    def deliver(self, text: str, origin: int = 0, event_id: int = 7) -> None:
        self.worker.on_event(ipc.Event(event_id, 1_700_000_000_000, "PRIVMSG", "ann!a@h",
                              CHANNEL, text, "", origin, (CHANNEL,), (), ""))

    def count_formatting(self):
        return mock.patch.object(events, "event_line", wraps=events.event_line)

    def test_one_format_for_a_thousand_plain_members(self):
        conns = self.add_members(1000)
        with self.count_formatting() as event_line:
            self.deliver("hello")
        self.assertEqual(event_line.call_count, 1)
        expected = b":ann!a@h PRIVMSG #lobby :hello\r\n"
        self.assertEqual({bytes(c.outbuf) for c in conns}, {expected})
        self.assertEqual(self.worker.dirty, set(conns))

    def test_one_format_per_tag_variant(self):
        conns = self.add_members(400, caps_of=lambda i: CAP_SETS[i % len(CAP_SETS)])
        with self.count_formatting() as event_line:
            self.deliver("hi")
        self.assertEqual(event_line.call_count, len(CAP_SETS))
        lines_by_variant: dict[int, set[bytes]] = {}
        for conn in conns:
            lines_by_variant.setdefault(conn.session.tag_variant, set()).add(bytes(conn.outbuf))
        self.assertEqual(len(lines_by_variant), len(CAP_SETS))
        for variant, lines in lines_by_variant.items():
            (line,) = lines  # every member of one variant got the same bytes
            self.assertEqual(line.startswith(b"@"), variant != 0)
            self.assertEqual(b"time=" in line, bool(variant & events.WANTS_TIME))
            self.assertEqual(b"msgid=" in line, bool(variant & events.WANTS_TAGS))
            self.assertTrue(line.endswith(b":ann!a@h PRIVMSG #lobby :hi\r\n"))

    def test_the_sender_is_skipped_and_closed_members_get_nothing(self):
        conns = self.add_members(10)
        conns[3].closed = True
        self.deliver("x", origin=conns[0].session.conn_id)
        self.assertEqual(bytes(conns[0].outbuf), b"")  # no echo-message: not sent back
        self.assertEqual(bytes(conns[3].outbuf), b"")
        self.assertEqual(sum(1 for c in conns if c.outbuf), 8)

    def test_a_reader_over_its_send_queue_is_dropped(self):
        self.worker.config = dataclasses.replace(self.worker.config, sendq_bytes=100)
        slow, fast = self.add_members(2, real_sockets=True)
        for event_id in range(1, 4):
            self.deliver("y" * 40, event_id=event_id)
            fast.outbuf.clear()  # `fast` keeps up; `slow` never reads
        self.assertTrue(slow.closed)
        self.assertFalse(fast.closed)
        self.assertNotIn(slow.session.conn_id, self.worker.conns)
        told = ipc.decode_frames(bytearray(b"".join(bytes(d) for d, _ in self.worker.channel._out)))
        self.assertIn(ipc.ConnClosed(slow.session.conn_id, "SendQ exceeded"), told)

if __name__ == "__main__":
    unittest.main()
