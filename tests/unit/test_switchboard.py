"""chatd.session.switchboard: the worker's core between the sockets — the order of a client's
replies around the master's (SYNC points), output a master frame caused, labeled answers,
closing (held output first), dropping a slow reader, and a bug in one client's line. Pure: the
effects (frames for the master, connections to close, output buffers) are read directly."""

from __future__ import annotations

import dataclasses
import unittest
from unittest import mock

from chatd.config import Config
from chatd.ipc import frames as ipc
from chatd.session.switchboard import LocalClient, Switchboard
from tests.unit.test_session import CONN, T0, make_session


class SwitchboardTest(unittest.TestCase):
    def setUp(self) -> None:
        self.board = Switchboard(Config(), read_replay=lambda folded, before, limit: [])
        self.conn = LocalClient(make_session())
        self.board.add(self.conn)

    def send(self, *lines: str) -> list:
        """The client sends `lines`; return the frames for the master."""
        self.board.on_data(self.conn, "".join(f"{line}\r\n" for line in lines).encode(), T0)
        return self.board.take_to_master()

    def master(self, *frames) -> list:
        """The master sends `frames`; return the frames for the master they caused."""
        for frame in frames:
            self.board.on_master_frame(frame, T0)
        return self.board.take_to_master()

    def output(self) -> bytes:
        data = bytes(self.conn.outbuf)
        self.conn.outbuf.clear()
        return data

    def register(self) -> None:
        self.assertEqual(self.send("NICK alice"), [ipc.ClaimNick(CONN, "alice", None),
                                                   ipc.Sync(CONN)])
        self.master(ipc.NickOk(CONN, "alice"), ipc.Synced(CONN))
        self.assertEqual(self.send("USER a 0 * :A"),
                         [ipc.Registered(CONN, "a", "A", "host.example"), ipc.Sync(CONN)])
        self.assertTrue(self.conn.held)  # the SYNC is outstanding ...
        self.master(ipc.Welcome(CONN))
        # ... but the welcome, caused by a master frame, is in the master's order already
        self.assertIn(b" 001 alice ", self.output())
        self.master(ipc.Synced(CONN))
        self.output()

    def test_a_reply_of_its_own_waits_behind_the_masters(self) -> None:
        self.register()
        self.assertEqual(self.send("JOIN #a", "VERSION"),
                         [ipc.Command(CONN, "JOIN", ("#a",), None, ""), ipc.Sync(CONN)])
        self.assertEqual(self.output(), b"")  # VERSION's answer is held
        self.master(ipc.Reply(CONN, b":chat.example 403 alice #a :No\r\n"))
        self.assertEqual(self.output(), b":chat.example 403 alice #a :No\r\n")
        self.master(ipc.Synced(CONN))
        self.assertIn(b" 351 alice ", self.output())
        self.assertFalse(self.conn.held)

    def test_a_labeled_answer_is_labeled_as_a_whole(self) -> None:
        self.conn.session.caps = {"labeled-response", "batch"}
        self.register()
        self.master(ipc.LabelStart(CONN, "L1"), ipc.Reply(CONN, b":s 1 alice :a\r\n"),
                    ipc.Reply(CONN, b":s 2 alice :b\r\n"))
        self.assertEqual(self.output(), b"")
        self.master(ipc.LabelEnd(CONN))
        self.assertEqual(self.output().decode().split("\r\n"), [
            "@label=L1 :chat.example BATCH +b1 labeled-response",
            "@batch=b1 :s 1 alice :a", "@batch=b1 :s 2 alice :b", ":chat.example BATCH -b1", ""])

    def test_closing_sends_the_held_output_first_and_tells_the_master(self) -> None:
        self.register()
        self.send("JOIN #a", "VERSION")
        self.assertEqual(self.master(ipc.CloseConn(CONN, "Killed")), [ipc.ConnClosed(CONN, "Killed")])
        self.assertEqual(self.board.take_closing(), [(self.conn, "Killed")])
        out = self.output()
        self.assertLess(out.index(b" 351 "), out.index(b"ERROR :"))
        self.assertNotIn(CONN, self.board.conns)
        self.assertTrue(self.conn.closed)
        self.master(ipc.Reply(CONN, b"late\r\n"))  # a frame for a gone connection is moot
        self.assertEqual(self.output(), b"")

    def test_a_reader_over_its_send_queue_is_dropped(self) -> None:
        self.board = Switchboard(dataclasses.replace(Config(), sendq_bytes=100),
                                 read_replay=lambda folded, before, limit: [])
        self.board.add(self.conn)
        with self.assertLogs("chatd.session.switchboard", "INFO"):
            frames = self.master(ipc.Reply(CONN, b"x" * 200 + b"\r\n"))
        self.assertEqual(frames, [ipc.ConnClosed(CONN, "SendQ exceeded")])
        self.assertEqual(self.board.take_closing(), [(self.conn, "SendQ exceeded")])

    def test_a_bug_in_one_clients_line_closes_that_connection(self) -> None:
        with mock.patch.object(self.conn.session, "on_line", side_effect=RuntimeError("bug")), \
                self.assertLogs("chatd.session.switchboard", "ERROR"):
            frames = self.send("NICK alice")
        self.assertEqual(frames, [ipc.ConnClosed(CONN, "Internal server error")])
        self.assertEqual(self.board.take_closing(), [(self.conn, "Internal server error")])

    def test_a_notify_line_goes_to_the_listed_clients_that_are_still_here(self) -> None:
        self.register()
        # an AWAY line for this client and for one that left this worker meanwhile
        self.master(ipc.Notify((CONN, CONN + 7), ":bob!b@h AWAY :lunch"))
        self.assertEqual(self.output(), b":bob!b@h AWAY :lunch\r\n")
        self.master(ipc.Notify((CONN + 7,), ":bob!b@h AWAY"))
        self.assertEqual(self.output(), b"")

    def test_new_connections_and_shutdown_are_the_loops(self) -> None:
        for frame in (ipc.NewConn(CONN + 1, "h"), ipc.Shutdown()):
            with self.subTest(frame=frame), self.assertRaises(KeyError):
                self.board.on_master_frame(frame, T0)


if __name__ == "__main__":
    unittest.main()
