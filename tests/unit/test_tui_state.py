"""tui.state: buffers, activity, dividers, trimming."""

import unittest
from datetime import UTC, datetime, timedelta

from tui import state as state_module
from tui.state import BufferKind, Kind, Line, State

T0 = datetime(2026, 11, 25, 23, 58, tzinfo=UTC)


def msg(text: str, when: datetime = T0, **kw) -> Line:
    return Line(when, Kind.MESSAGE, text, nick=kw.pop("nick", "bob"), **kw)


class BufferListTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.lobby = self.state.open("#lobby", BufferKind.CHANNEL)
        self.dev = self.state.open("#Dev", BufferKind.CHANNEL)
        self.bob = self.state.open("bob", BufferKind.QUERY)

    def test_lookup_is_case_insensitive_rfc1459(self) -> None:
        self.assertIs(self.state.get("#dev"), self.dev)
        self.assertIs(self.state.open("#DEV", BufferKind.CHANNEL), self.dev)
        self.assertIs(self.state.get("BOB"), self.bob)
        self.assertIsNone(self.state.get("#nope"))

    def test_switching(self) -> None:
        cases = [(lambda: self.state.switch(2), "#Dev"), (lambda: self.state.cycle(1), "bob"),
                 (lambda: self.state.cycle(1), "server"), (lambda: self.state.cycle(-1), "bob"),
                 (lambda: self.state.switch(9), "bob")]
        for action, expected in cases:
            with self.subTest(expected=expected):
                action()
                self.assertEqual(self.state.current.name, expected)

    def test_activity(self) -> None:
        self.state.focus(self.lobby)
        self.state.add(self.dev, msg("hi"))
        self.state.add(self.dev, Line(T0, Kind.EVENT, "--> x joined"))
        self.state.add(self.bob, msg("psst"))
        self.state.add(self.lobby, msg("seen"))
        self.assertEqual([(n, b.name, b.unread, b.mention) for n, b in self.state.activity()],
                         [(3, "#Dev", 1, False), (4, "bob", 1, True)])
        self.state.focus(self.dev)
        self.assertEqual((self.dev.unread, self.dev.mention), (0, False))

    def test_own_and_history_lines_are_not_unread(self) -> None:
        self.state.add(self.dev, msg("mine", own=True))
        self.state.add(self.dev, msg("old", history=True))
        self.assertEqual(self.dev.unread, 0)

    def test_close_current_shows_the_previous(self) -> None:
        self.state.focus(self.dev)
        self.state.close(self.dev)
        self.assertIs(self.state.current, self.lobby)
        self.state.close(self.state.server)
        self.assertEqual(len(self.state.buffers), 3)


class LinesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.buf = self.state.open("#lobby", BufferKind.CHANNEL)

    def test_live_divider_once_after_history(self) -> None:
        self.buf.start_join(T0)
        self.state.add(self.buf, msg("a", T0 - timedelta(seconds=30), history=True))
        self.state.add(self.buf, msg("b"))
        self.state.add(self.buf, msg("c"))
        self.assertEqual([(l.kind, l.text) for l in self.buf.lines],
                         [(Kind.MESSAGE, "a"), (Kind.DIVIDER, "live"), (Kind.MESSAGE, "b"),
                          (Kind.MESSAGE, "c")])

    def test_date_line_when_the_day_changes(self) -> None:
        self.state.add(self.buf, msg("late"))
        self.state.add(self.buf, msg("next day", T0 + timedelta(minutes=5)))
        self.assertEqual([l.text for l in self.buf.lines], ["late", "Thu 26 Nov 2026", "next day"])

    def test_trimming_keeps_indexes_absolute(self) -> None:
        old = (state_module.MAX_LINES, state_module.TRIM_CHUNK)
        state_module.MAX_LINES, state_module.TRIM_CHUNK = 10, 4
        self.addCleanup(setattr, state_module, "MAX_LINES", old[0])
        self.addCleanup(setattr, state_module, "TRIM_CHUNK", old[1])
        for i in range(11):
            self.state.add(self.buf, msg(str(i)))
        self.assertEqual((self.buf.first_index, self.buf.end_index), (4, 11))
        self.assertEqual(self.buf.line_at(4).text, "4")

    def test_lines_added_while_scrolled_are_counted(self) -> None:
        from tui.layout import Anchor
        self.buf.anchor = Anchor(0, 0)
        self.state.add(self.buf, msg("x"))
        self.assertEqual(self.buf.unseen, 1)


if __name__ == "__main__":
    unittest.main()
