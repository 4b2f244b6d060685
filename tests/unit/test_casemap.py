"""ircproto.casemap: RFC 1459 case mapping (section 2.2: {}|^ are the lower case of []\\~)."""

import fnmatch
import random
import re
import time
import unittest

from ircproto.casemap import (CASEMAPPING, casefold, fold_stars, glob_match, irc_equal,
                              mask_matcher, mask_min_length)

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

    def test_same_answers_as_fnmatch_on_random_masks(self):
        # fnmatch with its one extra (character classes) escaped is the reference: `[`, `]`,
        # `\\` and `.` are ordinary characters in an IRC mask.
        rng = random.Random(12)
        for _ in range(8000):
            mask = "".join(rng.choice("aB[]\\.*?") for _ in range(rng.randint(0, 9)))
            text = "".join(rng.choice("aAbB[]{}\\|.") for _ in range(rng.randint(0, 9)))
            reference = fnmatch.fnmatchcase(casefold(text), casefold(mask).replace("[", "[[]"))
            self.assertEqual(mask_matcher(mask)(text), reference, (mask, text))
            self.assertEqual(glob_match(mask, text),
                             fnmatch.fnmatchcase(text, mask.replace("[", "[[]")), (mask, text))

    def test_runs_of_stars_are_one_star(self):
        self.assertEqual(fold_stars("a***b**?*"), "a*b*?*")
        self.assertEqual(fold_stars("****"), "*")
        self.assertTrue(mask_matcher("**")("anyone"))
        self.assertTrue(mask_matcher("")(""))
        self.assertFalse(mask_matcher("")("a"))

    def test_the_shortest_name_a_mask_can_match(self):
        for mask, length in [("*", 0), ("a*b?", 3), ("*a*a*a*b", 4), ("", 0), ("???", 3)]:
            with self.subTest(mask=mask):
                self.assertEqual(mask_min_length(mask), length)

    def test_matching_a_nick_costs_microseconds_whatever_the_mask(self):
        # WHO runs in the master against every user (issue 12: `WHO *a*a*a...*b` took
        # ~15 us per nick per mask). Generous bound: a backtracking matcher takes seconds.
        nicks = ["a" * 29 + "c"] * 2000
        for mask in ["*a" * 15 + "*b", "*?" * 15 + "*b", "*aa" * 10 + "*b", "a*" * 15]:
            matches = mask_matcher(mask)
            started = time.perf_counter()
            hits = sum(1 for nick in nicks if matches(nick))
            with self.subTest(mask=mask):
                self.assertEqual(hits, 0 if mask.endswith("b") else 2000)
                self.assertLess(time.perf_counter() - started, 0.2)


if __name__ == "__main__":
    unittest.main()
