"""fanout and maxrate: R receivers and S senders in one channel (#lobby, by autojoin).

A step offers M messages/s in total (round robin over the senders) for D seconds, then drains:
each receiver must get every message, each sender every message of the other senders.
Figures per step: deliveries/s (all recipients), loss (expected - received after the drain
deadline), latency p50/p99/max (receive time - the send time written in the text, both
CLOCK_MONOTONIC, sampled on `probes` receivers), server CPU per delivery (utime+stime of the
master, workers and writer from /proc), and the load generator's own CPU share.

Clients connect and register before any step, a bounded number at a time, and a marker
message sent through the channel (a barrier) makes sure every JOIN has been delivered before
measuring starts, so the connect phase is never measured as fan-out.
"""

from __future__ import annotations

import array
import math
import random
import time

from clients import Pool, gather
from common import BenchError, ChatdServer, CpuWindow, merge_counts, percentile

CHANNEL = "#lobby"
BARRIER_TIMEOUT_S = 120.0


class FanoutSession:
    """A server with R receivers and S senders connected and joined, ready for steps."""

    def __init__(self, args):
        self.args = args
        self.server: ChatdServer | None = None
        self.receivers: list[Pool] = []
        self.sender: Pool | None = None
        self.barriers = 0
        self.connect_s = 0.0

    @property
    def pools(self) -> list[Pool]:
        return self.receivers + ([self.sender] if self.sender else [])

    def start(self) -> None:
        a = self.args
        tls = getattr(a, "tls", False)  # every client over TLS (fanout --tls)
        self.server = ChatdServer(workers=a.workers, synchronous=a.synchronous,
                                  sendq_bytes=a.sendq_bytes, autojoin=CHANNEL, tls=tls).start()
        port = self.server.client_port
        procs = a.receiver_procs or min(4, max(1, math.ceil(a.receivers / 250)))
        self.receivers = [Pool(f"receivers-{i}") for i in range(procs)]
        self.sender = Pool("senders")
        rng = random.Random(a.seed)
        probe_set = set(rng.sample(range(a.receivers), min(a.probes, a.receivers)))
        shares = _split(a.receivers, procs)
        t0 = time.monotonic()
        start = 0
        for pool, share in zip(self.receivers, shares):
            indices = range(start, start + share)
            pool.send("connect", "127.0.0.1", port, [f"r{i}" for i in indices],
                      [i in probe_set for i in indices], [], a.caps, b" 366 ",
                      a.connect_in_flight, a.connect_timeout, a.rcvbuf, tls)
            start += share
        self.sender.send("connect", "127.0.0.1", port,
                         [f"s{i}" for i in range(a.senders)], [False] * a.senders, [], a.caps,
                         b" 366 ", a.connect_in_flight, a.connect_timeout, 0, tls)
        replies = gather(self.pools, a.connect_timeout + 30)
        failed = sum(r[1]["failed"] for r in replies)
        if failed:
            reasons = merge_counts(r[1]["reasons"] for r in replies)
            raise BenchError(f"{failed} clients could not register and join: {reasons}")
        self.barrier()
        self.connect_s = time.monotonic() - t0

    def barrier(self) -> None:
        """Send a marker through the channel; wait until every client has seen it."""
        self.barriers += 1
        token = f"barrier-{self.barriers}-{time.monotonic_ns()}".encode()
        for pool in self.receivers:
            pool.send("barrier", token, BARRIER_TIMEOUT_S, [])
        self.sender.send("barrier", token, BARRIER_TIMEOUT_S, [0])
        gather(self.pools, 30)  # every pool armed before the token can arrive anywhere
        self.sender.send("say", 0, b"PRIVMSG " + CHANNEL.encode() + b" :" + token + b"\r\n")
        replies = gather(self.pools, BARRIER_TIMEOUT_S + 10)
        missing = sum(r[1]["missing"] for r in replies)
        if missing:
            raise BenchError(f"{missing} clients never saw the barrier message")

    def step(self, rate: float, duration_s: float) -> dict:
        """One measured fan-out step at `rate` messages/s for `duration_s`."""
        a = self.args
        for pool in self.pools:
            pool.send("reset")
        gather(self.pools, 30)
        cpu = CpuWindow(self.server, [p.pid for p in self.pools])
        cpu.start()
        self.sender.send("send", rate, duration_s, CHANNEL, a.text_bytes)
        (_, sent), = gather([self.sender], duration_s + 60)
        total = sent["sent"]
        per_sender = [total - sent["per_client"].get(i, 0) for i in range(a.senders)]
        drain_s = a.drain_timeout
        for pool in self.receivers:
            pool.send("drain", total, drain_s)
        self.sender.send("drain", per_sender, drain_s)
        replies = [r[1] for r in gather(self.pools, drain_s + 60)]
        usage = cpu.stop()
        recv = replies[:-1]
        received = sum(r["received"] for r in replies)
        expected = sum(r["expected"] for r in replies)
        latencies = array.array("q")
        for r in recv:
            latencies.frombytes(r["latencies"])
        lat = sorted(latencies)
        last_ns = max(r["last_recv_ns"] for r in replies)
        span_s = (last_ns - sent["first_ns"]) / 1e9 if last_ns > sent["first_ns"] else 0.0
        send_span_s = max(1e-9, (sent["last_ns"] - sent["first_ns"]) / 1e9)
        dead = sum(r["dead"] for r in replies)
        reasons = merge_counts(r["dead_reasons"] for r in replies)
        deliveries_receivers = sum(r["received"] for r in recv)
        return {
            "offered_msgs_per_s": rate,
            "duration_s": duration_s,
            "messages_sent": total,
            "achieved_msgs_per_s": total / duration_s,
            "send_span_s": send_span_s,
            "sender_max_backlog_bytes": sent["max_backlog_bytes"],
            "recipients_per_message": a.receivers + a.senders - 1,
            "deliveries": received,
            "deliveries_to_receivers": deliveries_receivers,
            "expected_deliveries": expected,
            "lost": max(0, expected - received),
            "extra": max(0, received - expected),
            "loss_pct": 100.0 * max(0, expected - received) / expected if expected else 0.0,
            "disconnected": dead,
            "disconnect_reasons": reasons,
            "deliveries_per_s": received / span_s if span_s else 0.0,
            "latency_samples": len(lat),
            "latency_samples_dropped": sum(r["dropped_samples"] for r in recv),
            "latency_p50_ms": percentile(lat, 0.50) / 1e6,
            "latency_p99_ms": percentile(lat, 0.99) / 1e6,
            "latency_max_ms": lat[-1] / 1e6 if lat else float("nan"),
            "server_cpu_us_per_delivery": (usage["server_cpu_s"] * 1e6 / received
                                           if received else float("nan")),
            **usage,
        }

    def stop(self) -> None:
        # The server first, while the clients still read (their sockets closing first
        # would make the server fan out a QUIT per client to all the others).
        if self.server is not None:
            self.server.stop_and_note()
        for pool in self.pools:
            pool.stop()


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def step_rows(result: dict) -> list[list]:
    r = result
    roles = r["server_cpu_pct_by_role"]
    return [
        ["offered rate (msgs/s)", r["offered_msgs_per_s"]],
        ["messages sent", r["messages_sent"]],
        ["recipients per message", r["recipients_per_message"]],
        ["deliveries", r["deliveries"]],
        ["deliveries/s", r["deliveries_per_s"]],
        ["lost (expected - received)", f"{r['lost']:,} of {r['expected_deliveries']:,} "
                                       f"({r['loss_pct']:.3f}%)"],
        ["clients disconnected", f"{r['disconnected']} {r['disconnect_reasons'] or ''}".strip()],
        ["latency p50 (ms)", r["latency_p50_ms"]],
        ["latency p99 (ms)", r["latency_p99_ms"]],
        ["latency max (ms)", r["latency_max_ms"]],
        ["latency samples", r["latency_samples"]],
        ["server CPU per delivery (us)", r["server_cpu_us_per_delivery"]],
        ["server CPU (% of one core)", f"{r['server_cpu_pct']:.0f}% (master {roles['master']:.0f}%,"
                                       f" workers {roles['workers']:.0f}%,"
                                       f" writer {roles['writer']:.0f}%)"],
        ["load generator CPU (% of one core)", r["generator_cpu_pct"]],
        ["sender backlog max (bytes)", r["sender_max_backlog_bytes"]],
        ["measured window (s)", r["wall_s"]],
    ]


def passes(result: dict, max_p99_ms: float) -> tuple[bool, str]:
    """maxrate's criterion for a step: no loss, no disconnect, p99 within the bound, and the
    offered rate actually offered (the server read everything the senders wrote)."""
    if result["lost"] or result["disconnected"]:
        return False, "loss"
    if not result["latency_p99_ms"] <= max_p99_ms:
        return False, f"p99 > {max_p99_ms:g} ms"
    if result["sender_max_backlog_bytes"] > 1 << 20:
        return False, "server stopped reading senders"
    return True, "ok"
