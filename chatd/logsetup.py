"""Logging for every chatd process: one line per record on stderr, stamped with the
process's role and pid so an operator can tell the master, writer and workers apart."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s chatd[{role}:%(process)d] %(name)s: %(message)s"


def configure(level: int, role: str) -> None:
    """(Re)configure the root logger for this process. Called once per process at its entry
    point, so a forked child names its own role instead of inheriting the master's."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT.format(role=role)))
    root.addHandler(handler)
    root.setLevel(level)
