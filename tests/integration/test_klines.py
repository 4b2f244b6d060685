"""K-lines against a real chatd: a connected client that a new K-line matches is told why
(465, then ERROR ... [K-lined: reason]) and disconnected, and the others see it quit; a new
connection from a banned address is refused before it sends anything; a user@host K-line
bites at registration, an account one at login; STATS k lists them, UNKLINE lifts them; they
survive a restart; a timed one expires. Clients bound to 127.0.0.x play other addresses."""

from __future__ import annotations

import itertools
import unittest

from tests.integration.test_accounts import PASSWORD, sasl_plain, sasl_start
from tests.integration.test_opers import NO_AUTOJOIN, oper_up, opers_config
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until


_PROBES = itertools.count()


def refusal(port: int, source: str) -> str:
    """Connect from `source`, send nothing, and return the ERROR line chatd refuses the
    connection with (it comes at once). Nothing is sent: data chatd never read would turn
    its close into a reset that could swallow the ERROR line."""
    client = IRCClient(port, source=source, timeout_s=5.0)
    try:
        line = client.expect(r"^ERROR ")
        client.wait_closed(5.0)
        return line
    finally:
        client.close()


def welcomed(port: int, source: str) -> bool:
    """Whether a client from `source` can register now (False: refused or sent away)."""
    client = IRCClient(port, source=source, timeout_s=5.0)
    try:
        nick = f"probe{next(_PROBES)}"  # a nick of its own: an earlier probe may linger
        client.send(f"NICK {nick}")
        client.send(f"USER {nick} 0 * :probe")
        return " 001 " in client.expect(r"^ERROR | 001 ")
    except (AssertionError, OSError):  # closed (or reset) before any answer: refused
        return False
    finally:
        client.close()


class KlineTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra={**NO_AUTOJOIN, **opers_config()})
        cls.op = open_client(cls, cls.server.port, "op")
        oper_up(cls.op, "op")

    def client(self, nick: str | None, source: str | None = None) -> IRCClient:
        return open_client(self, self.server.port, nick, source=source)

    def test_a_kline_disconnects_the_matching_client_and_refuses_it_again(self) -> None:
        bystander, victim = self.client("bystander"), self.client("victim", "127.0.0.2")
        for c in (bystander, victim):
            c.send("JOIN #kroom")
            c.expect(r" 366 ")
        self.assertTrue(welcomed(self.server.port, "127.0.0.2"))
        bystander.send("KLINE 127.0.0.2 :no")
        bystander.expect(r" 481 bystander :")
        self.op.send("KLINE 127.0.0.2 :spamming")
        self.op.expect(r"NOTICE op :Added K-line for \*@127\.0\.0\.2 permanently: spamming$")
        victim.expect(r"^:chat\.test 465 victim :You are banned from this server: spamming$")
        victim.expect(r"^ERROR :Closing link: \(victim@127\.0\.0\.2\) \[K-lined: spamming\]$")
        victim.wait_closed(5.0)
        bystander.expect(r"^:victim!victim@127\.0\.0\.2 QUIT :K-lined: spamming$")
        self.assertEqual(refusal(self.server.port, "127.0.0.2"),
                         "ERROR :Closing link: (unknown@127.0.0.2) [K-lined: spamming]")
        self.op.send("STATS k")
        stats = self.op.expect_until(r" 219 op k :End of /STATS report$")
        self.assertTrue(any(line.startswith(":chat.test 216 op K 127.0.0.2 * * :spamming (set by "
                                            "operuser on ") for line in stats), stats)
        self.op.send("UNKLINE 127.0.0.2")
        self.op.expect(r"NOTICE op :Removed K-line for \*@127\.0\.0\.2$")
        self.client("victim", "127.0.0.2")  # registers again

    def test_a_user_at_host_kline_bites_at_registration(self) -> None:
        self.op.send("KLINE bot*@127.0.0.3 :no bots")
        self.op.expect(r"NOTICE op :Added K-line for bot\*@127\.0\.0\.3 ")
        self.client("human", "127.0.0.3")  # another user name from that address: welcome
        bot = self.client(None, "127.0.0.3")
        bot.send("NICK robby")
        bot.send("USER botty 0 * :a bot")
        bot.expect(r" 465 robby :You are banned from this server: no bots$")
        bot.expect(r"^ERROR :Closing link: \(botty@127\.0\.0\.3\) \[K-lined: no bots\]$")
        self.assertFalse(any(" 001 " in line for line in bot.wait_closed(5.0)))

    def test_an_account_kline_bites_at_login_and_at_once(self) -> None:
        eve = self.client("eve")
        eve.send(f"REGISTER eve * {PASSWORD}")
        eve.expect(r" 900 eve ")
        self.op.send("KLINE $a:eve :account abuse")
        eve.expect(r" 465 eve :You are banned from this server: account abuse$")
        eve.wait_closed(5.0)
        again = self.client(None)
        sasl_start(again, "eve2")
        self.assertRegex(sasl_plain(again, "eve", PASSWORD),
                         r" 904 eve2 :SASL authentication failed: The account eve is banned")
        again.expect(r" 465 eve2 :You are banned from this server: account abuse$")
        again.wait_closed(5.0)
        newcomer = self.client("newbie")
        self.op.send("KLINE $a:mallory :reserved")
        self.op.expect(r"Added K-line for \$a:mallory ")
        newcomer.send(f"REGISTER mallory * {PASSWORD}")
        newcomer.expect(r"FAIL REGISTER BAD_ACCOUNT_NAME mallory :The account name mallory is "
                        r"banned$")

    def test_a_mask_that_matches_the_oper_is_refused(self) -> None:
        self.op.send("KLINE 127.0.0.0/8 :everyone")
        self.op.expect(r" 400 op KLINE :\*@127\.0\.0\.0/8 matches you: not added$")
        self.assertTrue(welcomed(self.server.port, "127.0.0.4"))

    def test_a_timed_kline_expires(self) -> None:
        self.op.send("KLINE 2s 127.0.0.5 :cool down")
        self.op.expect(r"Added K-line for \*@127\.0\.0\.5 for 2s: cool down$")
        self.assertIn("[K-lined: cool down]", refusal(self.server.port, "127.0.0.5"))
        wait_until(lambda: welcomed(self.server.port, "127.0.0.5"), 10.0, interval_s=0.2,
                   message="the K-line to expire")


class KlinePersistenceTest(unittest.TestCase):
    def test_klines_survive_a_restart(self) -> None:
        server = start_chatd(self, workers=1, extra={**NO_AUTOJOIN, **opers_config()})
        op = open_client(self, server.port, "op")
        oper_up(op, "op")
        op.send("KLINE 127.0.0.6 :persistent")
        op.expect(r"Added K-line for \*@127\.0\.0\.6 ")
        op.send("KLINE 1d *@127.0.0.7 :timed")
        op.expect(r"Added K-line for \*@127\.0\.0\.7 for 1d")
        op.close()
        server.restart()
        for source in ("127.0.0.6", "127.0.0.7"):
            with self.subTest(source=source):
                self.assertIn("K-lined", refusal(server.port, source))
        op = open_client(self, server.port, "op")
        oper_up(op, "op")
        op.send("STATS k")
        stats = op.expect_until(r" 219 ")
        self.assertEqual(len([line for line in stats if " 216 " in line]), 2, stats)
        self.assertTrue(any("timed (set by operuser" in line and "expires in 23h59m" in line
                            for line in stats), stats)
        op.send("UNKLINE 127.0.0.6")
        op.expect(r"Removed K-line for \*@127\.0\.0\.6$")
        op.close()
        server.restart()
        self.assertTrue(welcomed(server.port, "127.0.0.6"))
        self.assertIn("[K-lined: timed]", refusal(server.port, "127.0.0.7"))


if __name__ == "__main__":
    unittest.main()
