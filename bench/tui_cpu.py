"""`tui_cpu`: what a terminal client costs to keep open in a busy channel — CPU time per
received message of tui (or irssi, WeeChat) in tmux, under a steady message stream from a chatd.

One chatd (bench/common.py), one client in a private tmux of WIDTHxHEIGHT joined to #lobby,
one sender that writes RATE messages/s into #lobby for DURATION seconds. The client's CPU
(utime + stime of its process, from /proc) is read when the stream starts and once the last
message is on its screen, and divided by the number of messages. Run it against another
checkout with `--tree DIR` (that tree's `tui`) to compare two versions in one sitting.

    python3 bench/tui_cpu.py                                  # tui, 200 msgs/s for 10 s, 120x40
    python3 bench/tui_cpu.py --client irssi
    python3 bench/tui_cpu.py --tree /tmp/tui-before --runs 3

Benchmark tool only (Linux, loopback, standard library; needs tmux). Every process it starts
is stopped by PID (chatd) or with its private tmux server; the whole run is bounded by
--time-limit.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import (  # noqa: E402
    BenchError,
    ChatdServer,
    TimeLimitReached,
    child_pids,
    cpu_seconds,
    print_table,
    write_json,
)

from tests.support.irc_client import IRCClient  # noqa: E402
from tests.support.tmux import Tmux  # noqa: E402

CHANNEL = "#lobby"
WAIT_S = 30.0  # for the client to join, and to show the last message
FILLER = "the quick brown fox jumps over the lazy dog while the build runs"


def client_command(client: str, port: int, tree: Path, home: Path) -> list[str]:
    if client == "tui":
        return [sys.executable, "-m", "tui", "127.0.0.1", str(port), "--nick", "watcher"]
    if client == "irssi":
        (home / "config").write_text('settings = { core = { real_name = "w"; '
                                     'user_name = "watcher"; nick = "watcher"; }; };\n',
                                     encoding="utf-8")
        return ["irssi", f"--home={home}", "-c", "127.0.0.1", "-p", str(port), "-n", "watcher"]
    return ["weechat", "-d", str(home), "-a", "-r",
            f"/server add b 127.0.0.1/{port} -notls -nicks=watcher;/connect b"]


def client_pid(pane: Tmux) -> int:
    """The client's process: the child of the pane's shell (tmux wraps it in `sh -c`)."""
    shell = int(pane.pane_pid())
    deadline = time.monotonic() + WAIT_S
    while True:
        children = child_pids(shell)
        if children:
            return children[0]
        if time.monotonic() > deadline:
            raise BenchError("the client process did not start")
        time.sleep(0.05)  # bounded wait for the fork


def stream(sender: IRCClient, count: int, rate: float) -> float:
    """Send `count` messages at `rate` per second, evenly spaced; returns the seconds taken."""
    start = time.monotonic()
    for i in range(count):
        due = start + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the stream, not synchronizing
        sender.send(f"PRIVMSG {CHANNEL} :message {i:06d} {FILLER}")
    return time.monotonic() - start


def measure(args: argparse.Namespace, server: ChatdServer) -> dict:
    home = Path(tempfile.mkdtemp(prefix="tui-cpu-home-"))
    env = {"PYTHONPATH": str(args.tree), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_DATA_HOME": str(home / "data"),
           "TZ": "UTC"}
    pane = Tmux(client_command(args.client, server.port, args.tree, home), args.width,
                args.height, env, cwd=str(args.tree))
    sender = None
    try:
        pane.start()
        pid = client_pid(pane)
        sender = IRCClient(server.port)
        sender.register("sender")
        sender.send(f"JOIN {CHANNEL}")
        sender.send(f"PRIVMSG {CHANNEL} :warming up")
        if args.client != "tui":  # they stay in their first window: show the channel's
            pane.wait_for(r"Act: 2|2\.#lobby|#lobby", WAIT_S)
            pane.send_keys("M-2")
        pane.wait_for("warming up", WAIT_S)
        count = int(args.rate * args.duration)
        cpu0 = cpu_seconds(pid)
        sent_s = stream(sender, count, args.rate)
        pane.wait_for(f"message {count - 1:06d}", WAIT_S)
        used = cpu_seconds(pid) - cpu0
        return {"client": args.client, "messages": count, "sent_s": sent_s, "cpu_s": used,
                "cpu_ms_per_message": 1000.0 * used / count,
                "cpu_pct": 100.0 * used / sent_s}
    finally:
        if sender is not None:
            sender.close()
        pane.close()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/tui_cpu.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=("tui", "irssi", "weechat"), default="tui")
    parser.add_argument("--tree", type=Path, default=BENCH.parent,
                        help="the checkout whose tui runs (default: this one)")
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s (default 200)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--time-limit", type=float, default=600.0, metavar="S")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None or (args.client != "tui" and shutil.which(args.client)
                                        is None):
        print(f"bench/tui_cpu.py: needs tmux and {args.client}", file=sys.stderr)
        return 2
    args.tree = args.tree.resolve()

    def on_alarm(_signum, _frame) -> None:
        raise TimeLimitReached("the run reached its --time-limit")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.time_limit))
    server = ChatdServer()
    results = []
    try:
        server.start()
        for _ in range(args.runs):
            results.append(measure(args, server))
    except BenchError as exc:
        print(f"bench/tui_cpu.py: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        server.stop()
    print_table(f"{args.client} ({args.tree}) at {args.rate:g} msgs/s, {args.width}x"
                f"{args.height}", ["run", "messages", "CPU s", "ms/message", "% of a core"],
                [[i + 1, r["messages"], r["cpu_s"], r["cpu_ms_per_message"], r["cpu_pct"]]
                 for i, r in enumerate(results)])
    write_json(args.json, "tui_cpu", {k: str(v) for k, v in vars(args).items()}, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
