"""The writer process: the only process that writes the SQLite history.

It receives batches of events that already carry their id and time (the master assigns
them, so the order is decided in one place), inserts everything that is waiting in one
transaction (group commit), and then tells the master which ids are durable. The master
delivers an event to clients only after that acknowledgement.
"""

from __future__ import annotations

import logging
import selectors
import signal
import sqlite3
import sys
import time

from chatd import logsetup
from chatd.store import accounts, bans, meta, schema, writes
from chatd.ipc import frames
from chatd.ipc.pipe import Pipe, PipeClosed
from chatd.events import StoreRow
from chatd.config import Config, log_level_number
from chatd.exitcodes import EXIT_BOOT_FAILED, EXIT_OK

log = logging.getLogger(__name__)


def run_writer(sock, config: Config) -> int:
    """Entry point of the writer process. Returns the exit status."""
    logsetup.configure(log_level_number(config), "writer")
    # The master decides when we stop; a terminal's Ctrl-C or a group SIGTERM must not cut
    # a commit short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pipe = Pipe(sock)
    try:
        db = schema.open_for_writing(config.history_path, config.history_synchronous)
        last_id, last_ts = writes.last_id_and_time(db)
        topics = writes.latest_topics(db)
        known_accounts = accounts.load_all(db)
        secret = meta.cloak_secret(db)
        klines = bans.load_in_force(db, int(time.time() * 1000))
    except schema.HistoryDamaged as exc:
        # Refused at every start until someone acts: the master stops chatd (no restart loop).
        print(f"chatd: history {config.history_path} is damaged ({exc}): restore a backup or"
              " move it away", file=sys.stderr)
        return EXIT_BOOT_FAILED
    except (schema.HistoryError, sqlite3.Error, OSError) as exc:
        print(f"chatd: cannot open history {config.history_path}: {exc}", file=sys.stderr)
        return EXIT_BOOT_FAILED
    log.info("history %s opened: last id %d, %d accounts, %d K-lines", config.history_path,
             last_id, len(known_accounts), len(klines))
    pipe.send(frames.Ready(last_id, last_ts, topics, known_accounts, secret, bans=klines))
    try:
        return _serve(pipe, db, config.history_retention_days)
    finally:
        db.close()


RETENTION_INTERVAL_S = 3600.0
COMMIT_RETRY_S = 1.0  # a failed commit (disk full, I/O error) is retried this often
STALL_LOG_INTERVAL_S = 60.0
STOP_COMMIT_S = 5.0  # on SHUTDOWN, how long to keep retrying before giving up
# Failures that may pass (primary result codes): disk full, I/O error, busy, locked, no memory.
# Any other error (e.g. the file was moved: read-only) is not retried here: the writer exits
# and the master starts a new one, which reopens the file.
TRANSIENT_ERRORS = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY,
                    sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM}


def _apply_retention(db: sqlite3.Connection, days: int) -> None:
    if days <= 0:
        return
    try:
        deleted = writes.delete_before(db, int((time.time() - days * 86400) * 1000))
    except sqlite3.OperationalError as exc:
        log.error("retention: cannot delete old events: %s; trying again later", exc)
        return
    if deleted:
        log.info("retention: deleted %d events older than %d days", deleted, days)


class Committer:
    """Commits the rows received, all at once (group commit). A commit that fails with a
    transient error (disk full, I/O error, database locked) keeps its rows and is retried
    every COMMIT_RETRY_S: nothing is acknowledged, so nothing is shown to clients, and
    nothing is dropped while the writer lives."""

    def __init__(self, db: sqlite3.Connection, pipe: Pipe):
        self.db = db
        self.pipe = pipe
        self.rows: list[StoreRow] = []
        self.failing_since: float | None = None
        self.next_try = 0.0
        self._logged_at = 0.0

    def commit(self, now: float) -> None:
        if not self.rows or now < self.next_try:
            return
        try:
            writes.insert_events(self.db, self.rows)
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in TRANSIENT_ERRORS:
                raise
            self._failed(exc, now)
            return
        if self.failing_since is not None:
            log.warning("commits work again after %.0f s; %d waiting events stored",
                        now - self.failing_since, len(self.rows))
            self.failing_since = None
        self.pipe.send(frames.Committed(self.rows[-1].event_id))
        self.rows = []

    def _failed(self, exc: sqlite3.OperationalError, now: float) -> None:
        if self.failing_since is None or now - self._logged_at >= STALL_LOG_INTERVAL_S:
            log.error("cannot commit %d events: %s; retrying every %.0f s (clients' messages "
                      "wait; logged at most once a minute)", len(self.rows), exc, COMMIT_RETRY_S)
            self._logged_at = now
        if self.failing_since is None:
            self.failing_since = now
        self.next_try = now + COMMIT_RETRY_S
        self.pipe.send(frames.Stalled(str(exc)))

    def timeout(self, now: float) -> float | None:
        """How long the loop may wait before the next retry (None: no retry due)."""
        return max(0.0, self.next_try - now) if self.rows and self.failing_since else None


def _serve(pipe: Pipe, db: sqlite3.Connection, retention_days: int) -> int:
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_READ)
    committer = Committer(db, pipe)
    next_retention = time.monotonic()
    stop_by: float | None = None
    while True:
        now = time.monotonic()
        if now >= next_retention:
            _apply_retention(db, retention_days)
            next_retention = time.monotonic() + RETENTION_INTERVAL_S
        if stop_by is not None and (not committer.rows or now >= stop_by):
            if committer.rows:
                log.error("stopping with %d events not stored: commits keep failing",
                          len(committer.rows))
            _flush_blocking(pipe)
            log.info("writer stopped")
            return EXIT_OK
        if not pipe.flush():
            selector.modify(pipe, selectors.EVENT_READ | selectors.EVENT_WRITE)
        else:
            selector.modify(pipe, selectors.EVENT_READ)
        waits = [next_retention - now, committer.timeout(now)]
        if not selector.select(timeout=max(0.0, min(w for w in waits if w is not None))):
            committer.commit(time.monotonic())  # a retry may be due
            continue
        try:
            received = pipe.receive()
        except PipeClosed:
            log.info("master is gone; writer exiting")
            return EXIT_OK
        for frame in received:
            if isinstance(frame, frames.Store):
                committer.rows.extend(frames.stored_rows(frame))
            elif isinstance(frame, frames.Shutdown) and stop_by is None:
                stop_by = time.monotonic() + STOP_COMMIT_S
        committer.commit(time.monotonic())


def _flush_blocking(pipe: Pipe) -> None:
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_WRITE)
    while not pipe.flush():
        if not selector.select(timeout=5):
            return
