"""Registered channels against a real chatd (issue 13, point 2; issue 14, point 10): a
logged-in creator founds a channel, which keeps its modes, key, limit, bans, topic and
operator accounts while empty and across a restart, opping its founder and operator accounts
on every join; an unregistered channel vanishes with its last member; the founder hands a
channel over and drops it, the MODE lines stored for event playback; and a kept topic
survives retention, whose HISTORY_TRUNCATED notes go by each channel's own floor."""

from __future__ import annotations

import re
import sqlite3
import time
import unittest

from ircproto.message import parse
from tests.integration.test_accounts import sasl_plain, sasl_start
from tests.integration.test_chathistory import enable_retention
from tests.support.chatd_process import ChatdProcess, open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import HISTORY_CAPS, NO_AUTOJOIN, history
from tests.support.wait import wait_until

PASSWORD = "correct-horse-battery"
DAY_MS = 86_400_000


def with_new_account(testcase: unittest.TestCase, server: ChatdProcess, nick: str,
                     caps: tuple[str, ...] = ()) -> IRCClient:
    """A client that registers the account of its nick (REGISTER) and is logged in to it."""
    client = open_client(testcase, server.port, nick, caps=caps)
    client.send(f"REGISTER * * {PASSWORD}")
    client.expect(rf"REGISTER SUCCESS {nick} ")
    return client


def logged_in(testcase: unittest.TestCase, server: ChatdProcess, nick: str) -> IRCClient:
    """A client logged in (SASL PLAIN) to the existing account of its nick."""
    client = open_client(testcase, server.port)
    sasl_start(client, nick)
    testcase.assertIn(" 903 ", sasl_plain(client, nick, PASSWORD))
    client.send("CAP END")
    client.expect(r" 001 ")
    return client


def joined(client: IRCClient, channel: str, key: str = "") -> list[str]:
    """JOIN; the burst up to the end of NAMES."""
    client.send(f"JOIN {channel} {key}".rstrip())
    return client.expect_until(rf" 366 \S+ {re.escape(channel)} ")


def names(burst: list[str]) -> str:
    return [parse(line) for line in burst if " 353 " in line][0].params[-1]


def modes(client: IRCClient, channel: str) -> tuple[tuple[str, ...], str]:
    """(324's mode string and parameters, 329's creation time)."""
    client.send(f"MODE {channel}")
    modeis, created = client.expect(" 324 "), client.expect(" 329 ")
    return parse(modeis).params[2:], parse(created).params[2]


class RegisteredChannelTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)

    def test_a_founded_channel_keeps_its_state_through_emptiness_and_a_restart(self) -> None:
        alice = with_new_account(self, self.server, "alice")
        self.assertEqual(names(joined(alice, "#keep")), "@alice")
        for line in ("MODE #keep +mlk 10 sekrit", "MODE #keep +b spam!*@*",
                     "TOPIC #keep :kept through everything"):
            alice.send(line)
        alice.expect(r" TOPIC #keep :kept through everything$")
        bob = open_on_other_worker(self, self.server, alice)
        bob.register("bob")
        bob.send(f"REGISTER * * {PASSWORD}")
        bob.expect(r"REGISTER SUCCESS bob ")
        carol = open_client(self, self.server.port, "carol")  # never logged in
        for member in (bob, carol):
            joined(member, "#keep", "sekrit")
        alice.send("MODE #keep +oo bob carol")  # bob's account is recorded, carol has none
        alice.expect(r" MODE #keep \+oo bob carol$")
        shown, created = modes(alice, "#keep")
        self.assertEqual(shown, ("+klmnrt", "sekrit", "10", "alice"))
        for member in (alice, bob, carol):
            member.send("PART #keep")
            member.expect(r" PART #keep")

        # Empty, it still exists as it was: its key, its ban, its topic; nobody is opped.
        dave = open_client(self, self.server.port, "dave")
        dave.send("JOIN #keep")
        dave.expect(r" 475 dave #keep ")
        burst = joined(dave, "#keep", "sekrit")
        self.assertIn(":chat.test 332 dave #keep :kept through everything", burst)
        self.assertEqual(names(burst), "dave")
        self.assertEqual(modes(dave, "#keep"), (shown, created))
        dave.send("PART #keep")
        dave.expect(r" PART #keep")

        self.server.restart()
        alice = logged_in(self, self.server, "alice")
        burst = joined(alice, "#keep")  # the founder needs no key
        self.assertEqual(names(burst), "@alice")
        self.assertIn(":chat.test 332 alice #keep :kept through everything", burst)
        self.assertRegex("\n".join(burst), r":chat\.test 333 alice #keep alice \d+")
        self.assertEqual(modes(alice, "#keep"), (shown, created))
        alice.send("MODE #keep b")
        ban = parse(alice.expect(" 367 "))
        self.assertEqual(ban.params[2:4], ("spam!*@*", "alice!alice@127.0.0.1"))
        bob = logged_in(self, self.server, "bob")
        self.assertEqual(names(joined(bob, "#keep")), "@alice @bob")  # an operator account
        carol = open_client(self, self.server.port, "carol")
        self.assertEqual(names(joined(carol, "#keep", "sekrit")), "@alice @bob carol")

    def test_an_unregistered_channel_vanishes_with_its_last_member(self) -> None:
        carol = open_client(self, self.server.port, "carol")
        joined(carol, "#temp")
        for line in ("MODE #temp +mb x!*@*", "TOPIC #temp :gone soon", "PART #temp"):
            carol.send(line)
        carol.expect(r" PART #temp")
        dave = open_client(self, self.server.port, "dave")
        burst = joined(dave, "#temp")
        self.assertEqual(names(burst), "@dave")  # made again: dave creates it
        self.assertFalse([line for line in burst if " 332 " in line], burst)
        self.assertEqual(modes(dave, "#temp")[0], ("+nt",))
        dave.send("MODE #temp b")
        self.assertEqual(codes_until(dave, " 368 "), ["368"])

    def test_the_founder_hands_it_over_and_the_new_one_drops_it(self) -> None:
        alice = with_new_account(self, self.server, "alice")
        joined(alice, "#hand")
        bob = with_new_account(self, self.server, "bob",
                               caps=HISTORY_CAPS + ("draft/event-playback",))
        joined(bob, "#hand")
        alice.send("MODE #hand +r erin")
        alice.expect(r" 696 alice #hand r erin :There is no account erin$")
        alice.send("MODE #hand +o bob")
        alice.send("MODE #hand +r bob")
        for member in (alice, bob):
            member.expect(r":alice!alice@127\.0\.0\.1 MODE #hand \+r bob$")
        alice.send("MODE #hand -r")
        alice.expect(r" 482 alice #hand :You're not the channel founder$")
        bob.send("MODE #hand +o alice")  # opped already: her account is recorded, and told
        bob.expect(r" MODE #hand \+o alice$")
        bob.send("MODE #hand -r")
        alice.expect(r":bob!bob@127\.0\.0\.1 MODE #hand -r$")
        self.assertEqual(modes(bob, "#hand")[0], ("+nt",))
        batch = history(bob, "CHATHISTORY LATEST #hand * 10")
        self.assertEqual([m.params[1:] for m in batch.inner if m.command == "MODE"],
                         [("+o", "bob"), ("+r", "bob"), ("+o", "alice"), ("-r",)])
        for member in (alice, bob):
            member.send("PART #hand")
            member.expect(r" PART #hand")
        erin = open_client(self, self.server.port, "erin")
        self.assertEqual(names(joined(erin, "#hand")), "@erin")  # dropped: it had vanished


class AutojoinTopicTest(unittest.TestCase):
    def test_the_autojoin_channels_topic_survives_a_restart(self) -> None:
        server = start_chatd(self, workers=1, extra={"channels": {"autojoin": "#lobby"}})
        carol = open_client(self, server.port, "carol")  # not logged in: first in, its op
        carol.expect(r" 366 carol #lobby ")
        carol.send("TOPIC #lobby :Welcome back")
        carol.expect(r" TOPIC #lobby :Welcome back$")
        server.restart()
        dave = open_client(self, server.port)
        dave.register("dave")
        burst = dave.expect_until(r" 366 dave #lobby ")
        self.assertIn(":chat.test 332 dave #lobby :Welcome back", burst)
        self.assertEqual(names(burst), "@dave")  # made anew: only the topic was kept


def codes_until(client: IRCClient, end: str) -> list[str]:
    return [parse(line).command for line in client.expect_until(end) if " 3" in line]


class RetentionKeepsStateTest(unittest.TestCase):
    def test_a_kept_topic_survives_retention_and_each_channel_has_its_own_floor(self) -> None:
        server = start_chatd(self, workers=1, extra=NO_AUTOJOIN)
        alice = with_new_account(self, server, "alice")
        joined(alice, "#old")
        alice.send("TOPIC #old :older than retention")
        alice.send_raw(b"".join(b"PRIVMSG #old :old %d\r\n" % i for i in range(5)))
        alice.sync()
        joined(alice, "#new")
        alice.send_raw(b"".join(b"PRIVMSG #new :new %d\r\n" % i for i in range(3)))
        alice.sync()
        self.assertEqual(0, server.stop())
        db = sqlite3.connect(server.db_path)
        with db:  # what came before #new was made is three days old (the #old part)
            first_new = db.execute("SELECT min(id) FROM timeline WHERE conv = '#new'").fetchone()[0]
            db.execute("UPDATE messages SET ts = ? + id WHERE id < ?",
                       (int(time.time() * 1000) - 3 * DAY_MS, first_new))
        db.close()
        enable_retention(server, days=1)
        server.start_on_same_config()
        wait_until(lambda: re.search(r"retention: deleted \d+ events",
                                     server.log_text().split("----- restart -----")[-1]),
                   10, message="the retention pass")
        db = sqlite3.connect(server.db_path)
        self.addCleanup(db.close)
        self.assertEqual(db.execute("SELECT count(*) FROM messages WHERE kind = 'TOPIC'")
                         .fetchone(), (0,))  # the TOPIC event is gone; the topic is not

        alice = logged_in(self, server, "alice")
        alice.send("CAP REQ :" + " ".join(HISTORY_CAPS))
        alice.expect(r" CAP alice ACK ")
        burst = joined(alice, "#old")
        self.assertIn(":chat.test 332 alice #old :older than retention", burst)
        joined(alice, "#new")
        old = history(alice, "CHATHISTORY LATEST #old * 100")
        self.assertEqual((old.texts, [n.params[:3] for n in old.notes()]),
                         ([], [("CHATHISTORY", "HISTORY_TRUNCATED", "#old")]))
        new = history(alice, "CHATHISTORY LATEST #new * 100")
        self.assertEqual((new.texts, new.notes()), ([f"new {i}" for i in range(3)], []))


if __name__ == "__main__":
    unittest.main()
