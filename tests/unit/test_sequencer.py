"""chatd.sequencer: ids, times, commit-before-send and release order."""

import struct
import unittest

from chatd.ipc import frames as ipc
from chatd.hub.hub import Emit, ReplyLines, ToWorker
from chatd.hub.sequencer import Sequencer


def decode(frame: bytes):
    (size,) = struct.unpack(">I", frame[:4])
    assert size == len(frame) - 4
    [record] = ipc.decode_frames(bytearray(frame))
    return record


def emit(text: str, workers: tuple[int, ...] = (0,), kind: str = "PRIVMSG") -> Emit:
    return Emit(kind, "n!u@h", "#a", text, ("#a",), ("#a",), (), 1, workers)


def reply(text: str, worker: int = 0, conn_id: int = 1) -> ReplyLines:
    return ReplyLines(worker, conn_id, [text])


def describe(frames) -> list[tuple]:
    """(worker, opcode, the distinguishing field) for each released frame."""
    out = []
    for worker, frame in frames:
        f = decode(frame)
        if type(f) is ipc.Event:
            out.append((worker, "EVENT", f.text))
        elif type(f) is ipc.Reply:
            out.append((worker, "REPLY", f.payload.decode().strip()))
        elif type(f) is ipc.NickOk:
            out.append((worker, "NICK_OK", f.nick))
        elif type(f) is ipc.Synced:
            out.append((worker, "SYNCED", f.conn_id))
        elif type(f) is ipc.Welcome:
            out.append((worker, "WELCOME", f.conn_id))
        elif type(f) is ipc.LabelStart:
            out.append((worker, "LABEL_START", f.label))
        elif type(f) is ipc.LabelEnd:
            out.append((worker, "LABEL_END", f.conn_id))
        else:
            raise AssertionError(f"unexpected frame {f!r}")
    return out


def holds_nothing(seq: Sequencer) -> bool:
    """Nothing waits for a commit: a new reply goes out at once (and so leaves no trace)."""
    return seq.add([reply("probe")], 0) != []


class SequencerTest(unittest.TestCase):
    def test_ids_increase_from_the_last_stored_one(self):
        seq = Sequencer(last_id=41, last_ts_ms=5000)
        seq.add([emit("a"), emit("b")], 6000)
        seq.add([emit("c")], 6001)
        rows = seq.take_rows()
        self.assertEqual([r[0] for r in rows], [42, 43, 44])
        self.assertEqual([r[5] for r in rows], ["a", "b", "c"])
        self.assertEqual(rows[0][2:5], ("PRIVMSG", "n!u@h", "#a"))
        # client tags, the timelines, the sender's account
        self.assertEqual(rows[0][6:], ("", ("#a",), ""))

    def test_times_never_go_backwards(self):
        # (now_ms for each add) -> timestamps stored
        cases = [
            ([6000, 7000, 8000], [6000, 7000, 8000]),
            ([6000, 5500, 7000], [6000, 6000, 7000]),   # the clock stepped back
            ([4000, 4500], [5000, 5000]),               # behind the last stored time
            ([5000, 5000], [5000, 5000]),
        ]
        for nows, expected in cases:
            with self.subTest(nows=nows):
                seq = Sequencer(last_id=0, last_ts_ms=5000)
                for now in nows:
                    seq.add([emit("x")], now)
                self.assertEqual([r[1] for r in seq.take_rows()], expected)

    def test_event_frame_carries_id_and_time(self):
        seq = Sequencer(last_id=9, last_ts_ms=0)
        e = Emit("JOIN", "n!u@h", "#a", "", ("#a",), ("#a",), (3,), 3, (0,), "extra lines",
                 origin_worker=0)
        seq.add([e], 1234)
        [(worker, frame)] = seq.committed(10)
        self.assertEqual(worker, 0)
        self.assertEqual(decode(frame), ipc.Event(10, 1234, "JOIN", "n!u@h", "#a", "", "", 3,
                                         ("#a",), (3,), "extra lines"))

    def test_extra_goes_only_to_the_origins_worker(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        e = Emit("JOIN", "n!u@h", "#a", "", ("#a",), ("#a",), (), 3, (0, 1, 2), "NAMES burst",
                 origin_worker=1)
        seq.add([e], 5)
        frames = dict(seq.committed(1))
        self.assertEqual({w: decode(f).extra for w, f in frames.items()},
                         {0: "", 1: "NAMES burst", 2: ""})

    def test_the_senders_account_is_stored_and_sent(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        seq.add([Emit("PRIVMSG", "n!u@h", "#a", "hi", ("#a",), ("#a",), (), 3, (0,),
                      account="Nina")], 50)
        [row] = seq.take_rows()
        self.assertEqual(row[8], "Nina")
        [(_worker, frame)] = seq.committed(1)
        self.assertEqual(decode(frame).account, "Nina")

    def test_client_tags_are_stored_and_sent(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        e = Emit("TAGMSG", "n!u@h", "bob", "", ("n bob", "bob n"), (), (8,), 3, (0, 1),
                 tags="+draft/react=x;+y")
        seq.add([e], 50)
        [row] = seq.take_rows()
        self.assertEqual(row, (1, 50, "TAGMSG", "n!u@h", "bob", "", "+draft/react=x;+y",
                               ("n bob", "bob n"), ""))
        frames = seq.committed(1)
        self.assertEqual([w for w, _f in frames], [0, 1])
        self.assertEqual(decode(frames[0][1]),
                         ipc.Event(1, 50, "TAGMSG", "n!u@h", "bob", "", "+draft/react=x;+y",
                          3, (), (8,), ""))

    def test_replies_go_at_once_when_nothing_is_held(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([reply("r1", worker=2), ToWorker(1, ipc.NickOk(5, "bob"))], 1)
        self.assertEqual(describe(ready), [(2, "REPLY", "r1"), (1, "NICK_OK", "bob")])
        self.assertTrue(holds_nothing(seq))

    def test_events_wait_for_their_commit(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        self.assertEqual(seq.add([emit("e1", workers=(0, 1))], 1), [])
        self.assertEqual(seq.committed(0), [])
        ready = seq.committed(1)
        self.assertEqual(describe(ready), [(0, "EVENT", "e1"), (1, "EVENT", "e1")])
        self.assertEqual(ready[0][1], ready[1][1])  # formatted once, same bytes for each worker
        self.assertTrue(holds_nothing(seq))

    def test_replies_behind_an_uncommitted_event_wait(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([reply("before"), emit("e1"), reply("after"), ToWorker(0, ipc.NickOk(2, "x"))], 1)
        self.assertEqual(describe(ready), [(0, "REPLY", "before")])
        # a later add cannot overtake either
        self.assertEqual(seq.add([reply("later")], 2), [])
        self.assertEqual(describe(seq.committed(1)),
                         [(0, "EVENT", "e1"), (0, "REPLY", "after"), (0, "NICK_OK", "x"),
                          (0, "REPLY", "later")])
        self.assertEqual(describe(seq.add([reply("free")], 3)), [(0, "REPLY", "free")])

    def test_synced_and_welcome_frames(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([ToWorker(2, ipc.Welcome(5)), ToWorker(2, ipc.Synced(5)), ToWorker(0, ipc.Synced(6))], 1)
        self.assertEqual([(w, decode(f)) for w, f in ready],
                         [(2, ipc.Welcome(5)), (2, ipc.Synced(5)), (0, ipc.Synced(6))])
        self.assertTrue(holds_nothing(seq))
        self.assertEqual(seq.take_rows(), [])  # neither is stored

    def test_synced_waits_behind_an_uncommitted_event(self):
        # A SYNC answered after a JOIN: the SYNCED must not overtake the JOIN's event, or the
        # worker would let the client's later replies out before it.
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([reply("r0"), emit("e1"), reply("r1"), ToWorker(0, ipc.Synced(1))], 1)
        self.assertEqual(describe(ready), [(0, "REPLY", "r0")])
        self.assertEqual(seq.add([ToWorker(0, ipc.Synced(1))], 2), [])  # a later one waits too
        self.assertEqual(describe(seq.committed(1)),
                         [(0, "EVENT", "e1"), (0, "REPLY", "r1"), (0, "SYNCED", 1),
                          (0, "SYNCED", 1)])
        self.assertTrue(holds_nothing(seq))

    def test_label_frames(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([ToWorker(2, ipc.LabelStart(5, "a;b c")), ToWorker(2, ipc.LabelEnd(5))], 1)
        self.assertEqual([(w, decode(f)) for w, f in ready],
                         [(2, ipc.LabelStart(5, "a;b c")), (2, ipc.LabelEnd(5))])
        self.assertEqual(seq.take_rows(), [])  # not stored

    def test_label_end_waits_behind_the_labeled_commands_event(self):
        # A labeled JOIN: its event is part of the answer, so LABEL_END must not overtake it.
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([ToWorker(0, ipc.LabelStart(1, "L")), emit("join", kind="JOIN"), reply("names"),
                         ToWorker(0, ipc.LabelEnd(1))], 1)
        self.assertEqual(describe(ready), [(0, "LABEL_START", "L")])
        self.assertEqual(describe(seq.committed(1)),
                         [(0, "EVENT", "join"), (0, "REPLY", "names"), (0, "LABEL_END", 1)])

    def test_welcome_goes_before_the_autojoin_event(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        ready = seq.add([ToWorker(1, ipc.Welcome(4)), emit("join", workers=(1,), kind="JOIN"), ToWorker(1, ipc.Synced(4))], 1)
        self.assertEqual(describe(ready), [(1, "WELCOME", 4)])
        self.assertEqual(describe(seq.committed(1)), [(1, "EVENT", "join"), (1, "SYNCED", 4)])

    def test_release_in_decision_order_with_partial_commits(self):
        seq = Sequencer(last_id=100, last_ts_ms=0)
        seq.add([emit("e101"), reply("r1"), emit("e102"), reply("r2"), emit("e103")], 1)
        self.assertEqual(describe(seq.committed(101)), [(0, "EVENT", "e101"), (0, "REPLY", "r1")])
        self.assertEqual(seq.committed(101), [])   # repeated commit: nothing new
        self.assertEqual(seq.committed(100), [])   # an older commit cannot undo anything
        self.assertEqual(describe(seq.committed(103)),
                         [(0, "EVENT", "e102"), (0, "REPLY", "r2"), (0, "EVENT", "e103")])

    def test_event_for_no_worker_still_orders(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        seq.add([emit("nobody", workers=()), reply("after")], 1)
        self.assertEqual(describe(seq.committed(1)), [(0, "REPLY", "after")])

    def test_rows_are_taken_once(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        seq.add([emit("a")], 1)
        self.assertEqual(len(seq.take_rows()), 1)
        self.assertEqual(seq.take_rows(), [])

    def test_writer_restart_resends_exactly_the_uncommitted_rows(self):
        # (last id the new writer reports, ids it must be sent again)
        cases = [
            (1, [2, 3, 4, 5]),   # committed(1) was already known
            (3, [4, 5]),         # it stored 2 and 3 before dying, without saying so
            (4, [5]),            # 5 never reached a writer, so 4 is as far as it can get
        ]
        for last_id, resend in cases:
            with self.subTest(last_id=last_id):
                seq = Sequencer(last_id=0, last_ts_ms=0)
                seq.add([emit("e1"), emit("e2"), emit("e3")], 1)
                seq.take_rows()                      # 1..3 went to the old writer
                seq.committed(1)
                seq.add([emit("e4")], 2)
                seq.take_rows()                      # 4 too
                seq.add([emit("e5")], 3)             # 5 was never sent
                rows, ready = seq.writer_restarted(last_id)
                self.assertEqual([r[0] for r in rows], resend)
                released = [t for _w, _op, t in describe(ready)]
                self.assertEqual(released, [f"e{i}" for i in range(2, last_id + 1)])
                self.assertEqual(seq.take_rows(), [])  # handed out once
                # a second restart before any commit re-sends the same rows again
                rows_again, _ = seq.writer_restarted(last_id)
                self.assertEqual([r[0] for r in rows_again], resend)
                rest = [t for _w, _op, t in describe(seq.committed(5))]
                self.assertEqual(released + rest, ["e2", "e3", "e4", "e5"])
                self.assertTrue(holds_nothing(seq))
                self.assertEqual(seq.writer_restarted(5)[0], [])

    def test_ids_continue_after_restart(self):
        seq = Sequencer(last_id=0, last_ts_ms=0)
        seq.add([emit("a")], 1)
        seq.take_rows()
        rows, _ready = seq.writer_restarted(0)
        self.assertEqual([r[0] for r in rows], [1])
        seq.add([emit("b")], 2)
        self.assertEqual([r[0] for r in seq.take_rows()], [2])


if __name__ == "__main__":
    unittest.main()
