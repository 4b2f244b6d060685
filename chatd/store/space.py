"""The free-space guard's measure (issue 12, point 5): the writer looks, once a second, at how
much room is left on the file system that holds the history (os.statvfs of its folder: one
system call, no I/O), and tells the master when that falls below `[history] min_free_mb` and
when it is back. The master then refuses clients' messages with a clear reply
(chatd/hub/storing.py) while everything else goes on, so a disk that fills up is never a total
outage: what was still stored leaves room for the JOINs, PARTs, QUITs and NICKs of people
coming and going.

`SpaceWatch` takes the measure as a function, so its decisions are tested without a disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from chatd.ipc import frames

# Once low, the disk counts as fine again only with this much more than the minimum free,
# so one hovering at the line does not flip the state (and the log) every second.
RECOVERY_MARGIN_BYTES = 8 << 20


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged process may still write on the file system holding `folder`."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


class SpaceWatch:
    """Whether the history's file system is low on free space, from `measure()` in bytes."""

    def __init__(self, min_free_bytes: int, measure: Callable[[], int]):
        self.min_free_bytes = min_free_bytes
        self.measure = measure
        self.low: bool | None = None  # not looked yet

    def check(self) -> frames.DiskSpace | None:
        """Look again: the frame for the master if the answer is new (the first one always),
        else None. Off (min_free_mb = 0): never low."""
        free = self.measure() if self.min_free_bytes else 0
        if not self.min_free_bytes:
            low = False
        elif self.low:
            low = free < self.min_free_bytes + RECOVERY_MARGIN_BYTES
        else:
            low = free < self.min_free_bytes
        if low == self.low:
            return None
        self.low = low
        return frames.DiskSpace(low=low, free_bytes=free)
