"""The JOIN replay without repeats (issue 15, point 5) against real chatd processes: a client
logged in to an account and without draft/chathistory — irssi, WeeChat — that comes back gets
only what its account was not shown; past `[history] replay` messages, a NOTICE says how many
were left out and how to fetch them; what the client never acknowledged (it answered no PING
after it) is replayed again rather than lost; the account's read marker counts as seen; it
all survives a restart of the server; a client that is not logged in keeps the usual replay."""

from __future__ import annotations

import re
import unittest

from ircproto.message import parse
from tests.integration.test_accounts import PASSWORD, sasl_client
from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import IRCClient, open_client

ACK_WAIT_S = 10.0  # the server asks a tracked client to acknowledge at most every 5 s


def replay_config(replay: int) -> dict[str, dict[str, str]]:
    return {"channels": {"autojoin": '""'}, "history": {"replay": str(replay)}}


def texts(lines: list[str]) -> list[str]:
    """The texts of the PRIVMSGs among `lines`."""
    return [m.params[1] for m in map(parse, lines) if m.command == "PRIVMSG"]


class ReplaySeenTest(unittest.TestCase):
    def start(self, replay: int = 50) -> ChatdProcess:
        server = start_chatd(self, workers=2, extra=replay_config(replay))
        owner = open_client(self, server.port, "irssi")
        owner.send(f"REGISTER irssi * {PASSWORD}")
        owner.expect(r"^:chat\.test REGISTER SUCCESS irssi :")
        owner.send("QUIT")
        owner.wait_closed()
        self.speaker = open_client(self, server.port, "speaker")
        self.join(self.speaker, "#r")
        return server

    def legacy(self, server: ChatdProcess, nick: str = "irssi",
               caps: tuple[str, ...] = ()) -> IRCClient:
        """A client logged in to the account irssi, as irssi does it (SASL and server-time,
        no chathistory); it answers the server's PINGs."""
        c = open_client(self, server.port)
        c.answer_pings = True
        return sasl_client(c, "irssi", nick, ("server-time",) + caps)

    @staticmethod
    def join(client: IRCClient, channel: str) -> list[str]:
        """JOIN; what follows the end of NAMES, up to a PING round trip: the replay."""
        client.send(f"JOIN {channel}")
        client.expect(rf" 366 \S+ {re.escape(channel)} ")
        return client.sync()

    def say(self, *texts_: str) -> None:
        for text in texts_:
            self.speaker.send(f"PRIVMSG #r :{text}")
        self.speaker.sync()  # committed (and delivered) before we go on

    @staticmethod
    def acknowledge(client: IRCClient, last_text: str) -> None:
        """Read up to `last_text`, then wait for the server's acknowledgement PING that
        follows it (answered on arrival: answer_pings) and make sure it got the PONG."""
        client.expect(rf" PRIVMSG #r :{re.escape(last_text)}$")
        client.expect(r"^PING :seen-\d+$", timeout_s=ACK_WAIT_S)
        client.sync()

    def test_an_account_coming_back_sees_only_what_it_was_not_shown(self) -> None:
        server = self.start()
        self.say("before 1", "before 2")
        first = self.legacy(server)
        self.assertEqual(texts(self.join(first, "#r")), ["before 1", "before 2"])  # first time
        self.say("one", "two", "three")
        self.acknowledge(first, "three")
        self.leave(first)
        self.say("four", "five")
        again = self.legacy(server)
        self.assertEqual(texts(self.join(again, "#r")), ["four", "five"])
        # Nothing new since: nothing at all (and no notice) on the next JOIN.
        self.acknowledge_join(again)
        again.send("PART #r")
        again.expect(r" PART #r")
        self.assertEqual(self.join(again, "#r"), [])
        # A client that is not logged in keeps the usual replay: the last `replay` messages.
        anonymous = open_client(self, server.port, "anon", caps=("server-time",))
        self.assertEqual(texts(self.join(anonymous, "#r")),
                         ["before 1", "before 2", "one", "two", "three", "four", "five"])

    def leave(self, client: IRCClient) -> None:
        """QUIT, and wait until the others saw it (what it was shown is reported first)."""
        client.send("QUIT")
        client.wait_closed()
        self.speaker.expect(r"^:irssi!\S+ QUIT ")

    def acknowledge_join(self, client: IRCClient) -> None:
        """Wait for the acknowledgement PING that follows a JOIN (and its replay)."""
        client.expect(r"^PING :seen-\d+$", timeout_s=ACK_WAIT_S)
        client.sync()

    def test_a_gap_larger_than_the_replay_is_announced(self) -> None:
        server = self.start(replay=3)
        first = self.legacy(server)
        self.join(first, "#r")
        self.acknowledge_join(first)
        self.leave(first)
        self.say(*(f"m{n}" for n in range(1, 8)))
        again = self.legacy(server, caps=("message-tags",))
        lines = self.join(again, "#r")
        notice, *replayed = map(parse, lines)
        self.assertEqual([m.params[1] for m in replayed], ["m5", "m6", "m7"])
        first_shown = replayed[0].tags["msgid"]
        self.assertEqual((notice.source, notice.command, notice.params), (
            "chat.test", "NOTICE", ("#r", "4 earlier messages since you were last here are not"
                                    f" shown: /quote CHATHISTORY BEFORE #r msgid={first_shown}"
                                    " 100 shows the 100 before these")))
        # What the notice says works for this client (no draft/chathistory).
        again.send(f"CHATHISTORY BEFORE #r msgid={first_shown} 100")
        self.assertEqual(texts(again.sync()), ["m1", "m2", "m3", "m4"])

    def test_what_was_not_acknowledged_is_replayed_again(self) -> None:
        server = self.start()
        first = self.legacy(server)
        self.join(first, "#r")
        self.say("seen")
        self.acknowledge(first, "seen")
        first.answer_pings = False  # from now on it acknowledges nothing: a dead link
        self.say("in flight")
        first.expect(r" PRIVMSG #r :in flight$")
        first.abort()
        self.speaker.expect(r"^:irssi!\S+ QUIT ")  # the server has seen it go
        again = self.legacy(server, "irssi_")
        self.assertEqual(texts(self.join(again, "#r")), ["in flight"])

    def test_the_read_marker_counts_as_seen(self) -> None:
        server = self.start()
        self.say("read 1", "read 2")
        modern = self.legacy(server, "modern", caps=("draft/read-marker",))
        # The first JOIN of the account here: the usual replay. The user reads "read 2".
        replayed = [m for m in map(parse, self.join(modern, "#r")) if m.command == "PRIVMSG"]
        self.assertEqual([m.params[1] for m in replayed], ["read 1", "read 2"])
        read_time = replayed[-1].tags["time"]
        modern.send(f"MARKREAD #r timestamp={read_time}")
        modern.expect(r" MARKREAD #r timestamp=")
        self.say("unread")
        first = self.legacy(server)
        self.assertEqual(texts(self.join(first, "#r")), ["unread"])

    def test_across_a_restart_of_the_server(self) -> None:
        server = self.start()
        first = self.legacy(server, caps=("draft/read-marker",))
        self.join(first, "#r")
        first.send("MARKREAD #elsewhere timestamp=2020-01-01T00:00:00.000Z")
        first.expect(r" MARKREAD #elsewhere ")
        self.say("old 1", "old 2")
        self.acknowledge(first, "old 2")
        self.assertEqual(0, server.stop(), server.log_text())  # SIGTERM: reported on the way
        first.wait_closed()
        server.start_on_same_config()
        self.speaker = open_client(self, server.port, "speaker")
        self.join(self.speaker, "#r")
        self.say("new")
        again = self.legacy(server, caps=("draft/read-marker",))
        self.assertEqual(texts(self.join(again, "#r")), ["new"])
        again.send("MARKREAD #elsewhere")
        again.expect(r"^:chat\.test MARKREAD #elsewhere timestamp=2020-01-01T00:00:00\.000Z$")


if __name__ == "__main__":
    unittest.main()
