"""chatd under systemd's notify protocol (chatd/processes/sdnotify.py, service.py,
liveness.py), against a real chatd whose NOTIFY_SOCKET is the test's own datagram socket:
READY=1 once it listens, with a STATUS; STOPPING=1 at shutdown; abstract-namespace names;
WATCHDOG=1 at the pace WATCHDOG_USEC asks, and no more once a child (the writer, a worker)
stops answering (SIGSTOP) — systemd must be left to act; nothing without NOTIFY_SOCKET."""

from __future__ import annotations

import os
import re
import signal
import time
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.notify import NotifySocket
from tests.support.irc_client import open_client
from tests.support.wait import wait_until

WATCHDOG_S = 1.0


class NotifyTest(unittest.TestCase):
    def test_ready_status_and_stopping(self) -> None:
        notify = NotifySocket(self)
        server = start_chatd(self, env={"NOTIFY_SOCKET": notify.env_value})
        wait_until(lambda: notify.has("READY=1"), 10, message="READY=1")
        ready = next(fields for _t, fields in notify.collect() if "READY=1" in fields)
        self.assertIn("STATUS=0 users, 0 channels", ready)
        # READY comes once it serves: a client is welcomed right away.
        open_client(self, server.port, "alice")
        self.assertFalse(notify.pets(), "WATCHDOG=1 without WATCHDOG_USEC")
        self.assertEqual(0, server.stop())
        self.assertTrue(notify.has("STOPPING=1"))

    def test_an_abstract_socket_name(self) -> None:
        notify = NotifySocket(self, abstract=True)
        start_chatd(self, env={"NOTIFY_SOCKET": notify.env_value})
        wait_until(lambda: notify.has("READY=1"), 10, message="READY=1 on @name")

    def test_watchdog_pets_stop_when_a_child_hangs(self) -> None:
        for child in ("writer", "worker"):
            with self.subTest(child=child):
                self.check_watchdog_stops_for(child)

    def check_watchdog_stops_for(self, role: str) -> None:
        notify = NotifySocket(self)
        server = start_chatd(self, env={"NOTIFY_SOCKET": notify.env_value,
                                        "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))})
        # Pets come at least every half period while all is well.
        wait_until(lambda: len(notify.pets()) >= 4, 10, message="four pets")
        pets = notify.pets()
        gaps = [b - a for a, b in zip(pets, pets[1:])]
        self.assertLessEqual(max(gaps), WATCHDOG_S * 0.75, gaps)
        if role == "writer":
            pid = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])
        else:
            pid = server.worker_pid(0)
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(os.kill, pid, signal.SIGCONT)
        stopped_at = time.monotonic()
        time.sleep(WATCHDOG_S * 2)  # the span in which pets must NOT come (not a sync point)
        late = [t for t in notify.pets() if t > stopped_at + WATCHDOG_S]
        self.assertEqual([], late, "WATCHDOG=1 went on while a child was stopped")
        os.kill(pid, signal.SIGCONT)
        resumed_at = time.monotonic()
        wait_until(lambda: any(t > resumed_at for t in notify.pets()), 10,
                   message="pets again once the child answers")


if __name__ == "__main__":
    unittest.main()
