"""ircproto.casemap: RFC 1459 case mapping (section 2.2: {}|^ are the lower case of []\\~)."""

import random
import re
import unittest

from ircproto.casemap import CASEMAPPING, casefold, glob_match, irc_equal, mask_matcher

# (name, folded)
FOLDS = [
    ("nick", "nick"),
    ("NICK", "nick"),
    ("NiCk", "nick"),
    ("[", "{"),
    ("]", "}"),
    ("\\", "|"),
    ("~", "^"),
    ("{}|^", "{}|^"),
    ("Nick[\\]~", "nick{|}^"),
    ("#Lobby[1]", "#lobby{1}"),
    ("a-b_c`", "a-b_c`"),      # '-', '_' and '`' have no other case
    ("@", "@"),                 # rfc1459 does not map '@' to '`'
    ("\u00c9T\u00c9", "\u00c9t\u00c9"),  # only ASCII letters fold
    ("", ""),
]

EQUAL = [
    ("alice", "ALICE"),
    ("a[b]", "A{B}"),
    ("x\\y", "X|Y"),
    ("tilde~", "TILDE^"),
    ("#Chan{}", "#chan[]"),
]

NOT_EQUAL = [
    ("alice", "alicf"),
    ("a", "a "),
    ("a`", "a@"),
    ("\u00e9", "\u00c9"),   # non-ASCII is not case-folded
    ("_", "-"),
]


class CasemapTest(unittest.TestCase):
    def test_advertised_name(self):
        self.assertEqual(CASEMAPPING, "rfc1459")

    def test_casefold(self):
        for name, folded in FOLDS:
            with self.subTest(name=name):
                self.assertEqual(casefold(name), folded)
                self.assertEqual(casefold(folded), folded)  # idempotent

    def test_equal(self):
        for a, b in EQUAL:
            with self.subTest(a=a, b=b):
                self.assertTrue(irc_equal(a, b))
                self.assertTrue(irc_equal(b, a))

    def test_not_equal(self):
        for a, b in NOT_EQUAL:
            with self.subTest(a=a, b=b):
                self.assertFalse(irc_equal(a, b))


if __name__ == "__main__":
    unittest.main()


class MaskTest(unittest.TestCase):
    def test_wildcards_and_case(self):
        cases = [("coolni*", "coolNick", True), ("coolni*", "cool", False),
                 ("a?c", "ABC", True), ("a?c", "ac", False), ("*", "", True),
                 ("Nick[*", "nick{x}", True),      # rfc1459: [ is the upper case of {
                 ("[ab]", "a", False),             # no character classes
                 ("a.c", "abc", False), ("*x*", "aXb", True), ("", "", True)]
        for mask, name, expected in cases:
            with self.subTest(mask=mask, name=name):
                self.assertEqual(mask_matcher(mask)(name), expected)

    def test_same_answers_as_a_regex_on_random_masks(self):
        rng = random.Random(5)
        for _ in range(20000):
            mask = "".join(rng.choice("ab*?") for _ in range(rng.randint(0, 7)))
            text = "".join(rng.choice("ab") for _ in range(rng.randint(0, 8)))
            pattern = "".join(".*" if c == "*" else "." if c == "?" else c for c in mask)
            with self.subTest(mask=mask, text=text):
                self.assertEqual(glob_match(mask, text), re.fullmatch(pattern, text) is not None)

    def test_masks_that_make_a_regex_backtrack(self):
        # A backtracking matcher takes minutes on these (WHO runs in the master); the
        # linear one answers at once.
        self.assertFalse(glob_match("*a" * 40 + "*b", "a" * 60))
        self.assertFalse(glob_match("*?" * 40 + "*#", "a" * 60))
        self.assertTrue(glob_match("*a" * 40 + "*", "a" * 60))
