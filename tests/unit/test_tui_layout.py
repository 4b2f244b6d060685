"""tui.layout: widths, wrapping with hanging indent, scroll anchors."""

import unittest

from tui.layout import (
    Anchor,
    at_top,
    char_width,
    clip,
    scroll,
    text_width,
    view_rows,
    wrap,
)
from tui.sanitize import PLAIN, Style


def row_width(row) -> int:
    """Columns a row occupies."""
    return sum(text_width(t) for t, _ in row)


def texts(rows):
    return ["".join(t for t, _ in row) for row in rows]


class WidthTest(unittest.TestCase):
    def test_char_width(self) -> None:
        cases = [("a", 1), ("é", 1), ("世", 2), ("가", 2), ("🎉", 2), ("\u0301", 0),
                 ("\u200d", 0), ("\ufe0f", 0), ("Ａ", 2), ("ｱ", 1)]
        for ch, width in cases:
            with self.subTest(ch=ch):
                self.assertEqual(char_width(ch), width)

    def test_text_width_and_clip(self) -> None:
        cases = [("abc", 3, "ab", 2), ("世界x", 5, "世", 3), ("e\u0301e", 2, "e\u0301", 1),
                 ("🎉🎉", 4, "🎉", 3)]
        for text, width, clipped, limit in cases:
            with self.subTest(text=text):
                self.assertEqual(text_width(text), width)
                self.assertEqual(clip(text, limit), clipped)


class WrapTest(unittest.TestCase):
    def test_table(self) -> None:
        cases = [
            ("short", 10, 0, ["short"]),
            ("hello world again", 11, 0, ["hello world", "again"]),  # the space ends the row
            ("hello world again", 10, 3, ["hello ", "   world ", "   again"]),
            ("ab cdefghijkl", 10, 4, ["ab cdefghi", "    jkl"]),  # not inside the 4 first
            ("abcdefghij", 4, 0, ["abcd", "efgh", "ij"]),
            ("世界世界世", 5, 0, ["世界", "世界", "世"]),  # a wide char never straddles the edge
            ("ab 世界世界世界", 8, 3, ["ab 世界", "   世界", "   世界"]),  # CJK breaks anywhere
            ("ab 世界x世界", 9, 0, ["ab 世界x", "世界"]),
            ("e\u0301e\u0301e\u0301", 2, 0, ["e\u0301e\u0301", "e\u0301"]),  # marks stay
            ("", 10, 0, [""]),
        ]
        for text, width, indent, expected in cases:
            with self.subTest(text=text, width=width, indent=indent):
                rows = wrap([(text, PLAIN)], width, indent)
                self.assertEqual(texts(rows), expected)
                for row in rows:
                    self.assertLessEqual(row_width(row), width)

    def test_indent_is_capped_on_narrow_screens(self) -> None:
        rows = wrap([("x" * 30, PLAIN)], 20, 15)
        self.assertTrue(texts(rows)[1].startswith(" " * 10 + "x"))

    def test_styles_survive_wrapping(self) -> None:
        bold = Style(bold=True)
        rows = wrap([("ab", bold), ("cd", PLAIN)], 3)
        self.assertEqual(rows, [[("ab", bold), ("c", PLAIN)], [("d", PLAIN)]])


class ScrollTest(unittest.TestCase):
    # Ten lines of two rows each: absolute indexes 0..9, rows "i.0", "i.1".
    def rows_of(self, index):
        return [[(f"{index}.0", PLAIN)], [(f"{index}.1", PLAIN)]]

    def test_follow_tail(self) -> None:
        rows, anchor = view_rows(self.rows_of, 0, 10, 3, None)
        self.assertEqual(texts(rows), ["8.1", "9.0", "9.1"])
        self.assertIsNone(anchor)

    def test_page_up_and_back_down(self) -> None:
        anchor = scroll(self.rows_of, 0, 10, 4, None, -3)
        self.assertEqual(anchor, Anchor(8, 0))
        rows, _ = view_rows(self.rows_of, 0, 10, 4, anchor)
        self.assertEqual(texts(rows), ["6.1", "7.0", "7.1", "8.0"])
        self.assertIsNone(scroll(self.rows_of, 0, 10, 4, anchor, 3))

    def test_cannot_scroll_above_the_top(self) -> None:
        anchor = scroll(self.rows_of, 0, 10, 4, None, -100)
        rows, _ = view_rows(self.rows_of, 0, 10, 4, anchor)
        self.assertEqual(texts(rows), ["0.0", "0.1", "1.0", "1.1"])

    def test_new_lines_do_not_move_a_scrolled_view(self) -> None:
        anchor = scroll(self.rows_of, 0, 10, 4, None, -5)
        before, _ = view_rows(self.rows_of, 0, 10, 4, anchor)
        after, anchor2 = view_rows(self.rows_of, 0, 15, 4, anchor)
        self.assertEqual(texts(before), texts(after))
        self.assertEqual(anchor, anchor2)

    def test_everything_fits(self) -> None:
        self.assertIsNone(scroll(self.rows_of, 0, 2, 10, None, -5))
        rows, _ = view_rows(self.rows_of, 0, 2, 10, None)
        self.assertEqual(len(rows), 4)

    def test_at_top(self) -> None:
        cases = [  # (first, end, height, anchor, expected)
            (0, 10, 4, None, False), (0, 10, 4, Anchor(1, 1), True),
            (0, 10, 4, Anchor(2, 0), False), (0, 2, 10, None, True), (0, 0, 4, None, True),
            (-5, 10, 4, Anchor(-4, 1), True), (-5, 10, 4, Anchor(1, 1), False)]
        for first, end, height, anchor, expected in cases:
            with self.subTest(first=first, end=end, anchor=anchor):
                self.assertEqual(at_top(self.rows_of, first, end, height, anchor), expected)

    def test_lines_of_different_heights(self) -> None:
        def rows_of(index):  # line i has 1, 2 or 5 rows
            return [[(f"{index}.{r}", PLAIN)] for r in range((1, 2, 5)[index % 3])]
        every = [row for i in range(10) for row in rows_of(i)]
        for height in (1, 3, 4, 7, 30):
            with self.subTest(height=height):
                rows, _ = view_rows(rows_of, 0, 10, height, None)
                self.assertEqual(rows, every[-height:])
        rows, _ = view_rows(rows_of, 0, 10, 4, Anchor(5, 1))  # line 5 has 5 rows
        self.assertEqual(texts(rows), ["4.0", "4.1", "5.0", "5.1"])

    def test_trimmed_anchor_is_clamped(self) -> None:
        rows, anchor = view_rows(self.rows_of, 5, 10, 2, Anchor(1, 1))
        self.assertEqual(texts(rows), ["5.0", "5.1"])
        self.assertEqual(anchor, Anchor(5, 1))


if __name__ == "__main__":
    unittest.main()
