"""tui.frame (what the screen shows: pane, side columns, status, input), tui.buffer_list, and
the row comparison tui.curses_screen uses to redraw only what changed."""

import unittest
from datetime import UTC, datetime

from tui import buffer_list
from tui.curses_screen import shift_of
from tui.frame import LEFT, MIN_PANE_WIDTH, RIGHT, Column, compose, place_columns
from tui.sanitize import PLAIN
from tui.state import BufferKind, Kind, Line, State

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def column(name: str, side: str, width: int) -> Column:
    return Column(name, side, width, lambda height: [[(name, PLAIN)]] * height)


def texts(rows) -> list[str]:
    return ["".join(t for t, _ in row) for row in rows]


class PlaceColumnsTest(unittest.TestCase):
    def test_columns_on_both_sides(self) -> None:
        left, right = column("buffers", LEFT, 18), column("nicks", RIGHT, 15)
        x, width, placed = place_columns(120, [left, right])
        self.assertEqual((x, width), (19, 120 - 19 - 16))
        self.assertEqual([(cx, c.name) for cx, c in placed], [(0, "buffers"), (120 - 15, "nicks")])

    def test_a_narrow_terminal_drops_what_does_not_fit(self) -> None:
        left, right = column("buffers", LEFT, 18), column("nicks", RIGHT, 15)
        cases = [(120, ["buffers", "nicks"]), (MIN_PANE_WIDTH + 19 + 16, ["buffers", "nicks"]),
                 (MIN_PANE_WIDTH + 19 + 15, ["buffers"]), (MIN_PANE_WIDTH + 18, ["nicks"]),
                 (20, [])]
        for width, expected in cases:
            with self.subTest(width=width):
                _, pane_width, placed = place_columns(width, [left, right])
                self.assertEqual([c.name for _, c in placed], expected)
                self.assertGreaterEqual(pane_width, min(width, MIN_PANE_WIDTH))


class ComposeTest(unittest.TestCase):
    def frame(self, width: int, height: int, columns: list[Column]):
        return compose(width, height, columns=columns,
                       pane=lambda w, h: [[("x" * w, PLAIN)], [("last", PLAIN)]],
                       status=lambda w: [(" status".ljust(w), PLAIN)],
                       input_line=lambda w: ([("> ", PLAIN), ("typed", PLAIN)], 7))

    def test_regions_fill_the_screen(self) -> None:
        frame = self.frame(100, 10, [column("buffers", LEFT, 12)])
        by_name = {r.name: r for r in frame.regions}
        self.assertEqual(set(by_name), {"pane", "buffers", "buffers|", "status", "input"})
        pane = by_name["pane"]
        self.assertEqual((pane.x, pane.width, pane.height), (13, 87, 8))
        self.assertEqual(texts(pane.rows)[-2:], ["x" * 87, "last"])  # at the bottom
        self.assertEqual(texts(pane.rows)[:6], [""] * 6)
        self.assertEqual(texts(by_name["buffers|"].rows), ["│"] * 8)
        self.assertEqual((by_name["input"].y, frame.cursor), (9, (9, 7)))
        for region in frame.regions:
            self.assertEqual(len(region.rows), region.height, region.name)

    def test_a_tiny_screen(self) -> None:
        frame = self.frame(30, 1, [column("buffers", LEFT, 12)])
        self.assertEqual([r.name for r in frame.regions], ["input"])


class BufferListTest(unittest.TestCase):
    def test_entries_and_counts(self) -> None:
        state = State("chat.example", tz=UTC)
        lobby = state.open("#lobby", BufferKind.CHANNEL)
        bob = state.open("bob", BufferKind.QUERY)
        state.focus(lobby)
        state.add(bob, Line(T0, Kind.MESSAGE, "psst", nick="bob"))
        dev = state.open("#dev", BufferKind.CHANNEL)
        for i in range(12):
            state.add(dev, Line(T0, Kind.MESSAGE, f"m{i}", nick="carol", mention=i < 3))
        col = buffer_list.BufferList(state).column(120)
        rows = col.rows(10)
        self.assertEqual(col.width, 21)  # the longest name and room for counts
        self.assertEqual(texts(rows), [" 1 chat.example      ", " 2 #lobby            ",
                                       " 3 bob             1!", " 4 #dev         12 3!"])
        self.assertTrue(rows[1][0][1].reverse)  # the buffer shown
        self.assertEqual(rows[3][0][1], buffer_list.MENTION_STYLE)
        state.focus(dev)  # read: the column follows
        self.assertEqual(texts(col.rows(10))[3], " 4 #dev              ")

    def test_hidden_on_a_narrow_terminal(self) -> None:
        self.assertIsNone(buffer_list.BufferList(State()).column(
            buffer_list.MIN_TERMINAL_WIDTH - 1))

    def test_many_buffers_keep_the_current_one_in_view(self) -> None:
        state = State(tz=UTC)
        for i in range(30):
            state.open(f"#c{i}", BufferKind.CHANNEL)
        state.switch(25)
        rows = buffer_list.rows(state, 15, 10)
        self.assertEqual(len(rows), 10)
        self.assertIn("#c24", "".join(texts(rows)))
        self.assertTrue(any(row[0][1].reverse for row in rows))


class ShiftTest(unittest.TestCase):
    def test_shift_of(self) -> None:
        a, b, c, d = ([(t, PLAIN)] for t in "abcd")
        cases = [([a, b, c], [b, c, d], 1), ([a, b, c], [c, d, d], 2), ([a, b, c], [a, b, c], 0),
                 ([a, b, c], [d, a, b], 0), ([None, None, a], [None, a, b], 1),
                 ([a, b], [a, b, c], 0)]
        for old, new, expected in cases:
            with self.subTest(old=old, new=new):
                self.assertEqual(shift_of(old, new), expected)


if __name__ == "__main__":
    unittest.main()
