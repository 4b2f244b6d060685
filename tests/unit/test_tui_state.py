"""tui.state: buffers, activity, dividers, trimming."""

import unittest
from datetime import UTC, datetime, timedelta

from tui import buffer as state_module
from tui.layout import Anchor
from tui.state import BufferKind, Delivery, Kind, Line, State

T0 = datetime(2026, 11, 25, 23, 58, tzinfo=UTC)


def msg(text: str, when: datetime = T0, **kw) -> Line:
    return Line(when, Kind.MESSAGE, text, nick=kw.pop("nick", "bob"), **kw)


class BufferListTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.lobby = self.state.open("#lobby", BufferKind.CHANNEL)
        self.dev = self.state.open("#Dev", BufferKind.CHANNEL)
        self.bob = self.state.open("bob", BufferKind.QUERY)

    def test_lookup_is_case_insensitive_rfc1459(self) -> None:
        self.assertIs(self.state.get("#dev"), self.dev)
        self.assertIs(self.state.open("#DEV", BufferKind.CHANNEL), self.dev)
        self.assertIs(self.state.get("BOB"), self.bob)
        self.assertIsNone(self.state.get("#nope"))

    def test_switching(self) -> None:
        cases = [(lambda: self.state.switch(2), "#Dev"), (lambda: self.state.cycle(1), "bob"),
                 (lambda: self.state.cycle(1), "server"), (lambda: self.state.cycle(-1), "bob"),
                 (lambda: self.state.switch(9), "bob")]
        for action, expected in cases:
            with self.subTest(expected=expected):
                action()
                self.assertEqual(self.state.current.name, expected)

    def test_activity(self) -> None:
        self.state.focus(self.lobby)
        self.state.add(self.dev, msg("hi"))
        self.state.add(self.dev, Line(T0, Kind.EVENT, "--> x joined"))
        self.state.add(self.bob, msg("psst"))
        self.state.add(self.lobby, msg("seen"))
        self.assertEqual([(n, b.name, b.unread, b.mention) for n, b in self.state.activity()],
                         [(3, "#Dev", 1, False), (4, "bob", 1, True)])
        self.state.focus(self.dev)
        self.assertEqual((self.dev.unread, self.dev.mention), (0, False))

    def test_own_and_history_lines_are_not_unread(self) -> None:
        self.state.add(self.dev, msg("mine", own=True))
        self.state.add(self.dev, msg("old", history=True))
        self.assertEqual(self.dev.unread, 0)

    def test_close_current_shows_the_previous(self) -> None:
        self.state.focus(self.dev)
        self.state.close(self.dev)
        self.assertIs(self.state.current, self.lobby)
        self.state.close(self.state.server)
        self.assertEqual(len(self.state.buffers), 3)


class LinesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.buf = self.state.open("#lobby", BufferKind.CHANNEL)
        self.state.focus(self.buf)  # shown: no activity, no "— new —" line

    def test_live_divider_once_after_history(self) -> None:
        self.buf.start_join(T0)
        self.state.add(self.buf, msg("a", T0 - timedelta(seconds=30), history=True))
        self.state.add(self.buf, msg("b"))
        self.state.add(self.buf, msg("c"))
        self.assertEqual([(l.kind, l.text) for l in self.buf.lines],
                         [(Kind.MESSAGE, "a"), (Kind.DIVIDER, "live"), (Kind.MESSAGE, "b"),
                          (Kind.MESSAGE, "c")])

    def test_date_line_when_the_day_changes(self) -> None:
        self.state.add(self.buf, msg("late"))
        self.state.add(self.buf, msg("next day", T0 + timedelta(minutes=5)))
        self.assertEqual([l.text for l in self.buf.lines], ["late", "Thu 26 Nov 2026", "next day"])

    def test_trimming_keeps_indexes_absolute(self) -> None:
        old = (state_module.MAX_LINES, state_module.TRIM_CHUNK)
        state_module.MAX_LINES, state_module.TRIM_CHUNK = 10, 4
        self.addCleanup(setattr, state_module, "MAX_LINES", old[0])
        self.addCleanup(setattr, state_module, "TRIM_CHUNK", old[1])
        for i in range(11):
            self.state.add(self.buf, msg(str(i)))
        self.assertEqual((self.buf.first_index, self.buf.end_index), (4, 11))
        self.assertEqual(self.buf.line_at(4).text, "4")

    def test_lines_added_while_scrolled_are_counted(self) -> None:
        from tui.layout import Anchor
        self.buf.anchor = Anchor(0, 0)
        self.state.add(self.buf, msg("x"))
        self.assertEqual(self.buf.unseen, 1)


def stored(msgid: int, text: str = "", minutes: int = 0, **kw) -> Line:
    return Line(T0 - timedelta(hours=1) + timedelta(minutes=minutes or msgid), Kind.MESSAGE,
                text or f"m{msgid}", nick="bob", msgid=str(msgid), history=True, **kw)


class HistoryPagesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.buf = self.state.open("#lobby", BufferKind.CHANNEL)
        self.state.focus(self.buf)

    def texts(self) -> list[str]:
        return [l.text for l in self.buf.lines]

    def test_placement(self) -> None:
        cases = [
            # (lines already there, page, expected texts)
            ([], [stored(1), stored(2)], ["m1", "m2"]),
            ([stored(5)], [stored(1), stored(2)], ["m1", "m2", "m5"]),  # older page on top
            ([stored(1)], [stored(2), stored(3)], ["m1", "m2", "m3"]),  # catch-up below
            ([stored(1), stored(9)], [stored(4), stored(5)], ["m1", "m4", "m5", "m9"]),
            ([stored(1), stored(2)], [stored(2), stored(3)], ["m1", "m2", "m3"]),  # overlap
            ([stored(3)], [stored(3)], ["m3"]),
            ([Line(T0, Kind.EVENT, "You joined")], [stored(1)], ["You joined", "m1"]),
            # opaque msgids: by time
            ([Line(T0, Kind.MESSAGE, "late", msgid="zz")],
             [Line(T0 - timedelta(minutes=1), Kind.MESSAGE, "early", msgid="aa")],
             ["early", "late"]),
        ]
        for before, page, expected in cases:
            with self.subTest(expected=expected):
                self.setUp()
                for line in before:
                    self.state.add(self.buf, line)
                self.state.insert_history(self.buf, page)
                self.assertEqual([t for t in self.texts() if "2026" not in t], expected)
                self.assertEqual(self.buf.msgids, {l.msgid for l in self.buf.lines if l.msgid})

    def test_a_msgid_is_never_added_twice(self) -> None:
        self.assertTrue(self.state.add(self.buf, stored(1)))
        self.assertFalse(self.state.add(self.buf, stored(1, "m1 again")))
        live = Line(T0, Kind.MESSAGE, "same text", nick="bob", msgid="2")
        self.assertTrue(self.state.add(self.buf, live))
        self.assertTrue(self.state.add(self.buf, Line(T0, Kind.MESSAGE, "same text",
                                                      nick="bob", msgid="3", history=True)))

    def test_live_divider_after_a_page_that_precedes_live_lines(self) -> None:
        self.buf.start_join(T0)
        self.state.add(self.buf, Line(T0, Kind.MESSAGE, "live", nick="bob", msgid="9"))
        self.state.insert_history(self.buf, [stored(1), stored(2)], live_divider=True)
        self.assertEqual(self.texts(), ["m1", "m2", "live", "live"])
        self.assertEqual(self.buf.lines[2].kind, Kind.DIVIDER)

    def test_our_join_ends_the_history_and_the_divider_follows_it(self) -> None:
        """Issue 16, point 6: "You joined" used to land below "— live —"."""
        self.buf.start_join(T0)
        self.state.joined_line(self.buf, Line(T0, Kind.EVENT, "You joined", msgid="50"))
        self.state.add(self.buf, Line(T0, Kind.EVENT, "-- 2 users"))
        self.state.insert_history(self.buf, [stored(1), stored(2)], live_divider=True)
        self.assertEqual(self.texts(), ["m1", "m2", "You joined", "live", "-- 2 users"])

    def test_a_reconnect_moves_the_divider_instead_of_adding_one(self) -> None:
        self.buf.start_join(T0)
        self.state.joined_line(self.buf, Line(T0, Kind.EVENT, "You joined", msgid="50"))
        self.state.add(self.buf, Line(T0, Kind.EVENT, "-- 2 users"))
        self.state.insert_history(self.buf, [stored(1)], live_divider=True)
        later = T0 + timedelta(seconds=30)
        self.buf.start_join(later)  # the connection came back
        self.state.joined_line(self.buf, Line(later, Kind.EVENT, "You joined", msgid="60"))
        self.state.add(self.buf, Line(later, Kind.EVENT, "-- 2 users"))
        self.state.insert_history(self.buf, [stored(55, minutes=59)], live_divider=True)
        self.assertEqual(self.texts(), ["m1", "You joined", "-- 2 users", "m55", "You joined",
                                        "live", "-- 2 users"])

    def test_a_replay_on_join_goes_above_our_join(self) -> None:
        """A server without CHATHISTORY replays after our JOIN: the replay is the past."""
        self.buf.start_join(T0)
        self.state.joined_line(self.buf, Line(T0, Kind.EVENT, "You joined"))
        for text in ("r1", "r2"):
            self.state.add(self.buf, msg(text, T0 - timedelta(minutes=1), history=True))
        self.state.add(self.buf, msg("now"))
        self.assertEqual(self.texts(), ["r1", "r2", "You joined", "live", "now"])

    def test_prepending_keeps_the_view_and_indexes(self) -> None:
        for i in range(10, 20):
            self.state.add(self.buf, stored(i))
        self.buf.anchor = Anchor(5, 0)
        self.state.insert_history(self.buf, [stored(i) for i in range(1, 10)])
        self.assertEqual(self.buf.first_index, -9)
        self.assertEqual(self.buf.line_at(5).text, "m15")
        self.assertEqual(self.buf.unseen, 0)

    def test_inserting_below_a_scrolled_view_counts_as_unseen(self) -> None:
        for i in (1, 2, 10):
            self.state.add(self.buf, stored(i))
        self.buf.anchor = Anchor(1, 0)
        self.state.insert_history(self.buf, [stored(5)])
        self.assertEqual((self.buf.unseen, self.buf.anchor), (1, Anchor(1, 0)))
        self.buf.anchor = Anchor(1, 0)
        self.state.insert_history(self.buf, [stored(0, minutes=1)])  # on top
        self.assertEqual(self.buf.line_at(self.buf.anchor.line).text, "m2")
        self.state.insert_history(self.buf, [stored(3)])  # between m2 and m5: above the view?
        self.assertEqual(self.buf.line_at(self.buf.anchor.line).text, "m2")
        self.assertEqual(self.buf.unseen, 2)

    def test_date_lines_inside_a_page(self) -> None:
        page = [stored(1, minutes=-60 * 24), stored(2)]
        self.state.insert_history(self.buf, page)
        self.assertEqual(self.texts(), ["m1", "Wed 25 Nov 2026", "m2"])

    def test_missed_lines_count_as_unread(self) -> None:
        self.state.switch(0)
        self.state.insert_history(self.buf, [stored(1), stored(2, own=True)], unread=True)
        self.assertEqual(self.buf.unread, 1)
        other = self.state.open("#other", BufferKind.CHANNEL)
        self.state.insert_history(other, [stored(1)])
        self.assertEqual(other.unread, 0)

    def test_start_marker(self) -> None:
        self.state.add(self.buf, Line(T0, Kind.EVENT, "You joined"))
        self.state.insert_history(self.buf, [stored(1)])
        self.state.mark_history_start(self.buf)
        self.state.mark_history_start(self.buf)
        self.assertEqual(self.texts(), ["You joined", "start", "m1"])

    def test_own_line_updates(self) -> None:
        self.state.add(self.buf, Line(T0, Kind.MESSAGE, "hi", nick="me", own=True, nonce="n1",
                                      delivery=Delivery.QUEUED))
        self.assertTrue(self.state.update_own(self.buf, "n1", Delivery.PENDING))
        self.assertTrue(self.state.update_own(self.buf, "n1", Delivery.SENT, msgid="7",
                                              time=T0 + timedelta(seconds=1)))
        line = self.buf.lines[-1]
        self.assertEqual((line.delivery, line.msgid, line.time),
                         (Delivery.SENT, "7", T0 + timedelta(seconds=1)))
        self.assertIn("7", self.buf.msgids)
        self.assertFalse(self.state.update_own(self.buf, "n2", Delivery.SENT))

    def test_a_confirmed_line_moves_to_its_place_in_the_history(self) -> None:
        cases = [  # (msgid of the echo, expected order)
            ("4", ["mine", "m2", "m3"]),  # nothing stored after it: stays
            ("3", ["m2", "mine", "m3"]),
            ("9", ["m2", "m3", "mine"]),
            ("zz", ["mine", "m2", "m3"]),  # opaque ids: no order, stays
        ]
        for msgid, expected in cases:
            with self.subTest(msgid=msgid):
                self.setUp()
                self.state.add(self.buf, Line(T0, Kind.MESSAGE, "mine", nick="me", own=True,
                                              nonce="n1", delivery=Delivery.PENDING))
                if msgid == "4":
                    self.state.add(self.buf, stored(5, "m2"))
                    self.state.add(self.buf, stored(6, "m3"))
                else:
                    self.state.add(self.buf, stored(2))
                    self.state.add(self.buf, stored(4, "m3"))
                self.state.update_own(self.buf, "n1", Delivery.SENT, msgid=msgid)
                self.assertEqual(self.texts(), expected)

    def test_trimming_forgets_msgids_and_the_start(self) -> None:
        old = (state_module.MAX_LINES, state_module.TRIM_CHUNK)
        state_module.MAX_LINES, state_module.TRIM_CHUNK = 4, 2
        self.addCleanup(setattr, state_module, "MAX_LINES", old[0])
        self.addCleanup(setattr, state_module, "TRIM_CHUNK", old[1])
        self.state.insert_history(self.buf, [stored(i) for i in range(1, 4)])
        self.state.mark_history_start(self.buf)
        self.state.add(self.buf, stored(4))
        self.assertEqual(self.buf.msgids, {"2", "3", "4"})
        self.assertFalse(self.buf.history_start)


if __name__ == "__main__":
    unittest.main()
