"""`hotpath`: the Python cost of the worker's fan-out loop alone, in-process and without
sockets: the worker's Delivery.on_event queueing one committed channel message to R local members.

What it leaves out is the kernel: the send() that flushes each member's buffer (about 4 us
per call on loopback, whatever the line count) is measured end to end by `fanout`. This one is
steady (no load generator, no scheduling), so it shows a change to the loop itself; run it
against another checkout with `--tree DIR` to compare two versions in one sitting.
"""

from __future__ import annotations

import dataclasses
import socket
import sys
import time
from pathlib import Path
from unittest import mock

CHANNEL = "#lobby"


def measure(receivers: int, events: int, tagged_share: float) -> dict:
    from chatd.ipc import frames as ipc
    from chatd.ipc.pipe import Pipe
    from chatd.config import Config
    from chatd.serverinfo import build_server_info
    from chatd.session.session import Session
    from chatd.worker import Connection, Worker

    config = dataclasses.replace(Config(), history_path=Path("/nonexistent/chatd.db"))
    info = build_server_info(config, None, 0)
    ours, theirs = socket.socketpair()
    worker = Worker(0, Pipe(ours), info)
    delivery = worker.switchboard.delivery
    tagged = int(receivers * tagged_share)
    conns = []
    for conn_id in range(1, receivers + 1):
        session = Session(conn_id, "127.0.0.1", info, 0.0)
        session.caps = {"server-time", "message-tags"} if conn_id <= tagged else set()
        conn = Connection(mock.Mock(spec=socket.socket), session)
        worker.conns[conn_id] = conn
        delivery.members.setdefault(CHANNEL, {})[conn_id] = conn
        conns.append(conn)
    text = "t=0000000000000000000 " + "x" * 60
    best = float("inf")
    for _round in range(5):  # best of 5: the least disturbed run
        start = time.perf_counter_ns()
        for event_id in range(1, events + 1):
            delivery.on_event(ipc.Event(event_id, 1_700_000_000_000, "PRIVMSG", "ann!a@h",
                                        CHANNEL, text, "", 0, (CHANNEL,), (), ""))
        elapsed = time.perf_counter_ns() - start
        best = min(best, elapsed)
        for conn in conns:
            conn.outbuf.clear()
        delivery.dirty.clear()
    theirs.close()
    worker.pipe.close()
    return {"receivers": receivers, "events": events, "tagged_share": tagged_share,
            "ns_per_delivery": best / (receivers * events)}


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="bench/hotpath.py", description=__doc__.split("\n")[0])
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--tagged-share", type=float, default=0.5,
                        help="share of members with server-time and message-tags")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the chatd checkout to measure (default: this one)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.tree))
    result = measure(args.receivers, args.events, args.tagged_share)
    print(f"{args.tree}: worker on_event, R={result['receivers']}, "
          f"{result['tagged_share']:.0%} tagged: {result['ns_per_delivery']:.0f} ns per delivery "
          f"(best of 5 x {result['events']} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
