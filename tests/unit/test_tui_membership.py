"""tui.membership on its own: it changes buffers and returns what concerns the rest of the
session as changes, without a session to reach into. No sockets."""

import unittest
from datetime import UTC, datetime

from ircproto.message import parse
from tui.context import ClientContext
from tui.membership import (JoinedChannel, LeftChannel, Membership, NickChanged,
                            PartnerRenamed)
from tui.state import BufferKind, State

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class MembershipChangesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = State(tz=UTC)
        self.ctx = ClientContext(self.state, "alice", caps=set(), now=T0)
        self.membership = Membership(self.ctx)

    def test_our_join_is_returned_and_shown_when_the_session_says(self) -> None:
        msg = parse("@msgid=7 :alice!a@h JOIN #lobby")
        changes = self.membership.join(msg, "#lobby", T0)
        buf = self.state.get("#lobby")
        self.assertEqual(changes, [JoinedChannel(buf, T0, "7")])
        self.assertTrue(buf.joined)
        self.assertEqual([line.text for line in buf.lines], [])  # not before the catch-up
        self.membership.show_joined(changes[0])
        self.assertEqual([line.text for line in buf.lines][-1:], ["You joined #lobby"])
        self.assertIs(self.state.current, buf)

    def test_changes_for_the_session(self) -> None:
        self.state.open("#lobby", BufferKind.CHANNEL).users.add("alice")
        self.state.open("bob", BufferKind.QUERY)
        cases = [(":alice!a@h NICK alicia", [NickChanged("alicia")]),
                 (":bob!b@h NICK robert", [PartnerRenamed("bob", "robert")])]
        for line, expected in cases:
            with self.subTest(line=line):
                msg = parse(line)
                self.assertEqual(self.membership.handlers()["NICK"](msg, T0), expected)
        self.assertEqual(self.ctx.nick, "alice")  # the session applies NickChanged
        buf = self.state.get("#lobby")
        self.assertEqual(self.membership.handle_part(parse(":alice!a@h PART #lobby"), T0),
                         [LeftChannel(buf)])
        self.assertIsNone(self.state.get("#lobby"))


if __name__ == "__main__":
    unittest.main()
