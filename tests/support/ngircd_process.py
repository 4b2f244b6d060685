"""Start and stop a stock IRC server, ngIRCd (Debian package `ngircd`), for a test: a config the
test writes, 127.0.0.1 only, no PAM/ident/DNS/TLS, run in the foreground (`-n`) and stopped by
PID. ngIRCd refuses port 0, so a free port is found by binding one and releasing it; ngIRCd logs
"Now listening on [127.0.0.1]:PORT" when it holds it, and exits if another program took it
first, in which case another port is tried."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

LISTEN_RE = re.compile(r"Now listening on \[127\.0\.0\.1\]:(\d+)")
ATTEMPTS = 5  # ports tried when another program grabs the released one first

CONFIG = """\
[Global]
Name = irc.test
Info = ngIRCd for chatd's interop tests
AdminInfo1 = chatd tests
AdminInfo2 = localhost
AdminEMail = nobody@localhost
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = ngIRCd test server
[Limits]
PingTimeout = 120
[Options]
PAM = no
Ident = no
DNS = no
"""


def ngircd_available() -> bool:
    return shutil.which("ngircd") is not None


def free_port() -> int:
    """A port nobody listens on right now (bound, then released for ngIRCd to take)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NgircdProcess:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.conf_path = workdir / "ngircd.conf"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_lines: list[str] = []
        self._log_lock = threading.Lock()

    def start(self, timeout_s: float = 10.0) -> NgircdProcess:
        for _ in range(ATTEMPTS):
            port = free_port()
            self.conf_path.write_text(CONFIG.format(port=port), encoding="utf-8")
            self.proc = subprocess.Popen(
                ["ngircd", "-n", "-f", str(self.conf_path)], cwd=self.workdir,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)
            ready = threading.Event()
            threading.Thread(target=self._pump_log, args=(self.proc, ready), daemon=True).start()
            if not ready.wait(timeout_s):
                self.kill()
                raise AssertionError("ngircd did not log its listening line:\n" + self.log_text())
            if self.port == port:
                return self
            self.proc.wait(timeout_s)  # it exited: the port was taken in between; try another
        raise AssertionError("ngircd could not listen on a free port:\n" + self.log_text())

    def _pump_log(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                with self._log_lock:
                    self.log_lines.append(line.rstrip("\n"))
                match = LISTEN_RE.search(line)
                if match and not ready.is_set():
                    self.port = int(match.group(1))
                    ready.set()
        ready.set()

    def log_text(self) -> str:
        with self._log_lock:
            return "\n".join(self.log_lines)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM by PID and wait; SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def start_ngircd(testcase: unittest.TestCase) -> NgircdProcess:
    """Start ngIRCd in a fresh temporary folder; stop it and remove the folder at cleanup.
    Skips the test when ngircd is not installed."""
    if not ngircd_available():
        raise unittest.SkipTest("ngircd is not installed (.ci/run installs it with apt-get)")
    tmp = tempfile.TemporaryDirectory(prefix="ngircd-test-")
    testcase.addCleanup(tmp.cleanup)
    server = NgircdProcess(Path(tmp.name))
    testcase.addCleanup(server.stop)
    return server.start()
