"""IRCv3 read markers (draft/read-marker, ircv3.net/specs/extensions/read-marker) on a worker:
the MARKREAD lines its clients get — the answer to their own MARKREAD, the marker of a
channel right after their JOIN (before its RPL_ENDOFNAMES, as the spec requires), a change
made by another client of the same account — and the markers of clients that are not logged
in, kept here for the connection's life. Pure: lines go into the clients' buffers through the
injected `respond` (an answer) and `queue` (anything else).

The master checks each MARKREAD and orders it (chatd/hub/read_markers.py); a logged-in
client's marker is stored for its account and read back here from the history, after the
write is committed, so the value sent is always the stored one: never earlier than one set
before (a MARKREAD with an older time is answered with the stored time, as the spec says).
"""

from __future__ import annotations

import logging
from typing import Callable, Protocol

from chatd.events import HistoryUnavailable
from chatd.ipc import frames
from chatd.session.context import AccountHistoryReading
from chatd.session.session import Session
from ircproto.casemap import casefold
from ircproto.framing import encode_line
from ircproto.message import Message, fitted_line
from ircproto.servertime import format_server_time

log = logging.getLogger(__name__)

CAP = "draft/read-marker"
# Markers one connection that is not logged in may keep in this worker's memory (each a
# folded target and a time: about 200 bytes); past it the least recently set is forgotten.
LOCAL_MARKERS = 100


class Client(Protocol):
    """A client as this module sees it (delivery.Recipient)."""
    session: Session


class ReadMarkers:
    """The MARKREAD side of one worker's clients."""

    def __init__(self, conns: dict[int, Client], history: AccountHistoryReading | None,
                 respond: Callable[[Client, bytes], None],
                 queue: Callable[[Client, bytes], None]) -> None:
        self.conns = conns
        self.history = history  # None: no history to read (the account markers fail)
        self.respond = respond
        self.queue = queue
        # This worker's clients by the account they are logged in to (folded): who else
        # hears of a change.
        self.by_account: dict[str, set[int]] = {}
        # The markers of clients not logged in: conn_id -> folded target -> ms, least
        # recently set first (the one forgotten past LOCAL_MARKERS).
        self.local: dict[int, dict[str, int]] = {}

    def account_changed(self, conn_id: int, old: str | None, new: str | None) -> None:
        if old:
            holders = self.by_account.get(casefold(old))
            if holders is not None:
                holders.discard(conn_id)
                if not holders:
                    del self.by_account[casefold(old)]
        if new:
            self.by_account.setdefault(casefold(new), set()).add(conn_id)

    def forget(self, conn_id: int, account: str | None) -> None:
        """The client is gone."""
        self.account_changed(conn_id, account, None)
        self.local.pop(conn_id, None)

    def on_frame(self, frame: frames.ReadMarker) -> None:
        """The master's ReadMarker: answer the client that asked, tell the others."""
        if not frame.account:
            conn = self.conns.get(frame.conn_id)
            if conn is not None:
                ts_ms = self._set_local(frame.conn_id, casefold(frame.target), frame.ts_ms)
                self.respond(conn, _line(conn.session, frame.target, ts_ms))
            return
        asker = self.conns.get(frame.conn_id) if frame.conn_id else None
        others = [conn for conn_id in self.by_account.get(casefold(frame.account), ())
                  if conn_id != frame.conn_id and (conn := self.conns.get(conn_id)) is not None
                  and CAP in conn.session.caps] if frame.ts_ms else []
        if asker is None and not others:
            return
        try:
            ts_ms = self._stored(frame.account, casefold(frame.target))
        except HistoryUnavailable as exc:
            log.error("read marker of %s for %s: %s", frame.account, frame.target, exc)
            if asker is not None:
                self.respond(asker, encode_line(fitted_line(Message(
                    "FAIL", ("MARKREAD", "INTERNAL_ERROR", frame.target,
                             "The read timestamp could not be set"),
                    asker.session.server_name))))
            return
        if asker is not None:
            self.respond(asker, _line(asker.session, frame.target, ts_ms))
        if ts_ms == frame.ts_ms:  # it moved (an older time changed nothing: no news)
            for conn in others:
                self.queue(conn, _line(conn.session, frame.target, ts_ms))

    def after_join(self, conn: Client, folded: str, channel: str) -> None:
        """The channel's marker, for a client that negotiated draft/read-marker, right
        after its own JOIN (so before RPL_ENDOFNAMES)."""
        session = conn.session
        if CAP not in session.caps:
            return
        try:
            ts_ms = (self._stored(session.account, folded) if session.account
                     else self.local.get(session.conn_id, {}).get(folded, 0))
        except HistoryUnavailable as exc:
            log.error("read marker of %s for %s: %s", session.account, channel, exc)
            return
        self.respond(conn, _line(session, channel, ts_ms))

    def _stored(self, account: str, folded_target: str) -> int:
        if self.history is None:
            raise HistoryUnavailable("no history reader")
        return self.history.marker(casefold(account), folded_target)

    def _set_local(self, conn_id: int, folded: str, ts_ms: int) -> int:
        """Move a connection's marker forward to ts_ms (0: leave it); return its value."""
        markers = self.local.setdefault(conn_id, {})
        current = markers.get(folded, 0)
        if ts_ms > current:
            markers.pop(folded, None)  # re-inserted last: the most recently set
            if len(markers) >= LOCAL_MARKERS:
                del markers[next(iter(markers))]
            markers[folded] = current = ts_ms
        return current


def _line(session: Session, target: str, ts_ms: int) -> bytes:
    """`:server MARKREAD <target> timestamp=<time>`, or `*` when no marker is set."""
    value = f"timestamp={format_server_time(ts_ms)}" if ts_ms else "*"
    return encode_line(fitted_line(Message("MARKREAD", (target, value), session.server_name)))
