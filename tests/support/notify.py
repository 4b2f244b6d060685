"""The systemd end of the notify protocol, for tests: a datagram socket that collects what
chatd sends to $NOTIFY_SOCKET, each message stamped when it arrives."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path


class NotifySocket:
    """The systemd end: a datagram socket collecting what chatd sends."""

    def __init__(self, testcase: unittest.TestCase, abstract: bool = False) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        testcase.addCleanup(self.sock.close)
        if abstract:
            name = f"chatd-test-notify-{os.getpid()}-{id(self)}"
            self.sock.bind(b"\0" + name.encode())
            self.env_value = "@" + name
        else:
            tmp = tempfile.TemporaryDirectory(prefix="chatd-notify-")
            testcase.addCleanup(tmp.cleanup)
            path = Path(tmp.name) / "notify"
            self.sock.bind(str(path))
            self.env_value = str(path)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, list[str]]] = []  # (arrival, assignments)
        self._lock = threading.Lock()
        self._done = threading.Event()
        testcase.addCleanup(self._done.set)
        # A thread receives, so each message is stamped when it arrives.
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while not self._done.is_set():
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.monotonic(), data.decode().split("\n")))

    def collect(self) -> list[tuple[float, list[str]]]:
        with self._lock:
            return list(self.messages)

    def has(self, assignment: str) -> bool:
        return any(assignment in fields for _t, fields in self.collect())

    def pets(self) -> list[float]:
        return [t for t, fields in self.collect() if "WATCHDOG=1" in fields]
