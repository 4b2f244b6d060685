"""Per-address limits against a real chatd ([limits] clients_per_ip, unregistered_per_ip,
connects_per_minute_per_ip, exempt): a connection beyond a limit is told "Too many
connections from your address" and closed before it registers; other addresses, and exempt
ones, are not affected; the counts follow disconnects and a killed worker exactly.

Every client is on loopback: 127.0.0.1 is made the only exempt address, and 127.0.0.2 and
127.0.0.3 (loopback too, bound as the client's source) are two other addresses."""

from __future__ import annotations

import os
import re
import signal
import socket
import unittest

from chatd.processes.accepting import CLIENT_SNDBUF_BYTES, cap_send_buffer
from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

LIMITED = "127.0.0.2"
OTHER = "127.0.0.3"
ONLY_LOCALHOST_EXEMPT = {"exempt": "127.0.0.1/32"}
NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


def too_many(host: str) -> str:
    return f"ERROR :Closing link: (unknown@{host}) [Too many connections from your address]"


def limits(**values: int) -> dict[str, dict[str, str]]:
    return {**NO_AUTOJOIN,
            "limits": {**ONLY_LOCALHOST_EXEMPT, **{k: str(v) for k, v in values.items()}}}


class AddressLimitCase(unittest.TestCase):
    server: ChatdProcess

    def attempt(self, source: str) -> tuple[IRCClient | None, str]:
        """Connect from `source` and PING (allowed before registration): (the client, its
        PONG) if chatd took it; (None, the ERROR line) if it refused it."""
        client = open_client(self, self.server.port, source=source)
        try:
            client.send("PING :probe")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed already: the ERROR line is still there to read
        answer = client.expect(r"^ERROR |PONG \S+ :?probe$")
        if answer.startswith("ERROR"):
            client.wait_closed()
            client.close()
            return None, answer
        return client, answer

    def admitted(self, source: str) -> IRCClient:
        client, answer = self.attempt(source)
        self.assertIsNotNone(client, answer)
        assert client is not None
        return client

    def assert_refused(self, source: str) -> None:
        client, answer = self.attempt(source)
        self.assertIsNone(client)
        self.assertEqual(too_many(source), answer)

    def admitted_once_counts_settle(self, source: str, count: int) -> list[IRCClient]:
        """`count` connections from `source`, retrying refused attempts while the master
        learns of earlier disconnects (it counts a connection until its worker reports it)."""
        held: list[IRCClient] = []

        def one_more() -> bool:
            client, _answer = self.attempt(source)
            if client is not None:
                held.append(client)
            return len(held) >= count
        wait_until(one_more, 10, message=f"{count} connections from {source}")
        return held

    def assert_bystander_served(self, source: str, nick: str) -> None:
        bystander = open_client(self, self.server.port, nick, source=source)
        bystander.sync("bystander")  # a PING round trip


class ClientsPerAddressTest(AddressLimitCase):
    def test_unregistered_and_total_limits(self) -> None:
        # The defaults: 10 per address, 3 of them unregistered, 30 connects a minute.
        self.server = start_chatd(self, extra=limits())
        registered = [open_client(self, self.server.port, f"r{i}", source=LIMITED)
                      for i in range(7)]
        waiting = [self.admitted(LIMITED) for _ in range(3)]
        # A 4th unregistered one is refused, though the address holds only 10 in all.
        self.assert_refused(LIMITED)
        # Once one of them registers, a new unregistered one would be the 11th connection.
        waiting[0].register("late")
        self.assert_refused(LIMITED)
        self.assertEqual(10, len(registered) + len(waiting))

        # Another address, and the exempt one, are not affected.
        self.assert_bystander_served(OTHER, "other")
        self.assert_bystander_served("127.0.0.1", "local")
        registered[0].sync()
        wait_until(lambda: ("connection from 127.0.0.2 refused: Too many connections from "
                            "your address") in self.server.log_text(), 5,
                   message="the refusal in the log")


class ConnectsPerMinuteTest(AddressLimitCase):
    def test_attempts_beyond_the_rate_are_refused(self) -> None:
        self.server = start_chatd(self, extra=limits(
            clients_per_ip=0, unregistered_per_ip=0, connects_per_minute_per_ip=3))
        for _ in range(3):
            self.admitted(LIMITED).close()
        # Nothing is held any more (or soon): the rate alone refuses the 4th.
        self.assert_refused(LIMITED)
        self.assert_refused(LIMITED)
        self.assert_bystander_served(OTHER, "other")
        # The exempt address connects as often as it likes.
        for _ in range(5):
            self.admitted("127.0.0.1").close()


class ExemptTest(AddressLimitCase):
    def test_default_exempts_loopback(self) -> None:
        self.server = start_chatd(self, extra={**NO_AUTOJOIN, "limits": {
            "clients_per_ip": "1", "unregistered_per_ip": "1",
            "connects_per_minute_per_ip": "1"}})
        held = [self.admitted(source) for source in (LIMITED, LIMITED, OTHER, "127.0.0.1")]
        held[0].register("one")
        held[1].register("two")


class CountsFollowDisconnectsTest(AddressLimitCase):
    def fill_exactly(self) -> list[IRCClient]:
        """Fill the address (2 unregistered, then 4 in all) once the master's counts allow,
        and show each limit is exact: the next connection is refused."""
        clients = self.admitted_once_counts_settle(LIMITED, 2)
        self.assert_refused(LIMITED)  # a 3rd unregistered one
        for client in clients:
            client.register(f"n{self.nicks}")
            self.nicks += 1
        clients += [self.admitted(LIMITED) for _ in range(2)]
        self.assert_refused(LIMITED)  # a 5th connection
        return clients

    def test_counts_return_to_zero_after_quits_and_a_killed_worker(self) -> None:
        self.nicks = 0
        self.server = server = start_chatd(self, workers=1, extra=limits(
            clients_per_ip=4, unregistered_per_ip=2, connects_per_minute_per_ip=0))

        for client in self.fill_exactly():
            client.close()  # two registered, two not: all gone
        clients = self.fill_exactly()

        old_pid = server.worker_pid(0)
        os.kill(old_pid, signal.SIGKILL)
        for client in clients:
            client.wait_closed()
        wait_until(lambda: len(re.findall(r"worker 0 started \(pid \d+\)",
                                          server.log_text())) == 2, 10,
                   message="a new worker")
        self.fill_exactly()
        self.assert_bystander_served(OTHER, "other")


class SendBufferTest(unittest.TestCase):
    def test_an_accepted_socket_send_buffer_is_capped(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        client = socket.create_connection(listener.getsockname())
        self.addCleanup(client.close)
        accepted, _addr = listener.accept()
        self.addCleanup(accepted.close)
        cap_send_buffer(accepted)
        # Linux doubles the value for its bookkeeping (socket(7)) and no longer autotunes it.
        self.assertEqual(2 * CLIENT_SNDBUF_BYTES,
                         accepted.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


if __name__ == "__main__":
    unittest.main()
