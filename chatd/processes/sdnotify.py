"""Talking to systemd (sd_notify(3), with the standard library): one datagram per message to
the socket $NOTIFY_SOCKET names — a path, or an abstract-namespace name when it starts with
`@`. Without $NOTIFY_SOCKET (not under systemd, or not Type=notify) nothing is sent.

$WATCHDOG_USEC (with $WATCHDOG_PID, when set, naming this process) asks for `WATCHDOG=1` more
often than that; the master decides when it may (chatd/processes/liveness.py)."""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: dict[str, str] | os._Environ = os.environ) -> None:
        self.address = _socket_address(environ.get("NOTIFY_SOCKET", ""))
        self.watchdog_s = _watchdog_seconds(environ)
        self._sock: socket.socket | None = None
        if self.address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, *assignments: str) -> None:
        """Send `KEY=value` lines in one datagram; a refusal is logged, never raised (systemd
        going away must not stop chatd)."""
        if self._sock is None:
            return
        try:
            self._sock.sendto("\n".join(assignments).encode(), self.address)
        except OSError as exc:
            log.warning("cannot notify systemd at %s: %s", self.address, exc)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def reloading(self) -> None:
        # MONOTONIC_USEC lets systemd tell this reload from an earlier one (notify-reload).
        self.notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=shutting down")

    def close(self) -> None:
        """In a child: the socket is the master's to use."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # Linux abstract namespace
    return value


def _watchdog_seconds(environ: dict[str, str] | os._Environ) -> float | None:
    """The watchdog period for this process, or None when there is none for it."""
    pid = environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. a shell that exec'd us is fine: same pid)
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None
