"""chatd.chathistory: the CHATHISTORY command (IRCv3 draft/chathistory), planned over an
in-memory reader (fake_history.FakeHistory) and driven through a registered Session.

The rules checked (ircv3.net/specs/extensions/chathistory): every reference bound is
exclusive; results come oldest first; BEFORE/LATEST give the messages nearest the reference or
the newest, AFTER the nearest after it; BETWEEN counts its limit from the first reference in
whichever direction the second lies; AROUND includes the reference; only channels one is in
and one's own private conversations can be read; without draft/event-playback only PRIVMSG and
NOTICE come back (TAGMSG only to message-tags clients even with it).
"""

import unittest

from ircproto.servertime import format_server_time
from chatd.session.chathistory import MAX_LIMIT
from ircproto.message import Message, parse
from chatd.session.session import SYNC_POINT
from chatd.events import HistoryUnavailable
from tests.unit.fake_history import FakeHistory
from tests.unit.test_session import make_session, register

T = 1_700_000_000_000
SERVER = "chat.example"
A, B, C = "alice!a@h.example", "bob!b@h.example", "carol!c@h.example"

# (id, ts, kind, source, target, text, client tags, timelines) as the writer stores them
ROWS = [
    (1, T + 1000, "JOIN", A, "#a", "", "", ("#a",)),
    (2, T + 2000, "PRIVMSG", A, "#a", "m2", "", ("#a",)),
    (3, T + 3000, "PRIVMSG", B, "#a", "m3", "+draft/reply=2", ("#a",)),
    (4, T + 4000, "TAGMSG", B, "#a", "", "+draft/react=y", ("#a",)),
    (5, T + 5000, "NOTICE", A, "#a", "m5", "", ("#a",)),
    (6, T + 5000, "PRIVMSG", B, "alice", "pm6", "", ("~bob alice", "~alice bob")),
    (7, T + 6000, "PRIVMSG", A, "#a", "m7", "", ("#a",)),
    (8, T + 7000, "TOPIC", A, "#a", "new topic", "", ("#a",)),
    (9, T + 8000, "PRIVMSG", B, "#a", "m9", "", ("#a",)),
    (10, T + 8000, "PRIVMSG", A, "#a", "m10", "", ("#a",)),   # same time as 9
    (11, T + 9000, "PRIVMSG", C, "#b", "b11", "", ("#b",)),
    (12, T + 10000, "PRIVMSG", C, "bob", "pm12", "", ("~carol bob", "~bob carol")),
    (13, T + 11000, "PRIVMSG", B, "#a", "m13", "", ("#a",)),
    (14, T + 12000, "PART", B, "#a", "bye", "", ("#a",)),
    (15, T + 13000, "PRIVMSG", A, "bob", "pm15", "", ("~alice bob", "~bob alice")),
    (16, T + 14000, "QUIT", C, "", "Quit: zzz", "", ("#b",)),
]
TS = {row[0]: row[1] for row in ROWS}
MESSAGES_A = [2, 3, 5, 7, 9, 10, 13]                 # PRIVMSG/NOTICE of #a
EVENTS_A = [1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 14]      # everything of #a
FULL = ("batch", "server-time", "message-tags", "draft/chathistory")


def ts(event_id: int, delta_ms: int = 0) -> str:
    return "timestamp=" + format_server_time(TS[event_id] + delta_ms)


def client(nick: str = "alice", caps=FULL, channels=("#a",), reader=None,
           account: str | None = "", ):
    """A registered session that uses `nick`, logged in to the account of the same name (or
    to `account`; None: not logged in)."""
    session = make_session(server_name=SERVER)
    register(session, nick)
    session.account = nick if account == "" else account
    session.to_master.clear()
    session.caps = set(caps)
    session.channels = set(channels)
    session.history = FakeHistory(ROWS) if reader is None else reader
    return session


def ask(session, line: str) -> list[Message]:
    """Send one line; return every line sent back, parsed (tags may make a line longer than
    512 bytes; the rest of it may not)."""
    session.on_line(line.encode(), 0)
    out = []
    for raw in session.out:
        assert raw != SYNC_POINT, "nothing was forwarded: no sync point expected"
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == 1, raw
        body = raw[raw.index(b" ") + 1:] if raw.startswith(b"@") else raw
        assert len(body) <= 512, raw
        out.append(parse(raw[:-2].decode()))
    session.out.clear()
    return out


def unbatch(testcase, lines: list[Message], batch_type: str, *params: str) -> list[Message]:
    """Check that `lines` are exactly one batch of that type; return what is inside."""
    testcase.assertGreaterEqual(len(lines), 2, lines)
    start, end = lines[0], lines[-1]
    testcase.assertEqual((start.source, start.command), (SERVER, "BATCH"))
    ref = start.params[0][1:]
    testcase.assertEqual(start.params, ("+" + ref, batch_type, *params))
    testcase.assertEqual((end.command, end.params), ("BATCH", ("-" + ref,)))
    for line in lines[1:-1]:
        testcase.assertEqual(line.tags.get("batch"), ref, line)
    return lines[1:-1]


def msgids(lines: list[Message]) -> list[int]:
    return [int(m.tags["msgid"]) for m in lines if m.command not in ("NOTE", "BATCH")]


class Helper(unittest.TestCase):
    def history(self, session, line: str, target: str) -> list[int]:
        """The msgids of a successful answer (one chathistory batch for `target`)."""
        inner = unbatch(self, ask(session, line), "chathistory", target)
        ids = msgids(inner)
        self.assertEqual(ids, sorted(ids), "results must be oldest first")
        return ids

    def failure(self, session, line: str) -> tuple[str, ...]:
        [msg] = ask(session, line)
        self.assertEqual((msg.source, msg.command, msg.params[0]), (SERVER, "FAIL", "CHATHISTORY"))
        return msg.params[1:]


class SelectionTest(Helper):
    def test_channel_history(self):
        # (command, msgids returned) over #a, whose messages are MESSAGES_A
        cases = [
            # BEFORE: exclusive, the nearest `limit` before it, ascending
            ("BEFORE #a msgid=9 10", [2, 3, 5, 7]),
            ("BEFORE #a msgid=9 2", [5, 7]),
            ("BEFORE #a msgid=8 2", [5, 7]),          # a reference that is no message
            ("BEFORE #a msgid=2 10", []),
            ("BEFORE #a msgid=1000 3", [9, 10, 13]),
            ("BEFORE #a " + ts(9) + " 10", [2, 3, 5, 7]),       # 10 has 9's time: out too
            ("BEFORE #a " + ts(9, 1) + " 10", [2, 3, 5, 7, 9, 10]),
            ("BEFORE #a " + ts(1, -1) + " 10", []),
            # AFTER: exclusive, the nearest `limit` after it
            ("AFTER #a msgid=3 2", [5, 7]),
            ("AFTER #a msgid=0 3", [2, 3, 5]),
            ("AFTER #a msgid=13 5", []),
            ("AFTER #a " + ts(9) + " 10", [13]),                 # 10 has 9's time: out too
            ("AFTER #a " + ts(9, -1) + " 10", [9, 10, 13]),
            ("AFTER #a " + ts(16, 1) + " 10", []),
            # LATEST: the newest, after (excluding) the reference if there is one
            ("LATEST #a * 3", [9, 10, 13]),
            ("LATEST #a * 100", MESSAGES_A),
            ("LATEST #a msgid=7 2", [10, 13]),
            ("LATEST #a msgid=7 10", [9, 10, 13]),
            ("LATEST #a msgid=13 10", []),
            ("LATEST #a " + ts(7) + " 10", [9, 10, 13]),
            ("LATEST #a " + ts(9) + " 10", [13]),
            # AROUND: the reference itself, then as many before as after (the rest after)
            ("AROUND #a msgid=7 1", [7]),
            ("AROUND #a msgid=7 2", [7, 9]),
            ("AROUND #a msgid=7 3", [5, 7, 9]),
            ("AROUND #a msgid=7 5", [3, 5, 7, 9, 10]),
            ("AROUND #a msgid=2 3", [2, 3, 5]),                  # nothing before it
            ("AROUND #a msgid=13 3", [10, 13]),                  # nothing after it
            ("AROUND #a " + ts(7) + " 3", [5, 7, 9]),
            ("AROUND #a " + ts(9) + " 3", [7, 9, 10]),           # the first at that time
            # BETWEEN: exclusive at both ends, either direction, limit from the first
            ("BETWEEN #a msgid=3 msgid=10 10", [5, 7, 9]),
            ("BETWEEN #a msgid=10 msgid=3 10", [5, 7, 9]),
            ("BETWEEN #a msgid=3 msgid=13 2", [5, 7]),           # forwards: the oldest
            ("BETWEEN #a msgid=13 msgid=3 2", [9, 10]),          # backwards: the newest
            ("BETWEEN #a msgid=5 msgid=5 10", []),
            ("BETWEEN #a msgid=5 msgid=7 10", []),
            ("BETWEEN #a " + ts(3) + " " + ts(10) + " 10", [5, 7]),  # 9 and 10 at the bound
            ("BETWEEN #a " + ts(10) + " " + ts(3) + " 1", [7]),
            ("BETWEEN #a msgid=3 " + ts(13) + " 10", [5, 7, 9, 10]),
            ("BETWEEN #a " + ts(13) + " msgid=3 2", [9, 10]),
            ("BETWEEN #a " + ts(1, -1) + " " + ts(16, 1) + " 100", MESSAGES_A),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                session = client()
                self.assertEqual(self.history(session, "CHATHISTORY " + line, "#a"), expected)

    def test_subcommand_and_target_are_case_insensitive(self):
        session = client(channels=("#a",))
        for line in ("chathistory latest #A * 2", "CHATHISTORY Latest #a * 2"):
            with self.subTest(line=line):
                inner = unbatch(self, ask(session, line), "chathistory", line.split()[2])
                self.assertEqual(msgids(inner), [10, 13])

    def test_limit_zero_or_over_the_maximum_means_the_maximum(self):
        self.assertEqual(MAX_LIMIT, 100)
        rows = [(i, T + i, "PRIVMSG", A, "#big", f"n{i}", "", ("#big",)) for i in range(1, 251)]
        # (limit given, how many come back)
        cases = [("0", 100), ("1", 1), ("99", 99), ("100", 100), ("101", 100), ("100000", 100),
                 ("0000", 100)]
        for limit, count in cases:
            for sub, ref in (("LATEST", "*"), ("BEFORE", "msgid=1000"), ("AFTER", "msgid=0")):
                with self.subTest(sub=sub, limit=limit):
                    session = client(channels=("#big",), reader=FakeHistory(rows))
                    ids = self.history(session, f"CHATHISTORY {sub} #big {ref} {limit}", "#big")
                    self.assertEqual(len(ids), count)
                    self.assertEqual(ids[0], 1 if sub == "AFTER" else 251 - count)

    def test_lines_read_as_they_did_live(self):
        session = client()
        [m3] = unbatch(self, ask(session, "CHATHISTORY AROUND #a msgid=3 1"), "chathistory", "#a")
        self.assertEqual((m3.source, m3.command, m3.params), (B, "PRIVMSG", ("#a", "m3")))
        self.assertEqual(m3.tags["time"], format_server_time(TS[3]))
        self.assertEqual(m3.tags["+draft/reply"], "2")   # client tags come back with it
        self.assertEqual(set(m3.tags), {"batch", "time", "msgid", "+draft/reply"})

    def test_tags_follow_the_clients_caps(self):
        # (caps, tags expected on the message line besides batch)
        cases = [
            (("batch",), set()),
            (("batch", "server-time"), {"time"}),
            (("batch", "message-tags"), {"msgid", "+draft/reply"}),
            (FULL, {"time", "msgid", "+draft/reply"}),
        ]
        for caps, tags in cases:
            with self.subTest(caps=caps):
                session = client(caps=caps)
                [m3] = unbatch(self, ask(session, "CHATHISTORY BEFORE #a msgid=4 1"),
                               "chathistory", "#a")
                self.assertEqual(set(m3.tags) - {"batch"}, tags)
                self.assertEqual(m3.params, ("#a", "m3"))

    def test_without_batch_the_lines_come_alone(self):
        session = client(caps=("server-time", "message-tags"))
        lines = ask(session, "CHATHISTORY LATEST #a * 3")
        self.assertEqual([m.command for m in lines], ["PRIVMSG", "PRIVMSG", "PRIVMSG"])
        self.assertEqual(msgids(lines), [9, 10, 13])
        self.assertTrue(all("batch" not in m.tags for m in lines))
        self.assertEqual(ask(session, "CHATHISTORY LATEST #a msgid=13 3"), [])

    def test_an_empty_answer_is_an_empty_batch(self):
        session = client()
        self.assertEqual(unbatch(self, ask(session, "CHATHISTORY AFTER #a msgid=13 5"),
                                 "chathistory", "#a"), [])

    def test_batch_references_differ(self):
        session = client()
        refs = {ask(session, "CHATHISTORY LATEST #a * 1")[0].params[0] for _ in range(3)}
        self.assertEqual(len(refs), 3)


class EventPlaybackTest(Helper):
    def test_which_kinds_come_back(self):
        # (caps, msgids of LATEST #a * 100)
        cases = [
            (FULL, MESSAGES_A),                                  # no event-playback
            (("batch", "server-time", "message-tags"), MESSAGES_A),
            (FULL + ("draft/event-playback",), EVENTS_A),
        ]
        for caps, expected in cases:
            with self.subTest(caps=caps):
                session = client(caps=caps)
                self.assertEqual(self.history(session, "CHATHISTORY LATEST #a * 100", "#a"),
                                 expected)

    def test_tagmsg_only_to_message_tags_clients(self):
        # Without message-tags there is no msgid to count by: compare commands and texts.
        session = client(caps=("batch", "server-time", "draft/event-playback"))
        inner = unbatch(self, ask(session, "CHATHISTORY LATEST #a * 100"), "chathistory", "#a")
        self.assertEqual([(m.command, m.params) for m in inner], [
            ("JOIN", ("#a",)), ("PRIVMSG", ("#a", "m2")), ("PRIVMSG", ("#a", "m3")),
            ("NOTICE", ("#a", "m5")), ("PRIVMSG", ("#a", "m7")),
            ("TOPIC", ("#a", "new topic")), ("PRIVMSG", ("#a", "m9")),
            ("PRIVMSG", ("#a", "m10")), ("PRIVMSG", ("#a", "m13")), ("PART", ("#a", "bye"))])
        self.assertTrue(all("msgid" not in m.tags for m in inner))

    def test_event_lines(self):
        session = client(caps=FULL + ("draft/event-playback",))
        inner = unbatch(self, ask(session, "CHATHISTORY BETWEEN #a msgid=0 msgid=5 10"),
                        "chathistory", "#a")
        self.assertEqual([(m.source, m.command, m.params) for m in inner], [
            (A, "JOIN", ("#a",)), (A, "PRIVMSG", ("#a", "m2")), (B, "PRIVMSG", ("#a", "m3")),
            (B, "TAGMSG", ("#a",))])
        self.assertEqual(inner[3].tags["+draft/react"], "y")

    def test_limits_count_only_what_is_visible(self):
        # BEFORE msgid=9 2: without event-playback the TOPIC (8) is skipped, not counted.
        for caps, expected in ((FULL, [5, 7]), (FULL + ("draft/event-playback",), [7, 8])):
            with self.subTest(caps=caps):
                session = client(caps=caps)
                self.assertEqual(self.history(session, "CHATHISTORY BEFORE #a msgid=9 2", "#a"),
                                 expected)


class PrivateTest(Helper):
    def test_private_history_is_the_participants_own(self):
        # (who asks, command, msgids)
        cases = [
            ("alice", "LATEST bob * 10", [6, 15]),
            ("alice", "LATEST BOB * 10", [6, 15]),
            ("alice", "BEFORE bob msgid=15 10", [6]),
            ("bob", "LATEST alice * 10", [6, 15]),
            ("bob", "LATEST carol * 10", [12]),
            ("carol", "LATEST bob * 10", [12]),           # not bob's talk with alice
            ("carol", "LATEST alice * 10", []),
            ("dave", "LATEST alice * 10", []),
            ("dave", "LATEST bob * 10", []),
            ("alice", "LATEST carol * 10", []),
        ]
        for nick, line, expected in cases:
            with self.subTest(nick=nick, line=line):
                session = client(nick, channels=())
                target = line.split()[1]
                self.assertEqual(self.history(session, "CHATHISTORY " + line, target), expected)

    def test_private_history_follows_the_account_not_the_nick(self):
        # (nick, account, command, msgids)
        cases = [
            ("alice", None, "LATEST bob * 10", []),        # alice's nick, not logged in
            ("alice", "carol", "LATEST bob * 10", [12]),   # whose account asks, not its nick
            ("al", "alice", "LATEST bob * 10", [6, 15]),   # the owner under another nick
            ("ALICE_", "Alice", "LATEST bob * 10", [6, 15]),
        ]
        for nick, account, line, expected in cases:
            with self.subTest(nick=nick, account=account):
                session = client(nick, channels=(), account=account)
                self.assertEqual(self.history(session, "CHATHISTORY " + line, "bob"), expected)

    def test_a_connection_without_account_reads_only_its_own(self):
        probe = make_session()
        mine = f"!{probe.info.boot_id}.{probe.conn_id}"  # this run, this connection
        rows = [(1, T, "PRIVMSG", A, "bob", "mine", "", (mine + " bob", "~bob alice")),
                (2, T + 1, "PRIVMSG", A, "bob", "another run's connection", "",
                 (f"!{probe.info.boot_id + 1}.{probe.conn_id} bob", "~bob alice"))]
        session = client("alice", channels=(), account=None, reader=FakeHistory(rows))
        self.assertEqual(session.history_owner, mine)
        self.assertEqual(self.history(session, "CHATHISTORY LATEST bob * 10", "bob"), [1])

    def test_both_directions_read_as_sent(self):
        session = client("alice", channels=())
        inner = unbatch(self, ask(session, "CHATHISTORY LATEST bob * 10"), "chathistory", "bob")
        self.assertEqual([(m.source, m.params) for m in inner],
                         [(B, ("alice", "pm6")), (A, ("bob", "pm15"))])


class BrokenHistory(FakeHistory):
    """A reader whose next `failures` queries raise what the real one raises for an SQLite
    error (a damaged page, a failing disk)."""

    def __init__(self, rows, failures: int):
        super().__init__(rows)
        self.failures = failures

    def select(self, *args):
        self._maybe_fail()
        return super().select(*args)

    def first_id_at_or_after(self, ts_ms: int) -> int:
        self._maybe_fail()
        return super().first_id_at_or_after(ts_ms)

    def floor_id(self, conv: str) -> int:
        self._maybe_fail()
        return super().floor_id(conv)

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None:
        self._maybe_fail()
        return super().latest(conv, kinds)

    def _maybe_fail(self) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise HistoryUnavailable("database disk image is malformed")


class UnreadableHistoryTest(Helper):
    def test_a_failing_read_fails_that_request_only(self):
        cases = [("LATEST #a * 10", ("MESSAGE_ERROR", "LATEST", "#a")),
                 ("BEFORE #a " + ts(12) + " 10", ("MESSAGE_ERROR", "BEFORE", "#a")),
                 ("TARGETS " + ts(1) + " " + ts(13) + " 10",
                  ("MESSAGE_ERROR", "TARGETS", ts(1)))]
        for line, expected in cases:
            with self.subTest(line=line):
                session = client(reader=BrokenHistory(ROWS, failures=1))
                with self.assertLogs("chatd.session.chathistory", "ERROR") as logged:
                    failure = self.failure(session, "CHATHISTORY " + line)
                self.assertEqual(failure, (*expected, "Messages could not be retrieved"))
                self.assertEqual(1, len(logged.records))
                self.assertIn("malformed", logged.output[0])
                self.assertIsNone(session.close_reason)
                # The next request is answered (the reader reopens the file).
                self.assertEqual(self.history(session, "CHATHISTORY LATEST #a * 1", "#a"), [13])

    def test_a_failure_inside_a_label_is_the_labeled_fail(self):
        session = client(caps=(*FULL, "labeled-response"), reader=BrokenHistory(ROWS, 1))
        with self.assertLogs("chatd.session.chathistory", "ERROR"):
            [reply] = ask(session, "@label=q1 CHATHISTORY LATEST #a * 10")
        self.assertEqual((reply.tags.get("label"), reply.command), ("q1", "FAIL"))


class FailTest(Helper):
    def test_invalid_params(self):
        # (command, FAIL params after "CHATHISTORY")
        cases = [
            ("FROB #a * 10", ("INVALID_PARAMS", "FROB", "Unknown subcommand")),
            ("frob", ("INVALID_PARAMS", "frob", "Unknown subcommand")),
            ("LATEST #a *", ("INVALID_PARAMS", "LATEST", "Insufficient parameters")),
            ("BETWEEN #a msgid=1 10", ("INVALID_PARAMS", "BETWEEN", "Insufficient parameters")),
            ("TARGETS " + ts(1) + " 10", ("INVALID_PARAMS", "TARGETS",
                                          "Insufficient parameters")),
            ("LATEST #a * abc", ("INVALID_PARAMS", "LATEST", "abc", "Invalid limit")),
            ("LATEST #a * -1", ("INVALID_PARAMS", "LATEST", "-1", "Invalid limit")),
            ("LATEST #a * 1.5", ("INVALID_PARAMS", "LATEST", "1.5", "Invalid limit")),
            # a word that cannot be a middle parameter is shown as '*'
            ("LATEST #a * :", ("INVALID_PARAMS", "LATEST", "*", "Invalid limit")),
            ("LATEST #a * ::5", ("INVALID_PARAMS", "LATEST", "*", "Invalid limit")),
            ("LATEST #a * :5 6", ("INVALID_PARAMS", "LATEST", "*", "Invalid limit")),
            ("LATEST #a * \u0661", ("INVALID_PARAMS", "LATEST", "\u0661", "Invalid limit")),
            ("BEFORE #a * 10", ("INVALID_PARAMS", "BEFORE", "*", "Invalid message reference")),
            ("AROUND #a * 10", ("INVALID_PARAMS", "AROUND", "*", "Invalid message reference")),
            ("BEFORE #a 5 10", ("INVALID_PARAMS", "BEFORE", "5", "Invalid message reference")),
            ("BEFORE #a msgid= 10", ("INVALID_PARAMS", "BEFORE", "msgid=",
                                     "Invalid message reference")),
            ("BEFORE #a msgid=abc 10", ("INVALID_PARAMS", "BEFORE", "msgid=abc",
                                        "Invalid message reference")),
            ("BEFORE #a msgid=-3 10", ("INVALID_PARAMS", "BEFORE", "msgid=-3",
                                       "Invalid message reference")),
            ("BEFORE #a id=3 10", ("INVALID_PARAMS", "BEFORE", "id=3",
                                   "Invalid message reference")),
            ("BEFORE #a timestamp=yesterday 10", ("INVALID_PARAMS", "BEFORE",
                                                  "timestamp=yesterday", "Invalid timestamp")),
            ("AFTER #a timestamp=2023-13-01T00:00:00.000Z 10",
             ("INVALID_PARAMS", "AFTER", "timestamp=2023-13-01T00:00:00.000Z",
              "Invalid timestamp")),
            ("BETWEEN #a msgid=1 timestamp=x 10", ("INVALID_PARAMS", "BETWEEN", "timestamp=x",
                                                   "Invalid timestamp")),
            ("BETWEEN #a * msgid=3 10", ("INVALID_PARAMS", "BETWEEN", "*",
                                         "Invalid message reference")),
            ("TARGETS msgid=1 " + ts(2) + " 10", ("INVALID_PARAMS", "TARGETS",
                                                  "TARGETS takes two timestamps")),
            ("TARGETS " + ts(1) + " * 10", ("INVALID_PARAMS", "TARGETS", "*",
                                            "Invalid message reference")),
            ("TARGETS " + ts(1) + " " + ts(2) + " x", ("INVALID_PARAMS", "TARGETS", "x",
                                                       "Invalid limit")),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                session = client()
                self.assertEqual(self.failure(session, "CHATHISTORY " + line), expected)
                self.assertNotIn("select", session.history.calls)

    def test_invalid_target(self):
        # (who, command): a channel one is not in (existing or not), or no valid nick
        cases = [
            ("alice", "LATEST #b * 10"),            # has history, alice is not in it
            ("alice", "LATEST #nowhere * 10"),
            ("alice", "BEFORE #b msgid=20 10"),
            ("alice", "AROUND #B msgid=11 1"),
            ("alice", "LATEST b@d * 10"),
            ("alice", "LATEST 1bob * 10"),
            ("alice", "LATEST * * 10"),
            ("carol", "LATEST #a * 10"),
        ]
        for nick, line in cases:
            with self.subTest(nick=nick, line=line):
                session = client(nick, channels=("#b",) if nick == "carol" else ("#a",))
                sub, target = line.split()[:2]
                self.assertEqual(self.failure(session, "CHATHISTORY " + line),
                                 ("INVALID_TARGET", sub, target, "Messages could not be retrieved"))
                self.assertNotIn("select", session.history.calls)

    def test_a_channel_left_is_no_longer_readable(self):
        session = client(channels=("#a",))
        self.assertEqual(self.history(session, "CHATHISTORY LATEST #a * 1", "#a"), [13])
        session.channels.discard("#a")   # the worker applies the committed PART
        self.assertEqual(self.failure(session, "CHATHISTORY LATEST #a * 1")[0], "INVALID_TARGET")

    def test_without_a_history_reader(self):
        session = make_session(server_name=SERVER)
        register(session)
        session.caps = set(FULL)
        session.channels = {"#a"}
        self.assertEqual(self.failure(session, "CHATHISTORY LATEST #a * 10"),
                         ("MESSAGE_ERROR", "LATEST", "#a", "History is not available"))

    def test_no_parameters_is_461(self):
        session = client()
        [msg] = ask(session, "CHATHISTORY")
        self.assertEqual((msg.command, msg.params[1]), ("461", "CHATHISTORY"))

    def test_before_registration_is_451(self):
        session = make_session(server_name=SERVER)
        session.history = FakeHistory(ROWS)
        session.on_line(b"CHATHISTORY LATEST #a * 10", 0)
        [raw] = session.out
        self.assertEqual(parse(raw[:-2].decode()).command, "451")
        self.assertEqual(session.history.calls, [])


class TargetsTest(Helper):
    def targets(self, session, line: str) -> list[tuple[str, str]]:
        inner = unbatch(self, ask(session, "CHATHISTORY " + line), "draft/chathistory-targets")
        for m in inner:
            self.assertEqual((m.source, m.command, m.params[0]), (SERVER, "CHATHISTORY",
                                                                   "TARGETS"))
        return [m.params[1:] for m in inner]

    def test_targets(self):
        t = format_server_time
        early, late = ts(1, -1000), ts(16, 1000)
        # (who, channels, command, [(name, time of its latest message)])
        cases = [
            ("alice", ("#a",), f"TARGETS {early} {late} 10",
             [("#a", t(TS[13])), ("bob", t(TS[15]))]),
            ("alice", ("#a",), f"TARGETS {late} {early} 10",              # reversed: same order
             [("#a", t(TS[13])), ("bob", t(TS[15]))]),
            # both bounds exclusive
            ("alice", ("#a",), f"TARGETS {early} {ts(15)} 10", [("#a", t(TS[13]))]),
            ("alice", ("#a",), f"TARGETS {ts(13)} {late} 10", [("bob", t(TS[15]))]),
            ("alice", ("#a",), f"TARGETS {ts(15)} {ts(13)} 10", []),
            ("alice", ("#a",), f"TARGETS {ts(13, -1)} {ts(15, 1)} 10",
             [("#a", t(TS[13])), ("bob", t(TS[15]))]),
            # a target counts by its latest message: #a's is 13, so a window before it has none
            ("alice", ("#a",), f"TARGETS {early} {ts(9)} 10", []),
            # the limit counts from the first timestamp
            ("alice", ("#a",), f"TARGETS {early} {late} 1", [("#a", t(TS[13]))]),
            ("alice", ("#a",), f"TARGETS {late} {early} 1", [("bob", t(TS[15]))]),
            # only one's own channels and conversations; names as the other side is called
            ("alice", (), f"TARGETS {early} {late} 10", [("bob", t(TS[15]))]),
            ("bob", ("#a",), f"TARGETS {early} {late} 10",
             [("carol", t(TS[12])), ("#a", t(TS[13])), ("alice", t(TS[15]))]),
            ("carol", ("#b",), f"TARGETS {early} {late} 10",
             [("#b", t(TS[11])), ("bob", t(TS[12]))]),
            ("dave", (), f"TARGETS {early} {late} 10", []),
        ]
        for nick, channels, line, expected in cases:
            with self.subTest(nick=nick, line=line):
                session = client(nick, channels=channels)
                self.assertEqual([tuple(p) for p in self.targets(session, line)],
                                 [tuple(e) for e in expected])

    def test_latest_follows_event_playback(self):
        # With event-playback the PART (14) is #a's latest; carol's QUIT (16) is #b's.
        t = format_server_time
        early, late = ts(1, -1000), ts(16, 1000)
        for nick, channels, expected in (
                ("alice", ("#a",), [("#a", t(TS[14])), ("bob", t(TS[15]))]),
                ("carol", ("#b",), [("bob", t(TS[12])), ("#b", t(TS[16]))])):
            with self.subTest(nick=nick):
                session = client(nick, caps=FULL + ("draft/event-playback",), channels=channels)
                self.assertEqual([tuple(p) for p in
                                  self.targets(session, f"TARGETS {early} {late} 10")], expected)


class TruncatedTest(Helper):
    """With retention, the history below a floor id is gone: a page whose range reaches below
    the floor (and was not cut by the limit first) starts with NOTE HISTORY_TRUNCATED, so that
    a short page does not pass for the beginning of the conversation."""

    def answer(self, line: str, floor: int) -> tuple[bool, list[int]]:
        session = client(reader=FakeHistory(ROWS, floor_id=floor))
        inner = unbatch(self, ask(session, "CHATHISTORY " + line), "chathistory", "#a")
        notes = [m for m in inner if m.command == "NOTE"]
        if notes:
            self.assertEqual(inner[0], notes[0])   # first, before the messages
            self.assertEqual(len(notes), 1)
            self.assertEqual((notes[0].source, notes[0].params[:3]),
                             (SERVER, ("CHATHISTORY", "HISTORY_TRUNCATED", "#a")))
        return bool(notes), msgids(inner)

    def test_note(self):
        # (command, retention floor, NOTE expected, msgids)
        cases = [
            ("LATEST #a * 100", 0, False, MESSAGES_A),       # nothing was deleted
            ("BEFORE #a msgid=5 10", 0, False, [2, 3]),
            ("LATEST #a * 100", 2, True, [3, 5, 7, 9, 10, 13]),
            ("LATEST #a * 3", 2, False, [9, 10, 13]),        # the limit cut it first
            ("BEFORE #a msgid=7 10", 2, True, [3, 5]),
            ("BEFORE #a msgid=7 2", 2, False, [3, 5]),
            ("BEFORE #a msgid=2 10", 2, True, []),           # all of it was deleted
            ("AFTER #a msgid=9 10", 2, False, [10, 13]),     # all above the floor
            ("AFTER #a msgid=1 10", 2, True, [3, 5, 7, 9, 10, 13]),  # 2 is gone from it
            ("AFTER #a msgid=1 1", 2, True, [3]),
            ("AFTER #a " + ts(1) + " 2", 2, True, [3, 5]),
            ("AFTER #a " + ts(3) + " 2", 2, False, [5, 7]),
            ("LATEST #a msgid=1 100", 2, True, [3, 5, 7, 9, 10, 13]),
            ("LATEST #a msgid=1 2", 2, False, [10, 13]),
            ("LATEST #a msgid=3 100", 2, False, [5, 7, 9, 10, 13]),
            ("BETWEEN #a msgid=13 msgid=5 10", 2, False, [7, 9, 10]),  # above the floor
            ("BETWEEN #a msgid=5 msgid=13 10", 2, False, [7, 9, 10]),
            ("BETWEEN #a msgid=13 msgid=1 10", 2, True, [3, 5, 7, 9, 10]),
            ("BETWEEN #a msgid=13 msgid=1 2", 2, False, [9, 10]),
            ("BETWEEN #a msgid=1 msgid=13 2", 2, True, [3, 5]),
            ("AROUND #a msgid=5 3", 2, False, [3, 5, 7]),
            ("AROUND #a msgid=5 5", 2, True, [3, 5, 7, 9, 10]),  # 2 before asked, 1 left
            ("AROUND #a msgid=2 1", 2, True, [3]),           # the reference itself is gone
        ]
        for line, floor, note, expected in cases:
            with self.subTest(line=line, floor=floor):
                self.assertEqual(self.answer(line, floor), (note, expected))

    def test_each_timeline_has_its_own_floor(self):
        """Retention deleted ids up to 10: #a lost events, #b (11 and 16) lost none, so a
        short page of #b is its whole history and carries no note."""
        session = client(channels=("#a", "#b"), caps=FULL + ("draft/event-playback",),
                         reader=FakeHistory(ROWS, floor_id=10))
        inner = unbatch(self, ask(session, "CHATHISTORY LATEST #b * 100"), "chathistory", "#b")
        self.assertEqual([m.command for m in inner], ["PRIVMSG", "QUIT"])
        inner = unbatch(self, ask(session, "CHATHISTORY LATEST #a * 100"), "chathistory", "#a")
        self.assertEqual([m.command for m in inner], ["NOTE", "PRIVMSG", "PART"])

    def test_without_batch_the_note_comes_first(self):
        session = client(caps=("server-time", "message-tags"),
                         reader=FakeHistory(ROWS, floor_id=2))
        lines = ask(session, "CHATHISTORY LATEST #a * 100")
        self.assertEqual((lines[0].command, lines[0].params[:2]),
                         ("NOTE", ("CHATHISTORY", "HISTORY_TRUNCATED")))
        self.assertNotIn("NOTE", [m.command for m in lines[1:]])
        self.assertEqual(msgids(lines[1:]), [3, 5, 7, 9, 10, 13])


if __name__ == "__main__":
    unittest.main()
