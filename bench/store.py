"""store: how many messages per second the history writer commits, through the real path
(client -> worker -> master/sequencer -> writer commit -> master -> worker -> echo).

S clients with echo-message each flood a channel of their own (so there is no fan-out; the
echo is the only delivery), keeping at most `window` messages without their echo. chatd sends
an echo only after the writer has committed the message, so echoes per second = committed
messages per second. After the server stops, the PRIVMSG rows in the database are counted
as a cross-check. The [history] synchronous setting used is part of the result.

For reference it also times chatd.writes.insert_events alone (no server, same synchronous
setting) with a few transaction sizes: SQLite's ceiling on this machine, to compare with.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from clients import Pool, gather
from common import BenchError, ChatdServer, CpuWindow, merge_counts

from chatd.events import StoreRow
from chatd.store import schema, writes

TEXT = "store benchmark message: the quick brown fox jumps over the lazy dog 0123456789"
SOURCE = "w0!w0@127.0.0.1"


def run_store(args) -> dict:
    server = ChatdServer(workers=args.workers, autojoin="", synchronous=args.synchronous,
                         sendq_bytes=args.sendq_bytes).start()
    db = server.history_path
    procs = args.procs
    pools = [Pool(f"store-{i}") for i in range(procs)]
    try:
        start = 0
        for i, pool in enumerate(pools):
            share = args.senders // procs + (1 if i < args.senders % procs else 0)
            indices = range(start, start + share)
            pool.send("connect", "127.0.0.1", server.port, [f"w{n}" for n in indices],
                      [False] * share, [f"#store{n}" for n in indices], "echo-message",
                      b" 366 ", 64, 60.0, 0)
            start += share
        replies = gather(pools, 90)
        failed = sum(r[1]["failed"] for r in replies)
        if failed:
            raise BenchError(f"{failed} store clients could not register: "
                             f"{merge_counts(r[1]['reasons'] for r in replies)}")
        rows_before = _count_privmsgs(db)
        cpu = CpuWindow(server, [p.pid for p in pools])
        cpu.start()
        for pool in pools:
            pool.send("flood", args.duration, args.window, TEXT)
        floods = [r[1] for r in gather(pools, args.duration + 60)]
        usage = cpu.stop()
        problems = server.problem_lines()
        server.stop_and_note(cleanup=False)
        rows_stored = _count_privmsgs(db) - rows_before
    finally:
        server.stop()
        for pool in pools:
            pool.stop()
    sent = sum(f["sent"] for f in floods)
    echoed = sum(f["echoed"] for f in floods)
    in_window = sum(f["echoed_in_window"] for f in floods)
    window_s = (max(f["end_ns"] for f in floods) - min(f["t0_ns"] for f in floods)) / 1e9
    direct = direct_insert_rates(args.synchronous, args.direct_seconds)
    return {
        "synchronous": args.synchronous,
        "senders": args.senders,
        "window": args.window,
        "duration_s": window_s,
        "messages_sent": sent,
        "echoes_received": echoed,
        "rows_stored": rows_stored,
        "committed_msgs_per_s": in_window / window_s if window_s else 0.0,
        "disconnected": sum(f["dead"] for f in floods),
        "direct_insert_rows_per_s": direct,
        "server_log_problems": problems,
        **usage,
    }


def direct_insert_rates(synchronous: str, seconds: float) -> dict[str, float]:
    """insert_events alone (no server) with transactions of several sizes: rows/s each, and
    the CPU time it took per row (µs; the disk's waits left out, so it compares across runs
    on a busy machine better than rows/s)."""
    rates: dict[str, float] = {}
    if seconds <= 0:
        return rates
    with tempfile.TemporaryDirectory(prefix="chatd-bench-direct-") as folder:
        conn = schema.open_for_writing(Path(folder) / "direct.db", synchronous)
        try:
            next_id = 1
            for batch in (1, 100, 1000):
                done = 0
                t0, cpu0 = time.monotonic(), time.process_time()
                while time.monotonic() - t0 < seconds:
                    ts = int(time.time() * 1000)
                    rows = [(next_id + k, ts, "PRIVMSG", SOURCE, "#store0", TEXT, "",
                             ("#store0",)) for k in range(batch)]
                    writes.insert_events(conn, [StoreRow(*row) for row in rows])
                    next_id += batch
                    done += batch
                rates[f"batch_{batch}"] = done / (time.monotonic() - t0)
                rates[f"cpu_us_per_row_batch_{batch}"] = (time.process_time() - cpu0) / done * 1e6
        finally:
            conn.close()
    return rates


def _count_privmsgs(db: Path) -> int:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM messages WHERE kind = 'PRIVMSG'").fetchone()[0]
    finally:
        conn.close()


def store_rows(r: dict) -> list[list]:
    roles = r["server_cpu_pct_by_role"]
    rows = [
        ["synchronous", r["synchronous"]],
        ["senders x window", f"{r['senders']} x {r['window']}"],
        ["measured window (s)", r["duration_s"]],
        ["committed msgs/s (echoes)", r["committed_msgs_per_s"]],
        ["messages sent", r["messages_sent"]],
        ["echoes received", r["echoes_received"]],
        ["PRIVMSG rows stored", r["rows_stored"]],
        ["clients disconnected", r["disconnected"]],
        ["server CPU (% of one core)", f"{r['server_cpu_pct']:.0f}% (master {roles['master']:.0f}%,"
                                       f" workers {roles['workers']:.0f}%,"
                                       f" writer {roles['writer']:.0f}%)"],
        ["load generator CPU (% of one core)", r["generator_cpu_pct"]],
    ]
    for name, rate in r["direct_insert_rows_per_s"].items():
        if name.startswith("cpu_us_per_row_"):
            size = name.rsplit("_", 1)[1]
            rows.append([f"insert_events alone, batch {size} (CPU µs/row)", rate])
        else:
            rows.append([f"insert_events alone, {name.replace('_', ' ')} (rows/s)", rate])
    return rows
