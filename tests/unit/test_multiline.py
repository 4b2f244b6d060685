"""Multi-line messages (IRCv3 draft/multiline), the pure parts: how one is kept in one row
and sent as a batch or as fallback lines (chatd/multiline.py, chatd/events.py); a client's
batch collected and checked by its session (chatd/session/client_batch.py), fakelag and
recvq around it; the master's check of each line and the one event it emits
(chatd/hub/multiline_messages.py); the labeled echo (chatd/session/labels.py).

The spec's examples (ircv3.net/specs/extensions/multiline) are the cases where it has some."""

import unittest

from chatd import events, multiline
from chatd.hub import storing
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from chatd.session import client_batch, labels
from ircproto.message import parse
from tests.unit.test_hub import add_client, emits, make_hub, replies, run
from tests.unit.test_session import (CONN, T0, feed, make_session, register, serve,
                                     take_master, take_out)

SOURCE = "n!u@h"
TS = 1_700_000_000_123
# The spec's example: "hello", "how is " and, concatenated, "everyone?".
SPEC_LINES = [("hello", False), ("how is ", False), ("everyone?", True)]
ALL_BITS = events.WANTS_TIME | events.WANTS_TAGS | events.WANTS_ACCOUNT


def stored_row(lines, client_tags: str = "", account: str = "account", event_id: int = 42):
    return (event_id, TS, "PRIVMSG", SOURCE, "#channel", multiline.combined_text(lines),
            multiline.tags_with_composition(client_tags, lines), account)


class StoredFormTest(unittest.TestCase):
    def test_the_row_holds_the_combined_text_and_where_concatenated_lines_begin(self):
        row = stored_row(SPEC_LINES)
        self.assertEqual(row[events.TEXT], "hello\nhow is everyone?")
        self.assertEqual(row[events.TAGS], "multiline=13")
        self.assertEqual(multiline.tags_with_composition("+draft/reply=7", SPEC_LINES),
                         "+draft/reply=7;multiline=13")

    def test_the_lines_come_back_exactly(self):
        cases = [
            SPEC_LINES,
            [("one", False)],
            [("", False), ("#how is ", False), ("everyone?", True)],  # a blank first line
            [("a", False), ("", False), ("", False), ("b", False)],  # blank lines kept
            [("x" * 300, False), ("y" * 300, True), ("z" * 10, True), ("w", False)],
            [("é€😀", False), ("😀", True), ("\x01ACTION waves\x01", False)],
        ]
        for lines in cases:
            with self.subTest(lines=lines):
                text = multiline.combined_text(lines)
                client_tags, offsets = events.split_stored_tags(
                    multiline.tags_with_composition("+a=1", lines))
                self.assertEqual(client_tags, "+a=1")
                self.assertEqual(multiline.lines_of(text, offsets), lines)

    def test_offsets_that_cannot_start_a_line_are_ignored(self):
        for offsets in [(0,), (5,), (99,), (2,), (2, 2)]:  # 2 is the line feed
            with self.subTest(offsets=offsets):
                self.assertEqual(multiline.lines_of("ab\ncd", offsets),
                                 [("ab", False), ("cd", False)])
        self.assertEqual(multiline.lines_of("ab\ncd", (4, 1)),
                         [("a", False), ("b", True), ("c", False), ("d", True)])

    def test_only_chatd_s_own_last_entry_marks_a_multiline(self):
        cases = [
            ("", None),
            ("+a=1", None),
            ("+multiline=3", None),  # a client's tag of that name is not ours
            ("+x=multiline", None),
            ("multiline", ()),
            ("multiline=4,9", (4, 9)),
            ("+multiline=1;multiline=7", (7,)),
        ]
        for tags, offsets in cases:
            with self.subTest(tags=tags):
                self.assertEqual(events.split_stored_tags(tags)[1], offsets)

    def test_the_history_keeps_the_composition_whatever_the_client_tags_spend(self):
        big = "+a=" + "v" * 600
        tags = multiline.tags_with_composition(f"{big};+b=1", SPEC_LINES)
        self.assertEqual(storing.stored_tags(tags), "+b=1;multiline=13")
        self.assertEqual(storing.stored_tags("+typing=active;multiline"), "multiline")


class BatchFormTest(unittest.TestCase):
    """To a client with draft/multiline and batch (the spec's "Server sending the same
    batch")."""

    def test_the_spec_example(self):
        row = stored_row(SPEC_LINES)
        lines = multiline.event_lines(row, ALL_BITS | events.WANTS_MULTILINE)
        self.assertEqual(lines, [
            "@time=2023-11-14T22:13:20.123Z;account=account;msgid=42 "
            ":n!u@h BATCH +ml42 draft/multiline #channel",
            "@batch=ml42 :n!u@h PRIVMSG #channel :hello",
            "@batch=ml42 :n!u@h PRIVMSG #channel :how is ",
            "@batch=ml42;draft/multiline-concat :n!u@h PRIVMSG #channel :everyone?",
            ":n!u@h BATCH -ml42",
        ])

    def test_client_tags_go_on_the_batch_start_and_blank_lines_are_sent(self):
        lines = [("", False), ("#how is ", False), ("everyone?", True)]
        out = [parse(line) for line in multiline.event_lines(
            stored_row(lines, "+client-only-tag"), ALL_BITS | events.WANTS_MULTILINE)]
        self.assertIn("+client-only-tag", out[0].tags)
        self.assertEqual([m.params for m in out[1:-1]],
                         [("#channel", ""), ("#channel", "#how is "), ("#channel", "everyone?")])
        for msg in out[1:-1]:
            self.assertNotIn("msgid", msg.tags)
            self.assertNotIn("+client-only-tag", msg.tags)

    def test_a_replay_without_server_time_stamps_the_first_line_sent(self):
        lines = [("", False), ("hi", False), ("there", False)]
        out = multiline.event_lines(stored_row(lines), events.WANTS_MULTILINE, stamp=True)
        self.assertEqual(out[1], "@batch=ml42 :n!u@h PRIVMSG #channel :")
        self.assertEqual(out[2], "@batch=ml42 :n!u@h PRIVMSG #channel :[2023-11-14 22:13 UTC] hi")
        self.assertEqual(out[3], "@batch=ml42 :n!u@h PRIVMSG #channel :there")


class FallbackTest(unittest.TestCase):
    """To a client without draft/multiline (the spec's "Server sending messages to clients
    without multiline support")."""

    def test_the_spec_example(self):
        lines = multiline.event_lines(stored_row(SPEC_LINES), events.WANTS_TAGS
                                      | events.WANTS_ACCOUNT)
        self.assertEqual(lines, [
            "@account=account;msgid=42 :n!u@h PRIVMSG #channel :hello",
            "@account=account :n!u@h PRIVMSG #channel :how is ",
            "@account=account :n!u@h PRIVMSG #channel :everyone?",
        ])

    def test_no_blank_line_and_the_msgid_on_the_first_line_sent(self):
        lines = [("", False), ("#how is ", False), ("", False), ("everyone?", False)]
        out = [parse(line) for line in multiline.event_lines(
            stored_row(lines, "+client-only-tag"), ALL_BITS)]
        self.assertEqual([m.params[1] for m in out], ["#how is ", "everyone?"])
        self.assertEqual([m.tags.get("msgid") for m in out], ["42", None])
        for msg in out:
            self.assertEqual(msg.tags["time"], "2023-11-14T22:13:20.123Z")
            self.assertIn("+client-only-tag", msg.tags)
            self.assertNotIn(multiline.CONCAT_TAG, msg.tags)

    def test_long_client_tags_are_not_repeated_on_every_line(self):
        # 4 KiB of tags on each of 100 lines would be 400 KiB for each such recipient.
        for tags, repeated in (("+draft/reply=12", True), ("+a=" + "v" * 4000, False)):
            with self.subTest(repeated=repeated):
                out = [parse(line) for line in multiline.event_lines(
                    stored_row([("a", False), ("b", False)], tags), ALL_BITS)]
                self.assertIn(tags.split("=")[0], out[0].tags)
                self.assertEqual(tags.split("=")[0] in out[1].tags, repeated)

    def test_a_batch_needs_batch_too(self):
        caps = frozenset({"draft/multiline", "server-time"})
        self.assertFalse(events.variant_for(caps) & events.WANTS_MULTILINE)
        self.assertTrue(events.variant_for(caps | {"batch"}) & events.WANTS_MULTILINE)

    def test_a_plain_client_gets_lines_and_the_stamp_on_the_first(self):
        out = multiline.event_lines(stored_row(SPEC_LINES), 0, stamp=True)
        self.assertEqual(out, [":n!u@h PRIVMSG #channel :[2023-11-14 22:13 UTC] hello",
                               ":n!u@h PRIVMSG #channel :how is ",
                               ":n!u@h PRIVMSG #channel :everyone?"])

    def test_every_line_fits_512_bytes_even_with_a_replay_stamp(self):
        source = "n" * 30 + "!" + "u" * 16 + "@" + "h" * 63
        lines = [("é" * 192, False)] * 3  # 384 bytes: the most that fits with this prefix
        row = (1, TS, "PRIVMSG", source, "#c", multiline.combined_text(lines),
               multiline.tags_with_composition("", lines), "")
        for variant in (0, events.WANTS_MULTILINE):
            for stamp in (False, True):
                for line in multiline.event_lines(row, variant, stamp):
                    body = line.split(" ", 1)[1] if line.startswith("@") else line
                    self.assertLessEqual(len(body.encode()) + 2, 512, line[:80])

    def test_any_other_caller_gets_one_line_without_a_line_feed(self):
        # event_line is what a caller that does not know multi-line messages uses: it can
        # never send a line feed inside a line, nor chatd's own tag.
        row = stored_row(SPEC_LINES, "+a=1")
        line = events.event_line(row, ALL_BITS)
        self.assertNotIn("\n", line)
        self.assertNotIn("multiline", line)
        self.assertTrue(line.endswith("PRIVMSG #channel :hello how is everyone?"), line)
        self.assertNotIn("\n", events.stamped_replay_line(row, 0))


def multiline_session(caps: str = "message-tags batch draft/multiline labeled-response",
                      **settings):
    session = make_session(**settings)
    feed(session, "CAP LS 302", f"CAP REQ :{caps}", "CAP END")
    register(session)
    take_master(session)
    return session


def fails(messages) -> list[tuple[str, ...]]:
    return [m.params[:-1] for m in messages if m.command == "FAIL"]


class ClientBatchTest(unittest.TestCase):
    """A client's batch, collected by its session (the spec's "Client sending a multiline
    batch" and its errors)."""

    def test_the_spec_example_is_one_frame_to_the_master(self):
        session = multiline_session()
        feed(session, "@label=xyz;+draft/reply=9 BATCH +123 draft/multiline #channel",
             "@batch=123 PRIVMSG #channel hello",
             "@batch=123 privmsg #channel :how is ",
             "@batch=123;draft/multiline-concat PRIVMSG #channel :everyone?")
        self.assertEqual((take_out(session), take_master(session)), ([], []))  # no ACK
        feed(session, "BATCH -123")
        self.assertEqual(take_master(session), [ipc.Multiline(
            conn_id=CONN, kind="PRIVMSG", target="#channel",
            lines=("hello", "how is ", "everyone?"), concat=(False, False, True),
            label="xyz", client_tags="+draft/reply=9")])
        self.assertEqual(take_out(session), [])

    def test_refusals(self):
        big = "x" * 400
        open_1 = "BATCH +1 draft/multiline #t"
        rest_1 = ["@batch=1 PRIVMSG #t :more", "BATCH -1"]  # ignored once it failed
        invalid = ("BATCH", "MULTILINE_INVALID")
        cases = [  # (name, lines, the rest of the batch that is ignored, the FAIL)
            ("mismatched target",
             ["BATCH +456 draft/multiline #foo", "@batch=456 PRIVMSG #bar hello"],
             ["@batch=456 PRIVMSG #foo :x", "BATCH -456"],
             ("BATCH", "MULTILINE_INVALID_TARGET", "#foo", "#bar")),
            ("another reference",
             ["BATCH +123 draft/multiline #t", "@batch=231 PRIVMSG #t :hi"],
             ["@batch=123 PRIVMSG #t :x", "@batch=231 PRIVMSG #t :y", "BATCH -231",
              "BATCH -123"], invalid),
            ("blank concatenated line",
             [open_1, "@batch=1 PRIVMSG #t :hi", "@batch=1;draft/multiline-concat PRIVMSG #t :"],
             rest_1, invalid),
            ("only blank lines", [open_1, "@batch=1 PRIVMSG #t :", "BATCH -1"], [], invalid),
            ("no lines", [open_1, "BATCH -1"], [], invalid),
            ("mixed commands", [open_1, "@batch=1 PRIVMSG #t :a", "@batch=1 NOTICE #t :b"],
             rest_1, invalid),
            ("max-bytes", [open_1] + [f"@batch=1 PRIVMSG #t {big}"] * 11, rest_1,
             ("BATCH", "MULTILINE_MAX_BYTES", "4096")),
            ("max-lines", [open_1] + ["@batch=1 PRIVMSG #t hi"] * 101, rest_1,
             ("BATCH", "MULTILINE_MAX_LINES", "100")),
            ("another command inside", [open_1, "@batch=1 PRIVMSG #t :a", "JOIN #u"], rest_1,
             invalid),
            ("nested", [open_1, "BATCH +2 draft/multiline #t"],
             ["@batch=2 PRIVMSG #t :x", "BATCH -2"] + rest_1, invalid),
            ("unknown type", ["BATCH +1 example/thing #t"], [], invalid),
            ("two targets", ["BATCH +1 draft/multiline #t,#u"], [], invalid),
            ("bad reference", ["BATCH +a_b draft/multiline #t"], [], invalid),
            ("an end of nothing", ["BATCH -9"], [], invalid),
            ("a line of nothing", ["@batch=9 PRIVMSG #t :hi"], ["@batch=9 PRIVMSG #t :x", "BATCH -9"],
             invalid),
        ]
        for name, lines, ignored, fail in cases:
            with self.subTest(name):
                session = multiline_session()
                feed(session, *lines, *ignored)
                # One mistake, one FAIL; nothing is sent, nor run (the JOIN).
                self.assertEqual(fails(take_out(session)), [fail])
                self.assertEqual(take_master(session), [])
                self.assertFalse(session.client_batch.is_open)
                self.assertEqual(session.client_batch.ignored, ())

    def test_without_the_capabilities_a_batch_is_refused(self):
        for caps in ("batch message-tags", "draft/multiline message-tags"):
            with self.subTest(caps=caps):
                session = multiline_session(caps)
                feed(session, "BATCH +1 draft/multiline #t")
                self.assertEqual(fails(take_out(session)), [("BATCH", "MULTILINE_INVALID")])

    def test_a_notice_batch_is_refused_in_silence(self):
        session = multiline_session()
        feed(session, "BATCH +1 draft/multiline #t", "@batch=1 NOTICE #t :a",
             "@batch=1 NOTICE #u :b", "@batch=1 NOTICE #t :c", "BATCH -1")
        self.assertEqual(take_out(session), [])
        self.assertEqual(take_master(session), [])

    def test_ping_pong_and_quit_may_come_inside_a_batch(self):
        session = multiline_session()
        feed(session, "BATCH +1 draft/multiline #t", "@batch=1 PRIVMSG #t :a", "PING :x",
             "PONG :y", "@batch=1 PRIVMSG #t :b")
        serve(session)
        self.assertEqual([m.command for m in take_out(session)], ["PONG"])
        feed(session, "BATCH -1")
        [frame] = take_master(session)  # serve() took the PING's barrier
        self.assertEqual(frame.lines, ("a", "b"))

    def test_a_batch_left_open_is_dropped_and_its_lines_ignored(self):
        session = multiline_session()
        feed(session, "BATCH +1 draft/multiline #t", "@batch=1 PRIVMSG #t :a")
        session.on_timer(T0 + client_batch.TIMEOUT_S - 1)
        self.assertTrue(session.client_batch.is_open)
        session.on_timer(T0 + client_batch.TIMEOUT_S)
        self.assertEqual(fails(take_out(session)), [("BATCH", "TIMEOUT", "1")])
        feed(session, "@batch=1 PRIVMSG #t :b", "BATCH -1", now=T0 + client_batch.TIMEOUT_S)
        self.assertEqual((take_out(session), take_master(session)), ([], []))

    def test_fakelag_counts_every_line_but_delivers_the_batch_at_once(self):
        session = multiline_session(flood_burst=5, flood_rate=2.0, exempt=())
        lines = (["BATCH +1 draft/multiline #t"] + ["@batch=1 PRIVMSG #t :line"] * 100
                 + ["BATCH -1"])
        feed(session, *lines)
        self.assertIsNone(session.close_reason)
        [frame] = take_master(session)
        self.assertEqual(len(frame.lines), 100)
        # Every line was charged: the next line waits for about (102 - 5 + 1) / 2 s.
        feed(session, "PRIVMSG #t :after")
        self.assertEqual(take_master(session), [])
        self.assertGreater(session.wake_at, T0 + 45)
        # Opening the next batch waits the same way: its lines do not jump the queue.
        feed(session, "BATCH +2 draft/multiline #t", "@batch=2 PRIVMSG #t :x", "BATCH -2")
        self.assertEqual(take_master(session), [])

    def test_held_input_beyond_recvq_is_one_batch_for_a_multiline_client(self):
        for caps, dropped in (("message-tags batch draft/multiline", False),
                              ("message-tags batch", True)):
            with self.subTest(caps=caps):
                session = multiline_session(caps, flood_burst=1, flood_rate=1.0, exempt=())
                feed(session, "PRIVMSG #t :first", "PRIVMSG #t :waits")
                feed(session, *["@batch=1 PRIVMSG #t :" + "y" * 60] * 100)
                self.assertEqual(session.close_reason == "Excess Flood", dropped)


class HistoryBudgetTest(unittest.TestCase):
    """A history answer takes at most a share of the recipient's sendq, in whole events."""

    def rows(self) -> list[tuple]:
        big = [("line", False)] * 100  # ~100 lines of ~50 bytes each to its recipient
        return [stored_row([(f"small {n}", False)], event_id=n) if n % 2 else
                stored_row(big, event_id=n) for n in range(1, 11)]

    def test_whole_events_from_the_end_asked_for(self):
        rows = self.rows()
        everything, count = multiline.history_lines(rows, 0, 1 << 20, keep_newest=True)
        self.assertEqual(count, 10)
        total = sum(len(line) for line in everything)
        for keep_newest in (True, False):
            with self.subTest(keep_newest=keep_newest):
                lines, count = multiline.history_lines(rows, 0, total // 2, keep_newest)
                self.assertLessEqual(sum(len(line) for line in lines), total // 2)
                self.assertGreater(count, 1)
                self.assertLess(count, 10)
                kept = rows[-count:] if keep_newest else rows[:count]
                expected = [(line + "\r\n").encode()
                            for row in kept for line in multiline.event_lines(row, 0)]
                self.assertEqual(lines, expected)

    def test_one_event_is_always_sent(self):
        # The newest, a batch of 100 lines, whole, however small the budget.
        lines, count = multiline.history_lines(self.rows(), events.WANTS_MULTILINE, 10, True)
        self.assertEqual(count, 1)
        self.assertEqual((len(lines), lines[-1]), (102, b":n!u@h BATCH -ml10\r\n"))


class MasterTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.alice = add_client(self.hub, 1, "alice")
        run(self.hub, self.alice, "JOIN #a")

    def send(self, lines, kind="PRIVMSG", target="#a", client_tags="") -> list:
        apply_worker_frame(self.hub, self.alice, ipc.Multiline(
            conn_id=1, kind=kind, target=target, lines=tuple(t for t, _ in lines),
            concat=tuple(c for _, c in lines), label=None, client_tags=client_tags))
        return self.hub.take_effects()

    def test_one_event_with_the_combined_text_and_the_composition(self):
        [emit] = emits(self.send(SPEC_LINES, client_tags="+draft/reply=3"))
        self.assertEqual((emit.kind, emit.target, emit.text),
                         ("PRIVMSG", "#a", "hello\nhow is everyone?"))
        self.assertEqual(emit.tags, "+draft/reply=3;multiline=13")
        self.assertEqual(emit.stored_tags, "+draft/reply=3;multiline=13")

    def test_a_line_too_long_once_relayed_is_refused_whole(self):
        line = "x" * (510 - len(f":{self.alice.source} PRIVMSG #a :"))
        self.assertEqual(len(emits(self.send([(line, False)]))), 1)  # fits exactly
        effects = self.send([("ok", False), (line + "y", False)])
        self.assertEqual(emits(effects), [])
        self.assertEqual([m.params[:2] for m in replies(effects)],
                         [("BATCH", "MULTILINE_INVALID")])
        self.assertIn("Line 2", replies(effects)[0].params[-1])
        self.assertEqual(self.send([("ok", False), (line + "yy", False)], kind="NOTICE"), [])

    def test_the_channel_rules_and_the_stored_bytes_apply_to_the_whole(self):
        self.assertEqual([m.command for m in replies(self.send(SPEC_LINES, target="#nope"))],
                         ["403"])
        hub = make_hub(history_client_bytes_per_s=100)  # 3,200 bytes of burst
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #a")
        apply_worker_frame(hub, alice, ipc.Multiline(
            conn_id=1, kind="PRIVMSG", target="#a", lines=("z" * 400,) * 9,
            concat=(False,) * 9, label=None, client_tags=""))
        effects = hub.take_effects()
        self.assertEqual(emits(effects), [])
        self.assertIn("more than the history may keep", replies(effects)[0].params[-1])


class LabeledEchoTest(unittest.TestCase):
    def test_the_label_goes_on_the_batch_start(self):
        # The multiline spec: with echo-message, the label is only on the opening BATCH.
        row = stored_row(SPEC_LINES)
        echo = [(line + "\r\n").encode()
                for line in multiline.event_lines(row, ALL_BITS | events.WANTS_MULTILINE)]
        labeled = labels.label_response(echo, "xyz", "srv", "b1")
        self.assertEqual(len(labeled), len(echo))
        self.assertTrue(labeled[0].startswith(b"@label=xyz;time="))
        self.assertEqual(labeled[1:], echo[1:])


if __name__ == "__main__":
    unittest.main()
