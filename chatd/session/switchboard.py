"""The worker's pure core: its table of connections and what happens to them between the
sockets — the master's frames (all but NewConn and Shutdown, which need I/O), the lines a
client sent, the timers, the order of replies behind SYNC points, labeled answers, dropping
a slow reader, and the pure half of closing a connection.

It does no I/O. What the loop (chatd/worker.py) must carry out is left here as effects:
`to_master` (frames to send, in order), `closing` (connections closed here, with the reason:
the loop sends what their buffer holds and closes the socket) and `dirty` (connections with
output to flush; chatd/session/delivery.py fills the buffers). The loop carries them out after
each call, so nothing it does in between sees them pending.
"""

from __future__ import annotations

import collections
import heapq
import logging
from typing import Any, Callable

from chatd.config import Config
from chatd.ipc import frames
from chatd.session.context import AccountHistoryReading
from chatd.session.delivery import Delivery, Recipient, ReplayReader
from chatd.session.session import SYNC_POINT, Session, Work
from ircproto.framing import LineReader

log = logging.getLogger(__name__)


class LocalClient(Recipient):
    """One client of this worker as its core sees it: (from Recipient) its session and output
    buffer, its line reader, and the replies it holds back. The worker's Connection extends
    it with the socket."""

    __slots__ = ("reader", "held", "wake_at")

    def __init__(self, session: Session):
        super().__init__(session)
        self.reader = LineReader(cr_ends_line=True)
        # Replies of the session's own, held until the master's SYNCED says that the master's
        # replies to earlier commands are out (one segment per outstanding SYNC).
        self.held: collections.deque[bytearray] = collections.deque()
        self.wake_at: float | None = None  # the session's fakelag wake-up, as scheduled


class Switchboard:
    """The connections of one worker and everything that happens to them but I/O."""

    def __init__(self, config: Config, read_replay: ReplayReader,
                 account_history: AccountHistoryReading | None = None) -> None:
        self.config = config
        self.conns: dict[int, LocalClient] = {}
        self.delivery = Delivery(self.conns, config, read_replay, self.drop_slow_reader,
                                 account_history)
        self.seen = self.delivery.seen  # what logged-in clients were shown (seen.py)
        self.dirty = self.delivery.dirty  # connections with output to flush
        self.to_master: list[Any] = []  # frames for the master, in order
        self.work: list[Work] = []  # password hashing for the verification thread
        self.closing: list[tuple[LocalClient, str]] = []  # closed here: the loop's turn
        # (wake_at, conn_id): when a session held back by fakelag may run its next line. A
        # heap, so the loop's next deadline is one look; entries gone stale are skipped.
        self._wakes: list[tuple[float, int]] = []

    def reconfigure(self, config: Config) -> None:
        """A reload: the send queue and replay settings from now on."""
        self.config = self.delivery.config = config

    def add(self, conn: LocalClient) -> None:
        """A new connection (the loop made its socket out of a NewConn)."""
        self.conns[conn.session.conn_id] = conn

    # the master's frames
    def on_master_frame(self, frame: Any, now: float) -> None:
        """Carry out one frame from the master; NewConn and Shutdown are the loop's (a
        KeyError here)."""
        if type(frame) is frames.Event:
            self.delivery.on_event(frame)
            if self.seen.reports:  # clients that left channels: what they were shown
                self.to_master.extend(self.seen.take_reports())
            return
        if type(frame) is frames.Notify:
            self.delivery.to_each(frame.conn_ids, frame.line)
            return
        if type(frame) is frames.ReadMarker:
            self.delivery.markers.on_frame(frame)
            return
        handler = _CONN_FRAMES[type(frame)]
        conn = self.conns.get(frame.conn_id)
        if conn is not None:  # else closed meanwhile: what the master says is moot
            handler(self, conn, frame, now)

    def _on_reply(self, conn: LocalClient, frame: frames.Reply, now: float) -> None:
        self.delivery.respond(conn, frame.payload)

    def _on_nick_ok(self, conn: LocalClient, frame: frames.NickOk, now: float) -> None:
        conn.session.on_nick_granted(frame.nick)
        self.apply_session_effects(conn, caused_by_master=True)

    def _on_welcome(self, conn: LocalClient, frame: frames.Welcome, now: float) -> None:
        conn.session.on_welcome(frame.host)
        self.apply_session_effects(conn, caused_by_master=True)

    def _on_synced(self, conn: LocalClient, frame: frames.Synced, now: float) -> None:
        if conn.held:
            segment = conn.held.popleft()
            if segment:
                self.delivery.queue(conn, bytes(segment))
        self._guarded(conn, conn.session.on_synced, now)  # runs the client's held lines

    def _on_label_start(self, conn: LocalClient, frame: frames.LabelStart, now: float) -> None:
        conn.master_answer.start(frame.label)

    def _on_label_end(self, conn: LocalClient, frame: frames.LabelEnd, now: float) -> None:
        if not conn.master_answer.capturing:
            return
        label, lines = conn.master_answer.finish()
        self.delivery.queue(conn, b"".join(conn.session.label_response(lines, label)))

    def _on_account_frame(self, conn: LocalClient, frame: Any, now: float) -> None:
        before = conn.session.account
        self._guarded(conn, conn.session.on_account_frame, frame)
        if conn.session.account != before:  # logged in or out: read markers, replays
            self.delivery.markers.account_changed(conn.session.conn_id, before,
                                                  conn.session.account)
            self.seen.forget(conn.session.conn_id)

    def on_work_done(self, conn_id: int, result: Any) -> None:
        """A verification thread's result for a connection (None if it failed)."""
        conn = self.conns.get(conn_id)
        if conn is not None:
            self._guarded(conn, conn.session.on_work_done, result)

    def _guarded(self, conn: LocalClient, action: Callable[[Any], None], arg: Any) -> None:
        try:  # runs the client's held lines: guarded as in on_data
            action(arg)
        except Exception:  # a bug with one client's line must not take the worker down
            log.exception("error handling a line from connection %d", conn.session.conn_id)
            conn.session.close("Internal server error")
        self.apply_session_effects(conn)

    def _on_oper_status(self, conn: LocalClient, frame: frames.OperStatus, now: float) -> None:
        """The client became a server operator (or stopped being one): fakelag leaves opers
        alone, so what it held back runs now."""
        conn.session.oper = frame.oper
        self._guarded(conn, conn.session.on_wake, now)

    def _on_close_conn(self, conn: LocalClient, frame: frames.CloseConn, now: float) -> None:
        conn.session.close(frame.reason)
        self.apply_session_effects(conn)

    # the clients
    def on_data(self, conn: LocalClient, data: bytes, now: float) -> None:
        """Bytes the client sent: each complete line to its session, until it closes."""
        if conn.closed:
            return
        session = conn.session
        awaiting_ack = self.seen.awaiting(session.conn_id)
        try:
            for line in conn.reader.feed(data):
                if awaiting_ack and type(line) is bytes:  # the answer to seen.py's PING?
                    awaiting_ack = not self.seen.on_line(session.conn_id, line)
                session.on_line(line, now)
                if session.close_reason is not None:
                    break
        except Exception:  # a bug with one client's line must not take the worker down
            log.exception("error handling a line from connection %d", session.conn_id)
            session.close("Internal server error")
        self.apply_session_effects(conn)

    def on_timer(self, now: float) -> None:
        """Every session's timers (registration and ping timeouts, keepalive PINGs)."""
        for conn in list(self.conns.values()):
            self._guarded(conn, conn.session.on_timer, now)
        for conn_id in self.seen.pings_due(now):  # acknowledgements (seen.py)
            conn = self.conns.get(conn_id)
            # Not inside a labeled answer still being collected (a JOIN's replay may be in
            # it): the PING must follow everything it acknowledges.
            if conn is not None and not conn.master_answer.capturing:
                self.delivery.queue(conn, self.seen.ping(conn_id, now))

    def next_wake(self) -> float | None:
        """The earliest time a session held back by fakelag asked to be woken (the loop's
        select must not sleep past it), or None."""
        wakes = self._wakes
        while wakes:
            at, conn_id = wakes[0]
            conn = self.conns.get(conn_id)
            if conn is not None and conn.wake_at == at:
                return at
            heapq.heappop(wakes)  # stale: closed, ran meanwhile, or rescheduled
        return None

    def on_wake(self, now: float) -> None:
        """Run the sessions whose fakelag wake-up is due."""
        wakes = self._wakes
        while wakes and wakes[0][0] <= now:
            at, conn_id = heapq.heappop(wakes)
            conn = self.conns.get(conn_id)
            if conn is not None and conn.wake_at == at:
                conn.wake_at = None
                self._guarded(conn, conn.session.on_wake, now)

    def apply_session_effects(self, conn: LocalClient, caused_by_master: bool = False) -> None:
        """Carry out what the session asked for. Output it produced on the client's behalf
        waits behind any outstanding SYNC; output caused by a master frame (welcome, nick
        granted) is itself part of the master's ordered stream and goes out now."""
        session = conn.session
        if session.out:
            direct = bytearray()
            for item in session.out:
                if item == SYNC_POINT:  # lines are never empty: this marks a sync point
                    conn.held.append(bytearray())
                    caused_by_master = False
                elif conn.held and not caused_by_master:
                    conn.held[-1] += item
                else:
                    direct += item
            session.out.clear()
            if direct:
                self.delivery.queue(conn, bytes(direct))
        self.to_master.extend(session.to_master)
        session.to_master.clear()
        if session.work:
            self.work.extend(session.work)
            session.work.clear()
        if session.wake_at != conn.wake_at:
            conn.wake_at = session.wake_at
            if conn.wake_at is not None:
                heapq.heappush(self._wakes, (conn.wake_at, session.conn_id))
        if session.close_reason is not None:
            self.close(conn, session.close_reason)

    def drop_slow_reader(self, conn: LocalClient) -> None:
        """A reader that cannot keep up is dropped rather than buffered without bound."""
        log.info("connection %d (%s) dropped: over its send queue of %d bytes",
                 conn.session.conn_id, conn.session.nick or "unregistered", self.config.sendq_bytes)
        conn.outbuf.clear()
        conn.session.close("SendQ exceeded")
        self.apply_session_effects(conn)

    # closing
    def close(self, conn: LocalClient, reason: str, tell_master: bool = True) -> None:
        """The pure half of closing a connection: what it holds goes into its output (e.g.
        the ERROR line after a QUIT), it is forgotten, and the master is told. The loop then
        sends what fits and closes the socket (`closing`)."""
        if conn.closed:
            return
        conn.closed = True
        self.release_held(conn)
        conn_id = conn.session.conn_id
        self.conns.pop(conn_id, None)
        # Membership is left to the QUIT event the master will send, so that the local
        # tables change only in history order. What it was shown goes first, even when the
        # server stops (tell_master false): its account's next JOIN replays only the rest.
        self.closing.append((conn, reason))
        self.seen.departed(conn_id)
        self.to_master.extend(self.seen.take_reports())
        self.delivery.markers.forget(conn_id, conn.session.account)
        if tell_master:
            self.to_master.append(frames.ConnClosed(conn_id, reason))

    @staticmethod
    def release_held(conn: LocalClient) -> None:
        """What waits for SYNCED goes into the output now (no SYNCED will come)."""
        for segment in conn.held:
            conn.outbuf += segment
        conn.held.clear()

    def take_to_master(self) -> list[Any]:
        sent, self.to_master = self.to_master, []
        return sent

    def take_closing(self) -> list[tuple[LocalClient, str]]:
        closing, self.closing = self.closing, []
        return closing


_CONN_FRAMES: dict[type, Callable[[Switchboard, LocalClient, Any, float], None]] = {
    frames.Reply: Switchboard._on_reply,
    frames.NickOk: Switchboard._on_nick_ok,
    frames.Welcome: Switchboard._on_welcome,
    frames.Synced: Switchboard._on_synced,
    frames.LabelStart: Switchboard._on_label_start,
    frames.LabelEnd: Switchboard._on_label_end,
    frames.CloseConn: Switchboard._on_close_conn,
    frames.OperStatus: Switchboard._on_oper_status,
    frames.AuthCreds: Switchboard._on_account_frame,
    frames.AuthOk: Switchboard._on_account_frame,
    frames.AuthFailed: Switchboard._on_account_frame,
    frames.LoggedOut: Switchboard._on_account_frame,
}
