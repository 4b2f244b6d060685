"""When the master may pet systemd's watchdog (chatd/processes/liveness.py), and how
$NOTIFY_SOCKET / $WATCHDOG_USEC are read (chatd/processes/sdnotify.py)."""

import os
import unittest

from chatd.processes.liveness import Liveness
from chatd.processes.sdnotify import Notifier

W = 8.0  # watchdog period: pets every 4 s, heartbeats every 1 s, answers within 4 s


class LivenessTest(unittest.TestCase):
    def test_pets_every_half_period_while_every_child_answers(self) -> None:
        live = Liveness(W, now=0.0)
        self.assertTrue(live.pet_due(["writer", "w0"], 0.0))
        self.assertFalse(live.pet_due(["writer", "w0"], 3.9))
        live.answered("writer", 3.0)
        live.answered("w0", 3.5)
        self.assertTrue(live.pet_due(["writer", "w0"], 4.0))

    def test_a_silent_child_stops_the_pets_until_it_answers(self) -> None:
        live = Liveness(W, now=0.0)
        live.pet_due(["writer", "w0"], 0.0)
        live.answered("writer", 4.0)  # w0 last seen at 0.0
        live.heartbeat_due(4.5)
        self.assertFalse(live.pet_due(["writer", "w0"], 4.5))
        self.assertGreater(live.next_due(), 4.5)  # the master's loop does not spin on it
        live.answered("w0", 5.0)
        self.assertTrue(live.pet_due(["writer", "w0"], 5.5))

    def test_a_new_child_has_a_full_period_to_answer_and_a_gone_one_is_forgotten(self) -> None:
        live = Liveness(W, now=0.0)
        live.pet_due(["w0"], 0.0)
        self.assertTrue(live.pet_due(["w0-restarted"], 4.0))  # w0 silent, but gone
        self.assertFalse(live.pet_due(["w0-restarted"], 8.5))

    def test_heartbeats_are_numbered_and_paced(self) -> None:
        live = Liveness(W, now=0.0)
        self.assertEqual(1, live.heartbeat_due(0.0))
        self.assertIsNone(live.heartbeat_due(0.5))
        self.assertEqual(2, live.heartbeat_due(1.0))


class NotifierEnvironmentTest(unittest.TestCase):
    def test_nothing_without_notify_socket(self) -> None:
        notifier = Notifier({})
        self.assertFalse(notifier.enabled)
        notifier.ready("x")  # sends nothing, raises nothing

    def test_abstract_names_and_paths(self) -> None:
        self.assertEqual(b"\0sd-notify", Notifier({"NOTIFY_SOCKET": "@sd-notify"}).address)
        self.assertEqual("/run/x", Notifier({"NOTIFY_SOCKET": "/run/x"}).address)

    def test_watchdog_for_this_process_only(self) -> None:
        mine = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"}
        self.assertEqual(30.0, Notifier(mine).watchdog_s)
        self.assertEqual(30.0, Notifier(dict(mine, WATCHDOG_PID=str(os.getpid()))).watchdog_s)
        self.assertIsNone(Notifier(dict(mine, WATCHDOG_PID="1")).watchdog_s)
        self.assertIsNone(Notifier(dict(mine, WATCHDOG_USEC="soon")).watchdog_s)


if __name__ == "__main__":
    unittest.main()
