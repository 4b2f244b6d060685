"""The pure parts of channel modes: parsing a mode string by the CHANMODES types
(chatd/hub/channel_modes.py), applying it to a channel, formatting what changed, the masks of
chatd/hub/bans.py and the state of chatd/hub/channel_state.py. Cases follow RFC 2811/2812 and
modern.ircdocs.horse "MODE message"."""

import unittest

from chatd.hub.bans import canonical_mask, mask_matches
from chatd.hub.channel_modes import (ModeChange, apply_changes, format_changes, is_valid_key,
                                     parse_modes, split_changes)
from chatd.hub.channel_state import ChannelModes, ListEntry, rank_prefix, with_rank
from chatd.hub.registry import ChannelRecord, ClientRecord
from chatd.limits import MAX_LIST_ENTRIES, MAX_MODE_PARAMS
from ircproto import numerics as N
from ircproto.errors import IrcError


def change(sign: str, letter: str, param: str | None = None) -> ModeChange:
    return ModeChange(sign == "+", letter, param)


class ParseTest(unittest.TestCase):
    def test_parameters_are_taken_by_type(self):
        # (words after the channel, changes, list queries, unknown letters)
        cases = [
            ("+m", [change("+", "m")], [], []),
            ("m", [change("+", "m")], [], []),  # no sign: adding
            ("+mnt", [change("+", "m"), change("+", "n"), change("+", "t")], [], []),
            ("-int", [change("-", "i"), change("-", "n"), change("-", "t")], [], []),
            ("+m-n+s", [change("+", "m"), change("-", "n"), change("+", "s")], [], []),
            ("+o alice", [change("+", "o", "alice")], [], []),
            ("+ov alice bob", [change("+", "o", "alice"), change("+", "v", "bob")], [], []),
            ("+o-v alice bob", [change("+", "o", "alice"), change("-", "v", "bob")], [], []),
            ("+o", [], [], []),  # a prefix mode without its nick is ignored
            ("+mb *!*@x", [change("+", "m"), change("+", "b", "*!*@x")], [], []),
            ("-bl+i *@192.168.0.1", [change("-", "b", "*@192.168.0.1"), change("-", "l"),
                                     change("+", "i")], [], []),  # modern.ircdocs example
            ("b", [], ["b"], []),
            ("+b", [], ["b"], []),
            ("-b", [], ["b"], []),
            ("+beI", [], ["b", "e", "I"], []),
            ("+bb", [], ["b"], []),  # each list once
            ("+k key", [change("+", "k", "key")], [], []),
            ("+k", [], [], []),  # type B without its parameter: ignored
            ("-k", [change("-", "k")], [], []),  # removing: the key may be left out
            ("-k old", [change("-", "k", "old")], [], []),
            ("+l 10", [change("+", "l", "10")], [], []),
            ("+l", [], [], []),  # type C set without its parameter: ignored
            ("-l", [change("-", "l")], [], []),
            ("-l 10", [change("-", "l")], [], []),  # type C takes nothing when unset
            ("+lk 5 key", [change("+", "l", "5"), change("+", "k", "key")], [], []),
            ("+r bob", [change("+", "r", "bob")], [], []),  # type C: the founder's account
            ("+r", [change("+", "r")], [], []),  # but alone it names the setter's account
            ("-r bob", [change("-", "r")], [], []),
            ("+rl 5", [change("+", "r", "5")], [], []),  # the l then lacks its parameter
            ("+zyz", [], [], ["z", "y"]),  # each unknown letter once
            ("+mZ", [change("+", "m")], [], ["Z"]),
            ("+O nick", [], [], ["O"]),  # unknown: takes nothing (its word is ignored)
            ("+", [], [], []),
            ("", [], [], []),
        ]
        for words, changes, queries, unknown in cases:
            with self.subTest(words=words):
                modestring, *args = words.split(" ") if words else [""]
                parsed = parse_modes(modestring, args)
                self.assertEqual(parsed.changes, changes)
                self.assertEqual(parsed.list_queries, queries)
                self.assertEqual(parsed.unknown, unknown)

    def test_at_most_modes_changes_with_a_parameter(self):
        nicks = [f"n{i}" for i in range(MAX_MODE_PARAMS + 2)]
        parsed = parse_modes("+m" + "o" * len(nicks) + "n", nicks)
        with_param = [c for c in parsed.changes if c.param is not None]
        self.assertEqual([c.param for c in with_param], nicks[:MAX_MODE_PARAMS])
        # the flags around them still count: they take no parameter
        self.assertEqual([c.letter for c in parsed.changes if c.param is None], ["m", "n"])


class Member:
    """Channel members for apply_changes, with the lookup the MODE command gives it."""

    def __init__(self, channel: ChannelRecord, *nicks: str):
        self.channel = channel
        for conn_id, nick in enumerate(nicks, 1):
            client = ClientRecord(conn_id, 0, f"host{conn_id}", 0, nick=nick, user="u",
                                  registered=True)
            channel.members[conn_id] = client

    def __call__(self, nick: str) -> ClientRecord:
        for client in self.channel.members.values():
            if client.nick.lower() == nick.lower():
                return client
        raise IrcError(N.ERR_USERNOTINCHANNEL, nick, self.channel.name, "Not on that channel")


class ApplyTest(unittest.TestCase):
    def setUp(self):
        self.channel = ChannelRecord("#c", 0)
        self.members = Member(self.channel, "alice", "Bob")

    def apply(self, words: str):
        modestring, *args = words.split(" ")
        return apply_changes(self.channel, parse_modes(modestring, args).changes,
                             "alice!u@host1", 1234, self.members)

    def test_flags_change_once(self):
        self.assertEqual(format_changes(self.apply("+mn").changes), "+mn")
        self.assertEqual(self.channel.modes.flags, {"m", "n"})
        self.assertEqual(self.apply("+m").changes, [])  # already set: nothing to say
        self.assertEqual(format_changes(self.apply("-m+s").changes), "-m+s")
        self.assertEqual(self.channel.modes.flags, {"n", "s"})

    def test_ranks(self):
        applied = self.apply("+ov bob bob")
        self.assertEqual(format_changes(applied.changes), "+ov Bob Bob")  # the nick as it is
        self.assertEqual(self.channel.ranks[2], "ov")
        self.assertEqual(self.channel.prefix(self.channel.members[2], multi=True), "@+")
        self.assertEqual(self.channel.prefix(self.channel.members[2]), "@")
        self.assertEqual(self.apply("+o bob").changes, [])
        self.assertEqual(format_changes(self.apply("-o bob").changes), "-o Bob")
        self.assertEqual(self.channel.ranks[2], "v")
        self.assertEqual(format_changes(self.apply("-v bob").changes), "-v Bob")
        self.assertNotIn(2, self.channel.ranks)

    def test_rank_of_someone_not_there(self):
        applied = self.apply("+o-v carol alice")
        self.assertEqual([e.code for e in applied.errors], [N.ERR_USERNOTINCHANNEL])
        self.assertEqual(applied.changes, [])  # -v of someone without voice changes nothing

    def test_lists_keep_setter_and_time(self):
        applied = self.apply("+be bar *@good")
        self.assertEqual(format_changes(applied.changes), "+be bar!*@* *!*@good")
        self.assertEqual(self.channel.modes.lists["b"],
                         [ListEntry("bar!*@*", "alice!u@host1", 1234)])
        self.assertEqual(self.apply("+b BAR!*@*").changes, [])  # the same, case aside
        self.assertEqual(format_changes(self.apply("-b Bar").changes), "-b bar!*@*")
        self.assertEqual(self.channel.modes.lists["b"], [])
        self.assertEqual(self.apply("-b bar").changes, [])  # not there

    def test_lists_are_bounded(self):
        for i in range(MAX_LIST_ENTRIES):
            self.channel.modes.add_entry("beI"[i % 3], ListEntry(f"n{i}!*@*", "x", 0))
        applied = self.apply("+bm late")
        self.assertEqual([(e.code, e.params[1]) for e in applied.errors],
                         [(N.ERR_BANLISTFULL, "b")])
        self.assertEqual(format_changes(applied.changes), "+m")  # the rest still applies
        self.assertEqual(format_changes(self.apply("-b n0").changes), "-b n0!*@*")

    def test_invalid_masks(self):
        for mask in (":x", "$z:y", "$a:", "x" * 200):
            with self.subTest(mask=mask):
                applied = apply_changes(self.channel, [change("+", "b", mask)], "s", 0,
                                        self.members)
                self.assertEqual([e.code for e in applied.errors], [N.ERR_INVALIDMODEPARAM])
                self.assertEqual(applied.errors[0].params[1], "b")

    def test_key(self):
        self.assertEqual(format_changes(self.apply("+k beer").changes), "+k beer")
        self.assertEqual(self.channel.modes.key, "beer")
        self.assertEqual(format_changes(self.apply("+k wine").changes), "+k wine")  # replaced
        self.assertEqual(format_changes(self.apply("-k").changes), "-k *")
        self.assertIsNone(self.channel.modes.key)
        self.assertEqual(self.apply("-k whatever").changes, [])
        for bad in ("a b", "x" * 24, "a,b", ":x", "é"):
            with self.subTest(key=bad):
                applied = apply_changes(self.channel, [change("+", "k", bad)], "s", 0,
                                        self.members)
                [error] = applied.errors
                self.assertEqual((error.code, error.params[:3]),
                                 (N.ERR_INVALIDMODEPARAM, ("#c", "k", "*")))
                self.assertIsNone(self.channel.modes.key)

    def test_limit(self):
        self.assertEqual(format_changes(self.apply("+l 007").changes), "+l 7")
        self.assertEqual(self.apply("+l 7").changes, [])
        self.assertEqual(format_changes(self.apply("-l").changes), "-l")
        self.assertIsNone(self.channel.modes.limit)
        for bad in ("0", "-1", "abc", "99999999999", "1_0"):
            with self.subTest(limit=bad):
                applied = self.apply(f"+l {bad}")
                self.assertEqual([e.code for e in applied.errors], [N.ERR_INVALIDMODEPARAM])
                self.assertIsNone(self.channel.modes.limit)

    def test_valid_keys(self):
        for key in ("a", "x" * 23, "p@ss!word", "~^{}"):
            with self.subTest(key=key):
                self.assertTrue(is_valid_key(key))


class FormatTest(unittest.TestCase):
    def test_format_changes(self):
        cases = [
            ([change("+", "m")], "+m"),
            ([change("+", "o", "a"), change("+", "v", "b"), change("-", "b", "m!*@*")],
             "+ov-b a b m!*@*"),
            ([change("-", "l"), change("+", "i"), change("-", "k", "*")], "-l+i-k *"),
        ]
        for changes, text in cases:
            with self.subTest(text=text):
                self.assertEqual(format_changes(changes), text)

    def test_split_changes_keeps_each_run_within_the_budget(self):
        changes = [change("+", "b", f"{i}" * 100 + "!*@*") for i in range(4)]
        runs = split_changes(changes, 250)
        self.assertEqual([c for run in runs for c in run], changes)
        self.assertEqual([len(run) for run in runs], [2, 2])
        for run in runs:
            self.assertLessEqual(len(format_changes(run)), 250)
        self.assertEqual(split_changes([], 250), [])

    def test_summary(self):
        modes = ChannelModes(flags={"t", "n"})
        self.assertEqual(modes.summary(show_key=True), ("+nt",))
        modes.key, modes.limit = "beer", 5
        self.assertEqual(modes.summary(show_key=True), ("+klnt", "beer", "5"))
        self.assertEqual(modes.summary(show_key=False), ("+klnt", "*", "5"))
        self.assertEqual(ChannelModes().summary(show_key=True), ("+",))


class RankTest(unittest.TestCase):
    def test_prefixes(self):
        cases = [("o", False, "@"), ("ov", False, "@"), ("ov", True, "@+"), ("v", True, "+"),
                 ("", True, "")]
        for rank, multi, prefix in cases:
            with self.subTest(rank=rank, multi=multi):
                self.assertEqual(rank_prefix(rank, multi), prefix)

    def test_with_rank_keeps_prefix_order(self):
        self.assertEqual(with_rank("v", "o", True), "ov")
        self.assertEqual(with_rank("ov", "o", False), "v")
        self.assertEqual(with_rank("", "v", False), "")


class MaskTest(unittest.TestCase):
    def test_canonical(self):
        cases = [
            ("bar", "bar!*@*"),
            ("bar!*@*", "bar!*@*"),
            ("*@127.0.0.1", "*!*@127.0.0.1"),
            ("u@h", "*!u@h"),
            ("nick!user", "nick!user@*"),
            ("!@", "*!*@*"),
            ("*!*@2001:db8::1", "*!*@2001:db8::1"),
            ("$a", "$a"),
            ("$a:alice", "$a:alice"),
            ("$a:ali*", "$a:ali*"),
            ("$r:x", None),  # an extban chatd does not have
            ("$a:", None),
            (":x", None),
            ("a\x01b", None),
            ("", None),
        ]
        for raw, mask in cases:
            with self.subTest(raw=raw):
                self.assertEqual(canonical_mask(raw), mask)

    def test_matches(self):
        alice = ClientRecord(1, 0, "a1b2.c3d4.cloak", 0, address="192.0.2.7", nick="Alice",
                             user="al", account="AliceAcct")
        anon = ClientRecord(2, 0, "e5f6.cloak", 0, nick="alice", user="al")
        cases = [
            ("alice!*@*", True, True),  # rfc1459 case-insensitive
            ("ALICE!AL@A1B2.*", True, False),
            ("*!*@*.cloak", True, True),
            ("*!*@192.0.2.*", False, False),  # never the real address behind a cloak
            ("a?ice!*@*", True, True),
            ("bob!*@*", False, False),
            ("$a", True, False),  # any logged-in client
            ("$a:aliceacct", True, False),  # account names, not nicks
            ("$a:alice*", True, False),
            ("$a:alice", False, False),
        ]
        for mask, matches_alice, matches_anon in cases:
            with self.subTest(mask=mask):
                self.assertEqual(mask_matches(mask, alice), matches_alice)
                self.assertEqual(mask_matches(mask, anon), matches_anon)


if __name__ == "__main__":
    unittest.main()
