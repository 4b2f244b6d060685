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

from chatd import history, ipc, logsetup
from chatd.channel import Channel, ChannelClosed
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
    channel = Channel(sock)
    try:
        db = history.open_for_writing(config.history_path, config.history_synchronous)
        last_id, last_ts = history.last_id_and_time(db)
        topics = history.latest_topics(db)
    except (history.HistoryError, sqlite3.Error, OSError) as exc:
        print(f"chatd: cannot open history {config.history_path}: {exc}", file=sys.stderr)
        return EXIT_BOOT_FAILED
    log.info("history %s opened: last id %d", config.history_path, last_id)
    channel.send((ipc.READY, last_id, last_ts, topics))
    try:
        return _serve(channel, db, config.history_retention_days)
    finally:
        db.close()


RETENTION_INTERVAL_S = 3600.0


def _apply_retention(db: sqlite3.Connection, days: int) -> None:
    if days <= 0:
        return
    deleted = history.delete_before(db, int((time.time() - days * 86400) * 1000))
    if deleted:
        log.info("retention: deleted %d events older than %d days", deleted, days)


def _serve(channel: Channel, db: sqlite3.Connection, retention_days: int) -> int:
    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_READ)
    next_retention = time.monotonic()
    while True:
        if time.monotonic() >= next_retention:
            _apply_retention(db, retention_days)
            next_retention = time.monotonic() + RETENTION_INTERVAL_S
        if not channel.flush():
            selector.modify(channel, selectors.EVENT_READ | selectors.EVENT_WRITE)
        else:
            selector.modify(channel, selectors.EVENT_READ)
        if not selector.select(timeout=max(0.0, next_retention - time.monotonic())):
            continue
        try:
            frames = channel.receive()
        except ChannelClosed:
            log.info("master is gone; writer exiting")
            return EXIT_OK
        rows: list[tuple] = []
        stop = False
        for frame in frames:
            if frame[0] == ipc.STORE:
                rows.extend(frame[1])
            elif frame[0] == ipc.SHUTDOWN:
                stop = True
        if rows:
            history.insert_events(db, rows)
            channel.send((ipc.COMMITTED, rows[-1][0]))
        if stop:
            _flush_blocking(channel)
            log.info("writer stopped")
            return EXIT_OK


def _flush_blocking(channel: Channel) -> None:
    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_WRITE)
    while not channel.flush():
        if not selector.select(timeout=5):
            return
