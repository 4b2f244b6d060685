"""What `GET /metrics` shows (README, "Monitoring", lists each metric): the master's gauges
read at scrape time — clients per worker, users, accounts, channels, the writer's backlog,
each process's resident memory — and the counters it and its parts keep (chatd/metrics.py),
and `MetricsLink`, the master's handle on all of it: the HTTP server (off unless
`[metrics] listen` is set) and the commit clock."""

from __future__ import annotations

import logging
import os
import selectors
import time
from dataclasses import dataclass

from chatd.hub.backpressure import Backpressure
from chatd.hub.hub import Hub
from chatd.hub.pipeline import Pipeline
from chatd.metrics import COMMIT_BUCKETS_S, CommitClock, Exposition, Histogram
from chatd.processes.metrics_http import MetricsServer
from chatd.processes.startup import StartupError
from chatd.processes.supervision import Child, Supervisor
from chatd.serverinfo import VERSION

log = logging.getLogger(__name__)

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Snapshot:
    """The master's state a scrape reads."""
    started_s: float  # wall clock
    workers: list[Child]
    writer: Child | None
    users: int
    connections: int
    accounts: int
    channels: int
    backlog: int
    reading_workers: bool
    events_stored: int
    relayed: int
    accepted: int
    pauses: int
    restarts: dict[str, int]
    commit_seconds: Histogram


def render(snap: Snapshot) -> str:
    out = Exposition()
    out.family("chatd_build_info", "gauge", "chatd's version (always 1)",
               [({"version": VERSION}, 1)])
    out.single("chatd_uptime_seconds", "gauge", "Seconds since this chatd started",
               round(time.time() - snap.started_s, 3))
    out.family("chatd_clients", "gauge", "Connections held by each worker",
               [({"worker": str(w.index)}, w.conns) for w in snap.workers])
    out.single("chatd_connections", "gauge", "Connections, registered or not", snap.connections)
    out.single("chatd_users", "gauge", "Registered clients", snap.users)
    out.single("chatd_accounts", "gauge", "Accounts in the history", snap.accounts)
    out.single("chatd_channels", "gauge", "Channels with members", snap.channels)
    out.single("chatd_events_stored_total", "counter",
               "Events (messages, joins, ...) committed to the history", snap.events_stored)
    out.single("chatd_event_deliveries_total", "counter",
               "Committed events relayed to workers for delivery (one per worker and event)",
               snap.relayed)
    out.histogram("chatd_commit_seconds", "From handing events to the writer to their commit",
                  snap.commit_seconds)
    out.single("chatd_writer_backlog", "gauge", "Events decided and not yet committed",
               snap.backlog)
    out.single("chatd_backpressure_active", "gauge",
               "1 while clients' input waits for the writer to catch up",
               0 if snap.reading_workers else 1)
    out.single("chatd_backpressure_pauses_total", "counter",
               "Times clients' input was paused for the writer", snap.pauses)
    out.single("chatd_connections_accepted_total", "counter", "Connections accepted",
               snap.accepted)
    out.family("chatd_child_restarts_total", "counter", "Writer and worker restarts",
               [({"role": role}, count) for role, count in sorted(snap.restarts.items())])
    out.family("chatd_process_resident_bytes", "gauge", "Resident memory of each process",
               [({"process": name}, rss) for name, rss in _resident(snap)])
    return out.text()


def _resident(snap: Snapshot) -> list[tuple[str, int]]:
    processes = [("master", os.getpid())]
    if snap.writer is not None and snap.writer.alive:
        processes.append(("writer", snap.writer.pid))
    processes += [(f"worker {w.index}", w.pid) for w in snap.workers if w.alive]
    found = []
    for name, pid in processes:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                found.append((name, int(statm.read().split()[1]) * _PAGE_BYTES))
        except (OSError, IndexError, ValueError):
            continue  # gone between the check and the read
    return found


@dataclass
class MasterParts:
    """The parts of the master a scrape reads."""
    hub: Hub
    children: Supervisor
    pipeline: Pipeline
    backpressure: Backpressure
    started_s: float


class MetricsLink:
    """The master's metrics: the commit clock it feeds, and the server (when configured)
    that renders a snapshot of the master's parts for each scrape."""

    def __init__(self, listen: tuple[str, int] | None, selector: selectors.BaseSelector,
                 parts: MasterParts) -> None:
        self.parts = parts
        self.commit_seconds = Histogram(COMMIT_BUCKETS_S)
        self.clock = CommitClock(self.commit_seconds)
        self.events_stored = 0
        self.accepted = 0
        self.server = (MetricsServer(listen, selector, lambda: render(self.snapshot()))
                       if listen is not None else None)

    def snapshot(self) -> Snapshot:
        p = self.parts
        sequencer, registry = p.pipeline.sequencer, p.hub.registry
        return Snapshot(
            started_s=p.started_s, workers=p.children.workers, writer=p.children.writer,
            users=registry.users, connections=len(registry.clients),
            accounts=len(p.hub.accounts), channels=len(registry.channels),
            backlog=sequencer.backlog if sequencer else 0,
            reading_workers=p.backpressure.reading_workers, events_stored=self.events_stored,
            relayed=sequencer.relayed if sequencer else 0, accepted=self.accepted,
            pauses=p.backpressure.pauses, restarts=p.children.restarts,
            commit_seconds=self.commit_seconds)

    def start(self) -> None:
        if self.server is None:
            return
        try:
            host, port = self.server.start()
        except OSError as exc:
            raise StartupError(f"cannot listen for metrics on {self.server.address}: "
                               f"{exc.strerror or exc}") from None
        log.info("metrics at http://%s:%d/metrics", host, port)

    def committed(self, before: int, up_to_id: int, now: float) -> None:
        self.events_stored += max(0, up_to_id - before)
        self.clock.committed(up_to_id, now)

    def expire(self, now: float) -> None:
        if self.server is not None:
            self.server.expire(now)

    def close_in_child(self) -> None:
        if self.server is not None:
            self.server.close_in_child()
