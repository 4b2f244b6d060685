"""Multi-line messages (IRCv3 draft/multiline, ircv3.net/specs/extensions/multiline) against a
real chatd: the spec's examples sent by one client and received by clients with and without
the capability (the batch, the fallback lines), the labeled echo, private messages, the
refusals (FAIL BATCH …), one stored row replayed as a batch or as lines by CHATHISTORY and
by the JOIN replay, and fakelag around a whole batch sent at once."""

from __future__ import annotations

import sqlite3
import time
import unittest

from ircproto.message import Message, parse
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import NO_AUTOJOIN, connect, join, only

MULTILINE = "draft/multiline"
BASE_CAPS = ("message-tags", "batch", "echo-message", "server-time", "labeled-response")
ML_CAPS = BASE_CAPS + (MULTILINE,)
CONCAT = "draft/multiline-concat"
# The spec's example: "hello", "how is ", and "everyone?" concatenated to it.
SPEC_BATCH = ["@batch=123 PRIVMSG #test hello",
              "@batch=123 privmsg #test :how is ",
              f"@batch=123;{CONCAT} PRIVMSG #test :everyone?",
              "BATCH -123"]


def send_batch(client: IRCClient, opening: str, lines: list[str]) -> list[Message]:
    """Send a batch in one write; return what the client got up to a PING round trip."""
    client.send_raw("".join(line + "\r\n" for line in [opening, *lines]).encode())
    return [parse(line) for line in client.sync()]


def inner(lines: list[Message]) -> list[Message]:
    return [m for m in lines if m.command in ("PRIVMSG", "NOTICE")]


class MultilineChannelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.alice = connect(cls, cls.server, "alice", ML_CAPS)
        cls.bob = open_on_other_worker(cls, cls.server, cls.alice, "bob", ML_CAPS)
        cls.charlie = connect(cls, cls.server, "charlie", BASE_CAPS)
        cls.dave = connect(cls, cls.server, "dave")  # no capability at all
        for client in (cls.alice, cls.bob, cls.charlie, cls.dave):
            join(client, "#test")
        for client in (cls.alice, cls.bob, cls.charlie, cls.dave):
            client.sync()

    def received(self) -> dict[str, list[Message]]:
        return {name: [parse(line) for line in getattr(self, name).sync()]
                for name in ("bob", "charlie", "dave")}

    def test_the_spec_example_as_a_batch_and_as_fallback_lines(self) -> None:
        echo = send_batch(self.alice, "@label=xyz BATCH +123 draft/multiline #test", SPEC_BATCH)
        got = self.received()
        # The echo: one batch, the label on its start only (multiline spec), with msgid/time.
        start, end = echo[0], echo[-1]
        self.assertEqual((start.command, start.params[1:]), ("BATCH", (MULTILINE, "#test")))
        self.assertEqual(start.tags["label"], "xyz")
        self.assertEqual(start.source_nick, "alice")
        self.assertEqual(end.params, ("-" + start.params[0][1:],))
        msgid, time_tag = start.tags["msgid"], start.tags["time"]
        self.assertEqual([m.params[1] for m in echo[1:-1]], ["hello", "how is ", "everyone?"])
        self.assertEqual([CONCAT in m.tags for m in echo[1:-1]], [False, False, True])
        for msg in echo[1:-1]:
            self.assertNotIn("msgid", msg.tags)
            self.assertNotIn("label", msg.tags)
        # bob (draft/multiline, another worker): the same batch, the same msgid and time.
        relay = got["bob"]
        ref = relay[0].params[0][1:]
        self.assertEqual((relay[0].command, relay[0].params), ("BATCH", ("+" + ref, MULTILINE, "#test")))
        self.assertEqual((relay[0].tags["msgid"], relay[0].tags["time"]), (msgid, time_tag))
        self.assertEqual(relay[-1].params, ("-" + ref,))
        self.assertEqual([(m.params, m.tags.get("batch"), CONCAT in m.tags) for m in relay[1:-1]],
                         [(("#test", "hello"), ref, False), (("#test", "how is "), ref, False),
                          (("#test", "everyone?"), ref, True)])
        # charlie (message-tags, no multiline): the lines, the msgid on the first only.
        fallback = got["charlie"]
        self.assertEqual([(m.command, m.params[1]) for m in fallback],
                         [("PRIVMSG", "hello"), ("PRIVMSG", "how is "), ("PRIVMSG", "everyone?")])
        self.assertEqual([m.tags.get("msgid") for m in fallback], [msgid, None, None])
        for msg in fallback:
            self.assertEqual(msg.tags["time"], time_tag)
            self.assertNotIn(CONCAT, msg.tags)
            self.assertNotIn("batch", msg.tags)
        # dave (no capability): three plain lines.
        self.assertEqual([(m.tags, m.source_nick, m.params) for m in got["dave"]],
                         [({}, "alice", ("#test", "hello")), ({}, "alice", ("#test", "how is ")),
                          ({}, "alice", ("#test", "everyone?"))])

    def test_blank_lines_and_client_tags(self) -> None:
        # irctest's multiline testBlankLines: blank lines go to multiline clients only; the
        # client tags of BATCH + go on the batch start, and on every fallback line.
        send_batch(self.alice, "@+client-only-tag BATCH +123 draft/multiline #test",
                   ["@batch=123 PRIVMSG #test :", "@batch=123 PRIVMSG #test :#how is ",
                    f"@batch=123;{CONCAT} PRIVMSG #test :everyone?", "BATCH -123"])
        got = self.received()
        self.assertIn("+client-only-tag", got["bob"][0].tags)
        self.assertEqual([m.params for m in got["bob"][1:-1]],
                         [("#test", ""), ("#test", "#how is "), ("#test", "everyone?")])
        self.assertEqual([m.params for m in got["charlie"]],
                         [("#test", "#how is "), ("#test", "everyone?")])
        self.assertEqual(got["charlie"][0].tags["msgid"], got["bob"][0].tags["msgid"])
        for msg in got["charlie"]:
            self.assertIn("+client-only-tag", msg.tags)

    def test_refused_batches_are_answered_once_and_deliver_nothing(self) -> None:
        big = "x" * 400
        cases = [
            ("BATCH +456 draft/multiline #test", ["@batch=456 PRIVMSG #bar hello", "BATCH -456"],
             ("BATCH", "MULTILINE_INVALID_TARGET", "#test", "#bar")),
            ("BATCH +a draft/multiline #test",
             [f"@batch=a PRIVMSG #test {big}"] * 11 + ["BATCH -a"],
             ("BATCH", "MULTILINE_MAX_BYTES", "4096")),
            ("BATCH +b draft/multiline #test", ["@batch=b PRIVMSG #test hi"] * 101 + ["BATCH -b"],
             ("BATCH", "MULTILINE_MAX_LINES", "100")),
            ("BATCH +c draft/multiline #test",
             ["@batch=c PRIVMSG #test :hi", f"@batch=c;{CONCAT} PRIVMSG #test :", "BATCH -c"],
             ("BATCH", "MULTILINE_INVALID")),
            ("BATCH +d draft/multiline #test",
             ["@batch=d PRIVMSG #test :hi", "@batch=d NOTICE #test :ho", "BATCH -d"],
             ("BATCH", "MULTILINE_INVALID")),
            ("BATCH +e draft/multiline #test", ["@batch=e PRIVMSG #test :", "BATCH -e"],
             ("BATCH", "MULTILINE_INVALID")),
            ("BATCH +f draft/multiline #test", ["@batch=g PRIVMSG #test :hi", "BATCH -f"],
             ("BATCH", "MULTILINE_INVALID")),
        ]
        for opening, lines, fail in cases:
            with self.subTest(fail=fail, opening=opening):
                answer = send_batch(self.alice, opening, lines)
                self.assertEqual([m.params[:-1] for m in answer], [fail])
                self.assertEqual(answer[0].command, "FAIL")
                got = self.received()
                self.assertEqual(got, {"bob": [], "charlie": [], "dave": []})

    def test_a_line_too_long_once_relayed_is_refused(self) -> None:
        # Each line must fit 512 bytes with alice's nick!user@host, as a PRIVMSG must (417).
        source_len = len(f":alice!alice@127.0.0.1 PRIVMSG #test :")
        answer = send_batch(self.alice, "BATCH +z draft/multiline #test",
                            ["@batch=z PRIVMSG #test :ok",
                             "@batch=z PRIVMSG #test :" + "y" * (511 - source_len), "BATCH -z"])
        self.assertEqual([(m.command, m.params[:2]) for m in answer],
                         [("FAIL", ("BATCH", "MULTILINE_INVALID"))])
        self.assertEqual(self.received(), {"bob": [], "charlie": [], "dave": []})

    def test_a_private_multiline(self) -> None:
        echo = send_batch(self.alice, "BATCH +p draft/multiline bob",
                          ["@batch=p PRIVMSG bob :one", "@batch=p PRIVMSG bob :two", "BATCH -p"])
        self.assertEqual(echo[0].params[1:], (MULTILINE, "bob"))
        self.assertEqual([m.params for m in inner(echo)], [("bob", "one"), ("bob", "two")])
        got = self.received()
        self.assertEqual(got["bob"][0].tags["msgid"], echo[0].tags["msgid"])
        self.assertEqual([m.params for m in inner(got["bob"])], [("bob", "one"), ("bob", "two")])
        send_batch(self.alice, "BATCH +q draft/multiline charlie",
                   ["@batch=q NOTICE charlie :one", "@batch=q NOTICE charlie :two", "BATCH -q"])
        self.assertEqual([(m.command, m.params) for m in self.received()["charlie"]],
                         [("NOTICE", ("charlie", "one")), ("NOTICE", ("charlie", "two"))])


class MultilineHistoryTest(unittest.TestCase):
    """One message, one row; replayed per the reader's capabilities."""

    def test_stored_once_and_replayed_as_a_batch_or_as_lines(self) -> None:
        server = start_chatd(self, workers=1, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", ML_CAPS + ("draft/chathistory",))
        join(alice, "#test")
        echo = send_batch(alice, "BATCH +123 draft/multiline #test", SPEC_BATCH)
        msgid = echo[0].tags["msgid"]
        with sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT id, kind, text, tags FROM messages WHERE kind='PRIVMSG'"
                              ).fetchall()
        self.assertEqual(rows, [(int(msgid), "PRIVMSG", "hello\nhow is everyone?",
                                 "multiline=13")])

        def chathistory(caps: tuple[str, ...], nick: str) -> list[Message]:
            client = connect(self, server, nick, caps + ("draft/chathistory",))
            join(client, "#test")
            client.send("CHATHISTORY LATEST #test * 10")
            return [parse(line) for line in client.sync()]

        # With draft/multiline: the message is a batch nested in the chathistory batch.
        nested = chathistory(ML_CAPS, "reader1")
        outer = nested[0].params[0][1:]
        self.assertEqual(nested[0].params[1:], ("chathistory", "#test"))
        start = nested[1]
        self.assertEqual((start.command, start.params[1:], start.tags["batch"]),
                         ("BATCH", (MULTILINE, "#test"), outer))
        self.assertEqual(start.tags["msgid"], msgid)
        ref = start.params[0][1:]
        self.assertEqual([(m.params[1], m.tags["batch"], CONCAT in m.tags)
                          for m in nested[2:5]],
                         [("hello", ref, False), ("how is ", ref, False), ("everyone?", ref, True)])
        self.assertEqual((nested[5].params, nested[5].tags["batch"]), (("-" + ref,), outer))
        self.assertEqual(nested[6].params, ("-" + outer,))
        # Without it: the lines, in the chathistory batch, the msgid on the first.
        lines = chathistory(BASE_CAPS, "reader2")
        self.assertEqual([(m.params[1], m.tags.get("msgid")) for m in inner(lines)],
                         [("hello", msgid), ("how is ", None), ("everyone?", None)])
        # The JOIN replay of a plain client: the lines, the time in front of the first.
        plain = connect(self, server, "plain")
        replay = only(join(plain, "#test"), "PRIVMSG")
        self.assertEqual(len(replay), 3)
        self.assertRegex(replay[0].params[1], r"^\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] hello$")
        self.assertEqual([m.params[1] for m in replay[1:]], ["how is ", "everyone?"])


class MultilineHistoryBudgetTest(unittest.TestCase):
    """Large multi-line messages do not make a history answer overflow the reader's sendq
    (which would drop whoever joins or asks): it holds the newest whole messages that fit a
    quarter of it."""

    def test_replay_and_chathistory_stay_within_a_share_of_sendq(self) -> None:
        sendq = 65536
        server = start_chatd(self, workers=1, extra={**NO_AUTOJOIN,
                                                      "limits": {"sendq": str(sendq)}})
        alice = connect(self, server, "alice", ML_CAPS)
        join(alice, "#test")
        for n in range(10):  # 10 messages of 100 lines: ~80 KiB to a reader without the cap
            lines = [f"@batch=m{n} PRIVMSG #test :message {n} line {i:02}" for i in range(100)]
            send_batch(alice, f"BATCH +m{n} draft/multiline #test", [*lines, f"BATCH -m{n}"])
        plain = connect(self, server, "plain")
        replay = [m.params[1] for m in only(join(plain, "#test"), "PRIVMSG")]
        self.assertFalse(plain.closed)
        self.assertLess(sum(len(text) + 40 for text in replay), sendq // 4)
        self.assertTrue(replay[-1].endswith("message 9 line 99"), replay[-1])
        self.assertLess(len(replay), 1000)
        self.assertEqual(len(replay) % 100, 0)  # whole messages
        reader = connect(self, server, "reader", BASE_CAPS + ("draft/chathistory",))
        join(reader, "#test")
        reader.send("CHATHISTORY LATEST #test * 100")
        answer = [parse(line) for line in reader.sync()]
        texts = [m.params[1] for m in inner(answer)]
        self.assertFalse(reader.closed)
        self.assertTrue(texts[0].endswith(" line 00"), texts[0])
        self.assertEqual(texts[-1], "message 9 line 99")
        self.assertEqual(len(texts) % 100, 0)
        self.assertLess(len(texts), 1000)
        # The client pages on from the oldest message it got.
        oldest = next(m.tags["msgid"] for m in inner(answer) if "msgid" in m.tags)
        reader.send(f"CHATHISTORY BEFORE #test msgid={oldest} 100")
        older = [m.params[1] for m in inner([parse(line) for line in reader.sync()])]
        self.assertTrue(older and older[-1].endswith("line 99"), older[-3:])
        self.assertNotIn(texts[0], older)


class MultilineFakelagTest(unittest.TestCase):
    """A client that is not exempt (127.0.0.2; only 127.0.0.1 is exempt here) sends a whole
    batch at once, more input than recvq: it is delivered at once, every line is charged."""

    def test_a_whole_batch_goes_out_at_once_and_the_next_line_waits(self) -> None:
        server = start_chatd(self, workers=1, extra={**NO_AUTOJOIN, "limits": {
            "flood_burst": "5", "flood_rate": "2", "recvq": "4096", "exempt": "127.0.0.1/32"}})
        watcher = connect(self, server, "watcher", BASE_CAPS)
        join(watcher, "#test")
        sender = open_client(self, server.port, source="127.0.0.2")
        sender.register("sender", caps=ML_CAPS)
        join(sender, "#test")
        watcher.sync()
        lines = [f"@batch=big PRIVMSG #test :line {n:03} " + "z" * 30 for n in range(100)]
        data = "".join(line + "\r\n" for line in
                       ["BATCH +big draft/multiline #test", *lines, "BATCH -big",
                        "PRIVMSG #test :after"])
        self.assertGreater(len(data), 4096)  # recvq
        started = time.monotonic()
        sender.send_raw(data.encode())
        watcher.expect(r" PRIVMSG #test :line 099 ", 5.0)
        self.assertLess(time.monotonic() - started, 2.0)
        # 102 lines charged at 2 a second beyond the burst of 5: "after" waits ~49 s.
        watcher.assert_no_line(r" PRIVMSG #test :after$", within_s=1.5)
        self.assertFalse(sender.closed)


if __name__ == "__main__":
    unittest.main()
