"""File descriptors: how many each chatd process may hold, and so how many clients fit.

A worker holds one descriptor per client. Past its RLIMIT_NOFILE the kernel cannot hand it a
new connection (the descriptor passed over the socketpair is dropped), so the master must
never send a worker more clients than its limit leaves room for.
"""

from __future__ import annotations

import resource

# A worker's descriptors besides its clients: stdio, its selector and socketpair, SQLite's
# database, WAL and shared-memory files, with room to spare.
RESERVED_PER_WORKER = 32
# Used when the hard limit is "unlimited", which Linux does not accept as a soft limit.
UNLIMITED_TARGET = 1 << 20


def raise_soft_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (the usual soft limit of
    1024 would cap a worker near 1,000 clients; children inherit the new one). Return the
    soft limit now in effect."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # e.g. above fs.nr_open: keep the limit we have
    return UNLIMITED_TARGET if soft == resource.RLIM_INFINITY else soft


def clients_per_worker(fd_limit: int) -> int:
    """How many client connections one worker can hold under `fd_limit`."""
    return max(0, fd_limit - RESERVED_PER_WORKER)
