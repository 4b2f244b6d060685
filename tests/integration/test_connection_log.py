"""What an operator reads at log level info: a line for each connection's arrival, its
registration, a refused server password, a refused login, and its departure with the
reason — never what anyone wrote (messages, quit texts, passwords)."""

from __future__ import annotations

import re
import unittest

from tests.integration.test_accounts import sasl_plain, sasl_start
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until

SECRETS = ("top secret plans", "my quit words", "hunter2-not-it", "s3rver-pass")


class ConnectionLogTest(unittest.TestCase):
    def test_arrivals_registrations_refusals_and_departures_without_texts(self) -> None:
        server = start_chatd(self, extra={"server": {"log_level": "info",
                                                     "password": "s3rver-pass"}})
        wrong = open_client(self, server.port)
        wrong.send("PASS hunter2-not-it")
        wrong.send("NICK eve")
        wrong.send("USER eve 0 * :Eve")
        wrong.expect(r" 464 ")
        alice = open_client(self, server.port)
        alice.send("PASS s3rver-pass")
        alice.register("alice")
        alice.send("REGISTER alice * correct-horse-battery")
        alice.expect(r" 900 ")
        mallory = open_client(self, server.port)
        mallory.send("PASS s3rver-pass")
        sasl_start(mallory, "mallory")
        self.assertIn(" 904 ", sasl_plain(mallory, "alice", "hunter2-not-it"))
        alice.send("PRIVMSG #lobby :top secret plans")
        alice.send("QUIT :my quit words")
        wait_until(lambda: re.search(r"connection \d+ \(alice\) closed: Quit$",
                                     server.log_text(), re.M), 10, message="alice's departure")
        log = server.log_text()
        self.assertRegex(log, r"INFO .*connection \d+ from 127\.0\.0\.1 port \d+ -> worker \d")
        self.assertRegex(log, r"connection \d+ from 127\.0\.0\.1 refused: wrong server password")
        self.assertRegex(log, r"(?m)connection \d+ registered as alice$")
        self.assertRegex(log, r"(?m)connection \d+ \(alice\) logged in as alice$")
        self.assertRegex(log, r"(?m)connection \d+ \(mallory\) login refused: "
                              r"INVALID_CREDENTIALS$")
        for secret in SECRETS:
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main()
