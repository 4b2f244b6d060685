"""The master's select timeout: a held PING barrier wakes it when due, except while the
workers are not read (backlog), when barriers wait and the master must not spin."""

from __future__ import annotations

import socket
import time
import unittest

from chatd.ipc import frames as ipc
from chatd.config import Config
from chatd.master import Master


class SelectTimeoutTest(unittest.TestCase):
    def setUp(self) -> None:
        listener = socket.socket()
        self.addCleanup(listener.close)
        self.master = Master(Config(), listener)
        self.addCleanup(self.master.selector.close)
        self.addCleanup(self.master._wake_r.close)
        self.addCleanup(self.master._wake_w.close)

    def test_an_overdue_barrier_wakes_the_master_at_once(self) -> None:
        self.master.barriers.hold(None, ipc.PingSync(1), time.monotonic() - 1)
        self.assertEqual(self.master._select_timeout(), 0.0)

    def test_barriers_do_not_wake_it_while_workers_are_not_read(self) -> None:
        self.master.barriers.hold(None, ipc.PingSync(1), time.monotonic() - 1)
        self.master.reading_workers = False
        self.assertEqual(self.master._select_timeout(), 1.0)  # not 0: that would spin
