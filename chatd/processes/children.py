"""Forking chatd's child processes (writer, workers) and decoding how they ended.

A child gets one end of a fresh socketpair; right after the fork it closes everything of the
master's it must not hold (listening socket, wakeup pipe, its siblings' channels), restores
default signal handling, runs its role's entry function and leaves with os._exit — it never
returns into the master's stack.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import traceback
from typing import Callable

from chatd.ipc.pipe import Pipe
from chatd.exitcodes import EXIT_RUNTIME

log = logging.getLogger(__name__)

CHANNEL_BUFFER_BYTES = 4 << 20


def spawn(entry: Callable[[socket.socket], int],
          close_in_child: Callable[[], None]) -> tuple[int, Pipe]:
    """Fork a child that runs entry(its end of a socketpair). Returns (pid, the master's end as a Pipe)."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for end in (parent_end, child_end):
        _widen_buffers(end)
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = EXIT_RUNTIME
        try:
            parent_end.close()
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            close_in_child()
            code = entry(child_end)
        except BaseException:  # noqa: BLE001 - a child must never unwind into the master
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    child_end.close()
    # No overflow limit on the master's end: what it queues for a child is bounded by its
    # backpressure (chatd/hub/backpressure.py), and a child that takes nothing is killed by
    # a watchdog (worker_watchdog.py, writer_watchdog.py), never for how much waits.
    return pid, Pipe(parent_end, max_pending_bytes=None)


def _widen_buffers(sock: socket.socket) -> None:
    """Ask for large socket buffers: how much one side can queue bounds how many frames the
    other takes per loop iteration (a JOIN storm's NAMES bursts are tens of KiB each). The
    kernel caps the size at net.core.wmem_max/rmem_max, so this is only a request."""
    for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, CHANNEL_BUFFER_BYTES)
        except OSError:
            pass


def describe_exit(status: int) -> tuple[int, str]:
    """(exit code or -signal, human text) for a waitpid status."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return code, f"killed by signal {signal.Signals(-code).name}"
    return code, f"exited with status {code}"
