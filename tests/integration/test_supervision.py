"""Liveness and supervision with real processes: the server pings idle clients and drops those
that do not answer; a worker or the writer killed with SIGKILL is replaced, a dead worker's
clients are announced as quitting, and the server keeps serving. Each test has its own server."""

from __future__ import annotations

import os
import re
import signal
import unittest

from ircproto.message import parse
from tests.support.chatd_process import ChatdProcess, open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

NO_AUTOJOIN = {"channels": {"autojoin": '""'}}
# msgid comes only with message-tags, time only with server-time (IRCv3).
SERVER_TIME = ("server-time", "message-tags")


def src(nick: str) -> str:
    return re.escape(f":{nick}!{nick}@127.0.0.1")


def join(channel: str, *clients: IRCClient) -> None:
    for c in clients:
        c.send(f"JOIN {channel}")
        c.expect(rf" 366 \S+ {re.escape(channel)} ")


class PingTimeoutTest(unittest.TestCase):
    def test_idle_clients_are_pinged_and_silent_ones_dropped(self) -> None:
        # 1 s is the smallest interval and timeout the config accepts; workers check each second.
        server = start_chatd(self, workers=2, extra={
            **NO_AUTOJOIN, "server": {"ping_interval": "1", "ping_timeout": "1"}})
        answering = open_client(self, server.port, "answering")
        answering.answer_pings = True
        silent = open_on_other_worker(self, server, answering, "silent")
        join("#ping", answering, silent)
        # From here on the test sends nothing but PONGs (answer_pings) for `answering`.
        answering.expect(rf"^{src('silent')} QUIT :Ping timeout", timeout_s=15)
        lines = silent.wait_closed()
        self.assertIn("PING :chat.test", lines)
        self.assertRegex(lines[-1], r"^ERROR :Closing link: .*Ping timeout")
        # The answering client was pinged too and stays. A second PING proves its answer to
        # the first counted: unanswered, it would have been dropped at that tick instead.
        while answering.seen.count("PING :chat.test") < 2:
            answering.expect(r"^PING ", timeout_s=10)
        answering.sync()
        self.assertFalse(answering.closed)


class ChildDeathTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)

    def wait_for_replacement(self, server: ChatdProcess, old_pid: int, role: str) -> int:
        """Wait until the master has logged a new `role` and it runs as its child; return it."""
        pattern = re.compile(rf"{role} started \(pid (\d+)\)")

        def new_pid() -> int | None:
            pids = [int(p) for p in pattern.findall(server.log_text())]
            kids = server.child_pids()
            return pids[-1] if pids and pids[-1] != old_pid and pids[-1] in kids else None
        pid = wait_until(new_pid, timeout_s=10, message=f"a new {role}")
        self.assertNotIn(old_pid, server.child_pids())
        return pid

    def test_killed_worker_is_replaced_and_its_clients_quit(self) -> None:
        server = self.server
        doomed = open_client(self, server.port, "doomed")
        survivor = open_on_other_worker(self, server, doomed, "survivor")
        join("#kill", doomed, survivor)
        index = server.worker_of(doomed.local_port)
        old_pid = server.worker_pid(index)
        self.assertIn(old_pid, server.child_pids())

        os.kill(old_pid, signal.SIGKILL)
        survivor.expect(rf"^{src('doomed')} QUIT :")
        doomed.wait_closed()  # its connection died with the worker
        new_pid = self.wait_for_replacement(server, old_pid, f"worker {index}")
        self.assertEqual(new_pid, server.worker_pid(index))
        self.assertIsNone(server.proc.poll(), "the master exited")

        # New connections work, on the replacement too (least loaded: it has none).
        newcomer = open_client(self, server.port, "newcomer")
        self.assertEqual(index, server.worker_of(newcomer.local_port))
        join("#kill", newcomer)
        survivor.expect(rf"^{src('newcomer')} JOIN #kill$")
        newcomer.send("PRIVMSG #kill :hello after the crash")
        survivor.expect(rf"^{src('newcomer')} PRIVMSG #kill :hello after the crash$")
        survivor.send("PRIVMSG #kill :welcome back")
        newcomer.expect(rf"^{src('survivor')} PRIVMSG #kill :welcome back$")
        # The dead worker's client left the channel and its nick is free.
        newcomer.send("NAMES #kill")
        names = parse(newcomer.expect(r" 353 ")).params[-1].split()
        self.assertEqual(["newcomer", "survivor"], sorted(names))
        open_client(self, server.port, "doomed")

    def test_killed_writer_is_replaced_and_nothing_is_lost(self) -> None:
        server = self.server
        one = open_client(self, server.port, "one", caps=SERVER_TIME)
        two = open_on_other_worker(self, server, one, "two", caps=SERVER_TIME)
        join("#writer", one, two)
        one.send("PRIVMSG #writer :before")
        two.expect(r" PRIVMSG #writer :before$")
        old_pid = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])

        os.kill(old_pid, signal.SIGKILL)
        one.send("PRIVMSG #writer :during")  # held until a writer has committed it
        two.expect(r" PRIVMSG #writer :during$")
        self.wait_for_replacement(server, old_pid, "writer")
        one.send("PRIVMSG #writer :after")
        two.expect(r" PRIVMSG #writer :after$")

        # All three are in the history, once each, in order.
        late = open_client(self, server.port, "late", caps=SERVER_TIME)
        late.send("JOIN #writer")
        late.expect(r" 366 ")
        texts = [parse(l).params[-1] for l in late.sync() if " PRIVMSG " in l]
        self.assertEqual(["before", "during", "after"], texts)


if __name__ == "__main__":
    unittest.main()
