"""OPER in one connection (chatd/session/oper_login.py): the password is checked on the
verification thread (played inline here) against the [opers] record and never sent to the
master; the master's answer comes before what the session says next; OperStatus exempts
an oper from fakelag (the held lines run at once); no [opers] at all is 491."""

from __future__ import annotations

import re
import unittest

from chatd.credentials import make_password_hash
from chatd.ipc import frames as ipc
from chatd.session.switchboard import LocalClient, Switchboard
from ircproto import numerics as N
from tests.unit.test_session import (CONN, SYNC, T0, commands, feed, make_session, register,
                                     take_items, take_master, take_out)

PASSWORD = "correct-horse-oper"
OPERS = (("operuser", make_password_hash(PASSWORD)),)  # scrypt: computed once


def run_work(session) -> None:
    """Play the worker's verification thread, inline."""
    while session.work:
        work = session.work.pop(0)
        session.on_work_done(work.fn(*work.args))


class OperLoginTest(unittest.TestCase):
    def attempt(self, line: str, **settings) -> list:
        session = make_session(opers=OPERS, **settings)
        register(session)
        feed(session, line)
        self.assertEqual(take_master(session), [])  # nothing before the check
        self.assertEqual(len(session.work), 1)
        run_work(session)
        return take_master(session)

    def test_the_master_learns_the_name_and_the_outcome_only(self):
        cases = [(f"OPER operuser {PASSWORD}", "operuser", True),
                 (f"OPER OperUser {PASSWORD}", "OperUser", True),  # names ignore case
                 ("OPER operuser wrong-password", "operuser", False),
                 (f"OPER nobody {PASSWORD}", "nobody", False)]  # a dummy check, same cost
        for line, name, ok in cases:
            with self.subTest(line=line):
                sent = self.attempt(line)
                self.assertEqual(sent, [ipc.OperAttempt(CONN, name, ok), ipc.Sync(CONN)])
                self.assertNotIn(PASSWORD, repr(sent))

    def test_the_next_reply_waits_for_the_masters_answer(self):
        session = make_session(opers=OPERS)
        register(session)
        feed(session, f"OPER operuser {PASSWORD}")
        run_work(session)
        feed(session, "VERSION")
        self.assertEqual(commands(take_items(session)), [SYNC, N.RPL_VERSION])

    def test_without_opers_it_is_491_and_nothing_is_checked(self):
        session = make_session()
        register(session)
        feed(session, f"OPER operuser {PASSWORD}")
        self.assertEqual(commands(take_out(session)), [N.ERR_NOOPERHOST])
        self.assertEqual((session.work, take_master(session)), ([], []))

    def test_a_password_too_long_is_not_hashed(self):
        session = make_session(opers=OPERS)
        register(session)
        feed(session, "OPER operuser " + "x" * 1025)
        self.assertEqual(session.work, [])
        self.assertEqual(take_master(session), [ipc.OperAttempt(CONN, "operuser", False),
                                                ipc.Sync(CONN)])

    def test_an_oper_is_not_fakelagged(self):
        session = make_session(opers=OPERS, flood_burst=1, flood_rate=1.0, exempt=())
        register(session)
        board = Switchboard(session.info.config, lambda *args: [])
        conn = LocalClient(session)
        board.add(conn)

        def pings(prefix: str, count: int) -> None:
            data = "".join(f"PING :{prefix}{n}\r\n" for n in range(count)).encode()
            board.on_data(conn, data, T0)
            while board.to_master:  # the master's part: answer each PING's barrier
                for _ in board.take_to_master():
                    board.on_master_frame(ipc.Synced(CONN), T0)

        pings("p", 5)  # one runs, four wait for fakelag
        self.assertEqual(len(session.held_lines), 4)
        board.on_master_frame(ipc.OperStatus(CONN, True), T0)  # they run at once
        pings("q", 20)
        self.assertEqual(session.held_lines, [])
        pongs = re.findall(r"PONG \S+ :?(\S+)\r\n", bytes(conn.outbuf).decode())
        self.assertEqual(pongs, [f"p{n}" for n in range(5)] + [f"q{n}" for n in range(20)])
        board.on_master_frame(ipc.OperStatus(CONN, False), T0)  # MODE -o: lagged again
        pings("r", 5)
        self.assertEqual(len(session.held_lines), 5)


if __name__ == "__main__":
    unittest.main()
