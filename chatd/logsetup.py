"""Logging for every chatd process: one line per record on stderr, stamped with the
process's role and pid so an operator can tell the master, writer and workers apart.

Under systemd, when stderr is the journal's stream ($JOURNAL_STREAM names its device and
inode, sd-daemon(3)), each line starts with its syslog priority (`<3>` error, `<4>` warning,
`<6>` info, `<7>` debug), which journald turns into the entry's priority, and carries no
timestamp (journald adds its own)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

_FORMAT = "%(asctime)s %(levelname)s chatd[{role}:%(process)d] %(name)s: %(message)s"
_JOURNAL_FORMAT = "%(levelname)s chatd[{role}:%(process)d] %(name)s: %(message)s"
_SYSLOG_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4,
                    logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """Prefixes every line of a record (a traceback's too) with its syslog priority."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _SYSLOG_PRIORITY.get(record.levelno, 6 if record.levelno < 30 else 3)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def stderr_is_journal(stream: TextIO, environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Whether `stream` is the journal stream systemd connected ($JOURNAL_STREAM=DEV:INODE)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (ValueError, OSError):
        return False


def configure(level: int, role: str) -> None:
    """(Re)configure the root logger for this process. Called once per process at its entry
    point, so a forked child names its own role instead of inheriting the master's."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    if stderr_is_journal(sys.stderr):
        handler.setFormatter(JournalFormatter(_JOURNAL_FORMAT.format(role=role)))
    else:
        handler.setFormatter(logging.Formatter(_FORMAT.format(role=role)))
    root.addHandler(handler)
    root.setLevel(level)
