"""chatd.irc.casemap: RFC 1459 case mapping (section 2.2: {}|^ are the lower case of []\\~)."""

import unittest

from chatd.irc.casemap import CASEMAPPING, casefold, irc_equal

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
