"""How many clients chatd takes, against a real chatd: beyond [limits] max_clients, or beyond
what the file descriptor limit leaves room for in the workers, a connection is told
"Server is full" in an ERROR line and closed; everyone already in keeps chatting, no worker
crashes, and a freed place can be taken again."""

from __future__ import annotations

import re
import unittest

from chatd.processes.fdlimit import RESERVED_PER_WORKER
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

NO_AUTOJOIN = {"channels": {"autojoin": '""'}}
FULL = "ERROR :Closing link: (unknown@127.0.0.1) [Server is full]"


def try_register(testcase: unittest.TestCase, port: int, nick: str) -> IRCClient | None:
    """Connect and register: the client if welcomed, None if told the server is full."""
    client = open_client(testcase, port)
    try:
        client.send_raw(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused and closed already: the ERROR line is still there to read
    answer = client.expect(rf"^:\S+ 001 {nick} |^ERROR ")
    if answer.startswith("ERROR"):
        testcase.assertEqual(FULL, answer)
        client.wait_closed()
        return None
    return client


class MaxClientsTest(unittest.TestCase):
    def test_connections_beyond_max_clients_are_told_the_server_is_full(self) -> None:
        server = start_chatd(self, extra={**NO_AUTOJOIN, "limits": {"max_clients": "3"}})
        alice, bob, carol = (open_client(self, server.port, nick)
                             for nick in ("alice", "bob", "carol"))

        self.assertIsNone(try_register(self, server.port, "dave"))
        self.assertIsNone(try_register(self, server.port, "erin"))
        wait_until(lambda: "connection from 127.0.0.1 refused: Server is full"
                   in server.log_text(), 5, message="the refusal in the log")

        alice.send("PRIVMSG bob :still served")
        bob.expect(r"^:alice!\S+ PRIVMSG bob :still served$")

        carol.send("QUIT :making room")
        carol.wait_closed()
        # The master frees the place when the worker reports the close: poll for it.
        dave = wait_until(lambda: try_register(self, server.port, "dave"), 10,
                          message="a place after carol quit")
        dave.send("PRIVMSG alice :got in")
        alice.expect(r"^:dave!\S+ PRIVMSG alice :got in$")


class DescriptorLimitTest(unittest.TestCase):
    FD_LIMIT = 64
    WORKERS = 2
    # Enough beyond the capacity that, unchecked, a worker would run out of descriptors.
    EXTRA = 60

    def test_clients_beyond_the_fd_limit_are_refused_and_workers_survive(self) -> None:
        server = start_chatd(self, workers=self.WORKERS, extra=NO_AUTOJOIN,
                             fd_limit=self.FD_LIMIT)
        per_worker = self.FD_LIMIT - RESERVED_PER_WORKER
        self.assertIn(f"file descriptor limit {self.FD_LIMIT}: up to {per_worker} clients "
                      "per worker", server.log_text())
        capacity = per_worker * self.WORKERS

        answers = [try_register(self, server.port, f"u{i}") for i in range(capacity + self.EXTRA)]
        admitted = [client for client in answers if client is not None]
        self.assertEqual(capacity, len(admitted))
        self.assertEqual([None] * self.EXTRA, answers[capacity:])

        # Everyone admitted is served, and no worker died holding them.
        admitted[0].send(f"PRIVMSG u{capacity - 1} :hello from u0")
        admitted[-1].expect(r"^:u0!\S+ PRIVMSG u\d+ :hello from u0$")
        for client in admitted[1:]:
            client.sync()
        self.assertIsNone(re.search(r"(worker|writer) \d+ \(pid \d+\) exited",
                                    server.log_text()), server.log_text())
