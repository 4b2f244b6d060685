"""chatd.barriers: a client's frames are held from its PING_SYNC on for the grace period, in
order, and only that client's."""

from __future__ import annotations

import unittest

from chatd.ipc import frames as ipc
from chatd.hub.barriers import Barriers

T0 = 100.0


class BarriersTest(unittest.TestCase):
    def test_a_ping_sync_holds_its_client_and_nobody_else(self) -> None:
        barriers = Barriers(grace_s=0.005)
        self.assertFalse(barriers.hold(1, ipc.COMMAND, "w", "1: before", T0))
        self.assertTrue(barriers.hold(1, ipc.PING_SYNC, "w", "1: ping", T0))
        self.assertTrue(barriers.hold(1, ipc.COMMAND, "w", "1: after", T0 + 0.001))
        self.assertTrue(barriers.hold(1, ipc.SYNC, "w", "1: sync", T0 + 0.002))
        self.assertFalse(barriers.hold(2, ipc.COMMAND, "w", "2: meanwhile", T0 + 0.001))
        self.assertEqual(barriers.next_due(), T0 + 0.005)
        self.assertEqual(barriers.due(T0 + 0.004), [])
        self.assertEqual([f for _, f in barriers.due(T0 + 0.005)], ["1: ping", "1: after", "1: sync"])
        self.assertIsNone(barriers.next_due())
        self.assertFalse(barriers.hold(1, ipc.COMMAND, "w", "1: later", T0 + 0.006))

    def test_holds_end_in_the_order_they_began(self) -> None:
        barriers = Barriers(grace_s=0.005)
        barriers.hold(7, ipc.PING_SYNC, "w", "7", T0)
        barriers.hold(3, ipc.PING_SYNC, "w", "3", T0 + 0.001)
        barriers.hold(9, ipc.PING_SYNC, "w", "9", T0 + 0.010)
        self.assertEqual(barriers.next_due(), T0 + 0.005)
        self.assertEqual([f for _, f in barriers.due(T0 + 0.006)], ["7", "3"])
        self.assertEqual(barriers.next_due(), T0 + 0.015)
