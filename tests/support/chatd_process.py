"""Start and stop a real chatd (python3 -m chatd) for a test, on 127.0.0.1 and a port the
kernel picks; the bound port is read from the server's "listening on" log line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
LISTEN_RE = re.compile(r"listening on (\S+):(\d+)$")  # a whole line: never a split one
# A TLS listener's line; chatd prints these before (in the same write as) the plain one.
TLS_LISTEN_RE = re.compile(r"listening on (\S+):(\d+) \(tls\)$")
# The master's debug line naming the worker that got a connection (matched by peer port).
CONN_WORKER_RE = r"connection \d+ from \S+ port {port} -> worker (\d+)"


def chatd_env() -> dict[str, str]:
    """Environment for running `python3 -m chatd` from this checkout."""
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")


def chatd_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chatd", *args]


def pids_running_config(conf_path: Path) -> list[int]:
    """PIDs of live processes whose command line names `conf_path`: a chatd master and its
    forked children (which share its command line). Used to find leftovers by PID."""
    needle = str(conf_path).encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read()
                with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                    state = fh.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in cmdline.split(b"\0") and state != "Z":
                found.append(int(entry))
    return found


class ChatdProcess:
    """A chatd server for one test. Use `start_chatd(testcase, ...)`, which registers cleanup."""

    def __init__(self, workdir: Path, workers: int = 2, extra: dict[str, dict[str, str]] | None = None,
                 fd_limit: int | None = None, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.env = env or {}  # added to chatd's environment
        self.fd_limit = fd_limit  # RLIMIT_NOFILE (soft = hard) for chatd, if given
        self.conf_path = workdir / "chatd.conf"
        self.db_path = workdir / "history.db"
        sections: dict[str, dict[str, str]] = {
            # cloak = off: the suite's tests compare prefixes with nick!user@127.0.0.1;
            # tests/integration/test_cloak.py turns cloaks on (chatd's default) and checks them.
            "server": {"listen": "127.0.0.1:0", "workers": str(workers), "log_level": "debug",
                       "name": "chat.test", "cloak": "off"},
            "history": {"path": str(self.db_path)},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            for section, values in sections.items():
                fh.write(f"[{section}]\n")
                fh.writelines(f"{key} = {value}\n" for key, value in values.items())
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.tls_ports: list[int] = []  # the [tls] listeners' ports, in config order
        self.log_lines: list[str] = []
        self._log_lock = threading.Lock()

    # lifecycle
    def start(self, timeout_s: float = 15.0) -> ChatdProcess:
        command = chatd_command("-c", str(self.conf_path))
        self.tls_ports = []
        if self.fd_limit:
            # A hard limit chatd cannot raise, set by a shell that then execs chatd (no
            # preexec_fn: this process has threads).
            command = ["/bin/sh", "-c", f'ulimit -n {self.fd_limit} && exec "$@"', "sh",
                       *command]
        self.proc = subprocess.Popen(
            command, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=dict(chatd_env(), **self.env))
        ready = threading.Event()
        threading.Thread(target=self._pump_log, args=(self.proc, ready), daemon=True).start()
        if not ready.wait(timeout_s):
            self.kill()
            raise AssertionError("chatd did not print its listening line:\n" + self.log_text())
        if self.port == 0:
            raise AssertionError("chatd exited before listening:\n" + self.log_text())
        return self

    def _pump_log(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        assert proc.stdout is not None
        with proc.stdout:  # EOF once the master and every child that inherited it are gone
            for line in proc.stdout:
                with self._log_lock:
                    self.log_lines.append(line.rstrip("\n"))
                tls_match = TLS_LISTEN_RE.search(line)
                if tls_match and not ready.is_set():
                    self.tls_ports.append(int(tls_match.group(2)))
                match = LISTEN_RE.search(line)
                if match and not ready.is_set():
                    self.port = int(match.group(2))
                    ready.set()
        ready.set()

    def log_text(self) -> str:
        with self._log_lock:
            return "\n".join(self.log_lines)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_of(self, local_port: int, timeout_s: float = 5.0) -> int:
        """Index of the worker the master handed the connection from `local_port` to (read
        from its debug log; the latest such line, as ports are reused across restarts)."""
        regex = re.compile(CONN_WORKER_RE.format(port=local_port))

        def lookup() -> str | None:
            matches = regex.findall(self.log_text())
            return matches[-1] if matches else None
        return int(wait_until(lookup, timeout_s, message=f"log line for port {local_port}"))

    def worker_pid(self, index: int) -> int:
        """PID of worker `index` as last logged by the master (it logs every (re)start)."""
        found = re.findall(rf"worker {index} started \(pid (\d+)\)", self.log_text())
        if not found:
            raise AssertionError(f"no start logged for worker {index}:\n" + self.log_text())
        return int(found[-1])

    def child_pids(self) -> list[int]:
        """PIDs of the master's children (writer and workers), from /proc."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.pid:
                    pids.append(int(entry))
        return pids

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM the master and wait for it; return its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("chatd did not stop on SIGTERM:\n" + self.log_text())

    def kill(self) -> None:
        """Last-resort cleanup: SIGKILL the master and any children it left, by PID."""
        if self.proc is None:
            return
        # Children are found by parent while the master lives, and by command line (they are
        # forks of it) in case it died first and they were re-parented.
        kids = set(self.child_pids() if self.proc.poll() is None else [])
        kids.update(pids_running_config(self.conf_path))
        for pid in [self.proc.pid, *kids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    @property
    def tls_port(self) -> int:
        """The first TLS listener's port."""
        assert self.tls_ports, "chatd printed no TLS listening line:\n" + self.log_text()
        return self.tls_ports[0]

    def restart(self) -> ChatdProcess:
        self.stop()
        self.port = 0
        return self.start_on_same_config()

    def start_on_same_config(self) -> ChatdProcess:
        with self._log_lock:
            self.log_lines.append("----- restart -----")
        return self.start()


def start_chatd(testcase: unittest.TestCase | type[unittest.TestCase], workers: int = 2,
                extra: dict[str, dict[str, str]] | None = None,
                fd_limit: int | None = None, env: dict[str, str] | None = None) -> ChatdProcess:
    """Start chatd in a fresh temporary folder; stop it (and remove the folder) at cleanup.
    Pass a TestCase class (from setUpClass) to share one server across its tests."""
    add_cleanup = testcase.addClassCleanup if isinstance(testcase, type) else testcase.addCleanup
    tmp = tempfile.TemporaryDirectory(prefix="chatd-test-")
    add_cleanup(tmp.cleanup)
    server = ChatdProcess(Path(tmp.name), workers=workers, extra=extra, fd_limit=fd_limit,
                          env=env)
    add_cleanup(server.kill)
    server.start()
    return server


def open_on_other_worker(testcase: unittest.TestCase | type[unittest.TestCase],
                         server: ChatdProcess, other: IRCClient, nick: str | None = None,
                         caps: tuple[str, ...] = ()) -> IRCClient:
    """Connect until the master places the connection on a different worker than `other`'s,
    then register it as `nick` (if given). Placement is least-loaded, so a connection that
    lands on `other`'s worker is kept open (adding load there) and the next one goes elsewhere."""
    taken = server.worker_of(other.local_port)
    for _ in range(8):
        client = open_client(testcase, server.port)
        if server.worker_of(client.local_port) != taken:
            if nick is not None:
                client.register(nick, caps=caps)
            return client
    raise AssertionError(f"every new connection went to worker {taken}:\n" + server.log_text())
