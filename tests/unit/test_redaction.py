"""REDACT without processes: the worker's half (chatd/session/redaction.py: where the client
may look, which message, who sent it) through a Session over FakeHistory, and the master's
(chatd/hub/redaction.py: who may redact, who is told) on a Hub. The whole path, with the
tombstone in the file, is tests/integration/test_redaction.py's."""

from __future__ import annotations

import unittest

from chatd import events
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from tests.unit.fake_history import FakeHistory
from tests.unit.test_hub import (add_client, claim_nick, emits, make_hub, replies,
                                 run_line)
from tests.unit.test_session import (CONN, feed, make_session, register, serve,
                                     take_master, take_out)

TS = 1_700_000_000_000
ME = events.history_owner(None, 0, CONN)  # the test session's private history (boot 0)


def row(event_id, kind, source, target, text, convs, account=""):
    return (event_id, TS + event_id, kind, source, target, text, "", convs, account)


class WorkerSideTest(unittest.TestCase):
    def setUp(self):
        self.history = FakeHistory([
            row(1, "PRIVMSG", "alice!a@h", "#c", "mine, logged in", ("#c",), "Alice"),
            row(2, "PRIVMSG", "alice!a@h", "#c", "mine, not logged in", ("#c",)),
            row(3, "PRIVMSG", "bob!b@h", "#c", "bob's", ("#c",), "bob"),
            row(4, "JOIN", "bob!b@h", "#c", "", ("#c",)),
            row(5, "TAGMSG", "bob!b@h", "#c", "", ("#c",)),
            row(6, "PRIVMSG", "alice!a@h", "bob", "to bob",
                events.private_timelines(ME, "alice", "~bob", "bob")),
            row(7, "PRIVMSG", "bob!b@h", "alice", "from bob",
                events.private_timelines("~bob", "bob", ME, "alice")),
            row(8, "PRIVMSG", "bob!b@h", "#other", "elsewhere", ("#other",)),
        ])
        self.session = make_session()
        self.session.history = self.history
        register(self.session, "alice")
        self.session.channels.add("#c")
        take_out(self.session)
        take_master(self.session)

    def redact(self, line: str):
        """(the frame for the master, or None; the lines the client got)"""
        feed(self.session, line)
        sent = [f for f in serve(self.session) if isinstance(f, ipc.Redaction)]
        self.assertLessEqual(len(sent), 1)
        return (sent[0] if sent else None), take_out(self.session)

    def fail(self, line: str) -> tuple:
        frame, out = self.redact(line)
        self.assertIsNone(frame)
        [reply] = out
        self.assertEqual(reply.command, "FAIL", out)
        return reply.params

    def test_what_the_master_is_told(self):
        # (line, its frame's fields: target, msgid, reason, convs, author)
        cases = [
            ("REDACT #c 3 :spam", ("#c", 3, "spam", ("#c",), False)),
            ("REDACT #C 2", ("#C", 2, "", ("#c",), False)),  # not logged in: no author
            ("REDACT #c 5", ("#c", 5, "", ("#c",), False)),  # a reaction (TAGMSG)
            ("REDACT bob 6 :typo", ("bob", 6, "typo", (f"{ME} bob", "~bob alice"), True)),
            ("REDACT bob 7", ("bob", 7, "", ("~bob alice", f"{ME} bob"), False)),  # received
        ]
        for line, (target, msgid, reason, convs, author) in cases:
            with self.subTest(line=line):
                frame, out = self.redact(line)
                self.assertEqual(out, [])  # the master answers
                self.assertEqual((frame.target, frame.msgid, frame.reason, frame.author),
                                 (target, msgid, reason, author))
                self.assertEqual(sorted(frame.convs), sorted(convs))

    def test_the_author_by_account(self):
        self.session.set_account("ALICE")
        frame, _ = self.redact("REDACT #c 1")
        self.assertTrue(frame.author)
        frame, _ = self.redact("REDACT #c 3")
        self.assertFalse(frame.author)

    def test_refusals(self):
        cases = [
            ("REDACT #other 8", ("REDACT", "INVALID_TARGET", "#other")),  # not a member
            ("REDACT #nowhere 1", ("REDACT", "INVALID_TARGET", "#nowhere")),
            ("REDACT no*nick 1", ("REDACT", "INVALID_TARGET", "no*nick")),
            ("REDACT #c nonexistent123", ("REDACT", "UNKNOWN_MSGID", "#c", "nonexistent123")),
            ("REDACT #c 8", ("REDACT", "UNKNOWN_MSGID", "#c", "8")),  # of another channel
            ("REDACT #c 4", ("REDACT", "UNKNOWN_MSGID", "#c", "4")),  # a JOIN
            ("REDACT #c 99", ("REDACT", "UNKNOWN_MSGID", "#c", "99")),
            ("REDACT carol 6", ("REDACT", "UNKNOWN_MSGID", "carol", "6")),  # not that pair
            ("REDACT #c \u0663", ("REDACT", "UNKNOWN_MSGID", "#c", "\u0663")),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(self.fail(line)[:len(expected)], expected)

    def test_a_redacted_message_is_unknown(self):
        self.history.redact(3)
        self.assertEqual(self.fail("REDACT #c 3")[1], "UNKNOWN_MSGID")

    def test_it_reads_the_history_only_after_what_came_before(self):
        # A REDACT waits, as CHATHISTORY does, for the master to answer what was forwarded
        # before it (the message it names may be in that batch).
        feed(self.session, "PRIVMSG #c :hi", "REDACT #c 3")
        self.assertNotIn("message_in", self.history.calls)


class MasterSideTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.op = add_client(self.hub, 1, "op")
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        run_line(self.hub, self.op, "JOIN #c")
        run_line(self.hub, self.bob, "JOIN #c")
        self.hub.take_effects()

    def redact(self, client, target="#c", msgid=10, reason="", convs=("#c",), author=False,
               label=None):
        apply_worker_frame(self.hub, client, ipc.Redaction(
            conn_id=client.conn_id, label=label, target=target, msgid=msgid, reason=reason,
            convs=convs, author=author))
        return self.hub.take_effects()

    def test_an_operator_redacts_anyone_s_message(self):
        [emit] = emits(self.redact(self.op, reason="spam"))
        self.assertEqual((emit.kind, emit.target, emit.text, emit.convs, emit.channels),
                         ("REDACT", "#c", "10 :spam", ("#c",), ("#c",)))
        self.assertEqual(emit.source, self.op.source)
        self.assertEqual(sorted(emit.workers), [0, 1])

    def test_an_author_redacts_its_own_and_nobody_else_s(self):
        [emit] = emits(self.redact(self.bob, author=True))
        self.assertEqual(emit.text, "10")
        effects = self.redact(self.bob, author=False)
        self.assertEqual(emits(effects), [])
        [fail] = replies(effects)
        self.assertEqual(fail.params[:4], ("REDACT", "REDACT_FORBIDDEN", "#c", "10"))

    def test_a_channel_left_meanwhile_is_an_invalid_target(self):
        run_line(self.hub, self.bob, "PART #c")
        self.hub.take_effects()
        [fail] = replies(self.redact(self.bob, author=True))
        self.assertEqual(fail.params[:3], ("REDACT", "INVALID_TARGET", "#c"))

    def test_a_long_reason_is_cut_to_fit_the_line(self):
        [emit] = emits(self.redact(self.op, reason="x" * 600))
        line = events.format_event(emit.kind, emit.source, emit.target, emit.text)
        self.assertLessEqual(len(line.encode()), 510)
        self.assertTrue(emit.text.startswith("10 :xxx") and emit.text.endswith("…"))

    def test_a_private_message_tells_its_author_and_the_other_side_if_it_is_theirs(self):
        mine, theirs = events.private_timelines(self.hub.history_owner(self.op), "op",
                                                self.hub.history_owner(self.bob), "bob")
        [emit] = emits(self.redact(self.op, target="bob", convs=(mine, theirs), author=True))
        self.assertEqual((emit.channels, sorted(emit.to_conns), sorted(emit.workers)),
                         ((), [1, 2], [0, 1]))
        # bob left and carol took the nick: she is not told (the message is not hers)
        claim_nick(self.hub, self.bob, "bobby")
        carol = add_client(self.hub, 3, "bob", worker=1)
        self.hub.take_effects()
        [emit] = emits(self.redact(self.op, target="bob", convs=(mine, theirs), author=True))
        self.assertEqual(emit.to_conns, (1,))
        self.assertNotIn(carol.conn_id, emit.to_conns)

    def test_a_received_private_message_is_not_the_client_s_to_redact(self):
        [fail] = replies(self.redact(self.op, target="bob", convs=("x",), author=False))
        self.assertEqual(fail.params[1], "REDACT_FORBIDDEN")

    def test_a_labeled_redaction_is_bracketed(self):
        effects = self.redact(self.op, label="L1")
        self.assertEqual([type(e).__name__ for e in effects], ["ToWorker", "Emit", "ToWorker"])


if __name__ == "__main__":
    unittest.main()
