"""tui.people, tui.nicklist and the people commands: WHOIS blocks, away states (ours and
others'), the silent WHO, the nick-list column, /whois /away /back, /msg's feedback."""

import unittest
from datetime import timedelta

from tests.unit.test_tui_support import T0, Harness, sent
from tui.commands import run_input
from tui.members import Members, PrefixTable
from tui.nicklist import MIN_PANE_WIDTH, NickList
from tui.people import AWAY_REFRESH, duration_text
from tui.state import Kind

TABLE = PrefixTable.parse(None)


def texts(rows) -> list[str]:
    return ["".join(t for t, _ in row) for row in rows]


class PeopleTestCase(unittest.TestCase):
    caps = "server-time"

    def setUp(self) -> None:
        self.h = Harness(caps=self.caps)
        self.h.register()
        self.h.join(names="@alice bob +carol")
        self.people = self.h.session.people

    def run_(self, text: str) -> list[str]:
        return sent(run_input(text, self.h.session, self.h.state, self.h.now))

    def infos(self, name: str = "#lobby") -> list[str]:
        return [line.text for line in self.h.buffer(name).lines if line.kind == Kind.INFO]


class WhoisTest(PeopleTestCase):
    def test_replies_become_one_block_where_it_was_asked(self) -> None:
        self.assertEqual(self.run_("/whois bob"), ["WHOIS bob"])
        self.h.state.switch(0)  # the block goes where /whois was typed, not where we look
        self.h.recv(":s 311 alice bob ~b example.org * :Bob Smith",
                    ":s 319 alice bob :@#lobby #dev",
                    ":s 312 alice bob chat.test :chatd server",
                    ":s 313 alice bob :is an IRC operator",
                    ":s 330 alice bob bobby :is logged in as",
                    ":s 301 alice bob :gone fishing",
                    ":s 671 alice bob :is using a secure connection",
                    ":s 317 alice bob 250 1764093600 :seconds idle, signon time",
                    ":s 318 alice bob :End of /WHOIS list")
        self.assertEqual(self.infos()[-9:], [
            "bob is ~b@example.org (Bob Smith)", "  on @#lobby #dev",
            "  via chat.test (chatd server)", "  is an IRC operator", "  logged in as bobby",
            "  away: gone fishing", "  is using a secure connection",
            "  idle 4m 10s, connected since 2025-11-25 18:00"])
        self.assertNotIn("End of /WHOIS list", " ".join(self.h.texts("server")))
        self.assertTrue(self.people.is_away("Bob"))

    def test_an_unknown_nick_shows_only_the_error(self) -> None:
        self.run_("/whois nobody")
        before = len(self.h.buffer("#lobby").lines)
        self.h.recv(":s 401 alice nobody :No such nick/channel",
                    ":s 318 alice nobody :End of /WHOIS list")
        lines = self.h.buffer("#lobby").lines[before:]
        self.assertEqual([(line.kind, line.text) for line in lines],
                         [(Kind.ERROR, "nobody: No such nick/channel")])

    def test_usage(self) -> None:
        for text in ("/whois", "/whois a b", "/whois #lobby", "/whois :x"):
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), [])
                self.assertIn("Usage: /whois nick", self.h.buffer("#lobby").lines[-1].text)

    def test_whois_alone_in_a_private_buffer_asks_about_the_partner(self) -> None:
        self.run_("/query bob")
        self.assertEqual(self.run_("/whois"), ["WHOIS bob"])

    def test_durations(self) -> None:
        cases = [(0, "0s"), (59, "59s"), (61, "1m 01s"), (3600 * 5 + 60 * 3, "5h 03m"),
                 (86400 * 3 + 3600, "3d 01h")]
        for seconds, text in cases:
            with self.subTest(seconds=seconds):
                self.assertEqual(duration_text(seconds), text)


class AwayTest(PeopleTestCase):
    def test_our_away_is_kept_across_a_reconnect(self) -> None:
        self.assertEqual(self.run_("/away lunch"), ["AWAY lunch"])
        self.h.recv(":s 306 alice :You have been marked as being away")
        self.assertTrue(self.people.me_away)
        self.assertEqual(self.h.buffer("#lobby").lines[-1].text,
                         "You have been marked as being away")
        self.h.session.disconnected("gone", self.h.now)
        self.assertEqual(self.h.register()[-1], "AWAY lunch")  # the server forgot it
        self.assertEqual(self.run_("/back"), ["AWAY"])
        self.h.recv(":s 305 alice :You are no longer marked as being away")
        self.assertFalse(self.people.me_away)
        self.assertNotIn("AWAY lunch", self.h.register())

    def test_away_alone_has_a_reason_and_back_when_not_away_says_so(self) -> None:
        self.assertEqual(self.run_("/back"), [])
        self.assertEqual(self.h.buffer("#lobby").lines[-1].text, "You are not marked away.")
        self.assertEqual(self.run_("/away"), ["AWAY Away"])

    def test_away_notify_and_who_flags(self) -> None:
        self.h.recv(":bob!b@h AWAY :back soon")
        self.assertTrue(self.people.is_away("bob"))
        self.h.recv(":bob!b@h AWAY")
        self.assertFalse(self.people.is_away("bob"))
        self.h.recv(":s 352 alice #x ~c h chat.test carol G+ :0 Carol",
                    ":s 352 alice #x ~b h chat.test bob H :0 Bob")
        self.assertEqual((self.people.is_away("carol"), self.people.is_away("bob")),
                         (True, False))
        self.h.recv(":carol!c@h NICK carla")
        self.assertTrue(self.people.is_away("carla"))
        self.h.recv(":carla!c@h QUIT :bye")
        self.assertFalse(self.people.is_away("carla"))

    def test_rpl_away_is_said_once_per_message(self) -> None:
        self.run_("/msg bob hi")
        for _ in range(3):
            self.h.recv(":s 301 alice bob :gone fishing")
        self.assertEqual(self.h.texts("bob").count("bob is away: gone fishing"), 1)
        self.h.recv(":s 301 alice bob :at the dentist")
        self.assertIn("bob is away: at the dentist", self.h.texts("bob"))

    def test_our_own_who_is_silent_someone_elses_is_shown(self) -> None:
        lobby = self.h.buffer("#lobby")
        self.h.session.ctx.ready = True
        self.assertEqual(sent(self.people.refresh(lobby, T0)), ["WHO #lobby"])
        before = (len(self.h.texts("server")), len(lobby.lines))
        self.h.recv(":s 352 alice #lobby ~b h chat.test bob G :0 Bob",
                    ":s 315 alice #lobby :End of WHO list")
        self.assertEqual((len(self.h.texts("server")), len(lobby.lines)), before)
        self.assertTrue(self.people.is_away("bob"))
        self.h.recv(":s 352 alice #dev ~b h chat.test bob H :0 Bob",
                    ":s 315 alice #dev :End of WHO list")
        self.assertEqual(self.h.texts("server")[-2:],
                         ["#dev ~b h chat.test bob H 0 Bob", "#dev End of WHO list"])

    def test_refresh_once_per_join_and_every_few_minutes_without_away_notify(self) -> None:
        lobby = self.h.buffer("#lobby")
        self.h.session.ctx.ready = True
        self.assertEqual(sent(self.people.refresh(lobby, T0)), ["WHO #lobby"])
        self.assertEqual(self.people.refresh(lobby, T0 + timedelta(seconds=10)), [])
        later = T0 + AWAY_REFRESH
        self.assertEqual(sent(self.people.refresh(lobby, later)), ["WHO #lobby"])
        self.h.session.ctx.caps.add("away-notify")  # told live: once per join is enough
        self.assertEqual(self.people.refresh(lobby, later + AWAY_REFRESH), [])
        self.h.now = later + timedelta(seconds=1)
        self.h.recv(":alice!a@h PART #lobby", self.h.line("JOIN", "#lobby", source="alice!a@h"))
        lobby = self.h.buffer("#lobby")
        self.assertEqual(sent(self.people.refresh(lobby, self.h.now)), ["WHO #lobby"])
        self.assertEqual(self.people.refresh(self.h.state.server, self.h.now), [])


class NickListTest(unittest.TestCase):
    def members(self, *entries: str) -> Members:
        members = Members()
        for entry in entries:
            prefixes, nick = TABLE.split(entry)
            members.add(nick, prefixes)
        return members

    def test_ranked_with_prefixes_away_dimmed_and_cut_to_the_height(self) -> None:
        members = self.members("dave", "@bob", "+carol", "alice", "@eve")
        nicks = NickList()
        width = nicks.width(100, members, TABLE)
        rows = nicks.rows(members, TABLE, width, 4, lambda n: n == "carol",
                          lambda n: n == "alice")
        self.assertEqual(texts(rows), [" @bob", " @eve", " +carol", " +2 more"])
        self.assertTrue(rows[2][1][1].dim)
        rows = nicks.rows(members, TABLE, width, 7, lambda n: False, lambda n: n == "alice")
        self.assertEqual(texts(rows)[3:], [" alice", " dave"])
        self.assertTrue(rows[3][1][1].bold)

    def test_hidden_on_a_narrow_terminal_and_sized_to_the_longest_nick(self) -> None:
        members = self.members("@a", "someone_long_named_here")
        nicks = NickList()
        self.assertEqual(nicks.width(MIN_PANE_WIDTH + 10, members, TABLE), 0)
        self.assertEqual(nicks.width(120, members, TABLE), 18 + 1)  # the column's maximum
        self.assertEqual(nicks.width(120, self.members("@a", "b"), TABLE), 8 + 1)
        self.assertEqual(nicks.width(120, Members(), TABLE), 0)
        rows = nicks.rows(members, TABLE, 19, 2, lambda n: False, lambda n: False)
        self.assertEqual(texts(rows)[1], " someone_long_named")

    def test_the_ranking_is_redone_only_when_the_members_change(self) -> None:
        members = self.members("bob", "carol")
        nicks = NickList()
        self.assertEqual(texts(nicks.rows(members, TABLE, 10, 2, bool, bool)),
                         [" bob", " carol"])
        members.set_prefix("carol", "@", True, TABLE)
        self.assertEqual(texts(nicks.rows(members, TABLE, 10, 2, bool, bool)),
                         [" @carol", " bob"])
        members.rename("bob", "abe")
        self.assertEqual(texts(nicks.rows(members, TABLE, 10, 2, bool, bool))[1], " abe")


class MsgFeedbackTest(PeopleTestCase):
    def test_msg_from_elsewhere_says_where_it_went(self) -> None:
        self.assertEqual(self.run_("/msg bob see you"), ["PRIVMSG bob :see you"])
        self.assertEqual(self.h.buffer("#lobby").lines[-1].text, "-> bob: see you")
        self.assertEqual(self.h.texts("bob")[-1], "see you")
        self.h.state.focus(self.h.buffer("bob"))
        self.run_("/msg bob again")  # in bob's own buffer the message itself is enough
        self.assertEqual(self.h.texts("bob")[-1], "again")


if __name__ == "__main__":
    unittest.main()
