"""IRCv3 draft/read-marker against real chatd processes: the spec's examples (set, get, `*`
when none, MARKREAD after JOIN and before RPL_ENDOFNAMES), its error codes, a marker never
moving back (an older time is answered with the stored one), markers of clients that are
not logged in kept per connection, and an account's markers stored for it and synced to its
other connections that negotiated the capability (on another worker too), never to anyone
else."""

from __future__ import annotations

import re
import unittest

from ircproto.message import parse
from ircproto.servertime import parse_server_time
from tests.integration.test_accounts import NO_AUTOJOIN, PASSWORD, sasl_client
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

CAP = "draft/read-marker"
T1 = "2019-01-04T14:33:26.123Z"
T2 = "2020-06-01T12:00:00.000Z"


def markread(client: IRCClient, line: str) -> list[str]:
    """Send a MARKREAD line; the lines that answered it (up to a PING round trip)."""
    client.send(line)
    return client.sync()


def join_burst(client: IRCClient, channel: str) -> list[str]:
    """JOIN; every line from the JOIN to the end of NAMES."""
    client.send(f"JOIN {channel}")
    client.expect(rf" JOIN :?{re.escape(channel)}")
    return client.expect_until(rf" 366 \S+ {re.escape(channel)} ")


def _ison(client: IRCClient, nick: str) -> list[str]:
    client.send(f"ISON {nick}")
    return client.sync()


class ReadMarkerTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        for name in ("reader", "loner"):
            owner = open_client(cls, cls.server.port, name)
            owner.send(f"REGISTER {name} * {PASSWORD}")
            owner.expect(rf"^:chat\.test REGISTER SUCCESS {name} :")
            owner.send("QUIT")
            owner.wait_closed()

    def logged_in(self, account: str, nick: str, caps: tuple[str, ...] = (CAP,),
                  other: IRCClient | None = None) -> IRCClient:
        """A client logged in to `account` with SASL (on another worker than `other`)."""
        c = (open_on_other_worker(self, self.server, other) if other is not None
             else open_client(self, self.server.port))
        return sasl_client(c, account, nick, caps)

    def test_spec_examples(self) -> None:
        alice = open_client(self, self.server.port, "alice", caps=(CAP, "server-time"))
        # No marker yet: "*", for a channel one is not in too.
        self.assertEqual(markread(alice, "MARKREAD #nowhere"), [":chat.test MARKREAD #nowhere *"])
        # After its JOIN, before RPL_ENDOFNAMES: the channel's marker.
        burst = join_burst(alice, "#spec")
        self.assertEqual(burst[0], ":chat.test MARKREAD #spec *")
        speaker = open_client(self, self.server.port, "speaker")
        speaker.send("JOIN #spec")
        speaker.expect(r" 366 ")
        speaker.send("PRIVMSG #spec :message")
        time_tag = parse(alice.expect(r" PRIVMSG #spec :message$")).tags["time"]
        # The spec's first example: the client marks the message it read.
        self.assertEqual(markread(alice, f"MARKREAD #spec timestamp={time_tag}"),
                         [f":chat.test MARKREAD #spec timestamp={time_tag}"])
        self.assertEqual(markread(alice, "MARKREAD #spec"),
                         [f":chat.test MARKREAD #spec timestamp={time_tag}"])
        # A nick is a target too.
        self.assertEqual(markread(alice, f"MARKREAD speaker timestamp={T1}"),
                         [f":chat.test MARKREAD speaker timestamp={T1}"])
        self.assertEqual(markread(alice, "MARKREAD speaker"),
                         [f":chat.test MARKREAD speaker timestamp={T1}"])

    def test_never_backwards_and_never_ahead_of_now(self) -> None:
        bob = open_client(self, self.server.port, "bob", caps=(CAP,))
        markread(bob, f"MARKREAD #order timestamp={T2}")
        # Older than the stored time: answered with the stored one, which stays.
        self.assertEqual(markread(bob, f"MARKREAD #order timestamp={T1}"),
                         [f":chat.test MARKREAD #order timestamp={T2}"])
        self.assertEqual(markread(bob, "MARKREAD #order"),
                         [f":chat.test MARKREAD #order timestamp={T2}"])
        # A time in the future is clamped to the server's present (the spec's advice).
        answer = parse(markread(bob, "MARKREAD #order timestamp=2999-01-01T00:00:00.000Z")[0])
        stored = parse_server_time(answer.params[1].removeprefix("timestamp="))
        self.assertIsNotNone(stored)
        self.assertLess(stored, parse_server_time("2999-01-01T00:00:00.000Z"))
        self.assertGreater(stored, parse_server_time(T2))

    def test_errors(self) -> None:
        carol = open_client(self, self.server.port, "carol", caps=(CAP,))
        cases = {
            "MARKREAD": ":chat.test FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters",
            "MARKREAD #e *": ":chat.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp",
            "MARKREAD #e timestamp=yesterday":
                ":chat.test FAIL MARKREAD INVALID_PARAMS timestamp=yesterday :Invalid timestamp",
            "MARKREAD #e msgid=12": ":chat.test FAIL MARKREAD INVALID_PARAMS msgid=12"
                                     " :Invalid timestamp",
            f"MARKREAD a,b timestamp={T1}": ":chat.test FAIL MARKREAD INVALID_PARAMS a,b"
                                            " :Invalid target",
        }
        for line, answer in cases.items():
            with self.subTest(line=line):
                self.assertEqual(markread(carol, line), [answer])

    def test_not_logged_in_markers_belong_to_the_connection(self) -> None:
        first = open_client(self, self.server.port, "dave", caps=(CAP,))
        markread(first, f"MARKREAD #mine timestamp={T1}")
        other = open_client(self, self.server.port, "erin", caps=(CAP,))
        self.assertEqual(markread(other, "MARKREAD #mine"), [":chat.test MARKREAD #mine *"])
        first.send("QUIT")
        first.wait_closed()
        # The nick is free once the master has seen the QUIT (the worker closes first).
        wait_until(lambda: any(line.endswith(" 303 erin :") or line.endswith(" 303 erin")
                               for line in _ison(other, "dave")), 10, message="dave gone")
        again = open_client(self, self.server.port, "dave", caps=(CAP,))  # same nick, new link
        self.assertEqual(markread(again, "MARKREAD #mine"), [":chat.test MARKREAD #mine *"])
        self.assertEqual(join_burst(again, "#mine")[0], ":chat.test MARKREAD #mine *")

    def test_account_markers_are_stored_and_synced_to_its_other_connections(self) -> None:
        first = self.logged_in("reader", "reader")
        second = self.logged_in("reader", "reader2", other=first)  # on the other worker
        no_cap = self.logged_in("reader", "reader3", caps=())
        stranger = self.logged_in("loner", "loner", other=first)
        plain = open_client(self, self.server.port, "watcher", caps=(CAP,))
        self.assertEqual(markread(first, f"MARKREAD #sync timestamp={T1}"),
                         [f":chat.test MARKREAD #sync timestamp={T1}"])
        second.expect(rf"^:chat\.test MARKREAD #sync timestamp={re.escape(T1)}$")
        # An older time changes nothing: its sender hears the stored time, nobody else hears.
        self.assertEqual(markread(second, "MARKREAD #sync timestamp=2000-01-01T00:00:00.000Z"),
                         [f":chat.test MARKREAD #sync timestamp={T1}"])
        self.assertNotIn("MARKREAD", " ".join(first.sync()))
        for c in (no_cap, stranger, plain):  # never to another user; only with the capability
            self.assertNotIn("MARKREAD", " ".join(c.sync()))
        self.assertEqual(markread(stranger, "MARKREAD #sync"), [":chat.test MARKREAD #sync *"])
        # Stored for the account: a later connection sees it on JOIN and when it asks.
        first.send("QUIT")
        first.wait_closed()
        later = self.logged_in("reader", "reader4")
        self.assertEqual(join_burst(later, "#sync")[0],
                         f":chat.test MARKREAD #sync timestamp={T1}")
        self.assertEqual(markread(later, "MARKREAD #SYNC"),  # targets fold like names
                         [f":chat.test MARKREAD #SYNC timestamp={T1}"])

    def test_labeled_markread(self) -> None:
        frank = open_client(self, self.server.port, "frank", caps=(CAP, "labeled-response",
                                                                  "message-tags"))
        lines = markread(frank, f"@label=m1 MARKREAD #lab timestamp={T1}")
        self.assertEqual([(m.tags.get("label"), m.command, m.params) for m in map(parse, lines)],
                         [("m1", "MARKREAD", ("#lab", f"timestamp={T1}"))])
        reader_line = self.logged_in("reader", "reader5", caps=(CAP, "labeled-response",
                                                                "message-tags"))
        lines = markread(reader_line, "@label=m2 MARKREAD #lab")
        self.assertEqual([(m.tags.get("label"), m.command, m.params) for m in map(parse, lines)],
                         [("m2", "MARKREAD", ("#lab", "*"))])


if __name__ == "__main__":
    unittest.main()
