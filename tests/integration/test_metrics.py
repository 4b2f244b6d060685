"""`[metrics] listen` on a real chatd: GET /metrics in the Prometheus text format, scraped
while clients chat (the figures move: clients per worker, events stored, commit latency,
each process's memory), accepted by `promtool check metrics` where it is installed; other
paths and methods get 404/405, garbage 400; idle scrapers beyond the limit are turned away
and the master keeps serving chat meanwhile."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import unittest
import urllib.error
import urllib.request

from chatd.processes.metrics_http import MAX_CONNECTIONS
from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until

METRICS_RE = re.compile(r"metrics at http://(\S+):(\d+)/metrics")


def samples(text: str) -> dict[str, float]:
    """name{labels} -> value, for every sample line."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2,
                                 extra={"metrics": {"listen": "127.0.0.1:0"}})
        match = wait_until(lambda: METRICS_RE.search(cls.server.log_text()), 10,
                           message="the metrics line")
        cls.url = f"http://127.0.0.1:{match.group(2)}/metrics"

    def scrape(self) -> tuple[str, str]:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return response.headers["Content-Type"], response.read().decode()

    def test_the_figures_follow_what_happens(self) -> None:
        content_type, before = self.scrape()
        self.assertEqual("text/plain; version=0.0.4; charset=utf-8", content_type)
        alice = open_client(self, self.server.port, "alice", caps=("echo-message",))
        bob = open_client(self, self.server.port, "bob")
        for i in range(50):
            alice.send(f"PRIVMSG #lobby :load {i}")
        alice.expect(r"PRIVMSG #lobby :load 49$")
        bob.expect(r"PRIVMSG #lobby :load 49$")
        _, after = self.scrape()
        old, new = samples(before), samples(after)
        self.assertEqual(2, sum(v for k, v in new.items() if k.startswith("chatd_clients{")))
        self.assertEqual(2, new["chatd_users"])
        self.assertGreaterEqual(new["chatd_channels"], 1)
        self.assertGreaterEqual(new["chatd_events_stored_total"] - old["chatd_events_stored_total"],
                                52)  # two JOINs and fifty messages at least
        self.assertGreater(new["chatd_commit_seconds_count"], old["chatd_commit_seconds_count"])
        self.assertEqual(new["chatd_commit_seconds_count"],
                         new['chatd_commit_seconds_bucket{le="+Inf"}'])
        for process in ("master", "writer", "worker 0", "worker 1"):
            self.assertGreater(new[f'chatd_process_resident_bytes{{process="{process}"}}'],
                               1 << 20, process)
        self.assertEqual(1, new['chatd_build_info{version="chatd-0.1"}'])
        self.assertEqual({"writer": 0, "worker": 0},
                         {role: new[f'chatd_child_restarts_total{{role="{role}"}}']
                          for role in ("writer", "worker")})

    @unittest.skipUnless(shutil.which("promtool"), "promtool (Debian: prometheus) is absent")
    def test_promtool_accepts_the_output(self) -> None:
        open_client(self, self.server.port, "carol").send("PRIVMSG #lobby :hello")
        _, text = self.scrape()
        result = subprocess.run(["promtool", "check", "metrics"], input=text,
                                capture_output=True, text=True, timeout=30, check=False)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertEqual("", (result.stdout + result.stderr).strip())

    def test_other_requests_get_their_http_status(self) -> None:
        base = self.url.rsplit("/", 1)[0]
        for url, data, status in ((base + "/", None, 404), (self.url, b"x=1", 405)):
            with self.subTest(url=url, method="POST" if data else "GET"):
                with self.assertRaises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(url, data=data, timeout=10)
                self.assertEqual(status, caught.exception.code)
        host, port = self.url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"garbage\r\n\r\n")
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.0 400 "))

    def test_idle_scrapers_beyond_the_limit_are_turned_away_and_chat_goes_on(self) -> None:
        host, port = self.url.split("//")[1].split("/")[0].split(":")
        idle = [socket.create_connection((host, int(port)), timeout=10)
                for _ in range(MAX_CONNECTIONS)]
        for sock in idle:
            self.addCleanup(sock.close)
        extra = socket.create_connection((host, int(port)), timeout=10)
        self.addCleanup(extra.close)
        self.assertEqual(b"", extra.recv(100))  # closed at once
        dave = open_client(self, self.server.port, "dave")
        dave.send("PING :alive")
        dave.expect(r"PONG \S+ :?alive$")
        for sock in idle:
            sock.close()
        wait_until(self.scrape_works, 10, message="scrapes served again")  # for the next tests

    def scrape_works(self) -> bool:
        try:
            self.scrape()
        except (urllib.error.URLError, ConnectionError):
            return False
        return True


if __name__ == "__main__":
    unittest.main()
