"""Turns the hub's effects into frames, in one total order, with commit-before-send.

Every event gets the next id and a server time here (never going backwards), so the order of
the history is decided in one place. Frames for workers are released strictly in decision
order, and an event's frame (and everything decided after it) is held until the writer says
that id is committed. Pure: no sockets; the master moves the bytes.
"""

from __future__ import annotations

import collections

from chatd.ipc import frames
from chatd.events import StoreRow
from chatd.hub.hub import Effect, Emit, ReplyLines

Outgoing = list[tuple[int, bytes]]  # (worker index, encoded frame)


class Sequencer:
    def __init__(self, last_id: int, last_ts_ms: int) -> None:
        self.next_id = last_id + 1
        self.committed_id = last_id
        self.last_ts_ms = last_ts_ms
        self._held: collections.deque[tuple[int, Outgoing]] = collections.deque()
        self._unstored: list[StoreRow] = []
        self._uncommitted: collections.deque[StoreRow] = collections.deque()
        self.relayed = 0  # event frames for workers to deliver, since start (a metric)

    @property
    def backlog(self) -> int:
        """Events decided and not yet committed (handed to the writer or not)."""
        return self.next_id - 1 - self.committed_id

    @property
    def uncommitted_count(self) -> int:
        """Rows handed to the writer and not yet acknowledged."""
        return len(self._uncommitted)

    def add(self, effects: list[Effect], now_ms: int) -> Outgoing:
        """Sequence effects; return the frames that may go out at once."""
        ready: Outgoing = []
        for effect in effects:
            needed, encoded = self._frames_for(effect, now_ms)
            if not self._held and needed <= self.committed_id:
                ready.extend(encoded)
            else:
                self._held.append((needed, encoded))
        return ready

    def _frames_for(self, effect: Effect, now_ms: int) -> tuple[int, Outgoing]:
        if isinstance(effect, Emit):
            return self._sequence_event(effect, now_ms)
        if isinstance(effect, ReplyLines):
            payload = ("\r\n".join(effect.lines) + "\r\n").encode("utf-8", "replace")
            frame = frames.Reply(conn_id=effect.conn_id, payload=payload)
        else:  # ToWorker: not stored, it goes out in order without an id
            frame = effect.frame
        return 0, [(effect.worker, frames.encode(frame))]

    def _sequence_event(self, e: Emit, now_ms: int) -> tuple[int, Outgoing]:
        event_id = self.next_id
        self.next_id += 1
        ts = self.last_ts_ms = max(now_ms, self.last_ts_ms)
        self._unstored.append(StoreRow(event_id=event_id, ts_ms=ts, kind=e.kind,
                                       source=e.source, target=e.target, text=e.text,
                                       tags=e.tags if e.stored_tags is None else e.stored_tags,
                                       convs=e.convs, account=e.account))
        event = frames.Event(event_id=event_id, ts_ms=ts, kind=e.kind, source=e.source,
                             target=e.target, text=e.text, tags=e.tags, origin=e.origin,
                             channels=e.channels, to_conns=e.to_conns, extra="",
                             account=e.account)
        frame = frames.encode(event)
        self.relayed += len(e.workers)
        if not e.extra:
            return event_id, [(worker, frame) for worker in e.workers]
        # The extra (a NAMES burst: N nicks) goes only to the origin's worker.
        with_extra = frames.encode(event._replace(extra=e.extra))
        return event_id, [(worker, with_extra if worker == e.origin_worker else frame)
                          for worker in e.workers]

    def take_rows(self) -> list[StoreRow]:
        """Rows to send to the writer now; kept until committed, in case it restarts."""
        rows, self._unstored = self._unstored, []
        self._uncommitted.extend(rows)
        return rows

    def committed(self, up_to_id: int) -> Outgoing:
        """The writer made every id <= up_to_id durable: release what waited for that."""
        self.committed_id = max(self.committed_id, up_to_id)
        while self._uncommitted and self._uncommitted[0].event_id <= self.committed_id:
            self._uncommitted.popleft()
        ready: Outgoing = []
        while self._held and self._held[0][0] <= self.committed_id:
            ready.extend(self._held.popleft()[1])
        return ready

    def writer_restarted(self, last_id: int) -> tuple[list[StoreRow], Outgoing]:
        """A new writer reports its last stored id: return the rows it must store again
        (those it does not have) and the frames now releasable."""
        ready = self.committed(last_id)
        rows = list(self._uncommitted) + self._unstored
        self._uncommitted.clear()
        self._unstored = rows
        return self.take_rows(), ready

