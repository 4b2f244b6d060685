"""chatd benchmark suite: one entry point, one subcommand per benchmark.

    python3 bench/run.py fanout --receivers 1000 --senders 10 --rate 200 --duration 10
    python3 bench/run.py maxrate --receivers 1000 --senders 10
    python3 bench/run.py connect --clients 10000
    python3 bench/run.py history --messages 10000000
    python3 bench/run.py search --messages 1000000
    python3 bench/run.py store --synchronous normal
    python3 bench/run.py echo --db /var/tmp/chatd-10m.db

Each run starts its own chatd on 127.0.0.1 (port picked by the kernel) in a temporary
folder, prints a table, optionally writes the figures as JSON (--json FILE), and stops every
process it started, by PID. Every run is bounded in count and in time (--time-limit).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # chatd (the loader uses its writer code)
sys.path.insert(0, str(BENCH))

from common import (  # noqa: E402
    BenchError,
    TimeLimitReached,
    mib,
    print_table,
    raise_nofile_limit,
    write_json,
)

from chatd.config import Config  # noqa: E402


def _on_alarm(_signum, _frame) -> None:
    raise TimeLimitReached("the run reached its --time-limit")


def _on_term(_signum, _frame) -> None:
    raise SystemExit(143)  # unwinds through every finally: servers and pools are stopped


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().removesuffix("ib").removesuffix("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _common(parser: argparse.ArgumentParser, time_limit: float) -> None:
    parser.add_argument("--workers", default="auto",
                        help='chatd [server] workers: a number or "auto" (default: auto)')
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--time-limit", type=float, default=time_limit, metavar="S",
                        help=f"stop the whole run after S seconds (default {time_limit:g})")
    parser.add_argument("--seed", type=int, default=1)
    default = Config().history_synchronous
    parser.add_argument("--synchronous", choices=("normal", "full"), default=default,
                        help=f"chatd [history] synchronous (default: chatd's, {default})")


def _fanout_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--text-bytes", type=int, default=64,
                        help="bytes of message text, the t= token included (default 64)")
    parser.add_argument("--caps", default="",
                        help='capabilities clients request, e.g. "server-time message-tags"')
    parser.add_argument("--probes", type=int, default=50,
                        help="receivers that parse every message's send time (default 50)")
    parser.add_argument("--receiver-procs", type=int, default=0,
                        help="load-generator processes for receivers (default: 1 per 250, max 4)")
    parser.add_argument("--sendq", dest="sendq_bytes", type=_size, default=4 << 20,
                        help="chatd [limits] sendq (default 4MiB)")
    parser.add_argument("--rcvbuf", type=_size, default=1 << 20,
                        help="SO_RCVBUF of receiver sockets (default 1MiB)")
    parser.add_argument("--connect-in-flight", type=int, default=50,
                        help="registrations in progress at once, per process (default 50)")
    parser.add_argument("--connect-timeout", type=float, default=300.0)
    parser.add_argument("--drain-timeout", type=float, default=15.0,
                        help="seconds to wait for the last deliveries after sending stops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)

    p = sub.add_parser("fanout", help="R receivers, S senders, M msgs/s for D seconds")
    _fanout_options(p)
    p.add_argument("--rate", type=float, default=200.0, help="messages/s offered in total")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--tls", action="store_true",
                   help="every client over TLS (chatd with a throwaway self-signed cert)")
    _common(p, 900)

    p = sub.add_parser("maxrate", help="step the rate up until p99 > bound or any loss")
    _fanout_options(p)
    p.add_argument("--start-rate", type=float, default=50.0)
    p.add_argument("--factor", type=float, default=1.5)
    p.add_argument("--step-duration", type=float, default=5.0)
    p.add_argument("--max-steps", type=int, default=15)
    p.add_argument("--max-p99-ms", type=float, default=500.0)
    _common(p, 1800)

    p = sub.add_parser("connect", help="N clients register and join one channel")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--procs", type=int, default=0,
                   help="load-generator processes (default: 1 per 2500 clients, max 4)")
    p.add_argument("--in-flight", type=int, default=100,
                   help="registrations in progress at once, per process (default 100)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--sendq", dest="sendq_bytes", type=_size, default=4 << 20,
                   help="chatd [limits] sendq (default 4MiB)")
    p.add_argument("--tls", action="store_true",
                   help="every client over TLS: the time includes 1 TLS handshake each")
    _common(p, 1200)

    p = sub.add_parser("history", help="query latency on a large history")
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--db", type=Path,
                   help="history file: used as is if it exists, else loaded and kept")
    p.add_argument("--tmp-dir", default=tempfile.gettempdir(),
                   help="where a throw-away history is built (default: the temp folder)")
    p.add_argument("--queries", type=int, default=200, help="requests of each kind")
    p.add_argument("--replay", type=int, default=50, help="chatd [history] replay")
    _common(p, 7200)

    p = sub.add_parser("search", help="SEARCH latency on a large history")
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--db", type=Path,
                   help="history file: used as is if it exists (indexed by chatd first if it"
                        " is older than the index), else loaded and kept")
    p.add_argument("--tmp-dir", default=tempfile.gettempdir(),
                   help="where a throw-away history is built (default: the temp folder)")
    p.add_argument("--queries", type=int, default=200, help="requests of each kind")
    p.add_argument("--limit", type=int, default=50, help="SEARCH limit")
    _common(p, 7200)

    p = sub.add_parser("echo", help="how long one message takes to be stored (its echo)")
    p.add_argument("--messages", type=int, default=0,
                   help="events of the new history when --db is not an existing file")
    p.add_argument("--db", type=Path, help="history file: used as is if it exists")
    p.add_argument("--tmp-dir", default=tempfile.gettempdir(),
                   help="where a throw-away history is built (default: the temp folder)")
    p.add_argument("--count", type=int, default=600, help="messages sent")
    p.add_argument("--rate", type=float, default=10.0, help="messages a second at most")
    _common(p, 3600)

    p = sub.add_parser("store", help="messages/s the writer commits")
    p.add_argument("--senders", type=int, default=20)
    p.add_argument("--window", type=int, default=200,
                   help="messages a sender may have without their echo (default 200)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--procs", type=int, default=1)
    p.add_argument("--sendq", dest="sendq_bytes", type=_size, default=4 << 20)
    p.add_argument("--direct-seconds", type=float, default=1.0,
                   help="seconds per transaction size for the insert_events reference "
                        "(0: skip)")
    _common(p, 600)
    return parser


def check_fds(needed_per_process: int, label: str) -> None:
    soft, hard = raise_nofile_limit()
    if soft < needed_per_process:
        raise BenchError(f"{label} needs about {needed_per_process:,} file descriptors per "
                         f"process; RLIMIT_NOFILE is {soft:,} (hard {hard:,}). Raise the hard "
                         f"limit (ulimit -Hn, /etc/security/limits.conf) and run again.")


def cmd_fanout(args) -> int:
    from fanout import FanoutSession, step_rows
    check_fds(args.receivers + args.senders + 256, "fanout")
    session = FanoutSession(args)
    try:
        session.start()
        print(f"{args.receivers + args.senders} clients connected and joined in "
              f"{session.connect_s:.2f} s (not measured); chatd has "
              f"{session.server.worker_count} workers; sending {args.rate:g} msgs/s for "
              f"{args.duration:g} s ...", flush=True)
        result = session.step(args.rate, args.duration)
        result["server_log_problems"] = session.server.problem_lines()
    finally:
        session.stop()
    title = (f"fanout: R={args.receivers} S={args.senders} rate={args.rate:g} msgs/s "
             f"D={args.duration:g} s, workers={args.workers}")
    print_table(title, ["figure", "value"], step_rows(result))
    _print_problems(result)
    write_json(args.json, "fanout", vars(args), result)
    return 0


def cmd_maxrate(args) -> int:
    from fanout import FanoutSession, passes
    check_fds(args.receivers + args.senders + 256, "maxrate")
    session = FanoutSession(args)
    steps = []
    best = None
    try:
        session.start()
        print(f"{args.receivers + args.senders} clients connected in {session.connect_s:.2f} s;"
              f" stepping from {args.start_rate:g} msgs/s x{args.factor:g}, "
              f"{args.step_duration:g} s per step ...", flush=True)
        rate = args.start_rate
        for _ in range(args.max_steps):
            result = session.step(rate, args.step_duration)
            ok, why = passes(result, args.max_p99_ms)
            result["verdict"] = why
            steps.append(result)
            print(f"  {rate:9.0f} msgs/s: {result['deliveries_per_s']:12,.0f} deliveries/s  "
                  f"p99 {result['latency_p99_ms']:8.1f} ms  lost {result['lost']:,}  "
                  f"server {result['server_cpu_pct']:.0f}%  generator "
                  f"{result['generator_cpu_pct']:.0f}%  {why}", flush=True)
            if not ok:
                break
            best = result
            session.barrier()
            rate *= args.factor
        problems = session.server.problem_lines()
    finally:
        session.stop()
    rows = [[r["offered_msgs_per_s"], r["deliveries_per_s"], r["latency_p50_ms"],
             r["latency_p99_ms"], r["latency_max_ms"], r["lost"], r["disconnected"],
             r["server_cpu_us_per_delivery"], f"{r['server_cpu_pct']:.0f}%",
             f"{r['generator_cpu_pct']:.0f}%", r["verdict"]] for r in steps]
    print_table(f"maxrate: R={args.receivers} S={args.senders}, {args.step_duration:g} s steps, "
                f"pass = no loss and p99 <= {args.max_p99_ms:g} ms",
                ["msgs/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "lost", "dropped",
                 "us/deliv", "server", "generator", "verdict"], rows)
    if best is None:
        print("\nno step passed")
    else:
        print(f"\nhighest passing: {best['offered_msgs_per_s']:,.0f} msgs/s = "
              f"{best['deliveries_per_s']:,.0f} deliveries/s "
              f"(p99 {best['latency_p99_ms']:.1f} ms)")
        if len(steps) == args.max_steps and steps[-1] is best:
            print("(--max-steps reached before any step failed: the limit is higher)")
    result = {"steps": steps, "highest_passing": best, "server_log_problems": problems}
    _print_problems(result)
    write_json(args.json, "maxrate", vars(args), result)
    return 0


def cmd_connect(args) -> int:
    from connect import connect_rows, required_fds, run_connect
    procs = args.procs or min(4, max(1, math.ceil(args.clients / 2500)))
    workers = os.cpu_count() if args.workers == "auto" else int(args.workers)
    fds = required_fds(args.clients, procs, workers or 1)
    soft, hard = raise_nofile_limit()
    print(f"RLIMIT_NOFILE {soft:,} (hard {hard:,}); needed per process: generator "
          f"{fds['per_generator_process']:,}, chatd worker {fds['per_worker']:,} "
          f"(both sides together {fds['both_sides_total']:,})")
    check_fds(max(fds["per_generator_process"], fds["per_worker"]), "connect")
    result = run_connect(args)
    result["nofile_limit"] = [soft, hard]
    result["fds_needed"] = fds
    print_table(f"connect: N={args.clients}, {result['generator_processes']} generator "
                f"processes x {args.in_flight} in flight, workers={args.workers}",
                ["figure", "value"], connect_rows(result))
    _print_problems(result)
    write_json(args.json, "connect", vars(args), result)
    return 0


def _history_title(name: str, result: dict, extra: str = "") -> str:
    """A history benchmark's title: the file's size and how it was built."""
    title = (f"{name}: {result['events_in_history']:,} events, "
             f"{mib(result['database_bytes']):,.0f} MiB = "
             f"{result['bytes_per_event']:.0f} bytes/event{extra}")
    if "load_s" in result:
        title += (f"; loaded in {result['load_s']:.0f} s "
                  f"({result['load_rows_per_s']:,.0f} rows/s)")
    if "backfill_s" in result:
        title += (f"; indexed by chatd in {result['backfill_s']:.0f} s "
                  f"({result['backfill_events_per_s']:,.0f} events/s)")
    return title


def cmd_history(args) -> int:
    from history_queries import run_history
    result = run_history(args)
    rows = [[q["query"], q["count"], q["p50_ms"], q["p99_ms"], q["max_ms"], q["avg_messages"]]
            for q in result["queries"]]
    print_table(_history_title("history", result),
                ["request", "count", "p50 ms", "p99 ms", "max ms", "msgs/reply"], rows)
    _print_problems(result)
    write_json(args.json, "history", vars(args), result)
    return 0


def cmd_search(args) -> int:
    from search import run_search
    result = run_search(args)
    rows = [[q["query"], q["count"], q["p50_ms"], q["p99_ms"], q["max_ms"], q["avg_messages"],
             q["timeouts"]] for q in result["queries"]]
    print_table(_history_title("search", result, f", limit={result['limit']}"),
                ["request", "count", "p50 ms", "p99 ms", "max ms", "msgs/reply", "timeouts"],
                rows)
    if "backfill_echo" in result:
        echo = result["backfill_echo"]
        print(f"while chatd indexed: {echo['count']} messages sent, echo (stored) p50 "
              f"{echo['p50_ms']:.1f} ms, p99 {echo['p99_ms']:.1f} ms, max {echo['max_ms']:.1f} ms")
    _print_problems(result)
    write_json(args.json, "search", vars(args), result)
    return 0


def cmd_echo(args) -> int:
    from echo import run_echo
    result = run_echo(args)
    echo = result["echo"]
    print_table(f"echo: {args.count} messages at {args.rate:g}/s, synchronous={args.synchronous}",
                ["p50 ms", "p99 ms", "p99.9 ms", "max ms", "over 20 ms", "writer KiB/msg",
                 "writer CPU ms/msg"],
                [[echo["p50_ms"], echo["p99_ms"], echo["p999_ms"], echo["max_ms"],
                  echo["over_20ms"], echo["writer_kib_per_msg"], echo["writer_cpu_ms_per_msg"]]])
    _print_problems(result)
    write_json(args.json, "echo", vars(args), result)
    return 0


def cmd_store(args) -> int:
    from store import run_store, store_rows
    check_fds(args.senders + 256, "store")
    result = run_store(args)
    print_table(f"store: synchronous={args.synchronous}, {args.duration:g} s, "
                f"workers={args.workers}", ["figure", "value"], store_rows(result))
    _print_problems(result)
    write_json(args.json, "store", vars(args), result)
    return 0


def _print_problems(result: dict) -> None:
    problems = result.get("server_log_problems")
    if problems:
        print("\nchatd logged (first lines):")
        for line in problems:
            print("  " + line)


COMMANDS = {"fanout": cmd_fanout, "maxrate": cmd_maxrate, "connect": cmd_connect,
            "history": cmd_history, "search": cmd_search, "store": cmd_store,
            "echo": cmd_echo}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(max(1, int(args.time_limit)))
    started = time.monotonic()
    try:
        return COMMANDS[args.benchmark](args)
    except (BenchError, TimeoutError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        print(f"({args.benchmark} took {time.monotonic() - started:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
