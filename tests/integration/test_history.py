"""The history across a full restart (SIGTERM, exit 0, start again on the same config and
history file): replay on JOIN in order with the original times, the replay limit, topics,
commit-before-send at shutdown, and one total order of channel messages for every member and
for the history. Each test restarts its own server."""

from __future__ import annotations

import re
import unittest

from ircproto.message import Message, parse
from tests.support.chatd_process import (
    ChatdProcess,
    open_on_other_worker,
    pids_running_config,
    start_chatd,
)
from tests.support.irc_client import IRCClient, open_client

# msgid comes only with message-tags, time only with server-time (IRCv3).
SERVER_TIME = ("server-time", "message-tags")


def history_config(replay: int) -> dict[str, dict[str, str]]:
    return {"channels": {"autojoin": '""'}, "history": {"replay": str(replay)}}


def minute_stamp(server_time: str) -> str:
    """'2026-11-25T18:57:25.123Z' -> '[2026-11-25 18:57 UTC] ', the prefix a client without
    server-time sees on a replayed message (docs/history.md)."""
    return "[" + server_time[:10] + " " + server_time[11:16] + " UTC] "


class HistoryTestCase(unittest.TestCase):
    def join(self, client: IRCClient, channel: str) -> list[str]:
        """JOIN and return what follows the NAMES end, up to a PING round trip: the replay."""
        client.send(f"JOIN {channel}")
        client.expect(rf" 366 \S+ {re.escape(channel)} ")
        return client.sync()

    def restart(self, server: ChatdProcess, *clients: IRCClient) -> None:
        """SIGTERM: every client is told, the master exits 0 and leaves no child; start again."""
        self.assertEqual(0, server.stop(), server.log_text())
        for c in clients:
            c.wait_closed()
            self.assertEqual("ERROR :Server shutting down", c.seen[-1])
        self.assertEqual([], pids_running_config(server.conf_path))
        server.start_on_same_config()


class ReplayTest(HistoryTestCase):
    def test_replay_after_restart_keeps_order_and_original_times(self) -> None:
        server = start_chatd(self, workers=2, extra=history_config(replay=3))
        tagged = open_client(self, server.port, "tagged", caps=SERVER_TIME)
        plain = open_on_other_worker(self, server, tagged, "plain")
        speaker = open_client(self, server.port, "speaker")
        for c in (tagged, plain, speaker):
            self.join(c, "#hist")
        live: list[Message] = []  # as the server-time client saw them
        for n in range(1, 6):
            speaker.send(f"PRIVMSG #hist :message {n}")
            live.append(parse(tagged.expect(rf" PRIVMSG #hist :message {n}$")))
            # Live, a plain client gets the text as sent: no tags, no time prefix.
            plain.expect(rf"^:speaker!speaker@127\.0\.0\.1 PRIVMSG #hist :message {n}$")
        ids = [int(m.tags["msgid"]) for m in live]
        self.assertEqual(sorted(set(ids)), ids)
        self.restart(server, tagged, plain, speaker)

        # replay = 3: the last three, oldest first, after the NAMES reply, with their original
        # time and id (not the time of the replay).
        again = open_client(self, server.port, "tagged2", caps=SERVER_TIME)
        raw = self.join(again, "#hist")
        for line in raw:
            self.assertRegex(line, r"^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;msgid=\d+ "
                                   r":speaker!speaker@127\.0\.0\.1 PRIVMSG #hist :message \d$")
        replayed = [parse(l) for l in raw]
        self.assertEqual([(m.tags["time"], m.tags["msgid"], m.source, m.params) for m in live[2:]],
                         [(m.tags["time"], m.tags["msgid"], m.source, m.params) for m in replayed])
        for m in replayed:
            self.assertFalse(m.params[1].startswith("["), m)

        plain2 = open_client(self, server.port, "plain2")
        self.assertEqual(
            [f":speaker!speaker@127.0.0.1 PRIVMSG #hist :{minute_stamp(m.tags['time'])}"
             f"message {n}" for n, m in zip((3, 4, 5), live[2:])],
            self.join(plain2, "#hist"))

    def test_topic_persists_across_restart(self) -> None:
        """A registered channel's topic is kept (the setter is logged in: it founds #kept;
        README "Registered channels")."""
        server = start_chatd(self, workers=2, extra=history_config(replay=3))
        setter = open_client(self, server.port, "setter")
        setter.send("REGISTER * * correct-horse-battery")
        setter.expect(r"REGISTER SUCCESS setter ")
        self.join(setter, "#kept")
        setter.send("TOPIC #kept :survives restarts")
        setter.expect(r" TOPIC #kept :survives restarts$")
        setter.send("TOPIC #kept")
        set_at = re.fullmatch(r":chat\.test 333 setter #kept setter (\d+)",
                              setter.expect(r" 333 ")).group(1)
        self.restart(server, setter)

        newcomer = open_client(self, server.port, "newcomer")
        newcomer.send("JOIN #kept")
        burst = newcomer.expect_until(r" 366 ")
        self.assertIn(":chat.test 332 newcomer #kept :survives restarts", burst)
        self.assertIn(f":chat.test 333 newcomer #kept setter {set_at}", burst)
        newcomer.send("TOPIC #kept")
        self.assertEqual([":chat.test 332 newcomer #kept :survives restarts",
                          f":chat.test 333 newcomer #kept setter {set_at}"],
                         newcomer.expect_until(r" 333 "))


class ShutdownTest(HistoryTestCase):
    def test_what_clients_were_shown_before_sigterm_is_in_the_history(self) -> None:
        """Commit-before-send: anything a client was shown, and anything whose sender got a
        PONG after it, is replayed after the restart."""
        server = start_chatd(self, workers=2, extra=history_config(replay=500))
        sender = open_client(self, server.port, "sender")
        reader = open_on_other_worker(self, server, sender, "reader")
        for c in (sender, reader):
            self.join(c, "#shut")
        sender.send_raw(b"".join(b"PRIVMSG #shut :acked %d\r\n" % i for i in range(20)))
        sender.sync()  # answered after those 20 are committed
        sender.send_raw(b"".join(b"PRIVMSG #shut :burst %d\r\n" % i for i in range(300)))
        reader.expect(r" PRIVMSG #shut :burst 0$")  # the burst is being delivered: stop now
        self.restart(server, sender, reader)
        shown = [parse(l).params[1] for l in reader.seen if " PRIVMSG #shut " in l]
        self.assertIn("burst 0", shown)

        later = open_client(self, server.port, "later", caps=SERVER_TIME)
        replayed = [parse(l).params[1] for l in self.join(later, "#shut")]
        self.assertEqual([f"acked {i}" for i in range(20)], replayed[:20])
        self.assertEqual(shown, replayed[:len(shown)])


class TotalOrderTest(HistoryTestCase):
    SENDERS = ("s1", "s2", "s3")
    RECEIVERS = ("r1", "r2", "r3")
    PER_SENDER = 70

    def test_every_member_and_the_history_see_one_order(self) -> None:
        server = start_chatd(self, workers=2, extra=history_config(replay=500))
        clients = {nick: open_client(self, server.port, nick, caps=SERVER_TIME)
                   for nick in self.SENDERS + self.RECEIVERS}
        for c in clients.values():
            self.join(c, "#order")
        # Least-loaded placement alternates workers, so senders and receivers are on both.
        for group in (self.SENDERS, self.RECEIVERS):
            self.assertEqual({0, 1}, {server.worker_of(clients[n].local_port) for n in group})

        # Line by line in turns, so the lines of all three reach both workers interleaved
        # and the master gets them from both channels at once.
        for i in range(self.PER_SENDER):
            for nick in self.SENDERS:
                clients[nick].send(f"PRIVMSG #order :{nick} {i}")
        total = len(self.SENDERS) * self.PER_SENDER
        seen = {}
        for nick, c in clients.items():
            expected = total - (self.PER_SENDER if nick in self.SENDERS else 0)
            seen[nick] = [parse(c.expect(r" PRIVMSG #order ")) for _ in range(expected)]

        order = [m.params[1] for m in seen["r1"]]
        for nick in self.RECEIVERS[1:]:
            self.assertEqual(order, [m.params[1] for m in seen[nick]], f"{nick} differs from r1")
        for nick in self.SENDERS:
            self.assertEqual([t for t in order if not t.startswith(nick + " ")],
                             [m.params[1] for m in seen[nick]], f"{nick} saw another order")
            self.assertEqual([f"{nick} {i}" for i in range(self.PER_SENDER)],
                             [t for t in order if t.startswith(nick + " ")])
        ids = [int(m.tags["msgid"]) for m in seen["r1"]]
        self.assertEqual(sorted(set(ids)), ids, "msgids must increase")

        self.restart(server, *clients.values())
        replayer = open_client(self, server.port, "replayer", caps=SERVER_TIME)
        replayed = [parse(l) for l in self.join(replayer, "#order")]
        self.assertEqual([(m.tags, m.source, m.params[1]) for m in seen["r1"]],
                         [(m.tags, m.source, m.params[1]) for m in replayed])


if __name__ == "__main__":
    unittest.main()
