"""`chatd -c chatd.conf backup FILE`: a consistent copy of the history while chatd runs.

SQLite's online backup API copies every page from a read connection in one step, so the copy
is one snapshot (WAL lets the writer go on committing meanwhile; the copy has what was
committed when the step began). It is written next to FILE under a temporary name, private
(mode 0600: it holds private messages), checked as chatd's history with `PRAGMA quick_check`
(chatd/store/schema.py), synced, then renamed over FILE: FILE is either the old copy or the
whole new one, never a torn file. This process only reads the live history; the writer stays
the only one that writes it. One line on stdout or stderr says what happened."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from chatd.config import Config
from chatd.exitcodes import EXIT_OK, EXIT_RUNTIME
from chatd.store import schema


class BackupFailed(Exception):
    """The copy could not be made; the message says why."""


def run_backup_command(config: Config, target: str) -> int:
    try:
        events = back_up(config.history_path, Path(target))
    except BackupFailed as exc:
        print(f"chatd: backup: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    print(f"chatd: backup: {target}: {events} events from {config.history_path}")
    return EXIT_OK


def back_up(source: Path, target: Path) -> int:
    """Copy the history at `source` to `target` atomically; return how many events it holds."""
    if not source.is_file():
        raise BackupFailed(f"{source}: no history file there")
    if target.resolve() == source.resolve():
        raise BackupFailed(f"{target}: that is the live history file")
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        _copy(source, temp)
        try:
            schema.check_existing(temp)
        except schema.HistoryError as exc:
            raise BackupFailed(f"{source}: the copy is not a sound chatd history: {exc}") from None
        events = _count_events(temp)
        _sync(temp)
        os.replace(temp, target)
        _sync(target.parent)
    except OSError as exc:
        raise BackupFailed(f"{target}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return events


def _copy(source: Path, temp: Path) -> None:
    # Created private before SQLite opens it: the history holds private conversations.
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupFailed(f"{source}: {exc}") from None
    copy = sqlite3.connect(temp)
    try:
        live.backup(copy)  # pages=-1: every page in one step, one snapshot
        # A copy is one self-contained file: no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupFailed(f"{source}: {exc}") from None
    finally:
        copy.close()
        live.close()


def _count_events(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        conn.close()


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
