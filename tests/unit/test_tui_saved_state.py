"""tui.saved_state (what is remembered of a server, and how it comes back), tui.memory (when
it is written), and a client restarted from it: buffers reopened, channels re-joined, each
buffer caught up from where it stopped (then a page of context), conversations begun while
away found, and a server without CHATHISTORY saying so. No files, no sockets."""

import json
import unittest
from datetime import UTC, timedelta

from ircproto.message import parse
from tests.unit.test_tui_support import MASK, T0, Harness
from tui.app import App
from tui.memory import SAVE_EVERY, Memory, SaveState
from tui.saved_state import SavedBuffer, SavedServer, decode, encode, restore, snapshot
from tui.state import BufferKind, Kind, Line, State

HOUR = timedelta(hours=1)
SAVED = SavedServer(
    "alice", T0 - HOUR, "#dev",
    (SavedBuffer("#lobby", BufferKind.CHANNEL, "20", T0 - 2 * HOUR),
     SavedBuffer("#dev", BufferKind.CHANNEL, "30", T0 - HOUR, T0 - 2 * HOUR),
     SavedBuffer("bob", BufferKind.QUERY, "", T0 - HOUR)))


def params(line: str) -> tuple[str, ...]:
    return parse(line).params


class SavedStateTest(unittest.TestCase):
    def test_json_round_trip(self) -> None:
        text = encode({"chat.example:6697": SAVED, "other:6667": SavedServer("bob")})
        self.assertEqual(json.loads(text)["version"], 1)
        self.assertEqual(decode(text), {"chat.example:6697": SAVED,
                                        "other:6667": SavedServer("bob")})

    def test_damaged_or_tampered_entries_are_left_out(self) -> None:
        good = {"name": "#ok", "kind": "channel"}
        document = {"version": 1, "servers": {
            "a:1": {"nick": "alice", "current": "x y", "seen_until": "yesterday",
                    "buffers": [good, {"name": "#a b", "kind": "channel"},
                                {"name": "#c\r\nQUIT", "kind": "channel"},
                                {"name": "bob", "kind": "server"},
                                {"name": "carol", "kind": "query", "msgid": "1 2"}, 7]},
            "b:1": {"nick": ":evil"}, "c:1": "junk"}}
        self.assertEqual(decode(json.dumps(document)),
                         {"a:1": SavedServer("alice", None, None,
                                             (SavedBuffer("#ok", BufferKind.CHANNEL),))})
        for text in ("not json", "[]", '{"servers": 3}'):
            with self.subTest(text=text), self.assertRaises(ValueError):
                decode(text)

    def test_snapshot_and_restore(self) -> None:
        state = State(tz=UTC)
        channels = restore(SAVED, state)
        self.assertEqual(channels, ["#lobby", "#dev"])
        self.assertEqual([b.name for b in state.buffers[1:]], ["#lobby", "#dev", "bob"])
        self.assertEqual(state.current.name, "#dev")
        dev = state.get("#dev")
        self.assertTrue(dev.rejoin and dev.restored and not dev.parted)
        self.assertEqual((dev.resume.msgid, dev.read_time), ("30", T0 - 2 * HOUR))
        self.assertEqual(snapshot(state, "alice", T0 - HOUR), SAVED)  # nothing happened

    def test_snapshot_takes_what_is_new(self) -> None:
        state = State(tz=UTC)
        restore(SAVED, state)
        dev, lobby = state.get("#dev"), state.get("#lobby")
        state.add(dev, Line(T0, Kind.MESSAGE, "seen", nick="bob", msgid="40"))
        lobby.joined, lobby.rejoin = False, False  # kicked: not remembered
        state.open("carol", BufferKind.QUERY)
        saved = snapshot(state, "alice2", T0)
        self.assertEqual(saved.nick, "alice2")
        self.assertEqual([(b.name, b.msgid) for b in saved.buffers],
                         [("#dev", "40"), ("bob", ""), ("carol", "")])
        self.assertEqual(saved.buffers[0].read, T0)  # shown: read as far as the view


class MemoryTest(unittest.TestCase):
    def test_written_when_changed_at_most_every_few_seconds(self) -> None:
        h = Harness()
        h.register()
        memory = Memory("k", None)
        first = memory.due(T0, h.state, h.session)
        self.assertEqual([type(a) for a in first], [SaveState])
        self.assertEqual(memory.due(T0 + SAVE_EVERY, h.state, h.session), [])  # unchanged
        h.join()
        self.assertEqual(memory.due(T0 + SAVE_EVERY + timedelta(seconds=1), h.state,
                                    h.session), [])  # not yet time to look
        saved = memory.due(T0 + 2 * SAVE_EVERY, h.state, h.session)
        self.assertEqual([b.name for b in saved[0].saved.buffers], ["#lobby"])
        self.assertEqual(memory.final(h.state, h.session), [])


class RestartTest(unittest.TestCase):
    """A session started from SAVED against a server with CHATHISTORY."""

    def setUp(self) -> None:
        self.h = Harness()
        restore_into(self.h, SAVED)

    def test_buffers_are_caught_up_from_where_they_stopped(self) -> None:
        h = self.h
        sent = h.register()
        history = [params(line) for line in sent if parse(line).command == "CHATHISTORY"]
        self.assertIn(("TARGETS", "timestamp=2026-11-25T17:00:00.000Z"), [p[:2] for p in history])
        self.assertIn(("AFTER", "bob", "timestamp=2026-11-25T17:00:00.000Z", "100"), history)
        h.recv(h.line("JOIN", "#dev", source=MASK, msgid=50))
        self.assertEqual(params(h.lines[-1]), ("AFTER", "#dev", "msgid=30", "100"))

    def test_missed_lines_then_context_then_the_new_marker(self) -> None:
        h = self.h
        h.register()
        h.state.focus(h.buffer("bob"))  # looking elsewhere
        h.recv(h.line("JOIN", "#dev", source=MASK, msgid=50))
        missed = [h.line("PRIVMSG", "#dev", f"missed {i}", msgid=30 + i,
                         when=T0 - HOUR + timedelta(minutes=i)) for i in (1, 2)]
        out = h.answer(missed)
        self.assertEqual(params(out[-1]), ("BEFORE", "#dev", "msgid=31", "50"))  # context
        h.answer([h.line("PRIVMSG", "#dev", f"old {i}", msgid=i,
                         when=T0 - 3 * HOUR + timedelta(minutes=i)) for i in (28, 29, 30)])
        texts = [line.text for line in h.buffer("#dev").lines]
        self.assertEqual(texts[:7], ["start", "old 28", "old 29", "old 30", "new", "missed 1",
                                     "missed 2"])
        self.assertEqual(h.buffer("#dev").unread, 2)


class NoHistoryRestartTest(unittest.TestCase):
    def test_a_server_without_chathistory_is_said_to_keep_nothing(self) -> None:
        h = Harness(caps="")
        restore_into(h, SAVED)
        sent = h.register()
        self.assertFalse([line for line in sent if "CHATHISTORY" in line or "MARKREAD" in line])
        joins = h.advance(2)
        self.assertEqual(joins, ["JOIN #lobby", "JOIN #dev"])  # not #lobby by default twice
        for name in ("#lobby", "#dev", "bob"):
            with self.subTest(buffer=name):
                self.assertIn("This server keeps no history", h.texts(name)[-1])


class AppRestartTest(unittest.TestCase):
    def test_the_remembered_nick_connects_without_asking(self) -> None:
        app = App("chat.test", 6667, nick="alice", login="root", tz=UTC, remembered=SAVED)
        self.assertEqual(app.state.current.name, "#dev")
        self.assertEqual(app.mode.value, "chat")
        self.assertEqual(app.closing(), [])  # never registered: nothing new to remember


def restore_into(h: Harness, saved: SavedServer) -> None:
    h.session.remember(restore(saved, h.state), saved.seen_until)


if __name__ == "__main__":
    unittest.main()
