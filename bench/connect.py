"""connect: N clients connect, register and join one channel (#lobby, by autojoin).

Clients are spread over a few load-generator processes; each keeps at most `in_flight`
registrations open at a time and reads everything it is sent (the JOIN storm: every join is
delivered to every member, so the traffic grows with N squared). Figures:
- time until every client got its own 366 (end of NAMES: registered and joined);
- time until a marker message sent afterwards reached every client: the JOIN storm drained;
- failures and why; total RSS of all chatd processes (VmRSS), before and after, per client;
- server CPU during the phase.
"""

from __future__ import annotations

import math
import time

from clients import Pool, gather
from common import ChatdServer, CpuWindow, merge_counts, mib

CHANNEL = "#lobby"


def required_fds(clients: int, procs: int, workers: int) -> dict:
    """File descriptors each side needs, roughly (sockets plus a margin)."""
    return {"per_generator_process": math.ceil(clients / procs) + 64,
            "per_worker": math.ceil(clients / workers) + 64,
            "both_sides_total": 2 * clients + 64 * (procs + workers + 2)}


def run_connect(args) -> dict:
    server = ChatdServer(workers=args.workers, synchronous=args.synchronous,
                         sendq_bytes=args.sendq_bytes, autojoin=CHANNEL, tls=args.tls).start()
    procs = args.procs or min(4, max(1, math.ceil(args.clients / 2500)))
    pools = [Pool(f"clients-{i}") for i in range(procs)]
    try:
        time.sleep(0.5)  # let the fresh processes settle before the baseline is read
        rss_before = server.rss_total()
        cpu = CpuWindow(server, [p.pid for p in pools])
        cpu.start()
        t0 = time.monotonic_ns()
        start = 0
        for i, pool in enumerate(pools):
            share = args.clients // procs + (1 if i < args.clients % procs else 0)
            nicks = [f"c{n}" for n in range(start, start + share)]
            pool.send("connect", "127.0.0.1", server.client_port, nicks, [False] * share, [],
                      "", b" 366 ", args.in_flight, args.timeout, 0, args.tls)
            start += share
        replies = [r[1] for r in gather(pools, args.timeout + 30)]
        joined = sum(r["ready"] for r in replies)
        failed = sum(r["failed"] for r in replies)
        reasons = merge_counts(r["reasons"] for r in replies)
        t_joined = max(r["t_end_ns"] for r in replies)
        # The JOIN storm: a marker sent now reaches everyone only after every earlier JOIN.
        storm_s = float("nan")
        missing = None
        if joined:
            first = next(i for i, r in enumerate(replies) if r["ready"])
            token = f"storm-drained-{time.monotonic_ns()}".encode()
            for pool in pools:
                pool.send("barrier", token, args.timeout, [])
            gather(pools, 30)  # every pool armed before the marker is sent
            pools[first].send("say_any", b"PRIVMSG #lobby :" + token + b"\r\n")
            pools[first].receive(30)
            barrier = [r[1] for r in gather(pools, args.timeout + 30)]
            missing = sum(b["missing"] for b in barrier)
            storm_s = (max(b["t_end_ns"] for b in barrier) - t0) / 1e9
        usage = cpu.stop()
        server.refresh_pids()
        rss_after = server.rss_total()
        result = {
            "clients": args.clients,
            "tls": args.tls,
            "generator_processes": procs,
            "joined": joined,
            "failed": failed,
            "failure_reasons": reasons,
            "time_to_all_joined_s": (t_joined - t0) / 1e9,
            "time_to_join_storm_drained_s": storm_s,
            "clients_missing_marker": missing,
            "server_rss_before_bytes": rss_before,
            "server_rss_after_bytes": rss_after,
            "server_rss_per_client_bytes": (rss_after - rss_before) / joined if joined else 0,
            "server_processes": len(server.pids),
            **usage,
        }
        result["server_log_problems"] = server.problem_lines()
        return result
    finally:
        server.stop_and_note()
        for pool in pools:
            pool.stop()


def connect_rows(r: dict) -> list[list]:
    roles = r["server_cpu_pct_by_role"]
    return [
        ["clients", r["clients"] if not r.get("tls") else f"{r['clients']} (TLS)"],
        ["registered and joined", r["joined"]],
        ["failed", f"{r['failed']} {r['failure_reasons'] or ''}".strip()],
        ["time to all joined (s)", r["time_to_all_joined_s"]],
        ["time to JOIN storm drained (s)", r["time_to_join_storm_drained_s"]],
        ["clients that missed the marker", r["clients_missing_marker"]],
        ["server RSS before (MiB)", mib(r["server_rss_before_bytes"])],
        ["server RSS after (MiB)", mib(r["server_rss_after_bytes"])],
        ["server RSS per client (KiB)", r["server_rss_per_client_bytes"] / 1024],
        ["server CPU (% of one core)", f"{r['server_cpu_pct']:.0f}% (master {roles['master']:.0f}%,"
                                       f" workers {roles['workers']:.0f}%,"
                                       f" writer {roles['writer']:.0f}%)"],
        ["load generator CPU (% of one core)", r["generator_cpu_pct"]],
    ]
