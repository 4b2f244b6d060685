"""What the master settles before it serves anyone: the error that stops chatd at start
(cannot listen, the writer did not start: one line, then exit), and the privacy of the files
it creates — the history holds private messages, so it and its -wal/-shm must not be
readable by other local users."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

# Files chatd creates are for its own user only: with this umask, SQLite creates the history
# as 0600 (it asks for 0644), and it creates -wal and -shm with the database file's own
# permissions (unix VFS, findCreateFileMode), which the umask would narrow anyway.
PRIVATE_UMASK = 0o077
HISTORY_SUFFIXES = ("", "-wal", "-shm")


class StartupError(Exception):
    """chatd could not start; the message is the one line to show ("" when the failing child
    has said why on stderr already)."""


def make_created_files_private() -> None:
    """Set the process umask (inherited by the children: the writer creates the history)."""
    os.umask(PRIVATE_UMASK)


def readable_by_others(history_path: Path) -> list[str]:
    """The existing history files (database, -wal, -shm) that group or others may read."""
    found = []
    for suffix in HISTORY_SUFFIXES:
        path = Path(f"{history_path}{suffix}")
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(f"{path.name} ({stat.filemode(mode)})")
    return found


def warn_if_history_readable(history_path: Path) -> None:
    """One warning line when an existing history file is open to other local users (they
    could read every private message); chatd does not change the modes itself."""
    exposed = readable_by_others(history_path)
    if exposed:
        log.warning("history files readable by other users: %s; they hold private messages: "
                    "chmod 600 them", ", ".join(exposed))
