"""PING barriers in the master. Pure: no I/O.

A client's PING is answered after a PING_SYNC through the master, so that the PONG comes after
every event decided before it (chatd/session/session.py). But "before it" is decided by the order in
which frames reach the master, and a message another client sent just before the PING may
still be on its way through another worker. So the master holds a PING_SYNC for a moment
(GRACE_S) before answering it, and with it every later frame of that client, in order (its
replies must keep their order); other clients are not held.
"""

from __future__ import annotations

from chatd.ipc.frames import PingSync

GRACE_S = 0.003


class Barriers:
    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.grace_s = grace_s
        # conn_id -> (due time, [item, ...]); dicts keep insertion order, which is due order
        self._held: dict[int, tuple[float, list]] = {}

    def hold(self, source: object, frame: tuple, now: float) -> bool:
        """Keep (source, frame) when the frame's client is held or the frame starts a hold.
        True if kept. (Called for every frame from a worker: nothing is built otherwise.)"""
        conn_id = frame.conn_id
        held = self._held.get(conn_id)
        if held is not None:
            held[1].append((source, frame))
            return True
        if type(frame) is PingSync:
            self._held[conn_id] = (now + self.grace_s, [(source, frame)])
            return True
        return False

    def due(self, now: float) -> list[tuple]:
        """(source, frame) of every client whose hold has ended, in the order they came."""
        released = []
        for conn_id, (due_at, items) in list(self._held.items()):
            if due_at > now:
                break
            del self._held[conn_id]
            released.extend(items)
        return released

    def next_due(self) -> float | None:
        return next(iter(self._held.values()))[0] if self._held else None
