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

REPO = Path(__file__).resolve().parents[2]
LISTEN_RE = re.compile(r"listening on (\S+):(\d+)")


class ChatdProcess:
    """A chatd server for one test. Use `start_chatd(testcase, ...)`, which registers cleanup."""

    def __init__(self, workdir: Path, workers: int = 2, extra: dict[str, dict[str, str]] | None = None):
        self.workdir = workdir
        self.conf_path = workdir / "chatd.conf"
        self.db_path = workdir / "history.db"
        sections: dict[str, dict[str, str]] = {
            "server": {"listen": "127.0.0.1:0", "workers": str(workers), "log_level": "debug",
                       "name": "chat.test"},
            "history": {"path": str(self.db_path)},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            for section, values in sections.items():
                fh.write(f"[{section}]\n")
                for key, value in values.items():
                    fh.write(f"{key} = {value}\n")
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_lines: list[str] = []
        self._log_lock = threading.Lock()

    # lifecycle
    def start(self, timeout_s: float = 15.0) -> "ChatdProcess":
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatd", "-c", str(self.conf_path)],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env)
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
        for line in proc.stdout:
            with self._log_lock:
                self.log_lines.append(line.rstrip("\n"))
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
        kids = self.child_pids() if self.proc.poll() is None else []
        for pid in [self.proc.pid, *kids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def restart(self) -> "ChatdProcess":
        self.stop()
        self.port = 0
        return self.start_on_same_config()

    def start_on_same_config(self) -> "ChatdProcess":
        with self._log_lock:
            self.log_lines.append("----- restart -----")
        return self.start()


def start_chatd(testcase: unittest.TestCase, workers: int = 2,
                extra: dict[str, dict[str, str]] | None = None) -> ChatdProcess:
    """Start chatd in a fresh temporary folder; stop it (and remove the folder) at cleanup."""
    tmp = tempfile.TemporaryDirectory(prefix="chatd-test-")
    testcase.addCleanup(tmp.cleanup)
    server = ChatdProcess(Path(tmp.name), workers=workers, extra=extra)
    testcase.addCleanup(server.kill)
    server.start()
    return server
