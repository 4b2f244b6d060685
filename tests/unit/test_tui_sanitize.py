"""tui.sanitize: network text can never reach the terminal raw."""

import unittest

from tui.sanitize import PLAIN, Style, clean, parse_formatting, visible_char


class VisibleCharTest(unittest.TestCase):
    def test_table(self) -> None:
        cases = [
            ("a", "a"), ("é", "é"), ("世", "世"), ("\x1b", "^["), ("\x00", "^@"),
            ("\x07", "^G"), ("\r", "^M"), ("\n", "^J"), ("\x7f", "^?"), ("\x9b", "<9b>"),
            ("\x85", "<85>"), ("\t", " "), ("\u202e", "<U+202E>"), ("\u2066", "<U+2066>"),
            ("\u2028", "<U+2028>"), ("\U000e0000", "<U+E0000>"),
        ]
        for ch, expected in cases:
            with self.subTest(ch=repr(ch)):
                self.assertEqual(visible_char(ch), expected)


class CleanTest(unittest.TestCase):
    def test_hostile_sequences_become_visible(self) -> None:
        cases = [
            ("\x1b[2J\x1b[H", "^[[2J^[[H"),
            ("\x1b]0;pwned\x07", "^[]0;pwned^G"),
            ("a\x9b31mb", "a<9b>31mb"),
            ("\x1bPq#0;2;0;0;0\x1b\\", "^[Pq#0;2;0;0;0^[\\"),
            ("line1\r\nline2", "line1^M^Jline2"),
        ]
        for raw, expected in cases:
            with self.subTest(raw=repr(raw)):
                out = clean(raw)
                self.assertEqual(out, expected)
                self.assertFalse(any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in out))

    def test_formatting_codes_are_removed(self) -> None:
        cases = [
            ("\x02bold\x02 x", "bold x"), ("\x0304red\x03 x", "red x"),
            ("\x0304,12both", "both"), ("\x03,12", ",12"), ("\x031234", "34"),
            ("\x04ff0000hex\x04", "hex"), ("\x1ditalic\x1funder\x16rev\x1estrike\x11mono\x0f",
                                            "italicunderrevstrikemono"),
        ]
        for raw, expected in cases:
            with self.subTest(raw=repr(raw)):
                self.assertEqual(clean(raw), expected)


class ParseFormattingTest(unittest.TestCase):
    def test_styles(self) -> None:
        cases = [
            ("plain", [("plain", PLAIN)]),
            ("\x02b\x02n", [("b", Style(bold=True)), ("n", PLAIN)]),
            ("\x0304r\x03d", [("r", Style(fg=4)), ("d", PLAIN)]),
            ("\x034,2x", [("x", Style(fg=4, bg=2))]),
            ("\x0399x", [("x", Style())]),  # 99 = default colour
            ("\x02\x1fbu\x0fp", [("bu", Style(bold=True, underline=True)), ("p", PLAIN)]),
            ("\x16r", [("r", Style(reverse=True))]),
        ]
        for raw, expected in cases:
            with self.subTest(raw=repr(raw)):
                self.assertEqual(parse_formatting(raw), expected)

    def test_reset_returns_to_base(self) -> None:
        base = Style(dim=True)
        self.assertEqual(parse_formatting("\x02a\x0fb", base),
                         [("a", Style(dim=True, bold=True)), ("b", base)])


if __name__ == "__main__":
    unittest.main()
