"""Drive a terminal program in a detached tmux session: type keys, read the screen, wait for
text with a deadline.

Every helper uses a private tmux server (`tmux -L <unique name> -f <own config>`), so tests
never touch the user's tmux, and `close()` kills that server. The program's XDG folders
(settings, state) point into the helper's temporary folder unless the test gives others. The
pane stays after the program exits (remain-on-exit) so a test can read its last screen; the
exit status is recorded by the wrapping shell.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid
from collections.abc import Callable
from re import Pattern

POLL_INTERVAL_S = 0.05  # how often the screen is re-read while waiting; the deadline decides
TMUX_CONF = """\
set -g remain-on-exit on
set -g status off
set -g default-terminal "screen-256color"
set -g escape-time 0
set -g history-limit 2000
"""


CLOSE_WAIT_S = 5.0  # for the program to leave after its tmux server is killed


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class Tmux:
    """One program in one tmux pane of a fixed size."""

    def __init__(self, command: list[str], width: int = 100, height: int = 30,
                 env: dict[str, str] | None = None, cwd: str | None = None):
        self.command = command
        self.width, self.height = width, height
        self.env = env or {}
        self.cwd = cwd
        self.socket_name = f"tuitest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.target = "main"
        self.pane = "main:0.0"  # the program's pane, also once another window is in front
        self._confdir = tempfile.TemporaryDirectory(prefix="tmux-test-")
        self.conf_path = os.path.join(self._confdir.name, "tmux.conf")
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            fh.write(TMUX_CONF)
        # The program's exit status is written here by the wrapping shell: tmux's own
        # #{pane_dead_status} sometimes never appears (tmux 3.3 can leave the child unreaped).
        self.status_path = os.path.join(self._confdir.name, "exit-status")
        self.started = False

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # -u: the pane is UTF-8 whatever the test's locale; the screen holds CJK and emoji.
        return subprocess.run(["tmux", "-u", "-L", self.socket_name, "-f", self.conf_path,
                               *args], capture_output=True, text=True, check=check,
                              timeout=10)

    def start(self) -> Tmux:
        # The program's settings and state live in this helper's own folder unless the test
        # names others: a test never reads or writes the user's ~/.config or ~/.local/state.
        private = {variable: os.path.join(self._confdir.name, folder)
                   for variable, folder in (("XDG_CONFIG_HOME", "config"),
                                            ("XDG_STATE_HOME", "state"),
                                            ("XDG_DATA_HOME", "data"))}
        env = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "screen-256color", **private,
               **self.env}
        shell_command = "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) \
            + " " + " ".join(shlex.quote(part) for part in self.command) \
            + f"; echo $? > {shlex.quote(self.status_path)}.tmp" \
            + f" && mv {shlex.quote(self.status_path)}.tmp {shlex.quote(self.status_path)}"
        args = ["new-session", "-d", "-s", self.target, "-x", str(self.width),
                "-y", str(self.height)]
        if self.cwd:
            args += ["-c", self.cwd]
        self._tmux(*args, shell_command)
        self.started = True
        return self

    def close(self) -> None:
        """Kill the private tmux server (and with it the program, if still running), wait
        for the program to be gone (it may write its state as it leaves), then remove the
        helper's folder."""
        if self.started:
            try:
                program = descendants(int(self.pane_pid()))
            except (ValueError, subprocess.SubprocessError):
                program = []
            self._tmux("kill-server", check=False)
            deadline = time.monotonic() + CLOSE_WAIT_S
            while any(os.path.exists(f"/proc/{pid}") and not is_zombie(pid) for pid in program) \
                    and time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL_S)  # bounded: the program leaves on SIGHUP
            self.started = False
        self._confdir.cleanup()

    def __enter__(self) -> Tmux:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- input --------------------------------------------------------------------------------
    def send_keys(self, *keys: str) -> None:
        """Keys in tmux notation: "Enter", "C-c", "M-2", "PPage", "Up", "BSpace"..."""
        self._tmux("send-keys", "-t", self.pane, *keys)

    def type(self, text: str) -> None:
        """Type text literally (no key-name interpretation)."""
        self._tmux("send-keys", "-t", self.pane, "-l", text)

    def type_line(self, text: str) -> None:
        self.type(text)
        self.send_keys("Enter")

    def open_other_window(self) -> None:
        """A second window (a shell doing nothing) in front: the program's window is now in
        the background, where tmux marks a bell (window_bell_flag)."""
        self._tmux("new-window", "-t", self.target, "sleep 600")

    def window_flag(self, name: str, window: int = 0) -> str:
        """A tmux format of the program's window, e.g. window_bell_flag ("1" or "0")."""
        return self._tmux("display-message", "-p", "-t", f"{self.target}:{window}",
                          f"#{{{name}}}").stdout.strip()

    def pane_pid(self) -> str:
        """The PID of the pane's process (the shell that runs the program)."""
        return self._tmux("display-message", "-p", "-t", self.pane, "#{pane_pid}").stdout.strip()

    def paste(self, text: str) -> None:
        """Paste `text` as a terminal does: bracketed (ESC [200~ ... ESC [201~) when the
        program turned bracketed paste on, else as plain typing (tmux decides, as a
        terminal would); line breaks arrive as CR."""
        self._tmux("set-buffer", "-b", "test-paste", "--", text)
        self._tmux("paste-buffer", "-p", "-b", "test-paste", "-t", self.pane)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", f"{self.target}:0", "-x", str(width), "-y",
                   str(height))
        self.width, self.height = width, height

    # -- output -------------------------------------------------------------------------------
    def capture(self, history: bool = False, styles: bool = False) -> str:
        """The visible screen as text, one line per row (trailing spaces removed by tmux).
        With `history`, the scrolled-off lines too: tmux's "Pane is dead" notice scrolls the
        screen up, so a dead program's last output is read this way. With `styles`, the
        escape sequences of colours and attributes are kept (`ESC[2m` dim ...)."""
        extra = (["-S", "-"] if history else []) + (["-e"] if styles else [])
        return self._tmux("capture-pane", "-p", *extra, "-t", self.pane).stdout

    def capture_lines(self) -> list[str]:
        return self.capture().split("\n")[: self.height]

    def exit_status(self) -> int | None:
        """The program's exit status, or None while it runs."""
        try:
            with open(self.status_path, encoding="ascii") as fh:
                return int(fh.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def wait_for(self, expected: str | Pattern[str] | Callable[[str], object],
                 timeout_s: float = 10.0, styles: bool = False) -> str:
        """Poll the screen until `expected` (regex string/pattern searched in the screen, or a
        predicate on the screen text) matches; return that screen. On timeout, fail with the
        last screen in the message. With `styles`, the screen is read with its escape
        sequences (see `capture`)."""
        if isinstance(expected, (str, re.Pattern)):
            pattern = re.compile(expected) if isinstance(expected, str) else expected
            check: Callable[[str], object] = lambda screen: pattern.search(screen)
            what = f"/{pattern.pattern}/"
        else:
            check, what = expected, getattr(expected, "__name__", "predicate")
        deadline = time.monotonic() + timeout_s
        screen = ""
        while True:
            screen = self.capture(styles=styles)
            if check(screen):
                return screen
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; "
                                     f"screen was:\n{screen}")
            time.sleep(POLL_INTERVAL_S)  # poll interval, not synchronization

    def wait_exit(self, timeout_s: float = 10.0) -> int:
        """Wait for the program to exit; return its exit status."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.exit_status()
            if status is not None:
                return status
            if time.monotonic() >= deadline:
                raise AssertionError(f"program still running after {timeout_s}s; screen:\n"
                                     + self.capture())
            time.sleep(POLL_INTERVAL_S)

def start_tmux(testcase: unittest.TestCase, command: list[str], width: int = 100,
               height: int = 30, env: dict[str, str] | None = None) -> Tmux:
    """Start `command` in a private tmux and register its cleanup; skip the test when tmux is
    not installed."""
    if not tmux_available():
        raise unittest.SkipTest("tmux is not installed (.ci/run installs it with apt-get)")
    session = Tmux(command, width, height, env)
    testcase.addCleanup(session.close)
    return session.start()
