"""IRCv3 draft/chathistory against a real chatd: every subcommand with msgid and timestamp
references (the expectations of irctest's chathistory tests), limits and ISUPPORT, refused
targets, references to ids that do not exist, out-of-range and malformed timestamps, reading
one's own message right after sending it, private history, TARGETS, draft/event-playback,
history across a restart, and retention (a page reaching deleted history says so)."""

from __future__ import annotations

import re
import sqlite3
import time
import unittest

from ircproto.servertime import format_server_time as server_time
from ircproto.message import Message, parse
from tests.support.chatd_process import ChatdProcess, open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import (
    HISTORY_CAPS,
    NO_AUTOJOIN,
    Batch,
    connect,
    find_batch,
    history,
    history_fail,
    join,
    send_echoed,
    send_spaced,
    wait_past,
)
from tests.support.wait import wait_until

EARLY = "timestamp=2020-01-01T00:00:00.000Z"
LATE = "timestamp=2262-01-01T00:00:00.000Z"


def key(msg: Message) -> tuple:
    """What irctest compares (time, msgid, target, text), plus source and client tags."""
    return (msg.tags.get("time"), msg.tags.get("msgid"), msg.source, msg.command, msg.params,
            {k: v for k, v in msg.tags.items() if k.startswith("+")})


class QueriesTest(unittest.TestCase):
    """Ten messages m0..m9 in #q, each with a later time than the one before; one message in
    #other between m4 and m5 (an id that exists, but not in #q); 120 messages in #big."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.alice = alice = connect(cls, server, "alice", HISTORY_CAPS)
        cls.welcome = list(alice.seen)
        for channel in ("#q", "#other", "#big"):
            join(alice, channel)
        first = send_spaced(alice, "#q", [f"this is message {i}" for i in range(5)])
        cls.foreign = send_spaced(alice, "#other", ["elsewhere"])[0]
        cls.m = first + send_spaced(alice, "#q", [f"this is message {i}" for i in range(5, 10)])
        alice.send_raw(b"".join(b"PRIVMSG #big :big %d\r\n" % i for i in range(120)))
        cls.big = [m for m in map(parse, alice.sync()) if m.command == "PRIVMSG"]
        assert len(cls.big) == 120
        # A member of #q on the other worker, and someone who is not in #q.
        cls.bob = open_on_other_worker(cls, server, alice, "bob", HISTORY_CAPS)
        join(cls.bob, "#q")
        cls.outsider = connect(cls, server, "outsider", HISTORY_CAPS)

    def ask(self, command: str, client: IRCClient | None = None) -> list[Message]:
        """The messages of a CHATHISTORY answer (one well-formed chathistory batch)."""
        batch = history(client or self.alice, command)
        target = command.split()[2]
        self.assertEqual(("chathistory", target), batch.params)
        self.assertEqual(batch.messages, batch.inner)  # only PRIVMSG/NOTICE by default
        return batch.inner

    def assertMessages(self, expected: list[Message], command: str) -> None:
        self.assertEqual([key(m) for m in expected], [key(m) for m in self.ask(command)],
                         command)

    def ref(self, kind: str, msg: Message) -> str:
        return f"{kind}={msg.tags[kind if kind == 'msgid' else 'time']}"

    def test_setup_gave_distinct_ids_and_times(self) -> None:
        self.assertEqual(10, len({m.tags["msgid"] for m in self.m}))
        self.assertEqual(10, len({m.tags["time"] for m in self.m}))
        ids = [int(m.tags["msgid"]) for m in self.m]
        self.assertEqual(sorted(ids), ids)
        self.assertTrue(ids[4] < int(self.foreign.tags["msgid"]) < ids[5])

    def test_isupport_advertises_limit_and_reference_types(self) -> None:
        tokens = [word for line in self.welcome if " 005 " in line
                  for word in parse(line).params[1:-1]]
        self.assertIn("CHATHISTORY=100", tokens)
        self.assertIn("MSGREFTYPES=msgid,timestamp", tokens)
        for token in tokens:
            self.assertLessEqual(token.count("="), 1, token)  # irctest splits on "="

    def test_latest(self) -> None:
        m = self.m
        self.assertMessages(m, "CHATHISTORY LATEST #q * 20")
        self.assertMessages(m[5:], "CHATHISTORY LATEST #q * 5")
        self.assertMessages(m[9:], "CHATHISTORY LATEST #q * 1")
        for kind in ("msgid", "timestamp"):
            self.assertMessages(m[5:], f"CHATHISTORY LATEST #q {self.ref(kind, m[4])} 20")
            self.assertMessages(m[7:], f"CHATHISTORY LATEST #q {self.ref(kind, m[4])} 3")
            self.assertMessages([], f"CHATHISTORY LATEST #q {self.ref(kind, m[9])} 20")

    def test_before(self) -> None:
        m = self.m
        for kind in ("msgid", "timestamp"):
            self.assertMessages(m[:6], f"CHATHISTORY BEFORE #q {self.ref(kind, m[6])} 20")
            self.assertMessages(m[4:6], f"CHATHISTORY BEFORE #q {self.ref(kind, m[6])} 2")
            self.assertMessages([], f"CHATHISTORY BEFORE #q {self.ref(kind, m[0])} 20")

    def test_after(self) -> None:
        m = self.m
        for kind in ("msgid", "timestamp"):
            self.assertMessages(m[4:], f"CHATHISTORY AFTER #q {self.ref(kind, m[3])} 20")
            self.assertMessages(m[4:7], f"CHATHISTORY AFTER #q {self.ref(kind, m[3])} 3")
            self.assertMessages([], f"CHATHISTORY AFTER #q {self.ref(kind, m[9])} 20")

    def test_between_in_both_directions(self) -> None:
        m = self.m
        for low_kind in ("msgid", "timestamp"):
            for high_kind in ("msgid", "timestamp"):
                low, high = self.ref(low_kind, m[0]), self.ref(high_kind, m[9])
                self.assertMessages(m[1:9], f"CHATHISTORY BETWEEN #q {low} {high} 20")
                self.assertMessages(m[1:9], f"CHATHISTORY BETWEEN #q {high} {low} 20")
                # The limit counts from the first reference.
                self.assertMessages(m[1:4], f"CHATHISTORY BETWEEN #q {low} {high} 3")
                self.assertMessages(m[6:9], f"CHATHISTORY BETWEEN #q {high} {low} 3")
        self.assertMessages([], f"CHATHISTORY BETWEEN #q {self.ref('msgid', m[3])} "
                                f"{self.ref('msgid', m[4])} 20")
        self.assertMessages(m[4:5], f"CHATHISTORY BETWEEN #q {self.ref('msgid', m[5])} "
                                    f"{self.ref('timestamp', m[3])} 20")
        self.assertMessages(m, f"CHATHISTORY BETWEEN #q {EARLY} {LATE} 20")
        self.assertMessages(m[7:], f"CHATHISTORY BETWEEN #q {LATE} {EARLY} 3")

    def test_around_includes_the_reference(self) -> None:
        m = self.m
        for kind in ("msgid", "timestamp"):
            self.assertMessages(m[7:8], f"CHATHISTORY AROUND #q {self.ref(kind, m[7])} 1")
            self.assertMessages(m[6:9], f"CHATHISTORY AROUND #q {self.ref(kind, m[7])} 3")
            around = self.ask(f"CHATHISTORY AROUND #q {self.ref(kind, m[5])} 6")
            self.assertIn(key(m[5]), [key(x) for x in around])
            self.assertEqual(6, len(around))
            self.assertEqual([key(x) for x in m[3:9]], [key(x) for x in around])
            # At the edges: no more than there is, the reference always in.
            self.assertMessages(m[0:3], f"CHATHISTORY AROUND #q {self.ref(kind, m[0])} 3")
            self.assertMessages(m[8:], f"CHATHISTORY AROUND #q {self.ref(kind, m[9])} 3")

    def test_limit_zero_or_over_the_maximum_means_the_maximum(self) -> None:
        for limit in ("0", "101", "100", "1000000", "99999999999999999999999"):
            got = self.ask(f"CHATHISTORY LATEST #big * {limit}")
            self.assertEqual([key(m) for m in self.big[20:]], [key(m) for m in got], limit)
        self.assertEqual(7, len(self.ask("CHATHISTORY LATEST #big * 7")))
        after = self.ask(f"CHATHISTORY AFTER #big msgid={self.big[0].tags['msgid']} 0")
        self.assertEqual([key(m) for m in self.big[1:101]], [key(m) for m in after])

    def test_paging_back_and_forth_covers_everything_once(self) -> None:
        expected = [key(m) for m in self.big]
        page = self.ask("CHATHISTORY LATEST #big * 33")
        backwards = [key(m) for m in page]
        while page:
            page = self.ask(f"CHATHISTORY BEFORE #big msgid={page[0].tags['msgid']} 33")
            backwards[:0] = [key(m) for m in page]
        self.assertEqual(expected, backwards)
        forwards: list[tuple] = []
        last = "msgid=0"
        while True:
            page = self.ask(f"CHATHISTORY AFTER #big {last} 33")
            forwards += [key(m) for m in page]
            if len(page) < 33:
                break
            last = f"msgid={page[-1].tags['msgid']}"
        self.assertEqual(expected, forwards)

    def test_unknown_or_not_joined_target_is_invalid_target(self) -> None:
        for client, target in ((self.alice, "#nonexistent_channel"), (self.outsider, "#q"),
                               (self.outsider, "#Q")):
            fail = history_fail(client, f"CHATHISTORY LATEST {target} * 10")
            self.assertEqual(("CHATHISTORY", "INVALID_TARGET", "LATEST", target),
                             fail.params[:4])
            self.assertEqual(5, len(fail.params))
        fail = history_fail(self.outsider, f"CHATHISTORY AROUND #q msgid={self.m[5].tags['msgid']} 5")
        self.assertEqual(("INVALID_TARGET", "AROUND", "#q"), fail.params[1:4])

    def test_target_is_case_insensitive_and_echoed_as_sent(self) -> None:
        batch = history(self.alice, "CHATHISTORY LATEST #Q * 3")
        self.assertEqual(("chathistory", "#Q"), batch.params)
        self.assertEqual([key(m) for m in self.m[7:]], [key(m) for m in batch.inner])
        self.assertEqual([key(m) for m in self.ask("CHATHISTORY LATEST #q * 3")],
                         [key(m) for m in self.ask("chathistory latest #q * 3")])

    def test_another_member_reads_the_same_history(self) -> None:
        """bob (on the other worker) gets the very same lines."""
        self.assertEqual([key(m) for m in self.m], [key(m) for m in
                                                    self.ask("CHATHISTORY LATEST #q * 50",
                                                             self.bob)])

    def test_reference_to_ids_that_do_not_exist(self) -> None:
        m, foreign = self.m, self.foreign.tags["msgid"]
        # An id of another conversation is a position in the one history order.
        self.assertMessages(m[5:], f"CHATHISTORY AFTER #q msgid={foreign} 20")
        self.assertMessages(m[:5], f"CHATHISTORY BEFORE #q msgid={foreign} 20")
        around = [key(x) for x in self.ask(f"CHATHISTORY AROUND #q msgid={foreign} 2")]
        self.assertIn(around, ([key(x) for x in m[4:6]], [key(x) for x in m[5:7]]))
        # Ids never given out: before the first, after the last, beyond any integer.
        beyond = str(int(self.big[-1].tags["msgid"]) + 1000)
        for ref in (beyond, "99999999999999999999999999999"):
            self.assertMessages([], f"CHATHISTORY AFTER #q msgid={ref} 20")
            self.assertMessages([], f"CHATHISTORY LATEST #q msgid={ref} 20")
            self.assertMessages(m[5:], f"CHATHISTORY BEFORE #q msgid={ref} 5")
            self.assertMessages(m[1:], f"CHATHISTORY BETWEEN #q msgid={ref} "
                                       f"msgid={m[0].tags['msgid']} 20")
            self.assertMessages(m[9:], f"CHATHISTORY AROUND #q msgid={ref} 3")
        self.assertMessages(m[:3], "CHATHISTORY AFTER #q msgid=0 3")
        self.assertMessages([], "CHATHISTORY BEFORE #q msgid=1 3")
        for bad in ("msgid=abc", "msgid=", "msgid=-5", "msgid=1.5", "nonsense"):
            fail = history_fail(self.alice, f"CHATHISTORY AFTER #q {bad} 10")
            self.assertEqual(("INVALID_PARAMS", "AFTER", bad), fail.params[1:4])
        self.alice.sync()  # still connected and answering

    def test_timestamps_out_of_range(self) -> None:
        m = self.m
        for low in ("1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
                    "0001-01-01T00:00:00.000Z"):
            self.assertMessages([], f"CHATHISTORY BEFORE #q timestamp={low} 10")
            self.assertMessages(m[:3], f"CHATHISTORY AFTER #q timestamp={low} 3")
            self.assertMessages(m, f"CHATHISTORY LATEST #q timestamp={low} 10")
        for high in ("2262-04-12T00:00:00.000Z", "9999-12-31T23:59:59.999Z"):
            self.assertMessages([], f"CHATHISTORY AFTER #q timestamp={high} 10")
            self.assertMessages([], f"CHATHISTORY LATEST #q timestamp={high} 10")
            self.assertMessages(m[7:], f"CHATHISTORY BEFORE #q timestamp={high} 3")
            self.assertMessages(m[9:], f"CHATHISTORY AROUND #q timestamp={high} 3")

    def test_malformed_timestamps_are_invalid_params(self) -> None:
        for word in ("timestamp=garbage", "timestamp=", "timestamp=2024-13-01T00:00:00.000Z",
                     "timestamp=2024-02-30T00:00:00.000Z", "timestamp=2024-01-01T25:00:00.000Z",
                     "timestamp=2024-01-01T00:00:00.000", "timestamp=2024-01-01",
                     "timestamp=1700000000", "timestamp=2024-01-01T00:00:00.abcZ",
                     "timestamp=0000-01-01T00:00:00.000Z", "timestamp=10000-01-01T00:00:00.000Z"):
            for sub in ("BEFORE", "AFTER", "LATEST", "AROUND"):
                fail = history_fail(self.alice, f"CHATHISTORY {sub} #q {word} 10")
                self.assertEqual(("INVALID_PARAMS", sub, word), fail.params[1:4], word)
            fail = history_fail(self.alice, f"CHATHISTORY BETWEEN #q {EARLY} {word} 10")
            self.assertEqual(("INVALID_PARAMS", "BETWEEN", word), fail.params[1:4])

    def test_other_malformed_requests_are_refused(self) -> None:
        for command, sub in (("CHATHISTORY NOPE #q * 10", "NOPE"),
                             ("CHATHISTORY LATEST #q", "LATEST"),
                             ("CHATHISTORY LATEST #q *", "LATEST"),
                             ("CHATHISTORY BETWEEN #q * * 10", "BETWEEN"),
                             ("CHATHISTORY BEFORE #q * 10", "BEFORE"),
                             ("CHATHISTORY AFTER #q * 10", "AFTER"),
                             ("CHATHISTORY LATEST #q * -1", "LATEST"),
                             ("CHATHISTORY LATEST #q * ten", "LATEST"),
                             (f"CHATHISTORY TARGETS msgid=1 {LATE} 10", "TARGETS"),
                             ("CHATHISTORY TARGETS * * 10", "TARGETS")):
            fail = history_fail(self.alice, command)
            self.assertEqual(("INVALID_PARAMS", sub), fail.params[1:3], command)
        self.alice.send("CHATHISTORY")
        self.assertEqual(["461"], [m.command for m in map(parse, self.alice.sync())
                                   if m.source == "chat.test"])

    def test_unregistered_clients_are_told_to_register_first(self) -> None:
        client = open_client(self, self.server.port)
        client.send("CAP LS 302")
        client.send("CAP REQ :draft/chathistory batch")
        client.send("CHATHISTORY LATEST #q * 10")
        lines = client.sync()
        self.assertEqual(["LS", "ACK", "451"],
                         [m.params[1] if m.command == "CAP" else m.command
                          for m in map(parse, lines)])

    def test_replayed_lines_carry_only_the_tags_the_reader_asked_for(self) -> None:
        bare = connect(self, self.server, "bare", ("draft/chathistory", "batch"))
        join(bare, "#q")
        batch = history(bare, "CHATHISTORY LATEST #q * 2")
        self.assertEqual([{"batch": batch.ref}] * 2, [m.tags for m in batch.inner])
        self.assertEqual([m.params for m in self.m[8:]], [m.params for m in batch.inner])
        # Without batch: just the lines.
        unbatched = connect(self, self.server, "unbatched",
                            ("draft/chathistory", "server-time", "message-tags"))
        join(unbatched, "#q")
        unbatched.send("CHATHISTORY LATEST #q * 2")
        self.assertEqual([key(m) for m in self.m[8:]],
                         [key(parse(l)) for l in unbatched.sync()])


class ReadYourOwnWriteTest(unittest.TestCase):
    def test_chathistory_right_after_privmsg_includes_it(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        writer = connect(self, server, "writer", ("draft/chathistory", "batch", "message-tags"))
        other = open_on_other_worker(self, server, writer, "other",
                                     ("draft/chathistory", "batch", "message-tags"))
        for client in (writer, other):
            join(client, "#ryw")
        for i in range(25):
            # One packet: no echo-message, no wait between the two commands.
            writer.send_raw(f"PRIVMSG #ryw :write {i}\r\n"
                            f"CHATHISTORY LATEST #ryw * 1\r\n".encode())
            batch = find_batch(writer.sync())
            self.assertEqual([f"write {i}"], batch.texts)
            writer.send_raw(f"PRIVMSG other :dm {i}\r\nCHATHISTORY LATEST other * 1\r\n".encode())
            self.assertEqual([f"dm {i}"], find_batch(writer.sync()).texts)


class PrivateHistoryTest(unittest.TestCase):
    def test_private_history_is_visible_to_its_two_participants_only(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", HISTORY_CAPS)
        bob = open_on_other_worker(self, server, alice, "bob", HISTORY_CAPS)
        carl = connect(self, server, "carl", HISTORY_CAPS)
        for client in (alice, bob, carl):
            join(client, "#shared")
        sent = [send_echoed(alice, "@+x=1 PRIVMSG bob :hi bob"),
                send_echoed(bob, "PRIVMSG alice :hi alice"),
                send_echoed(alice, "NOTICE Bob :notice to bob"),
                send_echoed(bob, "PRIVMSG #shared :in the channel")]
        alice.send("PRIVMSG alice :note to self")
        copies = [parse(l) for l in alice.sync() if l.endswith(" :note to self")]
        self.assertEqual(2, len(copies))  # echo and delivery
        self_note = copies[0]
        private = [key(m) for m in sent[:3]]
        # Both participants, whichever case they write the other's nick in.
        for client, target in ((alice, "bob"), (alice, "BOB"), (bob, "alice")):
            batch = history(client, f"CHATHISTORY LATEST {target} * 10")
            self.assertEqual(("chathistory", target), batch.params)
            self.assertEqual(private, [key(m) for m in batch.inner])
        # A message to oneself is there once.
        self.assertEqual([key(self_note)],
                         [key(m) for m in history(alice, "CHATHISTORY LATEST alice * 10").inner])
        # Nobody else sees any of it, under any name.
        private_ids = {m.tags["msgid"] for m in sent[:3]} | {self_note.tags["msgid"]}
        for target in ("alice", "bob", "carl", "ALICE"):
            carl.send(f"CHATHISTORY LATEST {target} * 100")
            leaked = [l for l in carl.sync() if "msgid=" in l]
            self.assertEqual([], [l for l in leaked
                                  if parse(l).tags.get("msgid") in private_ids], target)
        for sub in (f"BEFORE alice {LATE}", f"AFTER bob {EARLY}",
                    f"BETWEEN alice {EARLY} {LATE}",
                    f"AROUND bob msgid={sent[0].tags['msgid']}"):
            carl.send(f"CHATHISTORY {sub} 100")
            self.assertEqual([], [l for l in carl.sync() if " PRIVMSG " in l or " NOTICE " in l])
        carl.send(f"CHATHISTORY TARGETS {EARLY} {LATE} 100")
        self.assertEqual(["#shared"], [parse(l).params[1] for l in carl.sync()
                                       if " CHATHISTORY TARGETS " in l])
        # The channel's history has only the channel message.
        self.assertEqual(["in the channel"],
                         history(carl, "CHATHISTORY LATEST #shared * 10").texts)


class TargetsTest(unittest.TestCase):
    def targets(self, client: IRCClient, command: str) -> list[tuple[str, str]]:
        batch = history(client, command)
        self.assertEqual(("draft/chathistory-targets",), batch.params)
        for msg in batch.inner:
            self.assertEqual(("CHATHISTORY", "TARGETS"), (msg.command, msg.params[0]))
            self.assertEqual(3, len(msg.params))
        return [msg.params[1:] for msg in batch.inner]

    def test_targets(self) -> None:
        """irctest testChathistoryTargets and ...ExcludesUpdatedTargets."""
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        me = connect(self, server, "me", HISTORY_CAPS)
        p1 = connect(self, server, "peer1", HISTORY_CAPS)
        p2 = open_on_other_worker(self, server, me, "peer2", HISTORY_CAPS)
        for channel in ("#ta", "#tb"):
            join(me, channel)
        t1 = send_echoed(me, "PRIVMSG #ta :first").tags["time"]
        wait_past(t1)
        t2 = send_echoed(me, "PRIVMSG peer1 :second").tags["time"]
        wait_past(t2)
        t3 = send_echoed(me, "PRIVMSG #tb :third").tags["time"]
        wait_past(t3)
        send_echoed(p2, "PRIVMSG me :fourth")
        t4 = parse(me.expect(r" PRIVMSG me :fourth$")).tags["time"]
        wait_past(t4)
        self.assertEqual(len({t1, t2, t3, t4}), 4)
        q = "CHATHISTORY TARGETS"
        everything = [("#ta", t1), ("peer1", t2), ("#tb", t3), ("peer2", t4)]
        self.assertEqual(everything, self.targets(me, f"{q} {EARLY} {LATE} 100"))
        self.assertEqual(everything[:2], self.targets(me, f"{q} {EARLY} {LATE} 2"))
        self.assertEqual(everything[2:], self.targets(me, f"{q} {LATE} {EARLY} 2"))
        self.assertEqual(everything[1:], self.targets(me, f"{q} timestamp={t1} {LATE} 100"))
        self.assertEqual(everything[1:3],
                         self.targets(me, f"{q} timestamp={t1} timestamp={t4} 100"))
        self.assertEqual(everything[1:3],
                         self.targets(me, f"{q} timestamp={t4} timestamp={t1} 100"))
        # The peers see their side of it.
        self.assertEqual([("me", t2)], self.targets(p1, f"{q} {EARLY} {LATE} 100"))
        # A target counts by its latest message: once #ta is newer, it is out of older windows.
        t5 = send_echoed(me, "PRIVMSG #ta :fifth").tags["time"]
        self.assertEqual(everything[1:] + [("#ta", t5)],
                         self.targets(me, f"{q} {EARLY} {LATE} 100"))
        self.assertEqual([("peer1", t2)], self.targets(me, f"{q} {EARLY} timestamp={t3} 100"))
        self.assertEqual([], self.targets(me, f"{q} {EARLY} timestamp={t1} 100"))


class EventPlaybackTest(unittest.TestCase):
    def test_events_in_history_only_for_clients_that_asked(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        watcher = connect(self, server, "watcher", HISTORY_CAPS + ("draft/event-playback",))
        legacy = connect(self, server, "legacy", HISTORY_CAPS)
        no_tags = connect(self, server, "notags", ("draft/chathistory", "batch", "server-time",
                                                   "draft/event-playback"))
        actor = open_on_other_worker(self, server, watcher, "actor", HISTORY_CAPS)
        for client in (watcher, legacy, no_tags, actor):
            join(client, "#ev")
        watcher.send("MODE #ev +o actor")  # #ev is +t: only operators set its topic
        actor.expect(r" MODE #ev \+o actor$")
        actor.send("TOPIC #ev :a topic")
        actor.expect(r" TOPIC #ev :a topic$")
        send_echoed(actor, "PRIVMSG #ev :a message")
        actor.send("NICK actor2")
        actor.expect(r" NICK :?actor2$")
        send_echoed(actor, "@+draft/react=x TAGMSG #ev")
        send_echoed(actor, "NOTICE #ev :a notice")
        actor.send("PART #ev :bye")
        actor.expect(r" PART #ev")
        quitter = connect(self, server, "quitter")
        join(quitter, "#ev")
        quitter.send("QUIT :gone")
        quitter.wait_closed()
        watcher.expect(r"^\S+ :quitter!\S+ QUIT ")
        live = [parse(l) for l in watcher.seen
                if re.search(r" (JOIN|MODE|TOPIC|PRIVMSG|NOTICE|NICK|TAGMSG|PART|QUIT) ", l)]
        self.assertEqual(["JOIN"] * 4 + ["MODE", "TOPIC", "PRIVMSG", "NICK", "TAGMSG", "NOTICE",
                                         "PART", "JOIN", "QUIT"], [m.command for m in live])
        for msg in live:
            self.assertIn("msgid", msg.tags)
        batch = history(watcher, "CHATHISTORY LATEST #ev * 100")
        self.assertEqual([key(m) for m in live], [key(m) for m in batch.inner])
        # Paging by msgid works across events too.
        middle = live[5].tags["msgid"]
        self.assertEqual([key(m) for m in live[6:9]], [key(m) for m in history(
            watcher, f"CHATHISTORY AFTER #ev msgid={middle} 3").inner])
        # Without event-playback: messages only.
        self.assertEqual(["PRIVMSG", "NOTICE"],
                         [m.command for m in history(legacy, "CHATHISTORY LATEST #ev * 100").inner])
        # event-playback without message-tags: every event but TAGMSG (a tag-only message).
        self.assertEqual([m.command for m in live if m.command != "TAGMSG"],
                         [m.command for m in history(no_tags, "CHATHISTORY LATEST #ev * 100").inner])


class RestartTest(unittest.TestCase):
    def test_history_is_the_same_after_a_restart(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", HISTORY_CAPS)
        bob = connect(self, server, "bob", HISTORY_CAPS)
        for client in (alice, bob):
            join(client, "#kept")
        sent = send_spaced(alice, "#kept", [f"before restart {i}" for i in range(5)])
        sent.append(send_echoed(alice, "@+draft/reply=1 PRIVMSG #kept :tagged"))
        dm = send_echoed(alice, "PRIVMSG bob :private")
        before = history(bob, "CHATHISTORY LATEST #kept * 100")
        targets = history(alice, f"CHATHISTORY TARGETS {EARLY} {LATE} 10")
        before_dm = history(bob, "CHATHISTORY LATEST alice * 10")
        self.assertEqual(0, server.stop())
        server.start_on_same_config()
        alice = connect(self, server, "alice", HISTORY_CAPS)
        bob = connect(self, server, "bob", HISTORY_CAPS)
        for client in (alice, bob):
            join(client, "#kept")
        after = history(bob, "CHATHISTORY LATEST #kept * 100")
        self.assertEqual([key(m) for m in sent], [key(m) for m in after.inner])
        self.assertEqual([key(m) for m in before.inner], [key(m) for m in after.inner])
        # Private history belongs to accounts (docs/history.md): these connections are not
        # logged in, so the conversation of the earlier ones is not theirs, same nicks or not.
        self.assertEqual([key(dm)], [key(m) for m in before_dm.inner])
        self.assertEqual([], history(bob, "CHATHISTORY LATEST alice * 10").inner)
        self.assertEqual([m.params[:2] for m in targets.inner],
                         [("TARGETS", "#kept"), ("TARGETS", "bob")])
        self.assertEqual([m.params[:2] for m in history(
            alice, f"CHATHISTORY TARGETS {EARLY} {LATE} 10").inner], [("TARGETS", "#kept")])
        for kind in ("msgid", "timestamp"):
            ref = sent[2].tags["msgid" if kind == "msgid" else "time"]
            self.assertEqual([key(m) for m in sent[3:]], [key(m) for m in history(
                alice, f"CHATHISTORY AFTER #kept {kind}={ref} 10").inner])
        # New messages continue the order.
        new = send_echoed(alice, "PRIVMSG #kept :after restart")
        self.assertGreater(int(new.tags["msgid"]), int(dm.tags["msgid"]))
        self.assertGreaterEqual(new.tags["time"], dm.tags["time"])


DAY_MS = 86_400_000


def enable_retention(server: ChatdProcess, days: int) -> None:
    text = server.conf_path.read_text(encoding="utf-8")
    text = re.sub(r"retention_days = \d+\n", "", text)
    server.conf_path.write_text(text.replace("[history]\n", f"[history]\nretention_days = {days}\n"),
                                encoding="utf-8")


def age_events(server: ChatdProcess, up_to_id: int, days: int) -> int:
    """Make every event up to an id about `days` old (event id i gets time base + i ms), with
    the server stopped. Returns the base."""
    base = int(time.time() * 1000) - days * DAY_MS
    db = sqlite3.connect(server.db_path)
    with db:
        db.execute("UPDATE messages SET ts = ? + id WHERE id <= ?", (base, up_to_id))
    db.close()
    return base


class RetentionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, self.server, "alice", HISTORY_CAPS)
        join(alice, "#old")
        alice.send_raw(b"".join(b"PRIVMSG #old :old %d\r\n" % i for i in range(30)))
        self.sent = [m for m in map(parse, alice.sync()) if m.command == "PRIVMSG"]
        self.assertEqual(30, len(self.sent))
        self.assertEqual(0, self.server.stop())

    def restart_with_retention(self, aged: int) -> None:
        """Age the events up to message `aged` (exclusive) and restart with 1-day retention;
        wait until the writer has applied it."""
        self.aged_base = age_events(self.server, int(self.sent[aged - 1].tags["msgid"]), days=3)
        enable_retention(self.server, days=1)
        self.server.start_on_same_config()
        wait_until(lambda: re.search(r"retention: deleted \d+ events",
                                     self.server.log_text().split("----- restart -----")[-1]),
                   10, message="the retention pass")

    def aged_time(self, msg: Message) -> str:
        """The time an aged message now has in the history."""
        return server_time(self.aged_base + int(msg.tags["msgid"]))

    def reader(self) -> IRCClient:
        reader = connect(self, self.server, "reader", HISTORY_CAPS)
        self.assertEqual([], join(reader, "#old"))
        return reader

    def assertTruncated(self, batch: Batch) -> None:
        notes = batch.notes()
        self.assertEqual(1, len(notes), batch.inner)
        self.assertEqual(batch.inner[0], notes[0])  # first in the batch
        self.assertEqual(("CHATHISTORY", "HISTORY_TRUNCATED", "#old"), notes[0].params[:3])
        self.assertEqual(4, len(notes[0].params))

    def test_paging_back_reaches_the_boundary_and_is_told(self) -> None:
        self.restart_with_retention(aged=20)
        reader = self.reader()
        kept = self.sent[20:]
        limit = 4
        page = history(reader, f"CHATHISTORY LATEST #old * {limit}")
        pages = [page]
        while page.messages:
            page = history(reader, f"CHATHISTORY BEFORE #old msgid={page.messages[0].tags['msgid']} "
                                   f"{limit}")
            pages.append(page)
        seen = [key(m) for p in reversed(pages) for m in p.messages]
        self.assertEqual([key(m) for m in kept], seen)
        for page in pages:
            if len(page.messages) < limit:  # never a silently short page
                self.assertTruncated(page)
            else:
                self.assertEqual([], page.notes())
        self.assertEqual([2, 0], [len(p.messages) for p in pages[-2:]])
        # A deleted message's id or time as the reference: told as well.
        gone = self.sent[5]
        for ref in (f"msgid={gone.tags['msgid']}", f"timestamp={self.aged_time(gone)}"):
            before = history(reader, f"CHATHISTORY BEFORE #old {ref} 10")
            self.assertEqual([], before.messages)
            self.assertTruncated(before)

    def test_resuming_after_deleted_history_is_told_of_the_gap(self) -> None:
        """A client whose last message was deleted while it was away asks AFTER it: it gets
        what is left, and is told that something before it is gone."""
        self.restart_with_retention(aged=20)
        reader = self.reader()
        kept = [key(m) for m in self.sent[20:]]
        last_seen = self.sent[10]
        for command in (f"AFTER #old msgid={last_seen.tags['msgid']} 100",
                        f"AFTER #old timestamp={self.aged_time(last_seen)} 100",
                        f"LATEST #old msgid={last_seen.tags['msgid']} 100",
                        f"BETWEEN #old msgid={last_seen.tags['msgid']} {LATE} 100"):
            batch = history(reader, "CHATHISTORY " + command)
            self.assertEqual(kept, [key(m) for m in batch.messages], command)
            self.assertTruncated(batch)
        # A reference after the boundary: nothing was lost in between, no note.
        batch = history(reader, f"CHATHISTORY AFTER #old msgid={self.sent[21].tags['msgid']} 100")
        self.assertEqual(kept[2:], [key(m) for m in batch.messages])
        self.assertEqual([], batch.notes())

    def test_ids_are_never_reused_after_everything_expired(self) -> None:
        self.restart_with_retention(aged=30)  # everything is deleted
        self.assertEqual(0, self.server.stop())
        self.server.start_on_same_config()
        alice = connect(self, self.server, "alice", HISTORY_CAPS)
        join(alice, "#old")
        new = send_echoed(alice, "PRIVMSG #old :new")
        self.assertGreater(int(new.tags["msgid"]), int(self.sent[-1].tags["msgid"]))


if __name__ == "__main__":
    unittest.main()
