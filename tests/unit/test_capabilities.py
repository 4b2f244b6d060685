"""chatd.capabilities: IRCv3 capability negotiation (CAP LS/LIST/REQ/END, cap-notify), driven
through a Session without sockets (ircv3.net/specs/extensions/capability-negotiation)."""

import unittest

from chatd.ipc import frames as ipc
from chatd.session.capabilities import MASTER_CAPS, SUPPORTED_CAPS
from chatd.session.search import SEARCH_CAPS
from tests.unit.fake_history import FakeHistory
from ircproto import numerics as N
from tests.unit.test_session import (
    CONN,
    HOST,
    feed,
    make_session,
    register,
    take_master,
    take_out,
)


def cap_reply(session) -> tuple[str, ...]:
    """The params of the one CAP line sent since the last call."""
    [msg] = take_out(session)
    assert msg.command == "CAP", msg
    return msg.params


class LsTest(unittest.TestCase):
    def test_ls_lists_every_supported_cap_on_one_line(self):
        session = make_session()
        session.history = FakeHistory()  # with a search index
        session.on_line(b"CAP LS 302", 0)
        [raw] = session.out
        self.assertLessEqual(len(raw), 512)
        params = cap_reply(session)
        self.assertEqual(params[:2], ("*", "LS"))
        self.assertEqual([cap.split("=", 1)[0] for cap in params[2].split()],
                         list(SUPPORTED_CAPS))
        for cap in ("batch", "cap-notify", "draft/chathistory", "draft/event-playback",
                    "echo-message", "labeled-response", "message-tags", "server-time",
                    "userhost-in-names"):
            with self.subTest(cap=cap):
                self.assertIn(cap, SUPPORTED_CAPS)

    def test_search_is_offered_only_with_a_search_index(self):
        # (history, offered): no history, or one without FTS5 (no index), offers no search
        without_index = FakeHistory()
        without_index.searchable = lambda: False
        for history, offered in ((FakeHistory(), True), (without_index, False), (None, False)):
            with self.subTest(history=history):
                session = make_session()
                session.history = history
                feed(session, "CAP LS")
                listed = cap_reply(session)[2].split()
                for cap in SEARCH_CAPS:
                    self.assertEqual(cap in listed, offered, cap)
                feed(session, "CAP REQ draft/search")
                self.assertEqual(cap_reply(session)[1], "ACK" if offered else "NAK")

    def test_version_302_implies_cap_notify(self):
        # (LS line, cap-notify enabled, version remembered)
        cases = [
            ("CAP LS", False, 0),
            ("CAP LS 301", False, 0),
            ("CAP LS 302", True, 302),
            ("CAP ls 303", True, 303),
            ("CAP LS abc", False, 0),
            ("CAP LS \u0663\u0660\u0662", False, 0),   # not ASCII digits
        ]
        for line, notify, version in cases:
            with self.subTest(line=line):
                session = make_session()
                feed(session, line)
                self.assertEqual(cap_reply(session)[1], "LS")
                self.assertEqual(session.caps, {"cap-notify"} if notify else set())
                self.assertEqual(session.cap_version, version)
                self.assertTrue(session.cap_negotiating)

    def test_a_later_ls_does_not_lower_the_version(self):
        session = make_session()
        feed(session, "CAP LS 302", "CAP LS")
        take_out(session)
        self.assertEqual(session.cap_version, 302)
        self.assertIn("cap-notify", session.caps)


class ReqTest(unittest.TestCase):
    def test_req(self):
        # (lines, last reply's params after the nick, caps afterwards)
        cases = [
            (["CAP REQ :server-time message-tags"], ("ACK", "server-time message-tags"),
             {"server-time", "message-tags"}),
            (["CAP REQ :server-time "], ("ACK", "server-time"), {"server-time"}),
            # all or nothing: one unknown cap refuses the lot, verbatim
            (["CAP REQ :server-time bogus"], ("NAK", "server-time bogus"), set()),
            (["CAP REQ :server-time  bogus "], ("NAK", "server-time  bogus "), set()),
            (["CAP REQ :batch -bogus"], ("NAK", "batch -bogus"), set()),
            (["CAP REQ :Server-Time"], ("NAK", "Server-Time"), set()),  # names are exact
            (["CAP REQ"], ("NAK", ""), set()),
            (["CAP REQ :   "], ("NAK", "   "), set()),
            (["CAP REQ :batch labeled-response", "CAP REQ :-batch echo-message"],
             ("ACK", "-batch echo-message"), {"labeled-response", "echo-message"}),
            (["CAP REQ :batch", "CAP REQ :-batch bogus"], ("NAK", "-batch bogus"), {"batch"}),
            (["CAP REQ :-server-time"], ("ACK", "-server-time"), set()),  # not on: fine
            (["CAP REQ :server-time server-time"], ("ACK", "server-time server-time"),
             {"server-time"}),
        ]
        for lines, reply, caps in cases:
            with self.subTest(lines=lines):
                session = make_session()
                feed(session, *lines)
                self.assertEqual(take_out(session)[-1].params, ("*",) + reply)
                self.assertEqual(session.caps, caps)

    def test_every_supported_cap_can_be_requested(self):
        session = make_session()
        session.history = FakeHistory()
        feed(session, "CAP REQ :" + " ".join(SUPPORTED_CAPS))
        self.assertEqual(cap_reply(session)[1], "ACK")
        self.assertEqual(session.caps, set(SUPPORTED_CAPS))
        feed(session, "CAP LIST")
        self.assertEqual(cap_reply(session)[2], " ".join(sorted(SUPPORTED_CAPS)))

    def test_cap_notify_cannot_be_dropped_by_a_302_client(self):
        # (LS version, lines, last reply, cap-notify on afterwards)
        cases = [
            ("CAP LS 302", "CAP REQ :-cap-notify", "NAK", True),
            ("CAP LS 302", "CAP REQ :server-time -cap-notify", "NAK", True),
            ("CAP LS", "CAP REQ :-cap-notify", "ACK", False),
            ("CAP LS", "CAP REQ :cap-notify", "ACK", True),
            ("CAP LS 302", "CAP REQ :cap-notify", "ACK", True),
        ]
        for ls, req, reply, notify in cases:
            with self.subTest(ls=ls, req=req):
                session = make_session()
                feed(session, ls, req)
                self.assertEqual(take_out(session)[-1].params[1], reply)
                self.assertEqual("cap-notify" in session.caps, notify)
                if reply == "NAK":
                    self.assertNotIn("server-time", session.caps)

    def test_req_before_registration_holds_it_until_end(self):
        session = make_session()
        feed(session, "CAP REQ :server-time", "NICK alice", "USER a 0 * :A")
        self.assertTrue(session.cap_negotiating)
        frames = take_master(session, drop_syncs=True)
        self.assertNotIn(ipc.Registered, [type(f) for f in frames])
        session.on_nick_granted("alice")
        session.on_synced(0)
        self.assertEqual(take_master(session), [])
        feed(session, "CAP END")
        self.assertFalse(session.cap_negotiating)
        self.assertEqual(take_master(session), [ipc.Registered(CONN, "a", "A", HOST),
                                                ipc.Sync(CONN)])


class MasterCapsTest(unittest.TestCase):
    """The master formats NAMES, so it must know userhost-in-names (and multi-prefix): a CAPS
    frame goes to it whenever that set changes, and only then."""

    def test_caps_frame_when_the_master_caps_change(self):
        self.assertEqual(set(MASTER_CAPS), {"account-notify", "account-tag", "userhost-in-names",
                                           "multi-prefix", "invite-notify", "standard-replies",
                                           "away-notify", "setname", "extended-monitor"})
        # (REQ params in order, CAPS frames expected, as the caps tuple)
        cases = [
            (["server-time"], []),
            (["userhost-in-names"], [("userhost-in-names",)]),
            (["userhost-in-names server-time", "userhost-in-names"], [("userhost-in-names",)]),
            (["userhost-in-names", "multi-prefix"],
             [("userhost-in-names",), ("multi-prefix", "userhost-in-names")]),
            (["multi-prefix userhost-in-names", "-multi-prefix", "-server-time"],
             [("multi-prefix", "userhost-in-names"), ("userhost-in-names",)]),
            (["userhost-in-names", "-userhost-in-names"], [("userhost-in-names",), ()]),
            (["userhost-in-names bogus"], []),    # NAK: nothing changed
        ]
        for reqs, expected in cases:
            with self.subTest(reqs=reqs):
                session = make_session()
                feed(session, *[f"CAP REQ :{r}" for r in reqs])
                frames = take_master(session)
                self.assertEqual(frames, [ipc.Caps(CONN, caps) for caps in expected])

    def test_caps_frame_after_registration_needs_no_sync(self):
        # The ACK is the worker's own reply; the CAPS frame is no command the master answers,
        # so the ACK is not held behind a SYNC for it.
        session = make_session()
        register(session)
        take_master(session)
        feed(session, "CAP REQ :userhost-in-names")
        self.assertEqual(take_master(session), [ipc.Caps(CONN, ("userhost-in-names",))])
        [ack] = take_out(session)
        self.assertEqual(ack.params, ("alice", "ACK", "userhost-in-names"))
        self.assertEqual(session.syncs_outstanding, 0)
        self.assertEqual(session.out, [])


class OtherSubcommandsTest(unittest.TestCase):
    def test_list(self):
        session = make_session()
        feed(session, "CAP REQ :userhost-in-names batch server-time")
        take_out(session)
        feed(session, "CAP list")
        # sorted, whatever the order asked in
        self.assertEqual(cap_reply(session), ("*", "LIST", "batch server-time userhost-in-names"))

    def test_unknown_or_missing_subcommand(self):
        cases = [("CAP FROB", "FROB"), ("CAP frob x", "FROB"), ("CAP :", "*")]
        for line, shown in cases:
            with self.subTest(line=line):
                session = make_session()
                feed(session, line)
                [msg] = take_out(session)
                self.assertEqual((msg.command, msg.params[:2]), (N.ERR_INVALIDCAPCMD, ("*", shown)))
                self.assertEqual(session.caps, set())

    def test_after_registration(self):
        session = make_session()
        register(session)
        take_master(session)
        feed(session, "CAP LS 302")
        self.assertEqual(cap_reply(session)[:2], ("alice", "LS"))
        self.assertFalse(session.cap_negotiating)   # LS after registration holds nothing
        feed(session, "CAP REQ :message-tags", "CAP END")
        self.assertEqual(cap_reply(session), ("alice", "ACK", "message-tags"))
        self.assertTrue(session.registered)
        self.assertFalse(session.cap_negotiating)
        self.assertEqual(take_master(session), [])


if __name__ == "__main__":
    unittest.main()
