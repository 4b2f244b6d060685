"""ircproto.validate: which nicks and channel names are acceptable (RFC 2812 2.3.1), with the
limits as parameters; chatd.limits: the same rules with chatd's own limits."""

import unittest

from chatd.limits import (CHANNELLEN, CHANTYPES, NICKLEN, is_channel, is_illegal_channel, is_nick,
                          is_valid_channel)
from ircproto import validate

VALID_NICKS = [
    "a",
    "Nick",
    "nick123",
    "a-b",
    "[away]",
    "{x}",
    "\\o",
    "`tick",
    "_under",
    "^caret",
    "|pipe",
    "n" * NICKLEN,
]

INVALID_NICKS = [
    "",
    "1abc",        # may not start with a digit
    "-abc",        # nor with '-'
    "a b",
    "a!b",
    "a@b",
    "a,b",
    "a*",
    "a?",
    "a/b",
    "nick:",
    ":nick",
    "#chan",
    "&chan",
    "caf\u00e9",
    "a\tb",
    "a\x00",
    "n" * (NICKLEN + 1),
]

VALID_CHANNELS = [
    "#a",
    "#lobby",
    "#Lobby-2",
    "##",
    "#caf\u00e9",
    "#a.b/c",
    "#" + "c" * (CHANNELLEN - 1),
]

INVALID_CHANNELS = [
    "",
    "#",
    "lobby",
    "&local",      # only '#' is a channel type here
    "+modeless",
    "!safe",
    "#a b",
    "#a,b",
    "#a:b",
    "#a\x07",
    "#a\x00",
    "#a\r",
    "#a\n",
    "#\x1b[31mred",  # ESC: a terminal escape sequence
    "#a\x7f",        # DEL
    "#a\x85",        # NEL, a C1 control
    "#\u202eder",    # RIGHT-TO-LEFT OVERRIDE
    "#a\u2066b",     # LEFT-TO-RIGHT ISOLATE
    "#a\u200bb",     # ZERO WIDTH SPACE
    "#a\u200db",     # ZERO WIDTH JOINER
    "#a\ufeff",      # BYTE ORDER MARK
    "#" + "c" * CHANNELLEN,
]


class NickTest(unittest.TestCase):
    def test_valid(self):
        for nick in VALID_NICKS:
            with self.subTest(nick=nick):
                self.assertTrue(is_nick(nick))

    def test_invalid(self):
        for nick in INVALID_NICKS:
            with self.subTest(nick=nick):
                self.assertFalse(is_nick(nick))

    def test_length_limit_is_a_parameter(self):
        cases = [("abcde", 5, True), ("abcdef", 5, False), ("a", 1, True)]
        for nick, max_len, ok in cases:
            with self.subTest(nick=nick, max_len=max_len):
                self.assertEqual(validate.is_valid_nick(nick, max_len), ok)


class ChannelTest(unittest.TestCase):
    def test_chantypes(self):
        self.assertEqual(CHANTYPES, "#")

    def test_valid(self):
        for name in VALID_CHANNELS:
            with self.subTest(name=name):
                self.assertTrue(is_valid_channel(name))
                self.assertTrue(is_channel(name))

    def test_invalid(self):
        for name in INVALID_CHANNELS:
            with self.subTest(name=name):
                self.assertFalse(is_valid_channel(name))

    def test_is_channel_name_only_looks_at_the_prefix(self):
        cases = [("#", True), ("#a b", True), ("", False), ("a#", False), ("&a", False)]
        for name, expected in cases:
            with self.subTest(name=name):
                self.assertEqual(is_channel(name), expected)
                self.assertEqual(validate.is_channel_name(name, "#&"), bool(name) and name[0] in "#&")

    def test_illegal_characters(self):
        # (name, holds a character no channel name may hold)
        cases = [
            ("#lobby", False),
            ("#caf\u00e9", False),
            ("#\u65e5\u672c", False),
            ("#a\U0001f600", False),   # an emoji is a symbol, not a format character
            ("#" + "c" * 60, False),   # too long, but no illegal character
            ("#a b", True),
            ("#a,b", True),
            ("#a:b", True),
            ("#\x1b[31mred", True),
            ("#a\x01", True),
            ("#\u202eder", True),
            ("#a\u2067b", True),
            ("#a\u00adb", True),       # SOFT HYPHEN is a format character too
        ]
        for name, illegal in cases:
            with self.subTest(name=name):
                self.assertEqual(validate.has_illegal_channel_chars(name), illegal)
                self.assertEqual(is_illegal_channel(name), illegal)
                self.assertEqual(is_illegal_channel(name[1:]), False)  # not a channel at all

    def test_length_limit_is_a_parameter(self):
        cases = [("#abcd", 5, True), ("#abcde", 5, False)]
        for name, max_len, ok in cases:
            with self.subTest(name=name, max_len=max_len):
                self.assertEqual(validate.is_valid_channel(name, max_len, "#"), ok)


if __name__ == "__main__":
    unittest.main()
