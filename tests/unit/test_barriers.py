"""chatd.barriers: a client's frames are held from its PING_SYNC on for the grace period, in
order, and only that client's."""

from __future__ import annotations

import unittest

from chatd.ipc import frames as ipc
from chatd.hub.barriers import Barriers

T0 = 100.0


def command(conn_id: int) -> ipc.Command:
    return ipc.Command(conn_id, "JOIN", ("#a",), None, "")


def ping(conn_id: int) -> ipc.PingSync:
    return ipc.PingSync(conn_id)


def sync(conn_id: int) -> ipc.Sync:
    return ipc.Sync(conn_id)


class BarriersTest(unittest.TestCase):
    def test_a_ping_sync_holds_its_client_and_nobody_else(self) -> None:
        barriers = Barriers(grace_s=0.005)
        self.assertFalse(barriers.hold("1: before", command(1), T0))
        self.assertTrue(barriers.hold("1: ping", ping(1), T0))
        self.assertTrue(barriers.hold("1: after", command(1), T0 + 0.001))
        self.assertTrue(barriers.hold("1: sync", sync(1), T0 + 0.002))
        self.assertFalse(barriers.hold("2: meanwhile", command(2), T0 + 0.001))
        self.assertEqual(barriers.next_due(), T0 + 0.005)
        self.assertEqual(barriers.due(T0 + 0.004), [])
        self.assertEqual([source for source, _ in barriers.due(T0 + 0.005)],
                         ["1: ping", "1: after", "1: sync"])
        self.assertIsNone(barriers.next_due())
        self.assertFalse(barriers.hold("1: later", command(1), T0 + 0.006))

    def test_holds_end_in_the_order_they_began(self) -> None:
        barriers = Barriers(grace_s=0.005)
        barriers.hold("7", ping(7), T0)
        barriers.hold("3", ping(3), T0 + 0.001)
        barriers.hold("9", ping(9), T0 + 0.010)
        self.assertEqual(barriers.next_due(), T0 + 0.005)
        self.assertEqual([source for source, _ in barriers.due(T0 + 0.006)], ["7", "3"])
        self.assertEqual(barriers.next_due(), T0 + 0.015)
