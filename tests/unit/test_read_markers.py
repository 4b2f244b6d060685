"""Read markers and the replay without repeats, pure parts: what the master makes of MARKREAD
(chatd/hub/read_markers.py: checks, the write for a logged-in client, who is told), and what
a worker counts as shown (chatd/session/seen.py: only what a PING answered after it covers,
and only after the JOIN's replay)."""

from __future__ import annotations

import json
import unittest
from types import SimpleNamespace

from chatd import events
from chatd.hub.commands import run_command
from chatd.hub.hub import Emit, ReplyLines, ToWorker
from chatd.hub.read_markers import seen_up_to
from chatd.ipc import frames
from chatd.session.read_markers import LOCAL_MARKERS, ReadMarkers
from chatd.session.seen import ACK_INTERVAL_S, SeenTracker
from ircproto.servertime import format_server_time
from tests.unit.test_hub import add_client, make_hub
from tests.unit.test_session import make_session

T1 = "2019-01-04T14:33:26.123Z"


class MarkreadCommandTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(workers=3)
        self.alice = add_client(self.hub, 1, "alice", worker=1)

    def run_markread(self, *params: str) -> list:
        run_command(self.hub, self.alice, "MARKREAD", params)
        return self.hub.take_effects()

    def test_a_client_not_logged_in_is_answered_by_its_worker_alone(self) -> None:
        self.assertEqual(self.run_markread("#c", f"timestamp={T1}"), [ToWorker(1, frames.ReadMarker(
            conn_id=1, account="", target="#c", ts_ms=1546612406123))])
        self.assertEqual(self.run_markread("bob"), [ToWorker(1, frames.ReadMarker(
            conn_id=1, account="", target="bob", ts_ms=0))])

    def test_an_account_marker_is_written_then_every_worker_told(self) -> None:
        self.alice.account = "Alice"
        effects = self.run_markread("#C", f"timestamp={T1}")
        write, *told = effects
        self.assertIsInstance(write, Emit)
        self.assertEqual((write.kind, write.source, write.target, json.loads(write.text),
                          write.workers), (events.READ_KIND, events.MARKER_OP, "alice",
                                           {"target": "#c", "ts": 1546612406123}, ()))
        self.assertEqual(told, [ToWorker(w, frames.ReadMarker(
            conn_id=1 if w == 1 else 0, account="Alice", target="#C", ts_ms=1546612406123))
            for w in range(3)])
        # A get writes nothing and asks its own worker only.
        self.assertEqual(self.run_markread("#C"), [ToWorker(1, frames.ReadMarker(
            conn_id=1, account="Alice", target="#C", ts_ms=0))])

    def test_a_time_ahead_of_the_server_is_clamped_to_now(self) -> None:
        later = format_server_time(self.hub.now_ms + 3_600_000)
        (effect,) = self.run_markread("#c", f"timestamp={later}")
        self.assertEqual(effect.frame.ts_ms, self.hub.now_ms)

    def test_errors_are_standard_replies(self) -> None:
        cases = {(): "FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters",
                 ("#c", "*"): "FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp",
                 ("#c", "timestamp=soon"): "FAIL MARKREAD INVALID_PARAMS timestamp=soon"
                                           " :Invalid timestamp",
                 ("#c", "time=" + T1): f"FAIL MARKREAD INVALID_PARAMS time={T1}"
                                       " :Invalid timestamp",
                 ("no,body",): "FAIL MARKREAD INVALID_PARAMS no,body :Invalid target",
                 # a word that cannot be echoed as a middle parameter is shown as *
                 ("a b",): "FAIL MARKREAD INVALID_PARAMS * :Invalid target",
                 ("#c", ":x"): "FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp",
                 ("#c", ""): "FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp"}
        for params, line in cases.items():
            with self.subTest(params=params):
                self.assertEqual(self.run_markread(*params),
                                 [ReplyLines(1, 1, [f":{self.hub.config.server_name} {line}"])])

    def test_what_a_client_was_shown_is_written_for_its_account_only(self) -> None:
        report = frames.SeenUpTo(conn_id=1, channels=("#a", "#b"), ids=(7, 7))
        seen_up_to(self.hub, self.alice, report)
        self.assertEqual(self.hub.take_effects(), [])  # not logged in: nobody's
        self.alice.account = "Alice"
        seen_up_to(self.hub, self.alice, report)
        (write,) = self.hub.take_effects()
        self.assertEqual((write.source, write.target, json.loads(write.text)),
                         (events.SEEN_OP, "alice", {"seen": [["#a", 7], ["#b", 7]]}))


class LocalMarkersTest(unittest.TestCase):
    """The markers of clients that are not logged in, in their worker."""

    def setUp(self) -> None:
        self.session = make_session()
        self.session.caps = {"draft/read-marker"}
        self.conn = SimpleNamespace(session=self.session)
        self.sent: list[bytes] = []
        self.markers = ReadMarkers({self.session.conn_id: self.conn}, None,
                                   lambda conn, data: self.sent.append(data),
                                   lambda conn, data: self.sent.append(data))

    def mark(self, target: str, ts_ms: int) -> str:
        """A MARKREAD through the master's frame; the value the client was answered."""
        self.markers.on_frame(frames.ReadMarker(conn_id=self.session.conn_id, account="",
                                                target=target, ts_ms=ts_ms))
        return self.sent.pop().decode().split(" MARKREAD ", 1)[1].rstrip()

    def test_never_backwards_and_at_most_local_markers_kept(self) -> None:
        self.assertEqual(self.mark("#c", 2000), "#c timestamp=1970-01-01T00:00:02.000Z")
        self.assertEqual(self.mark("#C", 1000), "#C timestamp=1970-01-01T00:00:02.000Z")
        for n in range(LOCAL_MARKERS):  # #c was set first: it is the one forgotten
            self.mark(f"#t{n}", 5000)
        self.assertEqual(self.mark("#c", 0), "#c *")
        self.markers.after_join(self.conn, "#t1", "#T1")
        self.assertEqual(self.sent.pop().decode().split(" MARKREAD ", 1)[1].rstrip(),
                         "#T1 timestamp=1970-01-01T00:00:05.000Z")
        self.markers.forget(self.session.conn_id, None)
        self.assertEqual(self.markers.local, {})


class SeenTrackerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.seen = SeenTracker()

    def event(self, event_id: int, channel: str = "#c") -> None:
        self.seen.note_event((channel,), event_id)

    def join(self, conn_id: int, join_id: int, channel: str = "#c") -> None:
        self.event(join_id, channel)
        self.seen.joined(conn_id, "alice", channel, join_id)

    def answer(self, conn_id: int, now: float) -> None:
        """Send the due PING and answer it as irssi does (PONG :token)."""
        self.assertIn(conn_id, self.seen.pings_due(now))
        token = self.seen.ping(conn_id, now)[len(b"PING :"):-2]
        self.assertTrue(self.seen.on_line(conn_id, b"PONG :" + token))

    def test_only_an_answered_ping_after_the_join_counts(self) -> None:
        self.join(1, 10)
        self.event(11)
        self.seen.left(1, ("#c",))  # no PING answered: what it had may never have arrived
        self.assertEqual(self.seen.take_reports(), [])
        self.join(1, 12)
        self.answer(1, 100.0)
        self.event(13)  # after the PING: not covered
        self.seen.departed(1)
        self.assertEqual(self.seen.take_reports(),
                         [frames.SeenUpTo(conn_id=1, channels=("#c",), ids=(12,))])
        self.assertNotIn(1, self.seen.conns)

    def test_a_ping_queued_before_the_join_does_not_cover_its_replay(self) -> None:
        self.join(1, 10, "#a")
        self.seen.ping(1, 100.0)
        self.seen.joined(1, "alice", "#b", 11)  # its replay went out after the PING
        self.seen.on_line(1, b"PONG :seen-1")
        self.seen.departed(1)
        self.assertEqual(self.seen.take_reports(),
                         [frames.SeenUpTo(conn_id=1, channels=("#a",), ids=(10,))])

    def test_the_answer_must_carry_the_token(self) -> None:
        self.join(1, 10)
        token = self.seen.ping(1, 100.0)[len(b"PING :"):-2]
        for line in (b"PONG :other", b"PRIVMSG #c :" + token, b"PONG :" + token + b"0"):
            with self.subTest(line=line):
                self.assertFalse(self.seen.on_line(1, line))
        self.assertTrue(self.seen.awaiting(1))
        self.assertTrue(self.seen.on_line(1, b"@a=b :x PONG chat.test " + token))
        self.assertFalse(self.seen.awaiting(1))

    def test_pings_go_only_where_events_went_and_not_too_often(self) -> None:
        self.join(1, 10)
        self.join(2, 11, "#quiet")
        self.answer(1, 100.0)
        self.answer(2, 100.0)
        self.event(12)  # in #c only
        self.assertEqual(self.seen.pings_due(100.0 + ACK_INTERVAL_S - 0.1), [])
        self.assertEqual(self.seen.pings_due(100.0 + ACK_INTERVAL_S), [1])
        self.seen.ping(1, 100.0 + ACK_INTERVAL_S)
        self.event(13)
        self.assertEqual(self.seen.pings_due(200.0), [])  # one in flight at a time

    def test_a_change_of_account_forgets_what_was_shown(self) -> None:
        self.join(1, 10)
        self.answer(1, 100.0)
        self.seen.forget(1)
        self.seen.departed(1)
        self.assertEqual(self.seen.take_reports(), [])


if __name__ == "__main__":
    unittest.main()
