"""echo: how long one message takes to be stored, as its sender sees it.

chatd echoes a message (echo-message) only once the writer has committed it, so the echo's
round trip is the commit path: the worker, the master, the writer's transaction and its
fsync, and anything the writer does in the way (a WAL checkpoint, a batch of the search
index's backfill). One client in `#lobby` sends `--count` messages at `--rate` a second, each
after the previous echo came back, on a history given with `--db` (the bigger the file, the
dearer a checkpoint: its pages are spread over it) or a new one loaded with `--messages`.
Also what the writer process wrote to storage (/proc/PID/io: its WAL and its checkpoints)
and the CPU it used, per message.
"""

from __future__ import annotations

import time

from common import BenchError, cpu_seconds, written_bytes
from history_queries import LineClient, prepare_history, summarize


def run_echo(args) -> dict:
    if args.rate <= 0 or args.count <= 0:
        raise BenchError("--rate and --count must be positive")
    keep_db = args.db is not None
    db, server, load_figures = prepare_history(args, workers=args.workers,
                                               synchronous=args.synchronous, autojoin="")
    server.start()
    try:
        client = LineClient(server.port, "prober", "echo-message", join="#lobby")
        writer = next(pid for pid, role in server.roles().items() if role == "writer")
        written, cpu = written_bytes(writer), cpu_seconds(writer)
        samples = []
        started = time.monotonic()
        for i in range(args.count):
            token = f"probe{i}"
            sent = time.monotonic_ns()
            client.send(f"PRIVMSG #lobby :{token}")
            client.read_until(f":{token}".encode())
            samples.append(time.monotonic_ns() - sent)
            # pacing to the rate, not waiting for anything
            time.sleep(max(0.0, started + (i + 1) / args.rate - time.monotonic()))
        written, cpu = written_bytes(writer) - written, cpu_seconds(writer) - cpu
        client.close()
        problems = server.problem_lines()
    finally:
        server.stop_and_note()
    summary = summarize("echo", samples, [])
    ordered = sorted(samples)
    summary["p999_ms"] = ordered[min(len(ordered) - 1, int(len(ordered) * 0.999))] / 1e6
    summary["over_20ms"] = sum(1 for s in samples if s > 20e6)
    summary["writer_kib_per_msg"] = written / 1024 / args.count
    summary["writer_cpu_ms_per_msg"] = cpu * 1000 / args.count
    return {"db_path": str(db) if keep_db else "", "echo": summary,
            "server_log_problems": problems, **load_figures}
