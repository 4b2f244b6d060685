"""Who may write the history file: one holder of an exclusive flock on "<history>.lock". A
running chatd master takes it at start and holds it until it exits (its children inherit
the descriptor); the admin command (chatd/admin.py) writes the file directly only when it
can take the lock itself, so there are never two writers. The master's control socket for
the admin command lives beside it ("<history>.control")."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class HistoryLocked(Exception):
    """Another process (a running chatd) holds the history."""


def lock_path(history_path: Path) -> Path:
    return history_path.with_name(history_path.name + ".lock")


def control_path(history_path: Path) -> Path:
    return history_path.with_name(history_path.name + ".control")


def take(history_path: Path) -> int:
    """Take the writer's lock without waiting; returns the descriptor that holds it."""
    fd = os.open(lock_path(history_path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise HistoryLocked(f"{history_path} is in use by a running chatd") from None
    return fd
