"""The master's select timeout (chatd.processes.loop_timeout): a held PING barrier or a paused
accept wakes it when due, except that barriers do not while the workers are not read
(backlog), when they wait and the master must not spin. Pure: times are plain numbers."""

from __future__ import annotations

import unittest

from chatd.processes.loop_timeout import MAX_WAIT_S, select_timeout


class SelectTimeoutTest(unittest.TestCase):
    def test_table(self) -> None:
        now = 100.0
        cases = [
            # (accept paused until, barrier due, reading workers, timeout)
            (None, None, True, MAX_WAIT_S),
            (None, now - 1, True, 0.0),         # an overdue barrier wakes the master at once
            (None, now - 1, False, MAX_WAIT_S),  # not while workers are not read: no spin
            (None, now + 0.003, True, 0.003),
            (now + 0.5, None, True, 0.5),
            (now + 0.5, now + 0.2, False, 0.5),
            (now + 5, None, True, MAX_WAIT_S),
        ]
        for paused_until, barrier_due, reading, expected in cases:
            with self.subTest(paused_until=paused_until, barrier_due=barrier_due,
                              reading=reading):
                self.assertAlmostEqual(
                    select_timeout(now, paused_until, barrier_due, reading), expected)


if __name__ == "__main__":
    unittest.main()
