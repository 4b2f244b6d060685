"""The master's pure decisions outside the Hub: which worker takes a connection, when a child
may be restarted, when the writer or a worker is hung, the order of a shutdown, backpressure
(the writer's backlog, what is queued for each worker). No sockets,
no processes: times are plain numbers."""

from __future__ import annotations

import unittest
from dataclasses import dataclass

from chatd.exitcodes import EXIT_BOOT_FAILED, EXIT_RUNTIME
from chatd.hub.backpressure import Backpressure, WorkerQueues
from chatd.processes.accepting import client_host, pick_worker
from chatd.processes.shutdown import Shutdown, Step
from chatd.processes.supervision import RestartLimit
from chatd.processes.worker_watchdog import WorkerWatchdog
from chatd.processes.writer_watchdog import WriterWatchdog


@dataclass
class FakeWorker:
    conns: int
    alive: bool = True


class PickWorkerTest(unittest.TestCase):
    def test_least_loaded_live_worker_with_room(self) -> None:
        a, b, dead = FakeWorker(3), FakeWorker(1), FakeWorker(0, alive=False)
        self.assertIs(pick_worker([a, b, dead], max_clients=0, capacity=10), b)

    def test_none_when_full(self) -> None:
        cases = [
            ([FakeWorker(2), FakeWorker(2)], 4, 10),   # [limits] max_clients reached
            ([FakeWorker(5), FakeWorker(5)], 0, 5),    # every worker at its fd capacity
            ([FakeWorker(0, alive=False)], 0, 5),      # no live worker
            ([], 0, 5),
        ]
        for workers, max_clients, capacity in cases:
            with self.subTest(workers=workers, max_clients=max_clients, capacity=capacity):
                self.assertIsNone(pick_worker(workers, max_clients, capacity))

    def test_client_host(self) -> None:
        self.assertEqual(client_host(("127.0.0.1", 5000)), "127.0.0.1")
        self.assertEqual(client_host(("::1", 5000, 0, 0)), "0::1")  # not a trailing param
        self.assertEqual(client_host("/tmp/sock"), "localhost")


class RestartLimitTest(unittest.TestCase):
    def test_boot_failure_is_never_restarted(self) -> None:
        self.assertFalse(RestartLimit().allows(EXIT_BOOT_FAILED, 0.0))

    def test_too_many_restarts_in_the_window(self) -> None:
        limit = RestartLimit(per_window=3, window_s=60.0)
        self.assertEqual([limit.allows(EXIT_RUNTIME, t) for t in (0, 1, 2, 3)],
                         [True, True, True, False])
        self.assertTrue(RestartLimit(per_window=1, window_s=60.0).allows(-9, 0.0))

    def test_old_restarts_are_forgotten(self) -> None:
        limit = RestartLimit(per_window=2, window_s=60.0)
        self.assertTrue(limit.allows(EXIT_RUNTIME, 0.0))
        self.assertTrue(limit.allows(EXIT_RUNTIME, 1.0))
        self.assertTrue(limit.allows(EXIT_RUNTIME, 100.0))

    def test_a_hung_worker_killed_by_the_master_is_not_counted(self) -> None:
        limit = RestartLimit(per_window=2, window_s=60.0)
        self.assertEqual([limit.allows(-9, float(t), counted=False) for t in range(10)],
                         [True] * 10)
        self.assertEqual([limit.allows(EXIT_RUNTIME, t) for t in (10, 11, 12)],
                         [True, True, False])  # the uncounted ones left no trace
        # unless it failed to boot: then respawning would only loop
        self.assertFalse(RestartLimit().allows(EXIT_BOOT_FAILED, 0.0, counted=False))


class WriterWatchdogTest(unittest.TestCase):
    def test_hung_only_when_rows_wait_too_long(self) -> None:
        dog = WriterWatchdog(stall_s=30.0)
        self.assertFalse(dog.is_hung(1000.0))  # nothing sent: nothing to wait for
        dog.rows_sent(0.0)
        dog.rows_sent(20.0)  # the oldest unacknowledged STORE counts
        self.assertFalse(dog.is_hung(30.0))
        self.assertTrue(dog.is_hung(30.5))

    def test_commits_and_stalls_restart_the_clock(self) -> None:
        dog = WriterWatchdog(stall_s=30.0)
        dog.rows_sent(0.0)
        dog.committed(rows_still_waiting=True, now=25.0)
        self.assertFalse(dog.is_hung(50.0))
        dog.stalled(50.0)  # failing commits it retries: not hung
        self.assertFalse(dog.is_hung(79.0))
        dog.committed(rows_still_waiting=False, now=80.0)
        self.assertFalse(dog.is_hung(1000.0))
        dog.stalled(1000.0)  # nothing waiting: a STALLED starts no clock
        self.assertFalse(dog.is_hung(2000.0))


class WorkerWatchdogTest(unittest.TestCase):
    def test_hung_only_when_bytes_wait_and_none_is_taken_for_too_long(self) -> None:
        dog = WorkerWatchdog(hang_s=30.0)
        dog.observe(0, queued=0, drained=False, now=0.0)  # nothing waits: nothing to take
        self.assertEqual(dog.hung(1000.0), [])
        dog.observe(0, queued=500, drained=False, now=1000.0)
        dog.observe(0, queued=900, drained=False, now=1020.0)  # the oldest wait counts
        dog.observe(1, queued=900, drained=True, now=1020.0)  # slow, not stuck
        self.assertEqual(dog.hung(1030.0), [])
        self.assertEqual(dog.hung(1030.5), [0])

    def test_a_byte_taken_or_an_empty_queue_restarts_the_clock(self) -> None:
        dog = WorkerWatchdog(hang_s=30.0)
        dog.observe(0, queued=500, drained=False, now=0.0)
        dog.observe(0, queued=400, drained=True, now=29.0)
        dog.observe(0, queued=400, drained=False, now=40.0)
        self.assertEqual(dog.hung(58.5), [])  # 30 s from the last byte it took
        self.assertEqual(dog.hung(59.5), [0])
        dog.observe(0, queued=0, drained=False, now=70.0)
        self.assertEqual(dog.hung(1000.0), [])
        dog.observe(0, queued=5, drained=False, now=1000.0)
        dog.forget(0)  # killed: its successor starts afresh
        self.assertEqual(dog.hung(2000.0), [])


class ShutdownTest(unittest.TestCase):
    def test_workers_then_writer_then_done(self) -> None:
        stop = Shutdown(now=0.0, timeout_s=10.0)
        self.assertIs(stop.next_step(True, True, 1.0), Step.WAIT)
        self.assertIs(stop.next_step(False, True, 2.0), Step.TELL_WRITER)
        self.assertIs(stop.next_step(False, True, 3.0), Step.WAIT)  # told once
        self.assertIs(stop.next_step(False, False, 4.0), Step.DONE)

    def test_children_that_overstay_are_killed(self) -> None:
        stop = Shutdown(now=0.0, timeout_s=10.0)
        self.assertIs(stop.next_step(True, True, 10.5), Step.KILL_WORKERS)
        self.assertIs(stop.next_step(False, True, 10.6), Step.TELL_WRITER)
        self.assertIs(stop.next_step(False, True, 10.7), Step.KILL_WRITER)


class BackpressureTest(unittest.TestCase):
    def test_stops_past_high_and_resumes_under_low(self) -> None:
        flow = Backpressure(high=10, low=5)
        reading = []
        for backlog in (9, 10, 7, 6, 5, 9):
            with self.assertNoLogs("chatd.hub.backpressure", "ERROR"):
                flow.update(backlog, now=0.0)
            reading.append(flow.reading_workers)
        self.assertEqual(reading, [True, False, False, False, True, True])


class WorkerQueuesTest(unittest.TestCase):
    def test_a_worker_is_not_read_past_high_until_under_low(self) -> None:
        queues = WorkerQueues(high=100, low=50, ceiling=1000)
        reading = []
        for queued in (99, 101, 80, 51, 50, 99):
            queues.update(0, queued, now=0.0)
            reading.append((queues.reads(0), queues.reads(1)))
        self.assertEqual(reading, [(True, True), (False, True), (False, True), (False, True),
                                   (True, True), (True, True)])

    def test_past_the_ceiling_no_worker_is_read(self) -> None:
        queues = WorkerQueues(high=100, low=50, ceiling=1000)
        with self.assertLogs("chatd.hub.backpressure", "WARNING"):
            queues.update(0, 1001, now=0.0)
        self.assertEqual((queues.reads(0), queues.reads(1)), (False, False))
        queues.update(0, 500, now=1.0)  # under the ceiling, not yet under low
        self.assertFalse(queues.reads(1))
        queues.update(0, 50, now=2.0)
        self.assertEqual((queues.reads(0), queues.reads(1)), (True, True))

    def test_a_restarted_worker_is_read_again(self) -> None:
        queues = WorkerQueues(high=100, low=50, ceiling=1000)
        queues.update(0, 5000, now=0.0)
        queues.forget(0)
        self.assertEqual((queues.reads(0), queues.reads(1)), (True, True))


if __name__ == "__main__":
    unittest.main()
