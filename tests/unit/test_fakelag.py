"""chatd.session.fakelag and the session's held input (issue 12, point 2): the token bucket and
its penalties with an injected clock, exemptions, and a session holding lines beyond its
allowance and releasing them in order as it refills (or dropping the client past recvq); the
switchboard's wake-ups that let the worker sleep exactly until then. Pure: no sockets."""

from __future__ import annotations

import dataclasses
import ipaddress
import unittest

from chatd.config import Config
from chatd.ipc import frames as ipc
from chatd.session.fakelag import (COMMAND_COST, JOIN_LIMIT, NICK_LIMIT, SEARCH_TIMEOUT_COST,
                                   Bucket, Fakelag, Limit)
from chatd.netaddr import is_exempt
from chatd.session.raw_lines import command_of
from chatd.session.switchboard import LocalClient, Switchboard
from tests.unit.fake_history import FakeHistory
from tests.unit.test_session import (T0, command, feed, make_session, register, serve,
                                     take_master, take_out)


def privmsgs(session, count: int, now: float) -> None:
    feed(session, *(f"PRIVMSG #a :{n}" for n in range(count)), now=now)


def forwarded_texts(session) -> list[str]:
    return [frame.params[1] for frame in take_master(session, drop_syncs=True)
            if type(frame) is ipc.Command]


class BucketTest(unittest.TestCase):
    def test_a_burst_then_the_rate(self):
        bucket = Bucket(Limit(burst=3, rate_per_s=2.0), T0)
        for _ in range(3):
            self.assertEqual(bucket.wait_s(T0), 0.0)
            bucket.charge(1, T0)
        self.assertAlmostEqual(bucket.wait_s(T0), 0.5)
        self.assertAlmostEqual(bucket.wait_s(T0 + 0.2), 0.3)
        self.assertEqual(bucket.wait_s(T0 + 0.5), 0.0)

    def test_refill_stops_at_the_burst(self):
        bucket = Bucket(Limit(burst=3, rate_per_s=2.0), T0)
        bucket.charge(3, T0)
        self.assertEqual(bucket.wait_s(T0 + 3600), 0.0)
        self.assertEqual(bucket.tokens, 3.0)

    def test_a_penalty_may_overdraw_and_delays_what_follows(self):
        bucket = Bucket(Limit(burst=2, rate_per_s=1.0), T0)
        bucket.charge(5, T0)  # a costly command runs on the one token it found
        self.assertAlmostEqual(bucket.wait_s(T0), 4.0)  # -3 -> 1

    def test_the_time_it_asks_for_is_enough(self):
        # No second wake-up a hair later because of rounding.
        bucket = Bucket(Limit(burst=5, rate_per_s=3.0), T0)
        now = T0
        for _ in range(200):
            now += bucket.wait_s(now)
            self.assertEqual(bucket.wait_s(now), 0.0)
            bucket.charge(1, now)
        self.assertAlmostEqual(now - T0, (200 - 5) / 3.0, places=6)


class FakelagTest(unittest.TestCase):
    def test_costly_commands_cost_more(self):
        for name, cost in [("WHO", 3), ("NAMES", 3), ("LIST", 5), ("CHATHISTORY", 3),
                           ("WHOIS", 2), ("NICK", 2), ("JOIN", 2), ("PRIVMSG", 1)]:
            with self.subTest(name):
                lag = Fakelag(burst=10, rate_per_s=1.0, now=T0)
                lag.charge(name, T0)
                self.assertEqual(lag.lines.tokens, 10 - cost)
                self.assertEqual(COMMAND_COST.get(name, 1), cost)

    def test_pong_is_free(self):
        lag = Fakelag(burst=1, rate_per_s=1.0, now=T0)
        lag.charge("PRIVMSG", T0)
        self.assertGreater(lag.wait_s("PRIVMSG", T0), 0)
        self.assertEqual(lag.wait_s("PONG", T0), 0.0)
        lag.charge("PONG", T0)
        self.assertEqual(lag.lines.tokens, 0)

    def test_nick_changes_and_joins_have_their_own_slower_limits(self):
        for name, limit in [("NICK", NICK_LIMIT), ("JOIN", JOIN_LIMIT)]:
            with self.subTest(name):
                lag = Fakelag(burst=1000, rate_per_s=1000.0, now=T0)
                for _ in range(limit.burst):
                    self.assertEqual(lag.wait_s(name, T0), 0.0)
                    lag.charge(name, T0)
                self.assertAlmostEqual(lag.wait_s(name, T0), 1 / limit.rate_per_s)
                self.assertEqual(lag.wait_s("PRIVMSG", T0), 0.0)  # other lines go on


class ExemptTest(unittest.TestCase):
    def test_addresses(self):
        networks = Config().exempt
        cases = [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True),
                 ("::ffff:127.0.0.1", True), ("10.0.0.1", False), ("::2", False),
                 ("2001:db8::1", False), ("host.example", False), ("", False)]
        for host, exempt in cases:
            with self.subTest(host):
                self.assertEqual(is_exempt(host, networks), exempt)
        self.assertTrue(is_exempt("10.9.8.7", (ipaddress.ip_network("10.0.0.0/8"),)))
        self.assertFalse(is_exempt("127.0.0.1", ()))

    def test_sessions_without_fakelag(self):
        self.assertIsNotNone(make_session(flood_rate=2.0).fakelag)  # host.example
        self.assertIsNone(make_session(flood_rate=0).fakelag)
        everyone = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
        self.assertIsNotNone(make_session(flood_rate=2.0, exempt=everyone).fakelag)  # no IP


class CommandOfTest(unittest.TestCase):
    def test_command_word(self):
        cases = [(b"privmsg #a :hi", "PRIVMSG"), (b"@label=x WHO #a", "WHO"),
                 (b":me!u@h NICK bob", "NICK"), (b"@a=b :src  list", "LIST"), (b"PONG", "PONG"),
                 (b"", ""), (b"@tagsonly", ""), (b":prefixonly", "")]
        for raw, expected in cases:
            with self.subTest(raw):
                self.assertEqual(command_of(raw), expected)


class SessionHoldingTest(unittest.TestCase):
    def registered(self, **settings):
        settings = {"flood_rate": 10.0, "flood_burst": 5, "autojoin": (), **settings}
        session = make_session(**settings)
        register(session, now=T0)
        self.assertIsNone(session.wake_at)  # registration lines were not charged
        return session

    def test_registration_is_not_charged(self):
        session = make_session(flood_rate=1.0, flood_burst=1, autojoin=())
        feed(session, "CAP LS 302", "CAP REQ :server-time", "NICK alice",
             "USER al 0 * :Alice", "CAP END", now=T0)
        serve(session, T0)
        self.assertTrue(session.registered)
        self.assertEqual((session.held_lines, session.wake_at), ([], None))
        privmsgs(session, 2, T0)  # and the bucket is full when it registers
        self.assertEqual(forwarded_texts(session), ["0"])

    def test_lines_beyond_the_burst_wait_and_are_released_in_order(self):
        session = self.registered()
        privmsgs(session, 8, T0)
        self.assertEqual(forwarded_texts(session), ["0", "1", "2", "3", "4"])
        self.assertEqual(len(session.held_lines), 3)
        self.assertAlmostEqual(session.wake_at, T0 + 0.1)
        session.on_wake(T0 + 0.1)
        self.assertEqual(forwarded_texts(session), ["5"])
        session.on_wake(T0 + 0.3)
        self.assertEqual(forwarded_texts(session), ["6", "7"])
        self.assertEqual((session.held_lines, session.held_bytes, session.wake_at), ([], 0, None))

    def test_new_lines_queue_behind_held_ones(self):
        session = self.registered(flood_burst=1)
        feed(session, "PRIVMSG #a :0", "PRIVMSG #a :1", now=T0)
        feed(session, "PONG :x", "PRIVMSG #a :2", now=T0 + 0.1)  # 1 runs; PONG free then
        self.assertEqual(forwarded_texts(session), ["0", "1"])
        self.assertEqual(session.held_lines, [b"PRIVMSG #a :2"])
        session.on_wake(session.wake_at)
        self.assertEqual(forwarded_texts(session), ["2"])

    def test_a_costly_command_delays_what_follows(self):
        session = self.registered(flood_burst=5, flood_rate=1.0)
        feed(session, "LIST", "PRIVMSG #a :0", "PRIVMSG #a :1", now=T0)
        self.assertEqual([f.command for f in take_master(session, drop_syncs=True)],
                         ["LIST"])  # it took the 5 tokens
        self.assertAlmostEqual(session.wake_at, T0 + 1.0)
        session.on_wake(T0 + 1.0)
        self.assertEqual(forwarded_texts(session), ["0"])

    def test_a_search_cut_at_its_time_limit_costs_more(self):
        session = self.registered(flood_burst=5, flood_rate=1.0)
        session.history = FakeHistory()
        session.channels.add("#a")
        feed(session, "SEARCH text=x", "PRIVMSG #a :0", now=T0)
        self.assertNotIn("NOTE", [m.command for m in take_out(session)])
        self.assertAlmostEqual(session.wake_at, T0 + 1.0)  # a quick search: LIST's price
        session.on_wake(T0 + 1.0)
        self.assertEqual(forwarded_texts(session), ["0"])
        session.history.search_times_out = True
        feed(session, "SEARCH text=x", now=T0 + 10)
        serve(session, T0 + 10)  # the sync a history read waits for after a forwarded line
        notes = [m.params[1] for m in take_out(session) if m.command == "NOTE"]
        self.assertEqual(notes, ["TIMEOUT"])
        feed(session, "PRIVMSG #a :1", now=T0 + 10)
        self.assertAlmostEqual(session.wake_at, T0 + 10 + 1.0 + SEARCH_TIMEOUT_COST)
        session.on_wake(session.wake_at)
        self.assertEqual(forwarded_texts(session), ["1"])

    def test_local_answers_wait_too(self):
        session = self.registered(flood_burst=1)
        feed(session, "VERSION", "VERSION", now=T0)
        self.assertEqual(len(take_out(session)), 1)  # the first one's 351
        self.assertEqual(len(session.held_lines), 1)
        session.on_wake(T0 + 0.1)
        self.assertEqual((len(take_out(session)), session.held_lines), (1, []))

    def test_held_input_counts_as_activity(self):
        session = self.registered(flood_burst=1, flood_rate=0.01, ping_interval_s=10.0)
        feed(session, "PRIVMSG #a :0", "PRIVMSG #a :1", now=T0)
        session.on_timer(T0 + 9)  # last received at T0: no PING yet
        self.assertEqual(take_out(session), [])

    def test_past_recvq_the_client_is_dropped_for_excess_flood(self):
        session = self.registered(flood_burst=1, recvq_bytes=1024)
        line = "PRIVMSG #a :" + "x" * 100
        for _ in range(8):  # the first runs; 7 held, 7 * (112 + 32) = 1008 bytes
            feed(session, line, now=T0)
        self.assertIsNone(session.close_reason)
        feed(session, line, now=T0)
        self.assertEqual(session.close_reason, "Excess Flood")
        self.assertEqual(take_out(session)[-1].params[-1],
                         "Closing link: (al@host.example) [Excess Flood]")

    def test_without_fakelag_nothing_waits(self):
        session = self.registered(flood_rate=0)
        privmsgs(session, 50, T0)
        self.assertEqual(len(forwarded_texts(session)), 50)


class SwitchboardWakeTest(unittest.TestCase):
    def setUp(self):
        config = dataclasses.replace(Config(), flood_rate=10.0, flood_burst=2, autojoin=())
        self.board = Switchboard(config, read_replay=lambda folded, before, limit: [])
        session = make_session(flood_rate=10.0, flood_burst=2, autojoin=())
        register(session)
        self.conn = LocalClient(session)
        self.board.add(self.conn)

    def send(self, *lines: str, now: float = T0) -> None:
        self.board.on_data(self.conn, "".join(f"{ln}\r\n" for ln in lines).encode(), now)

    def commands(self) -> list:
        return [f for f in self.board.take_to_master() if type(f) is ipc.Command]

    def test_the_next_wake_runs_the_held_lines(self):
        self.assertIsNone(self.board.next_wake())
        self.send("PRIVMSG #a :0", "PRIVMSG #a :1", "PRIVMSG #a :2")
        self.assertEqual(len(self.commands()), 2)
        self.assertAlmostEqual(self.board.next_wake(), T0 + 0.1)
        self.board.on_wake(T0 + 0.05)  # not due
        self.assertEqual(self.commands(), [])
        self.board.on_wake(T0 + 0.1)
        self.assertEqual(self.commands(), [command("PRIVMSG", ("#a", "2"))])
        self.assertIsNone(self.board.next_wake())

    def test_a_closed_connection_wakes_nobody(self):
        self.send("PRIVMSG #a :0", "PRIVMSG #a :1", "PRIVMSG #a :2")
        self.board.close(self.conn, "gone")
        self.assertIsNone(self.board.next_wake())
        self.board.on_wake(T0 + 1)


if __name__ == "__main__":
    unittest.main()
