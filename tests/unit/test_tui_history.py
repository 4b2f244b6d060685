"""tui.history: CHATHISTORY on join, older pages, catching up after a reconnect (paging,
de-duplication by msgid), TARGETS discovery, failures, and servers without chathistory."""

import unittest
from datetime import timedelta

from ircproto.message import parse
from tests.unit.test_tui_support import ALL_CAPS, MASK, T0, Harness, stamp
from tui.state import BufferKind, Delivery, Kind

HOUR = timedelta(hours=1)


def privmsgs(h: Harness, first: int, last: int, target: str = "#lobby",
             nick: str = "bob") -> list[str]:
    """Stored messages with msgids first..last, a minute apart, an hour ago."""
    return [h.line("PRIVMSG", target, f"m{i}", source=f"{nick}!u@h", msgid=i,
                   when=T0 - HOUR + timedelta(minutes=i)) for i in range(first, last + 1)]


def request(line: str) -> tuple[str, ...]:
    """A sent CHATHISTORY line without its label."""
    return parse(line).params


class FirstJoinTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.register()

    def test_join_asks_for_the_latest_page_instead_of_a_replay(self) -> None:
        out = self.h.join()
        self.assertEqual([request(line) for line in out],
                         [("LATEST", "#lobby", "*", "50")])
        self.assertTrue(parse(out[0]).tags["label"])

    def test_short_latest_page_is_the_whole_history(self) -> None:
        self.h.join()
        self.h.answer(privmsgs(self.h, 1, 3))
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "now", msgid=4))
        self.assertEqual(self.h.chat("#lobby"),
                         ["[start]", "bob: m1", "bob: m2", "bob: m3", "[live]", "bob: now"])
        buf = self.h.buffer("#lobby")
        self.assertTrue(all(line.history for line in buf.lines if line.text.startswith("m")))
        self.assertEqual(buf.lines[[l.text for l in buf.lines].index("m1")].time,
                         T0 - HOUR + timedelta(minutes=1))

    def test_live_message_before_the_page_keeps_its_place(self) -> None:
        self.h.join()
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "m4", msgid=4))  # arrives first
        self.h.answer(privmsgs(self.h, 1, 4))
        self.assertEqual(self.h.chat("#lobby"),
                         ["[start]", "bob: m1", "bob: m2", "bob: m3", "[live]", "bob: m4"])

    def test_a_stored_join_of_ours_is_shown_once_after_the_history(self) -> None:
        h = self.h
        out = h.recv(h.line("JOIN", "#lobby", source=MASK, msgid=99))
        self.assertEqual([request(line) for line in out], [("LATEST", "#lobby", "*", "50")])
        h.answer(privmsgs(h, 1, 2) + [h.line("JOIN", "#lobby", source=MASK, msgid=99)])
        self.assertEqual([line.text for line in h.buffer("#lobby").lines],
                         ["start", "m1", "m2", "You joined #lobby"])
        h.recv(h.line("PRIVMSG", "#lobby", "now", msgid=100))
        self.assertEqual([line.text for line in h.buffer("#lobby").lines][-3:],
                         ["You joined #lobby", "live", "now"])

    def test_empty_history(self) -> None:
        self.h.join()
        self.h.answer([])
        self.assertEqual(self.h.chat("#lobby"), [])
        self.assertTrue(self.h.buffer("#lobby").history_start)
        self.assertEqual(self.h.session.load_older(self.h.buffer("#lobby")), [])

    def test_event_playback_lines_are_events_without_side_effects(self) -> None:
        self.h.join(names="alice bob")
        self.h.answer([self.h.line("JOIN", "#lobby", source="carol!c@h", msgid=1),
                       self.h.line("PART", "#lobby", "bye", source="bob!b@h", msgid=2),
                       self.h.line("TAGMSG", "#lobby", msgid=3)])
        buf = self.h.buffer("#lobby")
        events = [l.text for l in buf.lines if l.kind == Kind.EVENT and l.msgid]
        self.assertEqual(events, ["--> carol joined #lobby", "<-- bob left #lobby (bye)"])
        self.assertEqual(sorted(buf.users.nicks()), ["alice", "bob"])  # history changes nobody


class OlderPagesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness()
        self.h.register()
        self.h.join()
        self.h.answer(privmsgs(self.h, 51, 100))
        self.buf = self.h.buffer("#lobby")

    def test_full_page_is_not_the_start(self) -> None:
        self.assertFalse(self.buf.history_start)
        self.assertNotIn("[start]", self.h.chat("#lobby"))

    def test_pages_back_to_the_start(self) -> None:
        cases = [  # (page the server gives, expected request, start reached)
            ((1, 50), ("BEFORE", "#lobby", "msgid=51", "50"), False),
            ((0, 0), ("BEFORE", "#lobby", "msgid=1", "50"), True),
        ]
        for (first, last), expected, at_start in cases:
            with self.subTest(expected=expected):
                out = self.h.recv() + [e.line for e in self.h.session.load_older(self.buf)]
                self.assertEqual([request(line) for line in out], [expected])
                self.h.lines += out
                self.h.answer(privmsgs(self.h, first, last))
                self.assertEqual(self.buf.history_start, at_start)
        chat = self.h.chat("#lobby")
        self.assertEqual(chat, ["[start]"] + [f"bob: m{i}" for i in range(101)] + ["[live]"])
        self.assertEqual(self.h.session.load_older(self.buf), [])

    def test_one_request_at_a_time(self) -> None:
        self.assertEqual(len(self.h.session.load_older(self.buf)), 1)
        self.assertEqual(self.h.session.load_older(self.buf), [])

    def test_scroll_position_is_kept_when_older_lines_arrive(self) -> None:
        from tui.layout import Anchor
        self.buf.anchor = Anchor(self.buf.first_index + 3, 0)
        shown = self.buf.line_at(self.buf.anchor.line).text
        self.h.lines += [e.line for e in self.h.session.load_older(self.buf)]
        self.h.answer(privmsgs(self.h, 41, 50))
        self.assertEqual(self.buf.line_at(self.buf.anchor.line).text, shown)
        self.assertEqual(self.buf.unseen, 0)
        self.assertIn("m41", self.h.texts("#lobby"))

    def test_truncated_history_is_marked(self) -> None:
        self.h.lines += [e.line for e in self.h.session.load_older(self.buf)]
        note = ":srv NOTE CHATHISTORY HISTORY_TRUNCATED #lobby :Older messages were deleted"
        self.h.answer([note] + privmsgs(self.h, 45, 50))
        self.assertEqual(self.h.chat("#lobby")[0], "[truncated]")
        self.assertTrue(self.buf.history_start)


class CatchUpTest(unittest.TestCase):
    """Reconnect: exactly the missed messages, each once, in order."""

    def setUp(self) -> None:
        self.h = Harness()
        self.h.register()
        self.h.join()
        self.h.answer(privmsgs(self.h, 1, 2))
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "m3", msgid=3,
                                when=T0 - HOUR + timedelta(minutes=3)))
        self.h.session.disconnected("Connection reset", self.h.now)
        self.h.now += timedelta(minutes=5)

    def test_after_the_last_msgid_paging_until_a_short_page(self) -> None:
        self.h.register()
        out = self.h.join()
        self.assertEqual([request(line) for line in out], [("AFTER", "#lobby", "msgid=3", "100")])
        out = self.h.answer(privmsgs(self.h, 3, 102))  # overlaps by one; full page
        self.assertEqual([request(line) for line in out],
                         [("AFTER", "#lobby", "msgid=102", "100")])
        self.assertEqual(self.h.answer(privmsgs(self.h, 103, 110)), [])
        chat = [c for c in self.h.chat("#lobby") if c.startswith("bob")]
        self.assertEqual(chat, [f"bob: m{i}" for i in range(1, 111)])
        self.assertFalse(self.h.session.history.syncing)

    def test_a_page_ending_in_invisible_lines_still_pages_on(self) -> None:
        self.h.register()
        self.h.join()
        page = privmsgs(self.h, 4, 101) + [self.h.line("TAGMSG", "#lobby", msgid=i)
                                            for i in (102, 103)]
        out = self.h.answer(page)
        self.assertEqual([request(line) for line in out],
                         [("AFTER", "#lobby", "msgid=103", "100")])

    def test_missed_messages_come_after_the_rejoin_and_before_live_ones(self) -> None:
        self.h.register()
        self.h.join()
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "m6", msgid=6))  # live, during the fetch
        self.h.answer(privmsgs(self.h, 4, 6))
        texts = self.h.texts("#lobby")
        # Our JOIN came after what was missed; "— live —" right below it, once.
        rejoined = texts.index("You joined #lobby", texts.index("m3"))
        self.assertLess(texts.index("m5"), rejoined)
        self.assertEqual(texts[rejoined + 1], "live")
        self.assertEqual(texts.count("live"), 1)
        self.assertEqual([t for t in texts if t.startswith("m")],
                         ["m1", "m2", "m3", "m4", "m5", "m6"])
        self.assertLess(texts.index("live"), texts.index("m6"))

    def test_nothing_missed_still_moves_the_divider_below_the_rejoin(self) -> None:
        self.h.register()
        self.h.join()
        self.h.answer([])  # nothing was said meanwhile
        texts = self.h.texts("#lobby")
        self.assertEqual(texts.count("live"), 1)
        rejoined = texts.index("You joined #lobby", texts.index("m3"))
        self.assertEqual(texts[rejoined + 1], "live")

    def test_with_a_stored_rejoin_missed_messages_come_before_it(self) -> None:
        h = self.h
        h.register()
        out = h.recv(h.line("JOIN", "#lobby", source=MASK, msgid=9))
        self.assertEqual([request(line) for line in out], [("AFTER", "#lobby", "msgid=3", "100")])
        h.answer(privmsgs(h, 4, 5) + [h.line("JOIN", "#lobby", source=MASK, msgid=9)])
        h.recv(h.line("PRIVMSG", "#lobby", "now", msgid=10))
        texts = [t for t in h.texts("#lobby") if not t.startswith("Disconnected")]
        self.assertEqual(texts[-6:], ["m3", "m4", "m5", "You joined #lobby", "live", "now"])
        self.assertEqual(texts.count("live"), 1)  # moved below the new JOIN, not added

    def test_missed_messages_count_as_unread(self) -> None:
        self.h.register()
        self.h.join()
        self.h.state.switch(0)
        self.h.answer(privmsgs(self.h, 4, 5) + [self.h.line(
            "PRIVMSG", "#lobby", "hey alice", msgid=6)])
        buf = self.h.buffer("#lobby")
        self.assertEqual((buf.unread, buf.mention), (3, True))


class TargetsTest(unittest.TestCase):
    def test_missed_private_conversations_are_discovered_and_caught_up(self) -> None:
        h = Harness()
        h.register()
        h.recv(h.line("PRIVMSG", "alice", "hi alice", source="carol!c@h", msgid=7))
        h.answer([], h.last("CHATHISTORY"))  # carol's new buffer loads its latest page
        seen_until = h.now
        h.session.disconnected("ping timeout", h.now)
        h.now += timedelta(minutes=10)
        out = h.register()
        asked = [parse(line) for line in out if parse(line).command == "CHATHISTORY"]
        self.assertEqual([m.params for m in asked], [
            ("TARGETS", f"timestamp={stamp(seen_until)}",
             f"timestamp={stamp(h.now + timedelta(minutes=1))}", "50"),
            ("AFTER", "carol", "msgid=7", "100")])
        targets, carol = asked
        out = h.answer([":srv CHATHISTORY TARGETS #lobby 2026-11-25T18:05:00.000Z",
                        ":srv CHATHISTORY TARGETS carol 2026-11-25T18:06:00.000Z",
                        ":srv CHATHISTORY TARGETS dave 2026-11-25T18:07:00.000Z"], targets)
        self.assertEqual([request(line) for line in out],
                         [("AFTER", "dave", f"timestamp={stamp(seen_until)}", "100")])
        h.answer([h.line("PRIVMSG", "alice", "are you there?", source="dave!d@h", msgid=9)])
        h.answer([h.line("PRIVMSG", "alice", "again", source="carol!c@h", msgid=8)], carol)
        dave = h.buffer("dave")
        self.assertEqual((dave.kind, h.chat("dave")), (BufferKind.QUERY, ["dave: are you there?"]))
        self.assertTrue(dave.mention)
        self.assertEqual(h.chat("carol"), ["carol: hi alice", "carol: again"])
        self.assertIsNone(h.state.get("#lobby"))

    def test_a_full_targets_page_asks_for_the_next(self) -> None:
        h = Harness()
        h.register()
        h.recv(h.line("NOTICE", "alice", "x", source="srv.example"))
        h.session.disconnected("gone", h.now)
        out = h.register()
        targets = next(parse(l) for l in out if parse(l).command == "CHATHISTORY")
        names = [f":srv CHATHISTORY TARGETS u{i} 2026-11-25T17:{i:02d}:00.000Z"
                 for i in range(50)]
        out = h.answer(names, targets)
        follow = [request(line) for line in out if request(line)[0] == "TARGETS"]
        self.assertEqual(follow, [("TARGETS", "timestamp=2026-11-25T17:49:00.000Z",
                                   targets.params[2], "50")])
        self.assertEqual(len([b for b in h.state.buffers if b.kind == BufferKind.QUERY]), 50)


class FailureTest(unittest.TestCase):
    def test_fail_ends_the_sync_and_is_shown(self) -> None:
        h = Harness()
        h.register()
        out = h.join()
        label = parse(out[0]).tags["label"]
        h.recv(f"@label={label} :srv FAIL CHATHISTORY INVALID_TARGET LATEST #lobby "
               ":Messages could not be retrieved")
        self.assertFalse(h.session.history.syncing)
        self.assertIn("History not available: Messages could not be retrieved",
                      h.texts("#lobby"))

    def test_fail_without_label_is_matched_by_target(self) -> None:
        h = Harness(caps=ALL_CAPS.replace("labeled-response ", ""))
        h.register()
        h.join("#a")
        h.join("#b")
        h.recv(":srv FAIL CHATHISTORY MESSAGE_ERROR LATEST #b :History is not available")
        self.assertEqual([b.name for b in h.session.history.syncing], ["#a"])

    def test_unanswered_request_is_given_up(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.answer([])
        h._keep(h.session.say("#lobby", "unsure", h.now))
        h.session.disconnected("gone", h.now)
        h.register()
        h.join()
        self.assertEqual(h.session.history.deadline(), h.now + timedelta(seconds=30))
        self.assertEqual(h.advance(29), [])
        h.advance(1)
        self.assertFalse(h.session.history.inflight)
        self.assertFalse(h.session.history.syncing)
        self.assertIn("History not available: no answer in time", h.texts("#lobby"))
        unsure = next(l for l in h.buffer("#lobby").lines if l.text == "unsure")
        self.assertEqual(unsure.delivery, Delivery.UNCONFIRMED)

    def test_server_that_does_not_know_the_command(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.recv(":srv 421 alice CHATHISTORY :Unknown command")
        self.assertFalse(h.session.history.syncing)
        self.assertFalse(h.session.history.inflight)


class CapNotifyTest(unittest.TestCase):
    def test_chathistory_withdrawn_during_a_catch_up(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.answer([])
        h._keep(h.session.say("#lobby", "unsure", h.now))
        h.session.disconnected("gone", h.now)
        h._keep(h.session.say("#lobby", "queued", h.now))
        h.register()
        h.join()
        self.assertTrue(h.session.history.syncing)
        out = h.recv(":srv CAP alice DEL :draft/chathistory")
        self.assertFalse(h.session.history.syncing)
        self.assertEqual([parse(l).params for l in out], [("#lobby", "queued")])
        unsure = next(l for l in h.buffer("#lobby").lines if l.text == "unsure")
        self.assertEqual(unsure.delivery, Delivery.UNCONFIRMED)

    def test_echo_withdrawn(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.answer([])
        h._keep(h.session.say("#lobby", "hi", h.now))
        h.recv(":srv CAP alice DEL :echo-message")
        self.assertEqual(h.buffer("#lobby").lines[-1].delivery, Delivery.SENT)
        self.assertEqual(len(h.session.outbox), 0)

    def test_chathistory_offered_later(self) -> None:
        h = Harness(caps="server-time cap-notify")
        h.register()
        out = h.recv(":srv CAP alice NEW :draft/chathistory batch message-tags")
        self.assertEqual(out, ["CAP REQ :batch draft/chathistory message-tags"])
        h.recv(":srv CAP alice ACK :batch draft/chathistory message-tags")
        self.assertTrue(h.session.history.enabled)
        self.assertEqual([request(l) for l in h.join()], [("LATEST", "#lobby", "*", "50")])

    def test_labeled_page_inside_a_labeled_response_batch(self) -> None:
        h = Harness()
        h.register()
        out = h.join()
        label = parse(out[0]).tags["label"]
        h.recv(f"@label={label} :srv BATCH +o labeled-response",
               "@batch=o :srv BATCH +i chathistory #lobby",
               *[f"@batch=i;{line[1:]}" for line in privmsgs(h, 1, 2)],
               ":srv BATCH -i", ":srv BATCH -o")
        self.assertEqual(h.chat("#lobby"), ["[start]", "bob: m1", "bob: m2", "[live]"])
        self.assertFalse(h.session.history.inflight)


class WithoutChathistoryTest(unittest.TestCase):
    def test_needed_capabilities(self) -> None:
        cases = [("server-time", False), (ALL_CAPS, True),
                 (ALL_CAPS.replace("batch ", ""), False),
                 (ALL_CAPS.replace("message-tags ", ""), False),
                 (ALL_CAPS.replace("draft/chathistory ", ""), False), ("", False)]
        for caps, enabled in cases:
            with self.subTest(caps=caps):
                h = Harness(caps=caps)
                h.register()
                self.assertEqual(h.session.history.enabled, enabled)
                out = h.join()
                self.assertEqual(bool([l for l in out if "CHATHISTORY" in l]), enabled)

    def test_join_replay_after_reconnect_is_deduplicated(self) -> None:
        h = Harness(caps="server-time")
        h.register()
        h.now += timedelta(minutes=5)
        h.join()
        old = h.now - timedelta(minutes=3)
        replay = [h.line("PRIVMSG", "#lobby", "earlier", when=old),
                  h.line("PRIVMSG", "#lobby", "later", when=old + timedelta(seconds=1))]
        h.recv(*replay)
        h.session.disconnected("gone", h.now)
        h.now += timedelta(minutes=1)
        h.register()
        h.join()
        h.recv(*replay, h.line("PRIVMSG", "#lobby", "missed", when=h.now - timedelta(seconds=30)))
        self.assertEqual([c for c in h.chat("#lobby") if c.startswith("bob")],
                         ["bob: earlier", "bob: later", "bob: missed"])

    def test_replay_with_msgids_is_deduplicated_by_msgid(self) -> None:
        h = Harness(caps="server-time")
        h.register()
        h.now += timedelta(minutes=5)
        h.join()
        same = "@time=2026-11-25T18:01:00.000Z;msgid=5 :bob!b@h PRIVMSG #lobby :same"
        h.recv(same, "@time=2026-11-25T18:01:00.000Z;msgid=6 :bob!b@h PRIVMSG #lobby :same")
        h.recv(same)
        self.assertEqual(h.chat("#lobby"), ["bob: same", "bob: same"])


class OwnMessagesInHistoryTest(unittest.TestCase):
    def test_own_lines_in_pages_are_own_and_carry_no_delivery_mark(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.answer([h.line("PRIVMSG", "#lobby", "old one", source=MASK, msgid=1)])
        line = next(l for l in h.buffer("#lobby").lines if l.text == "old one")
        self.assertTrue(line.own)
        self.assertIsNone(line.delivery)
        self.assertNotEqual(line.delivery, Delivery.PENDING)


if __name__ == "__main__":
    unittest.main()
