"""chatd.hub.departures and Pipeline.shutdown_departures: at a shutdown everyone still in a
channel is stored as having quit, after everything decided before, and nothing is sent to the
(stopped) workers; one pass over the clients, the registry left alone."""

from __future__ import annotations

import time
import unittest

from chatd.hub.barriers import Barriers
from chatd.hub.departures import SHUTDOWN_REASON, store_shutdown_quits
from chatd.hub.hub import Emit
from chatd.hub.pipeline import Pipeline
from chatd.ipc import frames as ipc
from tests.unit.test_hub import add_client, make_hub

NOW_MS = 1_700_000_000_000


class ShutdownQuitsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub()
        self.alice = add_client(self.hub, 1, "alice", worker=0)
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        self.loner = add_client(self.hub, 3, "loner", worker=1)  # in no channel
        self.pending = add_client(self.hub, 4, "pending", register=False)
        self.hub.join(self.alice, "#a")
        self.hub.join(self.bob, "#a")
        self.hub.join(self.bob, "#B")
        self.hub.take_effects()
        self.bob.account = "bobacct"

    def test_everyone_in_a_channel_quits_in_each_of_them_stored_not_delivered(self) -> None:
        self.assertEqual(2, store_shutdown_quits(self.hub))
        quits = self.hub.take_effects()
        self.assertEqual([Emit(kind="QUIT", source="alice!u1@host1", target="",
                               text=SHUTDOWN_REASON, convs=("#a",), channels=(), to_conns=(),
                               origin=1, workers=()),
                          Emit(kind="QUIT", source="bob!u2@host2", target="",
                               text=SHUTDOWN_REASON, convs=("#a", "#b"), channels=(),
                               to_conns=(), origin=2, workers=(), account="bobacct")], quits)
        # The registry is left as it was (the master exits next): no per-client unwinding.
        self.assertEqual({1, 2, 3, 4}, set(self.hub.registry.clients))
        self.assertEqual({"#a", "#b"}, set(self.bob.channels))

    def test_thousands_of_clients_take_one_pass(self) -> None:
        hub = make_hub(channels_per_client=20)
        for conn_id in range(10, 5010):
            client = add_client(hub, conn_id, f"n{conn_id}", worker=conn_id % 4)
            for name in ("#big", f"#small{conn_id % 50}"):
                hub.join(client, name)
            hub.take_effects()
        started = time.process_time()
        self.assertEqual(5000, store_shutdown_quits(hub))
        spent = time.process_time() - started
        self.assertEqual(5000, len(hub.take_effects()))
        # About 13 ms on the reference machine: a bound with room for a loaded one.
        self.assertLess(spent, 1.0)


class PipelineDeparturesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub()
        self.pipeline = Pipeline(self.hub, Barriers(grace_s=1.0))
        self.pipeline.writer_ready(ipc.Ready(last_id=10, last_ts_ms=0, channels=()))
        self.alice = add_client(self.hub, 1, "alice", worker=0)

    def test_the_quits_come_last_and_nothing_goes_to_the_workers(self) -> None:
        self.pipeline.on_worker_frames(0, [ipc.Command(1, "JOIN", ("#a",), None, ""),
                                           ipc.Command(1, "PRIVMSG", ("#a", "hi"), None, "")],
                                       NOW_MS, 0.0)
        self.assertEqual([], self.pipeline.shutdown_departures(NOW_MS + 5))
        rows = self.pipeline.take_rows()
        self.assertEqual([(11, "JOIN"), (12, "PRIVMSG"), (13, "QUIT")],
                         [(row.event_id, row.kind) for row in rows])
        self.assertEqual(("alice!u1@host1", SHUTDOWN_REASON, ("#a",), NOW_MS + 5),
                         (rows[-1].source, rows[-1].text, rows[-1].convs, rows[-1].ts_ms))
        # Once committed, only what the earlier events release goes out: the QUIT has no frame.
        released = [(worker, type(frame)) for worker, data in self.pipeline.committed(13)
                    for frame in ipc.decode_frames(bytearray(data))]
        self.assertEqual([(0, ipc.Event), (0, ipc.Event)], released)

    def test_before_the_writer_was_ready_there_is_nothing_to_store(self) -> None:
        pipeline = Pipeline(make_hub(), Barriers(grace_s=1.0))
        self.assertEqual([], pipeline.shutdown_departures(NOW_MS))


if __name__ == "__main__":
    unittest.main()
