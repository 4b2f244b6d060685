"""IRCv3 server-time (ircv3.net/specs/extensions/server-time): the one format and the one
parser, for the server (which stamps and reads CHATHISTORY timestamps) and the client (which
shows when a message was sent). `YYYY-MM-DDThh:mm:ss.sssZ`, always UTC."""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", re.ASCII)


def format_server_time(ts_ms: int) -> str:
    """Milliseconds since the epoch as server-time, e.g. 2026-11-25T18:57:25.123Z."""
    seconds, millis = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_server_time(text: str | None) -> int | None:
    """Milliseconds since the epoch for a server-time string, or None if it is not one (a
    bad tag must not lose the message it is on). A fraction longer than milliseconds is cut;
    a missing one is zero."""
    if not text or len(text) < 20 or not text.endswith("Z") or text[10] != "T":
        return None
    canonical = _canonical(text)
    if canonical is not None:
        return (canonical - _EPOCH) // _ONE_MS
    main, _, frac = text[:-1].partition(".")
    try:
        parsed = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    if frac and not (frac.isascii() and frac.isdigit()):
        return None
    millis = int((frac + "000")[:3]) if frac else 0
    return calendar.timegm(parsed) * 1000 + millis


def _canonical(text: str) -> datetime | None:
    """The form servers send, `YYYY-MM-DDThh:mm:ss.sssZ` (a client reads one per message),
    read in C by datetime.fromisoformat: a tenth of strptime's cost. None for anything else,
    which the general path decides on (a leap second, a shorter fraction ...)."""
    if len(text) != 24 or not _CANONICAL.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def server_time_datetime(text: str | None) -> datetime | None:
    """A server-time string as an aware UTC datetime, or None if it is not one."""
    canonical = _canonical(text) if text else None
    if canonical is not None:
        return canonical
    ts_ms = parse_server_time(text)
    return None if ts_ms is None else _EPOCH + timedelta(milliseconds=ts_ms)
