"""chatd.hub.server_bans: K-line masks (parsing, normalizing, matching the real address, the
cloak and the user name), durations, and the table with its expiry."""

import unittest

from chatd.hub.server_bans import (MAX_DURATION_S, ServerBan, ServerBans, describe_duration,
                                   matches_address, parse_duration, parse_mask)

NOW_MS = 1_700_000_000_000


class MaskTest(unittest.TestCase):
    def test_masks_are_normalized(self):
        cases = [
            ("127.0.0.2", "*@127.0.0.2"),  # a bare address: any user
            ("*@127.0.0.2", "*@127.0.0.2"),
            ("Bob@10.9.8.7/8", "bob@10.0.0.0/8"),  # a network as ipaddress writes it
            ("*@10.0.0.1/32", "*@10.0.0.1"),  # a whole-address network is the address
            ("*@2001:DB8::1/64", "*@2001:db8::/64"),
            ("::1", "*@::1"),
            ("*@*.Cloak", "*@*.cloak"),
            ("~x?@192.0.2.*", "~x?@192.0.2.*"),
            ("$a:Alice", "$a:alice"),
            ("$A:[Bob]", "$a:{bob}"),  # rfc1459 folding, as accounts have it
        ]
        for text, normalized in cases:
            with self.subTest(text=text):
                self.assertEqual(parse_mask(text).text, normalized)

    def test_bad_masks_say_why(self):
        for text in ("", "a b@c", "nick!user@host", "a@b@c", "user@", "@host", "u@10.0.0.1/99",
                     "u@h/8", "$a:", "$a:1bad", "u@ho$t", "x" * 101, "very-long-user-name-x@h"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    parse_mask(text)

    def test_an_address_mask_matches_the_real_address_only(self):
        mask = parse_mask("*@127.0.0.2")
        self.assertTrue(matches_address(mask, "bob", "127.0.0.2", "aa.bb.cloak"))
        self.assertFalse(matches_address(mask, "bob", "127.0.0.3", "127.0.0.2"))
        self.assertTrue(matches_address(mask, None, "::ffff:127.0.0.2", "x"))  # mapped IPv4

    def test_networks(self):
        v4, v6 = parse_mask("*@10.0.0.0/8"), parse_mask("*@2001:db8::/32")
        self.assertTrue(matches_address(v4, "u", "10.200.1.1", "x"))
        self.assertFalse(matches_address(v4, "u", "11.0.0.1", "x"))
        self.assertTrue(matches_address(v6, "u", "2001:db8:5::1", "x"))
        self.assertFalse(matches_address(v6, "u", "10.0.0.1", "x"))  # another IP version
        self.assertFalse(matches_address(v4, "u", "not-an-address", "x"))

    def test_a_host_glob_matches_the_address_or_the_cloak(self):
        by_cloak = parse_mask("*@3f9a1c2b.*.cloak")
        self.assertTrue(matches_address(by_cloak, "u", "192.0.2.1", "3f9a1c2b.8d4e7f60.cloak"))
        self.assertFalse(matches_address(by_cloak, "u", "192.0.2.1", "00000000.8d4e7f60.cloak"))
        by_address = parse_mask("*@192.0.2.*")
        self.assertTrue(matches_address(by_address, "u", "192.0.2.77", "aa.bb.cloak"))

    def test_the_user_part(self):
        mask = parse_mask("spam*@127.0.0.2")
        self.assertTrue(matches_address(mask, "SpamBot", "127.0.0.2", "x"))
        self.assertFalse(matches_address(mask, "alice", "127.0.0.2", "x"))
        # Before USER is known only a mask that matches any user can match.
        self.assertFalse(matches_address(mask, None, "127.0.0.2", "x"))
        self.assertTrue(matches_address(parse_mask("**@127.0.0.2"), None, "127.0.0.2", "x"))

    def test_an_account_mask_matches_no_address(self):
        self.assertFalse(matches_address(parse_mask("$a:alice"), "alice", "127.0.0.1", "x"))


class DurationTest(unittest.TestCase):
    def test_durations(self):
        cases = [("10", 600), ("0", 0), ("30s", 30), ("5M", 300), ("2h", 7200), ("1d", 86400),
                 ("1w", 604800), ("9999999d", MAX_DURATION_S)]
        for text, seconds in cases:
            with self.subTest(text=text):
                self.assertEqual(parse_duration(text), seconds)
        for text in ("", "x", "1y", "-5", "1.5h", "1h30m", "127.0.0.2"):
            with self.subTest(text=text):
                self.assertIsNone(parse_duration(text))

    def test_descriptions(self):
        self.assertEqual(describe_duration(0), "0s")
        self.assertEqual(describe_duration(90), "1m30s")
        self.assertEqual(describe_duration(86400 + 3600), "1d1h")


def ban(mask: str, expires_ms: int = 0) -> ServerBan:
    return ServerBan(mask, "reason", "operuser", NOW_MS, expires_ms)


class TableTest(unittest.TestCase):
    def test_address_bans_are_found_and_removed(self):
        bans = ServerBans()
        bans.add(ban("*@127.0.0.2"))
        bans.add(ban("*@10.0.0.0/8"))
        bans.add(ban("bob@192.0.2.1"))
        self.assertEqual(bans.address_ban(None, "127.0.0.2", "x", NOW_MS).mask, "*@127.0.0.2")
        self.assertEqual(bans.address_ban(None, "10.1.1.1", "x", NOW_MS).mask, "*@10.0.0.0/8")
        self.assertIsNone(bans.address_ban(None, "192.0.2.1", "x", NOW_MS))  # user unknown
        self.assertEqual(bans.address_ban("bob", "192.0.2.1", "x", NOW_MS).mask, "bob@192.0.2.1")
        self.assertEqual(bans.remove("*@127.0.0.2").mask, "*@127.0.0.2")
        self.assertIsNone(bans.address_ban(None, "127.0.0.2", "x", NOW_MS))
        self.assertIsNone(bans.remove("*@127.0.0.2"))
        self.assertEqual(len(bans), 2)

    def test_account_bans(self):
        bans = ServerBans()
        bans.add(ban("$a:alice"))
        self.assertEqual(bans.account_ban("ALICE", NOW_MS).mask, "$a:alice")
        self.assertIsNone(bans.account_ban("bob", NOW_MS))
        self.assertIsNone(bans.address_ban("alice", "127.0.0.1", "alice", NOW_MS))
        bans.remove("$a:alice")
        self.assertIsNone(bans.account_ban("alice", NOW_MS))

    def test_an_expired_ban_no_longer_applies_and_is_forgotten(self):
        bans = ServerBans()
        bans.add(ban("*@127.0.0.2", expires_ms=NOW_MS + 1000))
        bans.add(ban("$a:eve", expires_ms=NOW_MS + 1000))
        bans.add(ban("*@127.0.0.3"))
        self.assertIsNotNone(bans.address_ban(None, "127.0.0.2", "x", NOW_MS + 999))
        self.assertIsNone(bans.address_ban(None, "127.0.0.2", "x", NOW_MS + 1000))
        self.assertIsNone(bans.account_ban("eve", NOW_MS + 1000))
        self.assertEqual([b.mask for b in bans.in_force(NOW_MS + 1000)], ["*@127.0.0.3"])
        self.assertEqual(len(bans), 1)

    def test_adding_a_mask_again_replaces_it(self):
        bans = ServerBans()
        bans.add(ban("*@127.0.0.2"))
        bans.add(ServerBan("*@127.0.0.2", "new reason", "op2", NOW_MS, 0))
        self.assertEqual(len(bans), 1)
        self.assertEqual(bans.address_ban(None, "127.0.0.2", "x", NOW_MS).reason, "new reason")

    def test_load_skips_what_it_cannot_read(self):
        bans = ServerBans()
        bans.load([("*@127.0.0.2", "r", "op", NOW_MS, 0), ("not a mask", "r", "op", NOW_MS, 0)])
        self.assertEqual([b.mask for b in bans.in_force(NOW_MS)], ["*@127.0.0.2"])


if __name__ == "__main__":
    unittest.main()
