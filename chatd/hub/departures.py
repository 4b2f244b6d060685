"""A shutdown's departures: everyone still connected when chatd stops leaves the history with
a QUIT, so that a replay shows them leaving before they join again after the restart (and
the writer's `live_members`, chatd/store/members.py, ends the run empty: a clean stop).

Stored, not delivered: by the time the master asks (the workers have stopped) every client has
been told `ERROR :Server shutting down`, and no worker is left to deliver to. One pass over the
clients and one batch for the writer. Pure: the Hub records the events; the master's Sequencer
numbers them after everything decided before.
"""

from __future__ import annotations

from chatd.hub.hub import Emit, Hub

SHUTDOWN_REASON = "Server shutting down"  # what the workers tell the clients, in ERROR


def store_shutdown_quits(hub: Hub) -> int:
    """A QUIT (SHUTDOWN_REASON) for every registered client in a channel, in every channel it
    is in. Returns how many. (A client in no channel belongs to no timeline: nothing to store,
    as for any QUIT.) The registry is left as it is: the master is about to exit."""
    count = 0
    for client in hub.registry.clients.values():
        if not client.registered or not client.channels:
            continue
        convs = tuple(client.channels)
        hub.emit(Emit(kind="QUIT", source=client.source, target="", text=SHUTDOWN_REASON,
                      convs=convs, channels=(), to_conns=(), origin=client.conn_id, workers=(),
                      account=client.account or ""))
        count += 1
    return count
