"""Every line a real chatd sends fits 512 bytes with its CRLF, tags apart (issue 12, point 7),
with every name as long as chatd lets it be: 30-byte nicks and accounts, a 16-letter user
name of 4-byte letters, the longest realname a USER line holds, cloaked hosts, a channel name
of 50 four-byte characters. One client asks for every capability that lengthens a line
(extended-join, account-tag, userhost-in-names, ...), one for none (so replays are stamped).
They chat (a multi-line message too), set topics, part with long reasons, rejoin (replay),
page the history, query, and quit with a long reason; every line either of them receives is
measured.

A PRIVMSG exactly as long as the relayed line allows goes through whole; one byte more is
refused with 417 (never cut: the echo would promise text the history does not hold)."""

from __future__ import annotations

import re
import unittest

from ircproto.framing import MAX_BODY_NO_CRLF_BYTES
from ircproto.message import parse
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import IRCClient, open_client

USER = "\U0001d400" * 16  # the worker keeps 16 letters of the USER name: 4 bytes each
CHANNEL = "#" + "\U0001f600" * 49  # CHANNELLEN 50 characters, 197 bytes
PASSWORD = "correct-horse-battery"
ALL_CAPS = ("account-notify", "account-tag", "batch", "draft/chathistory",
            "draft/event-playback", "echo-message", "extended-join", "labeled-response",
            "message-tags", "multi-prefix", "server-time", "userhost-in-names",
            "draft/multiline")


def body_bytes(line: str) -> int:
    """Bytes of a received line without its tag section."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1]
    return len(line.encode("utf-8"))


def longest(head: str, char: str = "x") -> str:
    """`head` and as many `char` as a line a client sends may hold (510 bytes)."""
    room = MAX_BODY_NO_CRLF_BYTES - len(head.encode())
    return head + char * (room // len(char.encode()))


class LineLengthTest(unittest.TestCase):
    def setUp(self) -> None:
        # [server] cloak = on (chatd's default; the suite's default config turns it off):
        # a cloak is longer than a loopback address.
        self.server = start_chatd(self, extra={"server": {"cloak": "on"},
                                               "channels": {"autojoin": '""'}})
        self.full = self.connect("F" + "f" * 29, ALL_CAPS)
        self.plain = self.connect("P" + "p" * 29, ())

    def connect(self, nick: str, caps: tuple[str, ...]) -> IRCClient:
        client = open_client(self, self.server.port)
        client.answer_pings = True
        if caps:
            client.send("CAP LS 302")
            client.send("CAP REQ :" + " ".join(caps))
        client.send(f"NICK {nick}")
        client.send(longest(f"USER {USER} 0 * :", "r"))
        if caps:
            client.send("CAP END")
        client.expect(r" (376|422) ")
        client.send(f"REGISTER * * :{PASSWORD}")  # an account named as long as the nick
        client.expect(rf"REGISTER SUCCESS {nick} ")
        return client

    def own_source(self, client: IRCClient) -> str:
        welcome = next(l for l in client.seen if " 001 " in l)
        return welcome.rsplit(" ", 1)[1]

    def test_every_line_fits(self) -> None:
        full, plain = self.full, self.plain
        for client in (full, plain):  # full first: the channel's operator sets its topic (+t)
            client.send(f"JOIN {CHANNEL}")
            client.expect(r" 366 ")
        plain.sync()

        # The longest PRIVMSG that fits once relayed, then one byte more.
        head = f":{self.own_source(full)} PRIVMSG {CHANNEL} :"
        room = MAX_BODY_NO_CRLF_BYTES - len(head.encode())
        full.send(f"PRIVMSG {CHANNEL} :" + "m" * room)
        plain.expect(rf"PRIVMSG {re.escape(CHANNEL)} :m{{{room}}}$")
        full.send(f"PRIVMSG {CHANNEL} :" + "m" * (room + 1))
        full.expect(r" 417 ")
        # A multi-line message of two such lines: a batch to one, two lines to the other.
        full.send(f"BATCH +ml draft/multiline {CHANNEL}")
        full.send(f"@batch=ml PRIVMSG {CHANNEL} :" + "n" * room)
        full.send(f"@batch=ml;draft/multiline-concat PRIVMSG {CHANNEL} :" + "o" * room)
        full.send("BATCH -ml")
        full.expect(r"BATCH -ml\d+$")
        plain.expect(rf"PRIVMSG {re.escape(CHANNEL)} :o{{{room}}}$")
        full.send(longest(f"NOTICE {plain_nick(plain)} :", "\u00e9"))
        full.sync()  # a NOTICE is never answered, not even with 417
        self.assertFalse([l for l in plain.sync() if " NOTICE " in l])

        full.send(longest(f"TOPIC {CHANNEL} :", "t"))
        plain.expect(r" TOPIC ")
        full.send(longest("AWAY :", "a"))
        full.expect(r" 306 ")
        plain.send(f"PRIVMSG {plain_nick(full)} :are you there?")
        plain.expect(r" 301 ")
        plain.send(longest(f"PART {CHANNEL} :", "\u00e9"))
        full.expect(r" PART ")
        plain.send(f"JOIN {CHANNEL}")  # a stamped replay of everything above
        plain.expect(r" 366 ")
        full.expect(r" JOIN ")  # extended, with the account and the realname
        full.send(f"CHATHISTORY LATEST {CHANNEL} * 100")
        full.expect(r"BATCH -")
        for query in (f"WHO {CHANNEL}", f"WHOIS {plain_nick(plain)}", f"NAMES {CHANNEL}",
                      "LIST", f"MODE {CHANNEL}", "PING :" + "x" * 500, "X" * 500,
                      "CAP REQ :" + "sasl " * 99, f"TOPIC {CHANNEL}"):
            for client in (full, plain):
                client.send(query)
                client.sync()
        plain.send("NICK Q" + "q" * 29)
        full.expect(r" NICK ")
        plain.send(longest("QUIT :", "q"))
        full.expect(r" QUIT :Quit: qqq")
        plain.wait_closed()
        full.sync()

        for client in (full, plain):
            too_long = [line for line in client.seen if body_bytes(line) > MAX_BODY_NO_CRLF_BYTES]
            self.assertEqual([], too_long)
        # What was said is there: the lines were fitted, not dropped.
        kinds = {parse(line).command for line in full.seen}
        self.assertLessEqual({"JOIN", "PRIVMSG", "TOPIC", "PART", "QUIT", "NICK", "BATCH",
                              "352", "311", "353", "322", "PONG", "421", "CAP"}, kinds)


def plain_nick(client: IRCClient) -> str:
    welcome = next(l for l in client.seen if " 001 " in l)
    return welcome.split(" ")[2]


if __name__ == "__main__":
    unittest.main()
