"""Shared pieces of the benchmark suite: starting and stopping a chatd server for one run,
reading CPU time and memory of processes from /proc, file-descriptor limits, percentiles,
the result table and the JSON file.

Benchmark tools only: nothing here is imported by chatd. Standard library only, Linux only
(/proc), loopback only.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAIN_LISTEN_RE = re.compile(r"(?m)listening on \S+:(\d+)$")
TLS_LISTEN_RE = re.compile(r"(?m)listening on \S+:(\d+) \(tls\)$")
SERVER_READY_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 20.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The benchmark cannot go on; the message is the one line to show."""


class TimeLimitReached(BenchError):
    """The run's --time-limit passed (raised from SIGALRM; cleanup still runs)."""


# processes (/proc)
def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0.0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the ")" of comm: state is field 0, utime field 11, stime field 12 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of one process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def written_bytes(pid: int) -> int:
    """Bytes the process caused to be written to storage (/proc/PID/io write_bytes; 0 if it
    is gone)."""
    try:
        with open(f"/proc/{pid}/io", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_pids(parent: int) -> list[int]:
    """PIDs of the live direct children of `parent`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry))
    return found


def is_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_nofile_limit() -> tuple[int, int]:
    """Raise this process's RLIMIT_NOFILE soft limit to the hard limit (children inherit it).
    Returns (soft, hard) after the change."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# the server
class ChatdServer:
    """One chatd (python3 -m chatd) for one benchmark run, in its own temporary folder, on
    127.0.0.1 and a port the kernel picks (read from its "listening on" line). Stopped by PID:
    SIGTERM to the master, then SIGKILL by PID for anything left after a deadline."""

    def __init__(self, *, workers: str = "auto", sendq_bytes: int = 4 << 20,
                 autojoin: str = "#lobby", history_path: Path | None = None,
                 synchronous: str = "normal", replay: int = 50, log_level: str = "info",
                 tls: bool = False):
        self.tmp = tempfile.TemporaryDirectory(prefix="chatd-bench-")
        self.dir = Path(self.tmp.name)
        self.conf_path = self.dir / "chatd.conf"
        self.log_path = self.dir / "chatd.log"
        self.history_path = history_path or self.dir / "history.db"
        self.synchronous = synchronous
        self.workers_setting = workers
        self.sendq_bytes = sendq_bytes
        sections = {
            "server": {
                "name": "bench.chatd", "listen": "127.0.0.1:0", "workers": workers,
                "log_level": log_level,
                # The load generator never answers PINGs: keep the server from sending any.
                "ping_interval": "86400", "ping_timeout": "86400",
                "registration_timeout": "3600",
            },
            # No quota, no per-client rate of stored bytes: the figures are the history's
            # (a 10M history is about 2 GiB, past the default quota of 1 GiB).
            "history": {"path": str(self.history_path), "replay": str(replay),
                        "synchronous": synchronous, "max_size_mb": "0",
                        "client_bytes_per_s": "0"},
            "channels": {"autojoin": autojoin if autojoin else '""'},
            # Fakelag off: the load generators flood on purpose, and the figures must not
            # depend on [limits] exempt covering the address they connect from.
            "limits": {"sendq": str(sendq_bytes), "flood_rate": "0"},
        }
        self.tls = tls
        if tls:  # a throwaway self-signed certificate (needs the openssl command)
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bench.key",
                            "-out", "bench.crt", "-days", "2", "-subj", "/CN=localhost"],
                           cwd=self.dir, check=True, capture_output=True, timeout=60)
            sections["tls"] = {"listen": "127.0.0.1:0", "cert": "bench.crt",
                               "key": "bench.key"}
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            for section, values in sections.items():
                fh.write(f"[{section}]\n")
                fh.writelines(f"{key} = {value}\n" for key, value in values.items())
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.tls_port = 0
        self.pids: list[int] = []  # master first, then writer and workers

    @property
    def client_port(self) -> int:
        """Where the load generators connect: the TLS listener with --tls."""
        return self.tls_port if self.tls else self.port

    def start(self) -> ChatdServer:
        try:
            return self._start()
        except BaseException:
            self.stop()  # whatever did start goes, by PID
            raise

    def _start(self) -> ChatdServer:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        # The log goes to a file, not a pipe: a pipe nobody reads would stall the server.
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chatd", "-c", str(self.conf_path)],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env)
        deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
        while True:
            text = self.log_text()
            plain = PLAIN_LISTEN_RE.search(text)
            if plain:  # printed after (in the same write as) the TLS listeners' lines
                self.port = int(plain.group(1))
                secure = TLS_LISTEN_RE.search(text)
                self.tls_port = int(secure.group(1)) if secure else 0
                break
            if self.proc.poll() is not None:
                raise BenchError(f"chatd exited with status {self.proc.returncode} before "
                                 f"listening:\n{text[-2000:]}")
            self.pids = [self.proc.pid, *child_pids(self.proc.pid)]  # for stop() on failure
            if time.monotonic() > deadline:
                raise BenchError(f"chatd did not listen within {SERVER_READY_TIMEOUT_S:.0f} s:\n"
                                 f"{text[-2000:]}")
            time.sleep(0.02)  # a bounded wait for the ready line in a file
        self.pids = [self.proc.pid, *sorted(child_pids(self.proc.pid))]
        return self

    @property
    def worker_count(self) -> int:
        return max(0, len(self.pids) - 2)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def problem_lines(self, limit: int = 8) -> list[str]:
        """Warning/error lines the server logged (at most `limit`), for the report."""
        lines = [line for line in self.log_text().splitlines()
                 if any(word in line for word in ("WARNING", "ERROR", "CRITICAL", "Traceback"))]
        return lines[:limit]

    def refresh_pids(self) -> None:
        """Re-read the children (a worker restarted by the master gets a new PID)."""
        if self.proc is not None and self.proc.poll() is None:
            self.pids = [self.proc.pid, *sorted(child_pids(self.proc.pid))]

    def cpu_by_process(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self.pids}

    def rss_total(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def roles(self) -> dict[int, str]:
        """PID -> "master", "writer" or "worker", from the master's "... started (pid N)"
        log lines (children not named there count as workers)."""
        text = self.log_text()
        writers = {int(p) for p in re.findall(r"writer started \(pid (\d+)\)", text)}
        names = {}
        for position, pid in enumerate(self.pids):
            names[pid] = "master" if position == 0 else "writer" if pid in writers else "worker"
        return names

    def stop_and_note(self, cleanup: bool = True) -> None:
        """stop(), saying so when chatd did not exit cleanly (the figures may then be off)."""
        status = self.stop(cleanup)
        if status not in (0, None):
            print(f"note: chatd exited with status {status}")

    def stop(self, cleanup: bool = True) -> int | None:
        """SIGTERM the master, wait; SIGKILL by PID whatever is left. Returns its exit status.
        With `cleanup` the temporary folder (config, log, history) is removed too."""
        if self.proc is None:
            if cleanup:
                self.tmp.cleanup()
            return None
        status = self.proc.poll()
        if status is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                status = self.proc.wait(5)
        deadline = time.monotonic() + 5.0
        for pid in self.pids[1:]:
            while is_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)  # children leave right after the master; bounded
            if is_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None
        if sys.exc_info()[0] is not None:  # stopping because the run failed: keep the log
            kept = Path(tempfile.gettempdir()) / f"chatd-bench-failed-{os.getpid()}.log"
            shutil.copyfile(self.log_path, kept)
            print(f"chatd's log is kept in {kept}", file=sys.stderr)
        if cleanup:
            self.tmp.cleanup()
        return status


class CpuWindow:
    """CPU seconds of sets of processes between `start()` and `stop()`."""

    def __init__(self, server: ChatdServer, generator_pids: list[int]):
        self.server = server
        self.generator_pids = generator_pids

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.server0 = self.server.cpu_by_process()
        self.gen0 = sum(cpu_seconds(p) for p in self.generator_pids) + own_cpu_seconds()

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        server1 = self.server.cpu_by_process()
        gen1 = sum(cpu_seconds(p) for p in self.generator_pids) + own_cpu_seconds()
        roles = self.server.roles()
        by_role: dict[str, float] = {"master": 0.0, "workers": 0.0, "writer": 0.0}
        for pid, end in server1.items():
            used = max(0.0, end - self.server0.get(pid, 0.0))
            role = roles[pid]
            by_role["workers" if role == "worker" else role] += used
        total = sum(by_role.values())
        return {
            "wall_s": wall,
            "server_cpu_s": total,
            "server_cpu_pct": 100.0 * total / wall if wall else 0.0,
            "server_cpu_pct_by_role": {k: 100.0 * v / wall if wall else 0.0
                                       for k, v in by_role.items()},
            "generator_cpu_s": gen1 - self.gen0,
            "generator_cpu_pct": 100.0 * (gen1 - self.gen0) / wall if wall else 0.0,
        }


# figures
def percentile(sorted_values, fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan if empty)."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(fraction * len(sorted_values)) - 1
    return sorted_values[min(len(sorted_values) - 1, max(0, rank))]


def merge_counts(dicts) -> dict:
    """Sum {reason: count} dicts (e.g. why clients failed, from each generator process)."""
    total: dict = {}
    for counts in dicts:
        for key, count in counts.items():
            total[key] = total.get(key, 0) + count
    return total


def machine_info() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "nofile_limit": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
        "load_avg_at_start": list(os.getloadavg()),
    }


def print_table(title: str, headers: list[str], rows: list[list]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    sys.stdout.flush()


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_json(path: str | None, benchmark: str, params: dict, results) -> None:
    if not path:
        return
    document = {"benchmark": benchmark, "params": params, "results": results,
                "machine": machine_info(),
                "taken_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2, default=str)
        fh.write("\n")
    print(f"\nwrote {path}")


def disk_free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def mib(n: float) -> float:
    return n / (1 << 20)
