"""tui.render: how lines and the status bar look."""

import unittest
from datetime import UTC, datetime

from tui.layout import text_width
from tui.render import line_rows, nick_colour, status_row
from tui.state import Delivery, Kind, Line

T = datetime(2026, 11, 25, 18, 57, 25, tzinfo=UTC)


def row_width(row) -> int:
    """Columns a row occupies."""
    return sum(text_width(t) for t, _ in row)


def text(rows) -> list[str]:
    return ["".join(t for t, _ in row) for row in rows]


class LineRowsTest(unittest.TestCase):
    def test_formats(self) -> None:
        cases = [
            (Line(T, Kind.MESSAGE, "hello", nick="bob"), ["18:57 bob: hello"]),
            (Line(T, Kind.MESSAGE, "hello", nick="bob", prefix="@"), ["18:57 @bob: hello"]),
            (Line(T, Kind.MESSAGE, "hi", nick="bob", prefix="\x1b"), ["18:57 ^[bob: hi"]),
            (Line(T, Kind.ACTION, "waves", nick="bob"), ["18:57 * bob waves"]),
            (Line(T, Kind.NOTICE, "note", nick="bob"), ["18:57 -bob- note"]),
            (Line(T, Kind.EVENT, "--> bob joined #lobby"), ["18:57 --> bob joined #lobby"]),
            (Line(T, Kind.ERROR, "oops"), ["18:57 !! oops"]),
            (Line(T, Kind.MESSAGE, "\x1b[2Jevil\x07", nick="x\x1b"), ["18:57 x^[: ^[[2Jevil^G"]),
            (Line(T, Kind.MESSAGE, "\x02bold\x02 \x0304red", nick="bob"),
             ["18:57 bob: bold red"]),
            (Line(T, Kind.DIVIDER, "live"), ["---------- — live — ----------"]),
            (Line(T, Kind.DIVIDER, "start"), ["---- — start of history — ----"]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(text(line_rows(line, 30, UTC)), expected)

    def test_hanging_indent_aligns_with_the_text(self) -> None:
        line = Line(T, Kind.MESSAGE, "one two three four five six", nick="bob")
        self.assertEqual(text(line_rows(line, 22, UTC)),
                         ["18:57 bob: one two ", "           three four ", "           five six"])

    def test_a_long_line_of_wide_characters_starts_on_the_first_row(self) -> None:
        """Issue 16, point 6: CJK without spaces used to leave `18:57 bob:` alone on a row."""
        rows = text(line_rows(Line(T, Kind.MESSAGE, "日本語" * 6, nick="bob"), 30, UTC))
        self.assertEqual(rows, ["18:57 bob: 日本語日本語日本語",
                                "           日本語日本語日本語"])

    def test_own_and_mention_styles(self) -> None:
        own = line_rows(Line(T, Kind.MESSAGE, "x", nick="me", own=True), 40, UTC)
        other = line_rows(Line(T, Kind.MESSAGE, "x", nick="bob"), 40, UTC)
        mention = line_rows(Line(T, Kind.MESSAGE, "x", nick="bob", mention=True), 40,
                            UTC)
        self.assertTrue(own[0][1][1].bold)
        self.assertEqual(other[0][1][1].fg, nick_colour("bob"))
        self.assertTrue(mention[0][1][1].reverse)

    def test_delivery_marks(self) -> None:
        cases = [(None, "18:57 me: hi"), (Delivery.QUEUED, "18:57 me: hi ⋯"),
                 (Delivery.PENDING, "18:57 me: hi ⋯"), (Delivery.SENT, "18:57 me: hi"),
                 (Delivery.UNCONFIRMED, "18:57 me: hi ?"),
                 (Delivery.FAILED, "18:57 me: hi ✗ not sent")]
        for delivery, expected in cases:
            with self.subTest(delivery=delivery):
                line = Line(T, Kind.MESSAGE, "hi", nick="me", own=True, delivery=delivery)
                rows = line_rows(line, 40, UTC)
                self.assertEqual(text(rows), [expected])
                body_style = next(st for t, st in rows[0] if "hi" in t)
                self.assertEqual(body_style.dim, delivery in (Delivery.QUEUED,
                                                              Delivery.PENDING))

    def test_nick_colour_is_stable_and_case_insensitive(self) -> None:
        self.assertEqual(nick_colour("Bob"), nick_colour("bob"))
        self.assertEqual(nick_colour("alice"), nick_colour("alice"))
        self.assertGreater(len({nick_colour(n) for n in ("a", "b", "c", "d", "e", "f")}), 2)


class StatusRowTest(unittest.TestCase):
    def render(self, width: int, **kw) -> str:
        args = {"connection": "connected", "nick": "alice", "buffer_number": 2,
                "buffer_name": "#lobby", "users": 3,
                "activity": [(3, "#dev", False), (4, "bob", True)], "more_below": None}
        args.update(kw)
        row = status_row(width, **args)
        self.assertEqual(row_width(row), width)
        return "".join(t for t, _ in row)

    def test_contents(self) -> None:
        out = self.render(100)
        for part in ("connected", "alice", "2:#lobby (3 users)", "3:#dev", "4:bob!"):
            with self.subTest(part=part):
                self.assertIn(part, out)

    def test_more_below(self) -> None:
        self.assertIn("more below (5 new)", self.render(100, more_below=5))
        self.assertNotIn("more below", self.render(100))

    def test_pending_and_loading(self) -> None:
        self.assertIn("⋯2 pending", self.render(100, unsent=2))
        self.assertNotIn("pending", self.render(100))
        self.assertIn("loading history", self.render(100, loading=True))

    def test_parted_channel(self) -> None:
        self.assertIn("2:#lobby (parted)", self.render(100, users=None, parted=True))
        self.assertNotIn("parted", self.render(100))

    def test_narrow(self) -> None:
        self.assertEqual(len(self.render(20)), 20)


if __name__ == "__main__":
    unittest.main()
