"""The master's order of work, pure: frames from the workers go through the PING barriers
(chatd/hub/barriers.py), then the Hub, then the Sequencer; the Sequencer's rows go to the
writer, and what the writer commits releases what waits for it. Every step returns the frames
to send, as (worker index, encoded frame) in the order they must leave; the master's loop
(chatd/master.py) moves the bytes, keeps the clocks and decides when each step runs.

No I/O: times come in, and a bug in one client's frame is logged and answered with a
CloseConn for that client alone.
"""

from __future__ import annotations

import logging
from typing import Any

from chatd.hub import account_requests, departures, founders, opers
from chatd.hub.barriers import Barriers
from chatd.hub.hub import Hub
from chatd.hub.sequencer import Outgoing, Sequencer
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, hub: Hub, barriers: Barriers) -> None:
        self.hub = hub
        self.barriers = barriers
        self.sequencer: Sequencer | None = None  # once the writer has said where history ends
        self._departed: list[int] = []  # a worker index per client it reported gone

    # the writer
    def writer_ready(self, ready: frames.Ready) -> tuple[list[tuple], Outgoing]:
        """The writer opened the history: the first time, sequencing starts after its last
        event and the kept channels come back; after a restart, the rows it must store again
        and the frames its last id releases."""
        if self.sequencer is None:
            self.sequencer = Sequencer(ready.last_id, ready.last_ts_ms)
            founders.load(self.hub.registry, frames.kept_channels(ready))
            self.hub.accounts.load(ready.accounts)
            self.hub.server_bans.load(ready.bans)
            self.hub.cloak_secret = ready.cloak_secret
            return [], []
        return self.sequencer.writer_restarted(ready.last_id)

    def take_rows(self) -> list[tuple]:
        """Rows for the writer to store now (kept until committed)."""
        assert self.sequencer is not None
        return self.sequencer.take_rows()

    def committed(self, up_to_id: int) -> Outgoing:
        """The writer committed every id <= up_to_id: what waited for that may go out."""
        assert self.sequencer is not None
        return self.sequencer.committed(up_to_id)

    # the workers
    def on_worker_frames(self, worker: int, received: list[Any], now_ms: int,
                         now: float) -> Outgoing:
        """Frames read from one worker: held behind a PING barrier or handled now."""
        self.hub.now_ms = now_ms
        hold = self.barriers.hold
        closes: Outgoing = []
        for frame in received:
            if not hold(worker, frame, now):
                self._handle(worker, frame, closes)
        return closes + self._sequence()

    def release_barriers(self, polled_at: float, now_ms: int) -> Outgoing:
        """Handle the frames of clients whose PING barrier was due at `polled_at` (when the
        master's select returned: what other workers sent until then has been read)."""
        if self.sequencer is None:
            return []
        released = self.barriers.due(polled_at)
        if not released:
            return []
        self.hub.now_ms = now_ms
        closes: Outgoing = []
        for worker, frame in released:
            self._handle(worker, frame, closes)
        return closes + self._sequence()

    def drop_worker_clients(self, worker: int, now_ms: int) -> Outgoing:
        """A worker died and its connections with it: everyone is told they quit."""
        self.hub.now_ms = now_ms
        for client in [c for c in self.hub.registry.clients.values() if c.worker == worker]:
            self.hub.connection_closed(client, "Connection lost (server error)")
        return self._sequence() if self.sequencer is not None else []

    def shutdown_departures(self, now_ms: int) -> Outgoing:
        """Shutdown, once the workers have stopped: everyone still connected is stored as
        having quit (chatd/hub/departures.py), after everything decided before."""
        if self.sequencer is None:
            return []
        self.hub.now_ms = now_ms
        count = departures.store_shutdown_quits(self.hub)
        log.info("shutdown: storing a QUIT for the %d user(s) in channels", count)
        return self._sequence()

    def admin_request(self, control_id: int, op: str, name: str, payload: dict,
                      now_ms: int) -> Outgoing:
        """An admin command's account write (chatd/hub/account_requests.admin): its answer
        leaves for CONTROL_WORKER once committed."""
        assert self.sequencer is not None
        self.hub.now_ms = now_ms
        account_requests.admin(self.hub, control_id, op, name, payload)
        return self._sequence()

    def tell_opers(self, text: str) -> Outgoing:
        """A server notice to every operator (what a REHASH came to, say)."""
        opers.server_notice(self.hub, text)
        return self._sequence()

    def take_departed(self) -> list[int]:
        """A worker index for each client whose ConnClosed was handled since the last call."""
        departed, self._departed = self._departed, []
        return departed

    def _handle(self, worker: int, frame: Any, closes: Outgoing) -> None:
        conn_id = frame.conn_id
        client = self.hub.registry.clients.get(conn_id)
        if client is None:
            return
        if isinstance(frame, frames.ConnClosed):
            self._departed.append(worker)
        try:
            apply_worker_frame(self.hub, client, frame)
        except Exception:  # a bug in one command must not take the server down
            log.exception("error handling %s for connection %d", _frame_summary(frame), conn_id)
            # Sent at once, ahead of what the Sequencer releases for these frames.
            closes.append((worker, frames.encode(
                frames.CloseConn(conn_id=conn_id, reason="Internal server error"))))

    def _sequence(self) -> Outgoing:
        """Sequence what the Hub decided; return what may go out now."""
        assert self.sequencer is not None
        founders.write_changes(self.hub)  # what the kept channels became, after their events
        return self.sequencer.add(self.hub.take_effects(), self.hub.now_ms)


def _frame_summary(frame: Any) -> str:
    """A frame for a log line: its type and command, never a client's text."""
    command = getattr(frame, "command", "")
    return f"{type(frame).__name__} {command}".rstrip()
