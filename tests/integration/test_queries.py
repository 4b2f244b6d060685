"""Queries answered from the master's global state, asked from one worker about clients on
another: WHO, WHOIS, LIST, NAMES, TOPIC, MODE and AWAY. One shared server; each test has its
own nicks and channels. (Topic persistence across a restart is in test_history.)"""

from __future__ import annotations

import re
import time
import unittest

from ircproto.message import parse
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client

NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


def src(nick: str) -> str:
    return re.escape(f":{nick}!{nick}@127.0.0.1")


def replies(lines: list[str], *codes: str) -> list[str]:
    return [l for l in lines if l.split(" ", 2)[1:2] and l.split(" ", 2)[1] in codes]


class QueryTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def pair_in(self, channel: str, nick_a: str, nick_b: str) -> tuple[IRCClient, IRCClient]:
        """Two clients on different workers, both in `channel` (a first)."""
        a = open_client(self, self.server.port, nick_a)
        b = open_on_other_worker(self, self.server, a, nick_b)
        for c in (a, b):
            c.send(f"JOIN {channel}")
            c.expect(rf" 366 \S+ {re.escape(channel)} ")
        a.expect(rf"^{src(nick_b)} JOIN {re.escape(channel)}$")
        return a, b

    def test_who_channel_and_nick(self) -> None:
        ada, _ = self.pair_in("#who", "ada", "bo")
        ada.send("WHO #who")
        lines = ada.expect_until(r" 315 ")
        self.assertEqual(sorted([
            ":chat.test 352 ada #who ada 127.0.0.1 chat.test ada H@ :0 Test ada",  # its creator
            ":chat.test 352 ada #who bo 127.0.0.1 chat.test bo H :0 Test bo",
        ]), sorted(replies(lines, "352")))
        self.assertEqual(":chat.test 315 ada #who :End of /WHO list", lines[-1])
        ada.send("WHO BO")  # case-insensitive; a nick query names no channel
        lines = ada.expect_until(r" 315 ")
        self.assertEqual([":chat.test 352 ada * bo 127.0.0.1 chat.test bo H :0 Test bo"],
                         replies(lines, "352"))
        ada.send("WHO b*")  # a mask
        lines = ada.expect_until(r" 315 ")
        self.assertIn(":chat.test 352 ada * bo 127.0.0.1 chat.test bo H :0 Test bo",
                      replies(lines, "352"))
        self.assertEqual(":chat.test 315 ada b* :End of /WHO list", lines[-1])

    def test_whois_a_client_on_another_worker(self) -> None:
        cy, _ = self.pair_in("#whois", "cy", "di")
        cy.send("WHOIS di")
        lines = cy.expect_until(r" 318 ")
        self.assertIn(":chat.test 311 cy di di 127.0.0.1 * :Test di", lines)
        self.assertEqual([("cy", "di", "#whois")], [parse(l).params for l in replies(lines, "319")])
        self.assertTrue(replies(lines, "312"), lines)
        self.assertEqual(":chat.test 318 cy di :End of /WHOIS list", lines[-1])
        cy.send("WHOIS nobody-whois")
        lines = cy.expect_until(r" 318 ")
        self.assertEqual([":chat.test 401 cy nobody-whois :No such nick/channel",
                          ":chat.test 318 cy nobody-whois :End of /WHOIS list"],
                         replies(lines, "401", "318"))

    def test_list_and_names(self) -> None:
        eli, flo = self.pair_in("#listed", "eli", "flo")
        eli.send("TOPIC #listed :what we talk about")
        flo.expect(r" TOPIC #listed :what we talk about$")
        flo.send("LIST")
        lines = flo.expect_until(r" 323 ")
        self.assertEqual(":chat.test 321 flo Channel :Users  Name", lines[0])
        self.assertIn(":chat.test 322 flo #listed 2 :what we talk about", lines)
        flo.send("LIST #listed")
        lines = flo.expect_until(r" 323 ")
        self.assertEqual([":chat.test 322 flo #listed 2 :what we talk about"],
                         replies(lines, "322"))
        flo.send("NAMES #LISTED")  # case-insensitive
        lines = flo.expect_until(r" 366 ")
        names = [parse(l).params[-1].split() for l in replies(lines, "353")]
        self.assertEqual(["@eli", "flo"], sorted(n for batch in names for n in batch))
        self.assertRegex(replies(lines, "353")[0], r"^:chat\.test 353 flo = #listed :")
        self.assertEqual(":chat.test 366 flo #listed :End of /NAMES list", lines[-1])

    def test_topic_set_query_and_shown_on_join(self) -> None:
        gil, hu = self.pair_in("#topic", "gil", "hu")
        gil.send("TOPIC #topic")
        gil.expect(r"^:chat\.test 331 gil #topic :No topic is set$")
        gil.send("MODE #topic -t")  # so hu, not an operator, may set it
        hu.expect(r" MODE #topic -t$")
        before = int(time.time())
        hu.send("TOPIC #topic :the topic, with spaces")
        for c in (gil, hu):
            c.expect(rf"^{src('hu')} TOPIC #topic :the topic, with spaces$")
        gil.send("TOPIC #topic")
        lines = gil.expect_until(r" 333 ")
        self.assertEqual(":chat.test 332 gil #topic :the topic, with spaces", lines[-2])
        match = re.fullmatch(r":chat\.test 333 gil #topic hu (\d+)", lines[-1])
        self.assertIsNotNone(match, lines[-1])
        self.assertLessEqual(before, int(match.group(1)))
        self.assertLessEqual(int(match.group(1)), int(time.time()))
        # A newcomer is shown it with its JOIN.
        ivo = open_client(self, self.server.port, "ivo")
        ivo.send("JOIN #topic")
        burst = ivo.expect_until(r" 366 ")
        self.assertIn(":chat.test 332 ivo #topic :the topic, with spaces", burst)
        self.assertIn(f":chat.test 333 ivo #topic hu {match.group(1)}", burst)

    def test_mode_query(self) -> None:
        jo, _ = self.pair_in("#mode", "jo", "ki")
        jo.send("MODE #mode")
        self.assertEqual(("jo", "#mode", "+nt"), parse(jo.expect(r" 324 ")).params)
        jo.send("MODE #no-such-mode")
        jo.expect(r"^:chat\.test 403 jo #no-such-mode :No such channel$")

    def test_info_and_admin_with_and_without_a_target(self) -> None:
        ny, _ = self.pair_in("#info", "ny", "oz")
        for target in ("", " chat.test", " *.test", " oz"):
            with self.subTest(target=target):
                ny.send(f"INFO{target}")
                lines = ny.expect_until(r" 374 ny :End of /INFO list$")
                self.assertTrue(replies(lines, "371"))
                self.assertTrue(all(" 371 ny :" in l for l in lines[:-1]), lines)
                ny.send(f"ADMIN{target}")
                lines = ny.expect_until(r" 259 ")
                self.assertEqual(["256", "257", "258", "259"],
                                 [l.split(" ")[1] for l in lines])
                self.assertIn(":chat.test 256 ny chat.test :Administrative info", lines)
        for target in ("nowhere.example", "nobody"):
            for command in ("INFO", "ADMIN"):
                ny.send(f"{command} {target}")
                ny.expect(rf"^:chat\.test 402 ny {target} :No such server$")

    def test_away(self) -> None:
        lu, mo = self.pair_in("#away", "lu", "mo")
        mo.send("AWAY :out for lunch")
        mo.expect(r"^:chat\.test 306 mo :You have been marked as being away$")
        lu.send("PRIVMSG mo :are you there?")
        lu.expect(r"^:chat\.test 301 lu mo :out for lunch$")
        mo.expect(rf"^{src('lu')} PRIVMSG mo :are you there\?$")  # delivered anyway
        lu.send("WHOIS mo")
        self.assertIn(":chat.test 301 lu mo :out for lunch", lu.expect_until(r" 318 "))
        lu.send("WHO mo")
        self.assertRegex(lu.expect(r" 352 "), r" mo G :0 Test mo$")

        mo.send("AWAY")
        mo.expect(r"^:chat\.test 305 mo :You are no longer marked as being away$")
        lu.send("PRIVMSG mo :back?")
        mo.expect(rf"^{src('lu')} PRIVMSG mo :back\?$")
        self.assertFalse(replies(lu.sync(), "301"))


if __name__ == "__main__":
    unittest.main()
