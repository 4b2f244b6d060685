"""The worker's fan-out hot path (regression guard for issue 5, not a timed test): a committed
channel message is formatted once per tag variant, however many local members receive it,
and each member's buffer gets exactly the line its capabilities call for.

chatd.session.delivery is pure, so it runs here as the worker runs it, minus the sockets: the
members are plain Recipients whose buffers are never flushed, and dropping a slow reader is
recorded (and marks it closed, as chatd/session/switchboard.py's close does) instead of
closing a socket."""

from __future__ import annotations

import dataclasses
import unittest
from unittest import mock

from chatd import events
from chatd.config import Config
from chatd.ipc import frames as ipc
from chatd.serverinfo import build_server_info
from chatd.session.delivery import Delivery, Recipient
from chatd.session.session import Session

CHANNEL = "#lobby"
CAP_SETS = (frozenset(), frozenset({"server-time"}), frozenset({"message-tags"}),
            frozenset({"server-time", "message-tags"}))


class FanoutCase(unittest.TestCase):
    """A Delivery with members whose buffers are never flushed."""

    def setUp(self):
        self.config = Config()
        self.info = build_server_info(self.config, None, 0)
        self.conns: dict[int, Recipient] = {}
        self.dropped: list[Recipient] = []
        self.delivery = self.make_delivery(self.config)

    def make_delivery(self, config: Config) -> Delivery:
        return Delivery(self.conns, config, read_replay=lambda folded, before, limit: [],
                        drop_slow_reader=self.drop)

    def drop(self, conn: Recipient) -> None:
        """What the worker does to a reader over its send queue, minus the socket."""
        self.dropped.append(conn)
        conn.outbuf.clear()
        conn.closed = True
        del self.conns[conn.session.conn_id]

    def add_members(self, count: int, caps_of=lambda i: frozenset()) -> list[Recipient]:
        conns = []
        for conn_id in range(1, count + 1):
            session = Session(conn_id, "127.0.0.1", self.info, 0.0)
            session.caps = caps_of(conn_id)
            conn = Recipient(session)
            self.conns[conn_id] = conn
            self.delivery.members.setdefault(CHANNEL, {})[conn_id] = conn
            conns.append(conn)
        return conns

    def deliver(self, text: str, origin: int = 0, event_id: int = 7, account: str = "",
                kind: str = "PRIVMSG") -> None:
        self.delivery.on_event(ipc.Event(
            event_id=event_id, ts_ms=1_700_000_000_000, kind=kind, source="ann!a@h",
            target=CHANNEL, text=text, tags="", origin=origin, channels=(CHANNEL,),
            to_conns=(), extra="", account=account))

    def count_formatting(self):
        return mock.patch.object(events, "event_line", wraps=events.event_line)


class FanoutTest(FanoutCase):
    def test_one_format_for_a_thousand_plain_members(self):
        conns = self.add_members(1000)
        with self.count_formatting() as event_line:
            self.deliver("hello")
        self.assertEqual(event_line.call_count, 1)
        expected = b":ann!a@h PRIVMSG #lobby :hello\r\n"
        self.assertEqual({bytes(c.outbuf) for c in conns}, {expected})
        self.assertEqual(self.delivery.dirty, set(conns))

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
        self.delivery = self.make_delivery(dataclasses.replace(self.config, sendq_bytes=100))
        slow, fast = self.add_members(2)
        for event_id in range(1, 4):
            self.deliver("y" * 40, event_id=event_id)
            fast.outbuf.clear()  # `fast` keeps up; `slow` never reads
        self.assertEqual(self.dropped, [slow])  # once: a dropped reader gets nothing more
        self.assertTrue(slow.closed)
        self.assertFalse(fast.closed)
        self.assertNotIn(slow.session.conn_id, self.conns)
        self.assertIn(fast, self.delivery.dirty)


if __name__ == "__main__":
    unittest.main()


ALL_CAPS = ("server-time", "message-tags", "account-tag", "extended-join")
EVERY_CAP_SET = [frozenset(cap for bit, cap in enumerate(ALL_CAPS) if mask >> bit & 1)
                 for mask in range(1 << len(ALL_CAPS))]  # all 16 combinations


class AccountVariantsTest(FanoutCase):
    """account-tag and extended-join add variants; those that change nothing for an event
    share its line, so a message from a sender that is not logged in is still formatted at
    most 4 times (server-time x message-tags), whatever else the members asked for."""

    def test_account_tag_only_to_clients_that_asked(self):
        plain, tagged = self.add_members(2, caps_of=lambda i: (
            frozenset() if i == 1 else frozenset({"account-tag"})))
        self.deliver("hi", account="Ann")
        self.assertEqual(bytes(plain.outbuf), b":ann!a@h PRIVMSG #lobby :hi\r\n")
        self.assertEqual(bytes(tagged.outbuf), b"@account=Ann :ann!a@h PRIVMSG #lobby :hi\r\n")

    def test_no_account_tag_from_a_sender_not_logged_in(self):
        [tagged] = self.add_members(1, caps_of=lambda i: frozenset({"account-tag"}))
        self.deliver("hi")
        self.assertEqual(bytes(tagged.outbuf), b":ann!a@h PRIVMSG #lobby :hi\r\n")

    def test_formats_per_distinct_line(self):
        # (sender's account, kind, formattings expected for members with all 16 cap sets)
        cases = [("", "PRIVMSG", 4), ("Ann", "PRIVMSG", 8), ("", "JOIN", 8), ("Ann", "JOIN", 16)]
        for account, kind, formats in cases:
            with self.subTest(account=account, kind=kind):
                self.conns.clear()
                self.delivery = self.make_delivery(self.config)
                conns = self.add_members(64, caps_of=lambda i: EVERY_CAP_SET[i % 16])
                with self.count_formatting() as event_line:
                    self.deliver("Ann Example" if kind == "JOIN" else "hi", account=account,
                                 kind=kind, origin=999)
                self.assertEqual(event_line.call_count, formats)
                for conn in conns:  # each got the line its own caps call for
                    row = (7, 1_700_000_000_000, kind, "ann!a@h", CHANNEL,
                           "Ann Example" if kind == "JOIN" else "hi", "", account)
                    expected = events.event_line(row, conn.session.tag_variant) + "\r\n"
                    self.assertEqual(bytes(conn.outbuf), expected.encode())

    def test_extended_join_lines(self):
        # (sender's account, caps, line)
        cases = [
            ("", frozenset(), ":ann!a@h JOIN #lobby"),
            ("", {"extended-join"}, ":ann!a@h JOIN #lobby * :Ann Example"),
            ("Ann", {"extended-join"}, ":ann!a@h JOIN #lobby Ann :Ann Example"),
            ("Ann", {"extended-join", "account-tag"},
             "@account=Ann :ann!a@h JOIN #lobby Ann :Ann Example"),
        ]
        for account, caps, line in cases:
            with self.subTest(account=account, caps=caps):
                self.conns.clear()
                self.delivery = self.make_delivery(self.config)
                [conn] = self.add_members(1, caps_of=lambda i: frozenset(caps))
                self.deliver("Ann Example", account=account, kind="JOIN", origin=999)
                self.assertEqual(bytes(conn.outbuf), (line + "\r\n").encode())
