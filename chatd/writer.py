"""The writer process: the only process that writes the SQLite history.

It receives batches of events that already carry their id and time (the master assigns
them, so the order is decided in one place), inserts everything that is waiting in one
transaction (group commit), and then tells the master which ids are durable. The master
delivers an event to clients only after that acknowledgement.

Once a second it also keeps the history within its limits: it tells the master when free
space falls below `[history] min_free_mb` and when it is back (chatd/store/space.py), and
deletes the oldest events past the `max_size_mb` quota; hourly, those past `retention_days`.
While a history's older messages are not all in the full-text index yet (a history from
before it had one), it indexes them a batch at a time whenever it has nothing to commit
(chatd/store/search_index.py), so commits never wait behind more than one batch.
"""

from __future__ import annotations

import logging
import selectors
import signal
import sqlite3
import sys
import time

from chatd import logsetup, proctitle, reload
from chatd.store import (accounts, bans, channels, members, meta, schema, search_index,
                         space, writes)
from chatd.ipc import frames
from chatd.ipc.pipe import Pipe, PipeClosed
from chatd.events import StoreRow
from chatd.config import Config, log_level_number
from chatd.exitcodes import EXIT_BOOT_FAILED, EXIT_OK

log = logging.getLogger(__name__)


def run_writer(sock, config: Config, new_run: bool) -> int:
    """Entry point of the writer process (`new_run`: the first writer of this chatd, not one
    that replaces a writer that died). Returns the exit status."""
    logsetup.configure(log_level_number(config), "writer")
    proctitle.set_title("chatd: writer", sys.argv[1:])
    # The master decides when we stop; a terminal's Ctrl-C or a group SIGTERM must not cut
    # a commit short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pipe = Pipe(sock)
    try:
        db = schema.open_for_writing(config.history_path, config.history_synchronous)
        last_id, last_ts = writes.last_id_and_time(db)
        if new_run:
            last_id, last_ts = _store_crash_departures(db, last_id, last_ts)
        known_accounts = accounts.load_all(db)
        kept = channels.load_all(db)
        secret = meta.cloak_secret(db)
        klines = bans.load_in_force(db, int(time.time() * 1000))
    except schema.HistoryDamaged as exc:
        # Refused at every start until someone acts: the master stops chatd (no restart loop).
        print(schema.problem_line(config.history_path, exc), file=sys.stderr)
        return EXIT_BOOT_FAILED
    except (schema.HistoryError, sqlite3.Error, OSError) as exc:
        print(schema.problem_line(config.history_path, exc), file=sys.stderr)
        return EXIT_BOOT_FAILED
    log.info("history %s opened: last id %d, %d accounts, %d K-lines, %d kept channels",
             config.history_path, last_id, len(known_accounts), len(klines), len(kept))
    pipe.send(frames.Ready(last_id, last_ts, tuple(tuple(state) for state in kept),
                           known_accounts, secret, bans=klines))
    try:
        return _serve(pipe, db, config)
    finally:
        db.close()


def _store_crash_departures(db: sqlite3.Connection, last_id: int,
                            last_ts: int) -> tuple[int, int]:
    """Whoever the previous run left in channels without a QUIT (it did not end cleanly:
    chatd/store/members.py) gets one now, numbered before anything of this run (the master
    numbers from the last id of Ready). Returns the new last id and time."""
    rows = members.crash_departures(db, last_id + 1, max(int(time.time() * 1000), last_ts))
    if not rows:
        return last_id, last_ts
    try:
        writes.insert_events(db, rows)
    except sqlite3.OperationalError as exc:  # a full disk, say: serve anyway, try next start
        log.error("cannot store the departure of the %d users the last run left: %s",
                  len(rows), exc)
        return last_id, last_ts
    log.warning("the last run did not end cleanly: stored a QUIT (%s) for the %d user(s) it"
                " left in channels", members.CRASH_REASON, len(rows))
    return rows[-1].event_id, rows[-1].ts_ms


RETENTION_INTERVAL_S = 3600.0
LIMITS_INTERVAL_S = 1.0  # free space and the size quota are looked at this often
# Past the quota the oldest events are deleted until the data is back to this share of it,
# at most QUOTA_STEP_EVENTS in one transaction (the next look deletes more), so a commit
# waits a fraction of a second at most. (Taking a message out of the search index costs
# about three times what deleting its rows does: 20,000 events take what 50,000 took
# without it, docs/performance.md.)
QUOTA_KEEP = 0.95
QUOTA_STEP_EVENTS = 20_000
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


class Limits:
    """The free-space guard and the size quota, looked at every LIMITS_INTERVAL_S."""

    def __init__(self, db: sqlite3.Connection, pipe: Pipe, config: Config):
        self.db = db
        self.pipe = pipe
        self.max_bytes = config.history_max_size_mb << 20
        folder = config.history_path.parent
        self.watch = space.SpaceWatch(config.history_min_free_mb << 20,
                                      lambda: space.free_bytes(folder))
        self.folder = folder
        self.min_free_mb = config.history_min_free_mb

    def look(self) -> None:
        was_low = self.watch.low
        try:
            news = self.watch.check()
        except OSError as exc:  # the folder is gone or unreadable: the commits will say more
            log.error("cannot measure free space in %s: %s", self.folder, exc)
            news = None
        if news is not None:
            self.pipe.send(news)
            if news.low:
                log.warning("only %d MiB free in %s (min_free_mb = %d): clients' messages are"
                            " refused until there is more", news.free_bytes >> 20, self.folder,
                            self.min_free_mb)
            elif was_low:
                log.warning("%d MiB free in %s again: clients' messages are stored again",
                            news.free_bytes >> 20, self.folder)
        if self.max_bytes:
            self._trim()

    def _trim(self) -> None:
        try:
            deleted = writes.trim_to_quota(self.db, self.max_bytes, QUOTA_KEEP,
                                           QUOTA_STEP_EVENTS)
        except sqlite3.OperationalError as exc:
            log.error("quota: cannot delete old events: %s; trying again later", exc)
            return
        if deleted:
            log.info("quota: deleted the %d oldest events (the history passed max_size_mb ="
                     " %d)", deleted, self.max_bytes >> 20)


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


def _serve(pipe: Pipe, db: sqlite3.Connection, config: Config) -> int:
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_READ)
    committer = Committer(db, pipe)
    limits = Limits(db, pipe, config)
    next_retention = next_limits = time.monotonic()
    backfilling = search_index.unindexed_up_to(db) > 0
    stop_by: float | None = None
    while True:
        now = time.monotonic()
        if now >= next_retention:
            _apply_retention(db, config.history_retention_days)
            next_retention = time.monotonic() + RETENTION_INTERVAL_S
        if now >= next_limits:
            limits.look()
            next_limits = time.monotonic() + LIMITS_INTERVAL_S
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
        if backfilling and stop_by is None and not committer.rows:
            backfilling = _backfill(db)  # one batch between two looks at the pipe
        waits = [next_retention - now, next_limits - now, committer.timeout(now)]
        if backfilling:
            waits.append(0.0)
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
            elif isinstance(frame, frames.Reconfigure):  # a reload: retention, quotas, log level
                config = reload.unpack(frame.settings)
                logging.getLogger().setLevel(log_level_number(config))
                limits = Limits(db, pipe, config)
                next_retention = next_limits = time.monotonic()  # new limits apply now
            elif isinstance(frame, frames.Heartbeat):
                pipe.send(frames.HeartbeatAck(frame.seq))  # after the commit in progress
            elif isinstance(frame, frames.Shutdown) and stop_by is None:
                stop_by = time.monotonic() + STOP_COMMIT_S
        committer.commit(time.monotonic())


def _backfill(db: sqlite3.Connection) -> bool:
    """One batch of the search index's backfill; whether there is more. A failure (disk
    full ...) is logged and the backfill stops until the next start: search then covers
    what was indexed so far, and commits go on."""
    try:
        return search_index.backfill_step(db)
    except sqlite3.OperationalError as exc:
        log.error("search index: cannot index older messages: %s; trying again at the next"
                  " start", exc)
        return False


def _flush_blocking(pipe: Pipe) -> None:
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_WRITE)
    while not pipe.flush():
        if not selector.select(timeout=5):
            return
