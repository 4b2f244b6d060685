"""chatd.hub.pipeline: the master's order of work — a worker's frames through the PING
barriers, the Hub and the Sequencer; rows for the writer; commits release. Driven directly,
with times as numbers; the outgoing frames are decoded to check what goes where, in order."""

from __future__ import annotations

import unittest
from unittest import mock

from chatd.hub.barriers import Barriers
from chatd.hub.pipeline import Pipeline
from chatd.stored_channel import StoredChannel
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from tests.unit.test_hub import add_client, make_hub

NOW_MS = 1_700_000_000_000


def decoded(outgoing: list[tuple[int, bytes]]) -> list[tuple[int, object]]:
    return [(worker, frame) for worker, data in outgoing
            for frame in ipc.decode_frames(bytearray(data))]


class PipelineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub()
        self.pipeline = Pipeline(self.hub, Barriers(grace_s=1.0))
        self.pipeline.writer_ready(ipc.Ready(last_id=10, last_ts_ms=0, channels=()))
        self.alice = add_client(self.hub, 1, "alice", worker=0)
        self.bob = add_client(self.hub, 2, "bob", worker=1)

    def frames_from(self, worker: int, *frames, now: float = 0.0) -> list:
        return decoded(self.pipeline.on_worker_frames(worker, list(frames), NOW_MS, now))

    def test_a_ping_barrier_holds_its_client_only_until_due(self) -> None:
        out = self.frames_from(0, ipc.PingSync(1), ipc.Sync(1), ipc.Sync(2))
        self.assertEqual(out, [(1, ipc.Synced(2))])  # bob is not held
        self.assertEqual(decoded(self.pipeline.release_barriers(0.5, NOW_MS)), [])
        self.assertEqual(decoded(self.pipeline.release_barriers(1.0, NOW_MS)),
                         [(0, ipc.Synced(1)), (0, ipc.Synced(1))])

    def test_an_event_goes_out_once_committed(self) -> None:
        self.assertEqual(self.frames_from(0, ipc.Command(1, "JOIN", ("#a",), None, ""),
                                          ipc.Sync(1)), [])
        (row,) = self.pipeline.take_rows()
        self.assertEqual(row[:3], (11, NOW_MS, "JOIN"))
        out = decoded(self.pipeline.committed(11))
        self.assertEqual([(w, type(f)) for w, f in out], [(0, ipc.Event), (0, ipc.Synced)])

    def test_a_bug_closes_that_client_first(self) -> None:
        def handle(hub, client, frame) -> None:
            if client is self.bob:
                raise RuntimeError("bug")
            apply_worker_frame(hub, client, frame)

        with mock.patch("chatd.hub.pipeline.apply_worker_frame", side_effect=handle), \
                self.assertLogs("chatd.hub.pipeline", "ERROR"):
            out = self.frames_from(1, ipc.Sync(1), ipc.Sync(2))
        # sent at once, ahead of what the frames before it released
        self.assertEqual(out, [(1, ipc.CloseConn(2, "Internal server error")),
                               (0, ipc.Synced(1))])

    def test_departures_are_counted_per_worker(self) -> None:
        self.frames_from(1, ipc.ConnClosed(2, "Quit"), ipc.ConnClosed(99, "unknown"))
        self.assertEqual(self.pipeline.take_departed(), [1])
        self.assertEqual(self.pipeline.take_departed(), [])
        self.assertNotIn(2, self.hub.registry.clients)

    def test_a_dead_workers_clients_quit(self) -> None:
        self.frames_from(0, ipc.Command(1, "JOIN", ("#a",), None, ""))
        self.frames_from(1, ipc.Command(2, "JOIN", ("#a",), None, ""))
        self.pipeline.take_rows()
        self.pipeline.committed(self.pipeline.sequencer.next_id - 1)
        self.assertEqual(decoded(self.pipeline.drop_worker_clients(0, NOW_MS)), [])  # uncommitted
        self.assertNotIn(1, self.hub.registry.clients)
        (row,) = self.pipeline.take_rows()
        self.assertEqual(row[2:4], ("QUIT", "alice!u1@host1"))

    def test_a_restarted_writer_gets_what_it_lacks(self) -> None:
        self.frames_from(0, ipc.Command(1, "JOIN", ("#a",), None, ""))
        self.pipeline.take_rows()  # sent, never committed: the writer died
        rows, released = self.pipeline.writer_ready(ipc.Ready(10, 0, ()))
        self.assertEqual([row[0] for row in rows], [11])
        self.assertEqual(released, [])

    def test_the_first_ready_restores_the_kept_channels(self) -> None:
        hub = make_hub()
        ann_account = ("ann", "scrypt$x", "scram$x", ())
        kept = StoredChannel(name="#A", founder="ann", created_s=5, flags="mnt", key=None,
                             limit=None, topic="hi", topic_setter="ann", topic_ts_ms=5000,
                             lists={"b": (("x!*@*", "ann!a@h", 4),)}, operators=())
        Pipeline(hub, Barriers()).writer_ready(ipc.Ready(
            last_id=0, last_ts_ms=0, channels=(tuple(kept),), accounts=(ann_account,)))
        alice, ann = add_client(hub, 1, "alice"), add_client(hub, 2, "ann")
        ann.account = "ann"
        hub.join(alice, "#a")  # the first to join a registered channel: not its operator
        hub.join(ann, "#a")
        channel = hub.registry.channel("#a")
        self.assertEqual((channel.name, channel.created_s, channel.topic), ("#A", 5, "hi"))
        self.assertEqual(channel.modes.flags, {"m", "n", "t"})
        self.assertEqual([e.mask for e in channel.modes.lists["b"]], ["x!*@*"])
        self.assertEqual(channel.ranks, {2: "o"})


if __name__ == "__main__":
    unittest.main()
