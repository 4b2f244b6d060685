"""tui.attention (through tui.state): unread and mention counts, the read position and its
"— new —" line, and which lines ring the bell."""

import unittest
from datetime import UTC, datetime, timedelta

from tui import attention
from tui.layout import Anchor
from tui.state import BufferKind, Delivery, Kind, Line, State

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def msg(text: str, minute: int, **kw) -> Line:
    return Line(T0 + timedelta(minutes=minute), Kind.MESSAGE, text,
                nick=kw.pop("nick", "bob"), **kw)


class MarkerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.lobby = self.state.open("#lobby", BufferKind.CHANNEL)
        self.dev = self.state.open("#dev", BufferKind.CHANNEL)
        self.state.focus(self.lobby)

    def texts(self, buf) -> list[str]:
        return [line.text for line in buf.lines]

    def test_the_first_unread_line_gets_the_marker_once(self) -> None:
        self.state.focus(self.dev)
        self.state.add(self.dev, msg("seen", 1))
        self.state.focus(self.lobby)  # #dev is read up to "seen"
        self.assertEqual(self.dev.read_time, T0 + timedelta(minutes=1))
        for i, text in enumerate(("one", "two"), 2):
            self.state.add(self.dev, msg(text, i))
        self.assertEqual(self.texts(self.dev), ["seen", "new", "one", "two"])
        self.assertEqual((self.dev.unread, self.dev.mentions), (2, 0))

    def test_no_marker_on_top_of_a_buffer(self) -> None:
        self.state.add(self.dev, Line(T0, Kind.EVENT, "You joined #dev"))
        self.state.add(self.dev, msg("first words", 1))
        self.assertEqual(self.texts(self.dev), ["You joined #dev", "first words"])

    def test_looking_keeps_the_marker_leaving_removes_it(self) -> None:
        self.state.add(self.dev, msg("old", 1))
        attention.leave(self.dev)
        self.state.add(self.dev, msg("fresh", 2))
        self.state.focus(self.dev)
        self.assertEqual(self.texts(self.dev), ["old", "new", "fresh"])
        self.assertEqual((self.dev.unread, self.dev.mentions), (0, 0))
        self.state.focus(self.lobby)
        self.assertEqual(self.texts(self.dev), ["old", "fresh"])
        self.assertEqual(self.dev.read_time, T0 + timedelta(minutes=2))

    def test_leaving_a_scrolled_view_reads_only_what_it_showed(self) -> None:
        self.state.focus(self.dev)
        for i in range(5):
            self.state.add(self.dev, msg(f"m{i}", i))
        self.dev.anchor = Anchor(2, 0)  # the view's bottom is m2
        self.state.focus(self.lobby)
        self.assertEqual(self.dev.read_time, T0 + timedelta(minutes=2))

    def test_own_lines_waiting_for_the_server_are_not_a_position(self) -> None:
        self.state.focus(self.dev)
        self.state.add(self.dev, msg("stored", 1))
        self.state.add(self.dev, msg("mine", 9, own=True, delivery=Delivery.PENDING))
        self.state.focus(self.lobby)
        self.assertEqual(self.dev.read_time, T0 + timedelta(minutes=1))

    def test_a_page_is_counted_from_the_read_position(self) -> None:
        self.dev.read_time = T0 + timedelta(minutes=2)
        page = [msg(f"m{i}", i, history=True, msgid=str(i)) for i in range(1, 5)]
        page[3] = msg("alice: look", 4, history=True, msgid="4", mention=True)
        self.state.insert_history(self.dev, page)
        self.assertEqual(self.texts(self.dev), ["m1", "m2", "new", "m3", "alice: look"])
        self.assertEqual((self.dev.unread, self.dev.mentions), (2, 1))

    def test_moving_the_read_position(self) -> None:
        cases = [(None, T0, True), (T0, T0, False), (T0, T0 - timedelta(seconds=1), False),
                 (T0, T0 + timedelta(seconds=1), True), (T0, None, False)]
        for before, when, moved in cases:
            with self.subTest(before=before, when=when):
                self.dev.read_time = before
                self.assertEqual(attention.move_read(self.dev, when), moved)
                self.assertEqual(self.dev.read_time, when if moved else before)

    def test_recount_after_reading_elsewhere(self) -> None:
        for i in range(1, 5):
            self.state.add(self.dev, msg(f"m{i}", i))
        self.assertEqual(self.dev.unread, 4)
        attention.move_read(self.dev, T0 + timedelta(minutes=3))
        attention.recount(self.dev)
        attention.place_marker(self.dev)
        self.assertEqual(self.dev.unread, 1)
        self.assertEqual(self.texts(self.dev), ["m1", "m2", "m3", "new", "m4"])


class CountsTest(unittest.TestCase):
    def test_what_counts_and_what_alerts(self) -> None:
        state = State(tz=UTC)
        channel = state.open("#c", BufferKind.CHANNEL)
        query = state.open("bob", BufferKind.QUERY)
        cases = [  # (buffer, line, counts, alerts)
            (channel, msg("hi", 0), True, False),
            (channel, msg("alice!", 0, mention=True), True, True),
            (channel, msg("mine", 0, own=True), False, False),
            (channel, Line(T0, Kind.EVENT, "--> x joined"), False, False),
            (channel, msg("old alice", 0, mention=True, history=True), True, False),
            (query, msg("psst", 0), True, True),
            (state.server, Line(T0, Kind.NOTICE, "server notice", nick="srv"), False, False),
            (state.server, Line(T0, Kind.NOTICE, "alice: hey", nick="x", mention=True),
             True, True),
        ]
        for buf, line, counts, alerts in cases:
            with self.subTest(buf=buf.name, text=line.text):
                self.assertEqual(attention.counts(buf, line), counts)
                self.assertEqual(attention.alerts(buf, line), alerts)


if __name__ == "__main__":
    unittest.main()
