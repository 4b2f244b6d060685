"""tui's view of channel moderation, without a terminal or sockets: the server's PREFIX and
CHANMODES (tui.members, tui.modes), members' prefixes kept through NAMES, MODE, KICK, PART,
QUIT and NICK, how mode changes, kicks, lists, invites and refusals read (tui.moderation)."""

import unittest

from tests.unit.test_tui_support import MASK, Harness, sent
from tui.members import Members, PrefixTable
from tui.modes import DEFAULT_RULES, ModeChange, ModeRules, describe, parse_changes
from tui.state import Kind

NGIRCD_ISUPPORT = (":srv 005 alice PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imMnOPQRstVz MODES=5"
                   " :are supported")


class PrefixTableTest(unittest.TestCase):
    def test_parse(self) -> None:
        cases = [(None, ("ov", "@+")), ("(qaohv)~&@%+", ("qaohv", "~&@%+")), ("", ("", "")),
                 ("(ov)@", ("ov", "@+")), ("ov@+", ("ov", "@+"))]  # malformed: the default
        for value, expected in cases:
            with self.subTest(value=value):
                table = PrefixTable.parse(value)
                self.assertEqual((table.modes, table.symbols), expected)

    def test_names_entries(self) -> None:
        table = PrefixTable.parse("(qaohv)~&@%+")
        cases = [("@+bob", ("@+", "bob")), ("+@bob", ("@+", "bob")), ("bob", ("", "bob")),
                 ("~bob!b@host", ("~", "bob")), ("%carol", ("%", "carol"))]
        for entry, expected in cases:
            with self.subTest(entry=entry):
                self.assertEqual(table.split(entry), expected)
        # Symbols the server does not use are part of the nick.
        self.assertEqual(PrefixTable.parse(None).split("%bob"), ("", "%bob"))


class MembersTest(unittest.TestCase):
    def test_prefixes_follow_modes_and_renames(self) -> None:
        table = PrefixTable.parse(None)
        members = Members()
        members.add("Bob", "+")
        self.assertTrue(members.set_prefix("bob", "@", True, table))
        self.assertEqual(members.prefixes("BOB"), "@+")  # in rank order
        self.assertTrue(members.set_prefix("bob", "@", False, table))
        self.assertEqual(members.highest("bob"), "+")  # the voice stays
        self.assertTrue(members.rename("bob", "robert"))
        self.assertEqual((members.prefixes("robert"), "bob" in members), ("+", False))
        self.assertFalse(members.set_prefix("nobody", "@", True, table))

    def test_ranked(self) -> None:
        table = PrefixTable.parse(None)
        members = Members()
        for nick, prefixes in [("dave", ""), ("carol", "+"), ("Bob", "@"), ("alice", "@+"),
                               ("ann", "")]:
            members.add(nick, prefixes)
        self.assertEqual([m.nick for m in members.ranked(table)],
                         ["alice", "Bob", "carol", "ann", "dave"])


class ModeChangesTest(unittest.TestCase):
    def test_parse(self) -> None:
        ngircd = ModeRules.parse("beI,k,l,imMnOPQRstVz", "(qaohv)~&@%+")
        cases = [
            (("+o", "bob"), DEFAULT_RULES, [ModeChange(True, "o", "bob")]),
            (("+o-v", "bob", "carol"), DEFAULT_RULES,
             [ModeChange(True, "o", "bob"), ModeChange(False, "v", "carol")]),
            (("+lk", "5", "key"), DEFAULT_RULES,
             [ModeChange(True, "l", "5"), ModeChange(True, "k", "key")]),
            (("-lk", "*"), DEFAULT_RULES, [ModeChange(False, "l"), ModeChange(False, "k", "*")]),
            (("+mnt",), DEFAULT_RULES,
             [ModeChange(True, "m"), ModeChange(True, "n"), ModeChange(True, "t")]),
            (("+b",), DEFAULT_RULES, [ModeChange(True, "b")]),  # a list request
            (("+h", "bob"), ngircd, [ModeChange(True, "h", "bob")]),
            (("+h", "bob"), DEFAULT_RULES, None),  # a letter the rules do not know: raw
            (("+o",), DEFAULT_RULES, None),  # its argument missing (a user's oper mode)
            (("+i",), DEFAULT_RULES, [ModeChange(True, "i")]),
            ((), DEFAULT_RULES, None),
        ]
        for words, rules, expected in cases:
            with self.subTest(words=words):
                self.assertEqual(parse_changes(words, rules), expected)

    def test_describe(self) -> None:
        cases = [
            ([ModeChange(True, "o", "bob")], "alice sets mode +o bob"),
            ([ModeChange(True, "b", "*!*@spam.example")],
             "alice sets ban on *!*@spam.example"),
            ([ModeChange(False, "b", "x!*@*")], "alice removes ban on x!*@*"),
            ([ModeChange(True, "e", "*!*@ok")], "alice sets ban exception on *!*@ok"),
            ([ModeChange(True, "o", "bob"), ModeChange(False, "v", "bob"),
              ModeChange(True, "b", "m!*@*"), ModeChange(True, "m")],
             "alice sets mode +o-v bob bob, sets ban on m!*@*, sets mode +m"),
        ]
        for changes, expected in cases:
            with self.subTest(expected=expected):
                self.assertEqual(describe("alice", changes), expected)


class ChannelTest(unittest.TestCase):
    """A session on a server with multi-prefix, in #lobby with others."""

    def setUp(self) -> None:
        self.h = Harness(caps="multi-prefix server-time")
        self.h.register()
        self.assertIn("multi-prefix", self.h.session.caps)
        self.h.join("#lobby", "@alice @+bob +carol dave")
        self.buf = self.h.state.get("#lobby")

    def prefixes(self) -> dict[str, str]:
        return {m.nick: m.prefixes for m in self.buf.users.ranked(self.h.session.ctx.prefix_table)}

    def last(self) -> tuple[Kind, str]:
        line = self.h.state.current.lines[-1]
        return line.kind, line.text

    def test_names_with_every_prefix(self) -> None:
        self.assertEqual(self.prefixes(), {"alice": "@", "bob": "@+", "carol": "+", "dave": ""})
        self.assertIn("-- 4 users: @alice @bob +carol dave", self.h.texts("#lobby"))

    def test_names_listing_replaces_the_members(self) -> None:
        self.h.session.request_names("#lobby")
        self.h.recv(":srv 353 alice = #lobby :dave +erin @alice",
                    ":srv 366 alice #lobby :End of NAMES list")
        self.assertEqual(self.prefixes(), {"alice": "@", "erin": "+", "dave": ""})
        self.assertEqual(self.h.texts("#lobby")[-1], "-- 3 users: @alice +erin dave")

    def test_names_of_a_channel_we_are_not_in(self) -> None:
        self.h.session.request_names("#other")
        self.h.recv(":srv 353 alice = #other :zed +yan @xu", ":srv 366 alice #other :End")
        self.assertEqual(self.last(), (Kind.INFO, "Users on #other: @xu +yan zed"))

    def test_mode_changes_move_prefixes_and_read_well(self) -> None:
        cases = [
            (":alice!a@h MODE #lobby +o carol", "-- alice sets mode +o carol", "carol", "@+"),
            (":alice!a@h MODE #lobby -o bob", "-- alice sets mode -o bob", "bob", "+"),
            (":alice!a@h MODE #lobby -v+v bob dave", "-- alice sets mode -v+v bob dave",
             "dave", "+"),
            (":alice!a@h MODE #lobby +b *!*@spam.example",
             "-- alice sets ban on *!*@spam.example", "bob", ""),
            (":srv MODE #lobby +mnt", "-- srv sets mode +mnt", "dave", "+"),
        ]
        for line, text, nick, prefixes in cases:
            with self.subTest(line=line):
                self.h.recv(line)
                self.assertEqual(self.h.texts("#lobby")[-1], text)
                self.assertEqual(self.buf.users.prefixes(nick), prefixes)

    def test_prefixes_follow_nick_kick_part_quit_join(self) -> None:
        self.h.recv(":bob!b@h NICK robert")
        self.assertEqual(self.buf.users.prefixes("robert"), "@+")
        self.h.recv(":alice!a@h KICK #lobby robert :spam")
        self.assertEqual(self.h.texts("#lobby")[-1], "<-- robert was kicked by alice (spam)")
        self.h.recv(":carol!c@h PART #lobby", ":dave!d@h QUIT :bye")
        self.assertEqual(self.prefixes(), {"alice": "@"})
        self.h.recv(":carol!c@h JOIN #lobby")  # back without her voice
        self.assertEqual(self.prefixes(), {"alice": "@", "carol": ""})

    def test_messages_carry_the_authors_prefix(self) -> None:
        self.h.recv(":bob!b@h PRIVMSG #lobby :from an op", ":dave!d@h PRIVMSG #lobby :plain")
        self.h.session.say("#lobby", "mine", self.h.now)
        lines = self.buf.lines[-3:]
        self.assertEqual([(l.nick, l.prefix) for l in lines],
                         [("bob", "@"), ("dave", ""), ("alice", "@")])
        self.h.recv(":alice!a@h MODE #lobby -o bob", ":bob!b@h PRIVMSG #lobby :voiced now")
        self.assertEqual(self.buf.lines[-1].prefix, "+")
        self.assertEqual(lines[0].prefix, "@")  # what was said keeps the rank it had

    def test_our_kick(self) -> None:
        self.h.recv(":bob!b@h KICK #lobby alice :behave")
        self.assertEqual(self.last(), (Kind.ERROR, "You were kicked from #lobby by bob (behave)"))
        self.assertFalse(self.buf.joined)
        self.assertTrue(self.buf.parted)
        self.assertIs(self.h.state.get("#lobby"), self.buf)  # still there to read
        # Nothing re-joins it: not the autojoin fallback, not a reconnect.
        self.assertNotIn("JOIN #lobby", self.h.advance(10))
        self.h.session.disconnected("gone", self.h.now)
        self.h.register()
        self.assertNotIn("JOIN #lobby", self.h.advance(10))
        self.assertEqual(sent(self.h.session.request_join("#lobby")), ["JOIN #lobby"])

    def test_mode_lists_and_channel_modes(self) -> None:
        self.h.recv(":srv 367 alice #lobby spam!*@* bob!b@h 1796192127",
                    ":srv 367 alice #lobby *!*@bad.example alice 1796192128",
                    ":srv 368 alice #lobby :End of channel ban list",
                    ":srv 349 alice #lobby :End of channel exception list",
                    ":srv 324 alice #lobby +ntl 20", ":srv 329 alice #lobby 1796192123",
                    ":srv 324 alice #lobby +")
        self.assertEqual(self.h.texts("#lobby")[-6:], [
            "Ban on #lobby: spam!*@* (set by bob)",
            "Ban on #lobby: *!*@bad.example (set by alice)",
            "2 bans on #lobby", "No ban exceptions on #lobby",
            "Modes of #lobby: +ntl 20", "No modes are set on #lobby"])

    def test_invites(self) -> None:
        self.h.recv(":bob!b@h INVITE alice #secret")
        self.assertEqual(self.last(), (Kind.INFO, "bob invites you to #secret (/join #secret)"))
        self.h.recv(":alice!a@h INVITE carol #lobby")  # invite-notify
        self.assertEqual(self.h.texts("#lobby")[-1], "-- alice invited carol to #lobby")
        self.h.recv(":srv 341 alice erin #lobby")
        self.assertEqual(self.h.texts("#lobby")[-1], "You invited erin to #lobby")

    def test_refusals_show_the_servers_reason_where_the_user_is(self) -> None:
        cases = [
            (":srv 482 alice #lobby :You're not channel operator",
             "#lobby: You're not channel operator"),
            (":srv 441 alice zed #lobby :They aren't on that channel",
             "zed #lobby: They aren't on that channel"),
            (":srv 443 alice bob #lobby :is already on channel", "bob #lobby: is already on channel"),
            (":srv 401 alice zed :No such nick/channel", "zed: No such nick/channel"),
            (":srv 404 alice #lobby :Cannot send to channel", "#lobby: Cannot send to channel"),
            (":srv 472 alice z :is unknown mode char to me", "z: is unknown mode char to me"),
            (":srv 478 alice #lobby b :Channel list is full", "#lobby b: Channel list is full"),
            (":srv 473 alice #vip :Cannot join channel (+i)",
             "Cannot join #vip: Cannot join channel (+i)"),
            (":srv 474 alice #vip :Cannot join channel (+b)",
             "Cannot join #vip: Cannot join channel (+b)"),
            (":srv 475 alice #vip :Cannot join channel (+k)",
             "Cannot join #vip: Cannot join channel (+k)"),
            (":srv 471 alice #vip :Cannot join channel (+l)",
             "Cannot join #vip: Cannot join channel (+l)"),
        ]
        for line, text in cases:
            with self.subTest(line=line):
                self.h.recv(line)
                self.assertEqual(self.last(), (Kind.ERROR, text))

    def test_user_modes_go_to_the_server_buffer(self) -> None:
        self.h.recv(f":{MASK} MODE alice +i")
        self.assertEqual(self.h.texts("server")[-1], "-- alice sets mode +i")


class ServerPrefixTest(unittest.TestCase):
    def test_the_servers_prefix_and_chanmodes_rule(self) -> None:
        h = Harness(caps="")
        h.register()
        h.recv(NGIRCD_ISUPPORT)
        h.join("#c", "bob ~owner %half +voice @op")
        self.assertIn("-- 5 users: ~owner @op %half +voice bob", h.texts("#c"))
        h.recv(":op!o@h MODE #c +h bob", ":op!o@h MODE #c +M")
        self.assertEqual(h.state.get("#c").users.prefixes("bob"), "%")
        self.assertEqual(h.texts("#c")[-2:], ["-- op sets mode +h bob", "-- op sets mode +M"])


if __name__ == "__main__":
    unittest.main()
