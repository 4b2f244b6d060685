"""tui.inputline: the editor, history and completion, without a terminal."""

import unittest

from tui.inputline import InputLine


def make(text: str, cursor: int | None = None) -> InputLine:
    line = InputLine()
    line.set(text)
    if cursor is not None:
        line.cursor = cursor
    return line


class EditingTest(unittest.TestCase):
    def test_operations(self) -> None:
        # (text, cursor, operation, expected text, expected cursor)
        cases = [
            ("", 0, lambda l: l.insert("abc"), "abc", 3),
            ("ac", 1, lambda l: l.insert("b"), "abc", 2),
            ("abc", 3, lambda l: l.backspace(), "ab", 2),
            ("abc", 0, lambda l: l.backspace(), "abc", 0),
            ("abc", 1, lambda l: l.delete(), "ac", 1),
            ("abc", 3, lambda l: l.delete(), "abc", 3),
            ("abc", 3, lambda l: l.left(), "abc", 2),
            ("abc", 0, lambda l: l.left(), "abc", 0),
            ("abc", 1, lambda l: l.right(), "abc", 2),
            ("abc", 2, lambda l: l.home(), "abc", 0),
            ("abc", 0, lambda l: l.end(), "abc", 3),
            ("hello big world", 15, lambda l: l.kill_word(), "hello big ", 10),
            ("hello big  ", 11, lambda l: l.kill_word(), "hello ", 6),
            ("hello world", 6, lambda l: l.kill_to_start(), "world", 0),
            ("hello world", 5, lambda l: l.kill_to_end(), "hello", 5),
            ("one two", 7, lambda l: l.word_left(), "one two", 4),
            ("one two", 0, lambda l: l.word_right(), "one two", 3),
            ("e\u0301x", 3, lambda l: (l.left(), l.left()), "e\u0301x", 0),  # over the mark
            ("e\u0301", 2, lambda l: l.backspace(), "", 0),  # base and mark go together
            ("日本", 1, lambda l: l.insert("🎉"), "日🎉本", 2),
            ("", 0, lambda l: l.insert("a\r\nb\x1bc\x00"), "abc", 3),  # no control chars
        ]
        for text, cursor, op, expected, expected_cursor in cases:
            with self.subTest(text=text, cursor=cursor, expected=expected):
                line = make(text, cursor)
                op(line)
                self.assertEqual((line.text, line.cursor), (expected, expected_cursor))

    def test_selected_default_is_replaced_by_typing(self) -> None:
        line = InputLine()
        line.set("root", selected=True)
        line.insert("a")
        self.assertEqual(line.text, "a")
        line.set("root", selected=True)
        line.left()  # moving keeps the default for editing
        line.insert("s")
        self.assertEqual(line.text, "roost")
        line.set("root", selected=True)
        line.backspace()
        self.assertEqual(line.text, "")


class HistoryTest(unittest.TestCase):
    def test_up_down_and_draft(self) -> None:
        line = InputLine()
        for text in ("first", "second"):
            line.insert(text)
            self.assertEqual(line.submit(), text)
        line.insert("draft")
        steps = [("up", "second"), ("up", "first"), ("up", "first"), ("down", "second"),
                 ("down", "draft"), ("down", "draft")]
        for direction, expected in steps:
            with self.subTest(direction=direction, expected=expected):
                line.history_prev() if direction == "up" else line.history_next()
                self.assertEqual(line.text, expected)

    def test_blank_and_repeated_lines_are_not_remembered(self) -> None:
        line = InputLine(max_history=2)
        for text in ("a", "a", "  ", "b", "c"):
            line.insert(text)
            line.submit()
        self.assertEqual(line.history, ["b", "c"])


class CompletionTest(unittest.TestCase):
    nicks = ("alice", "Albert", "bob")

    def test_table(self) -> None:
        cases = [
            ("al", 2, ["Albert: ", "alice: ", "Albert: "]),
            ("hi b", 4, ["hi bob ", "hi bob "]),
            ("hi zz", 5, ["hi zz"]),
        ]
        for text, cursor, results in cases:
            with self.subTest(text=text):
                line = make(text, cursor)
                for expected in results:
                    line.complete(self.nicks)
                    self.assertEqual(line.text, expected)

    def test_completion_keeps_text_after_cursor(self) -> None:
        line = make("bo rest", 2)
        line.complete(self.nicks)
        self.assertEqual((line.text, line.cursor), ("bob: rest", 4))


class ViewTest(unittest.TestCase):
    def test_cursor_stays_visible(self) -> None:
        line = make("0123456789abcdef")
        text, col = line.view(8)
        self.assertEqual((text, col), ("9abcdef", 7))
        line.home()
        text, col = line.view(8)
        self.assertEqual((text, col), ("01234567", 0))

    def test_wide_characters(self) -> None:
        line = make("日本語日本語")
        text, col = line.view(7)
        self.assertEqual(col, 6)
        self.assertEqual(text, "日本語")


class MaskedTest(unittest.TestCase):
    def test_a_password_is_shown_masked_and_never_remembered(self) -> None:
        line = InputLine()
        line.insert("sent before")
        line.submit()
        line.masked = True
        line.insert("pâss wörd")
        self.assertEqual(line.view(40), ("*" * 9, 9))
        self.assertEqual(line.view(5), ("*" * 4, 4))  # scrolled: the cursor stays visible
        line.history_prev()
        line.complete(["pâss"])
        self.assertEqual(line.text, "pâss wörd")
        self.assertEqual(line.submit(), "pâss wörd")
        self.assertEqual(line.history, ["sent before"])

    def test_a_line_can_be_taken_without_remembering_it(self) -> None:
        line = InputLine()
        line.insert("/register secret")
        self.assertEqual(line.submit(remember=False), "/register secret")
        self.assertEqual(line.history, [])


if __name__ == "__main__":
    unittest.main()
