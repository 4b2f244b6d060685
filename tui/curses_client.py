"""The terminal: reads keys, follows resizes, and runs the one event loop (a selector over the
socket, the terminal and a signal wakeup pipe; timeouts come from the app's next deadline).
With `curses_screen`, the only module that imports curses.

Everything it shows comes from `App` (a frame, drawn by `curses_screen`); everything it reads
becomes an `App` call. It draws at most once per pass of the loop, and while only the network
speaks (a busy channel) at most once per `FRAME_S`: a key is drawn at once. The terminal is
restored on every way out (normal quit, Ctrl-C, a signal, a crash).
"""

from __future__ import annotations

import curses
import os
import selectors
import signal
import socket
import ssl
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tui import saved_files, state_file
from tui.alerts import Notify
from tui.app import App, Connect
from tui.commands import Quit
from tui.connection import Connection, ConnectionClosed
from tui.curses_screen import Screen
from tui.effects import Disconnect, Send
from tui.keys import (CONTROL_KEYS, ESC, FUNCTION_KEYS, PASTE_MODE_OFF, PASTE_MODE_ON, Binding,
                      PasteReader, after_escape)
from tui.memory import SaveState

EXIT_OK = 0
EXIT_CONNECT_FAILED = 1
QUIT_FLUSH_TIMEOUT_S = 1.0
MAX_IDLE_WAIT_S = 30.0
ESC_DELAY_MS = 25  # short: Alt-N arrives as ESC N immediately; a lone ESC is rare in chat
SEQUENCE_WAIT_MS = 100  # for the rest of a key sequence after ESC (curses waits ESC_DELAY_MS)
EMPTY_READS_BEFORE_EOF = 50  # readable stdin that yields no key this often: terminal is gone
# Lines from the network are drawn at most this often (a busy channel brings hundreds a
# second); what the user types is drawn at once.
FRAME_S = 0.05

class StartupError(Exception):
    """The first connection failed: reported on stderr after the terminal is restored."""


def now_utc() -> datetime:
    return datetime.now(UTC)


class Loop:
    """One selector over the terminal, the socket and the signal wakeup fd."""

    def __init__(self, stdscr: curses.window, app: App,
                 connection: Connection | None = None, tls: ssl.SSLContext | None = None,
                 state_path: Path | None = None):
        self.scr = stdscr
        self.tls = tls  # for every new connection
        self.app = app
        self.screen = Screen(stdscr, colours=app.colours)
        self.state_path = state_path or state_file.default_path()
        self._state_error_told = False
        self.sel = selectors.DefaultSelector()
        self.conn = connection
        self.exit_code: int | None = None
        self._signals: list[int] = []
        self._empty_reads = 0
        self._dirty = True  # something may look different since the last frame
        self._urgent = True  # the user is waiting for it (a key, a resize)
        self._drawn_at = 0.0  # time.monotonic() of the last frame
        self.paste: PasteReader | None = None  # a bracketed paste being read
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._wake_r, self._wake_w):
            s.setblocking(False)
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "tty")
        self.sel.register(self._wake_r, selectors.EVENT_READ, "signal")
        self._net_sock: socket.socket | None = None  # the socket registered with the selector
        self._net_fd: int | None = None
        self._net_events = 0  # what the selector watches the socket for (0: not registered)
        self._net_rest_until = 0.0  # time.monotonic() before which the socket is not read

    # -- signals: handlers only record; the loop acts (see STYLE 4) --------------------------
    def _record_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def install_signals(self) -> dict[int, object]:
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH):
            previous[signum] = signal.signal(signum, self._record_signal)
        previous[-1] = signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        return previous

    @staticmethod
    def restore_signals(previous: dict[int, object]) -> None:
        signal.set_wakeup_fd(previous.pop(-1))  # type: ignore[arg-type]
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    # -- running -------------------------------------------------------------------------------
    def run(self) -> int:
        previous = self.install_signals()
        try:
            if self.conn is not None:  # connected before the screen started (--nick)
                self.execute(self.app.on_connected(now_utc()))
            else:
                self.execute(self.app.start())
            while self.exit_code is None:
                self._draw_if_due()
                self._update_registration()
                events = self.sel.select(self._timeout_s())
                for key, mask in events:
                    if key.data == "tty":
                        self.on_keys()
                        self._urgent = True
                    elif key.data == "signal":
                        self.on_signals()
                        self._urgent = True
                    elif key.data == "net":
                        self.on_network(mask)
                    if self.exit_code is not None:
                        break
                if events:
                    self._dirty = True
                if self.exit_code is None:
                    self._tick()
            return self.exit_code
        finally:
            self.restore_signals(previous)
            self._drop_connection()
            self.sel.close()
            self._wake_r.close()
            self._wake_w.close()

    def _tick(self) -> None:
        """The app's timers. What they change is drawn; the loop's own wake-ups (a frame
        held back, the socket resting) change nothing and draw nothing."""
        now = now_utc()
        deadline = self.app.next_deadline()
        actions = self.app.tick(now)
        if actions or (deadline is not None and deadline <= now):
            self._dirty = True
        self.execute(actions)
        self._check_connect_timeout()

    def _draw_if_due(self) -> None:
        now = time.monotonic()
        if self._dirty and (self._urgent or now - self._drawn_at >= FRAME_S):
            height, width = self.scr.getmaxyx()
            self.screen.draw(self.app.frame(width, height))
            self._dirty = self._urgent = False
            self._drawn_at = now

    def _timeout_s(self) -> float:
        timeout = MAX_IDLE_WAIT_S
        if self._dirty:  # a frame held back: wake up when it is due
            timeout = max(self._drawn_at + FRAME_S - time.monotonic(), 0.0)
        deadline = self.app.next_deadline()
        if deadline is not None:
            timeout = min(timeout, (deadline - now_utc()).total_seconds())
        if self.conn is not None and self.conn.deadline_s is not None:
            timeout = min(timeout, self.conn.deadline_s - time.monotonic())
        if self.conn is not None and self._net_rest_until > time.monotonic():
            timeout = min(timeout, self._net_rest_until - time.monotonic())
        return max(timeout, 0.0)

    # -- the connection ------------------------------------------------------------------------
    def _update_registration(self) -> None:
        """What the selector watches the socket for: connecting, reading (unless resting,
        see `on_network`), writing what is queued."""
        sock = self.conn.sock if self.conn is not None else None
        if sock is not self._net_sock:
            self._watch_net(0)
            self._net_sock = sock
            self._net_fd = sock.fileno() if sock is not None else None
        if sock is None or self.conn is None:
            return
        if self.conn.connecting:  # TCP connect, or the TLS handshake waiting to read or write
            events = (selectors.EVENT_READ if self.conn.handshake_wants_read
                      else selectors.EVENT_WRITE)
        else:
            resting = time.monotonic() < self._net_rest_until
            events = (0 if resting else selectors.EVENT_READ) | (
                selectors.EVENT_WRITE if self.conn.wants_write else 0)
        self._watch_net(events)

    def _watch_net(self, events: int) -> None:
        """Register, modify or unregister the socket (system calls: only on a change)."""
        if events == self._net_events or self._net_fd is None:
            self._net_events = events if self._net_fd is not None else 0
            return
        try:
            if not self._net_events:
                self.sel.register(self._net_fd, events, "net")
            elif not events:
                self.sel.unregister(self._net_fd)
            else:
                self.sel.modify(self._net_fd, events, "net")
        except (KeyError, ValueError, OSError):
            pass  # a socket closed under us: the next connection registers afresh
        self._net_events = events

    def _drop_connection(self) -> None:
        self._watch_net(0)
        self._net_sock = self._net_fd = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def open_connection(self) -> None:
        self._drop_connection()
        self.conn = Connection(self.app.host, self.app.port, self.tls)
        try:
            self.conn.start()
        except ConnectionClosed as exc:
            self.connection_lost(str(exc))

    def connection_lost(self, reason: str) -> None:
        self._dirty = True
        self._drop_connection()
        if not self.app.ever_connected:
            raise StartupError(reason)  # the first connection failed: exit 1 after endwin
        self.app.on_connection_lost(reason, now_utc())

    def _check_connect_timeout(self) -> None:
        if self.conn is not None:
            try:
                self.conn.check_timeout(time.monotonic())
            except ConnectionClosed as exc:
                self.connection_lost(str(exc))

    def on_network(self, mask: int) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            if conn.connecting:
                if conn.check_connected():
                    self.execute(self.app.on_connected(now_utc()))
                return
            if mask & selectors.EVENT_WRITE:
                conn.on_writable()
            if mask & selectors.EVENT_READ:
                lines = conn.on_readable()
                for line in lines:
                    self.execute(self.app.on_line(line, now_utc()))
                    if self.conn is not conn:
                        break  # the line ended the connection (ping timeout, quit)
                if lines and self.app.may_rest_reading():
                    # A busy channel: let lines gather in the kernel for a frame and take
                    # them in one pass (one wake-up, one frame) rather than one by one.
                    self._net_rest_until = time.monotonic() + FRAME_S
        except ConnectionClosed as exc:
            self.connection_lost(str(exc))

    def execute(self, actions: list) -> None:
        for action in actions:
            if self.exit_code is not None:
                return
            if isinstance(action, Send):
                if self.conn is not None and not self.conn.connecting:
                    try:
                        self.conn.send_line(action.line)
                    except ConnectionClosed as exc:
                        self.connection_lost(str(exc))
            elif isinstance(action, Connect):
                self.open_connection()
            elif isinstance(action, Disconnect):
                self.connection_lost(action.reason)
            elif isinstance(action, Quit):
                self.quit(action.reason)
            elif isinstance(action, SaveState):
                self.save_state(action)
            elif isinstance(action, Notify):
                self.notify(action.data)
            else:
                saved_files.save(self.app, action, now_utc())

    def save_state(self, action: SaveState) -> None:
        error = state_file.save(self.state_path, action.key, action.saved)
        if error is not None and not self._state_error_told:
            self._state_error_told = True  # once: it would be the same every few seconds
            self.app.note_error(f"Cannot write {self.state_path}: {error}", now_utc())

    @staticmethod
    def notify(data: bytes) -> None:
        """The bell, a desktop notification: straight to the terminal (curses writes only
        in doupdate, so nothing of its output is cut)."""
        try:
            os.write(sys.stdout.fileno(), data)
        except OSError:
            pass  # a terminal that cannot take it: no alert, no crash

    def quit(self, reason: str) -> None:
        """Send QUIT (if connected), give it a moment to leave, and end the loop with 0."""
        conn = self.conn
        closing = self.app.closing()  # read positions to send, what to remember
        for action in closing:
            if isinstance(action, SaveState):
                self.save_state(action)
        if conn is not None and not conn.connecting:
            try:
                for effect in [*closing, *self.app.session.quit(reason)]:
                    if isinstance(effect, Send):
                        conn.send_line(effect.line)
            except ConnectionClosed:
                pass
            conn.flush(QUIT_FLUSH_TIMEOUT_S)
        self.exit_code = EXIT_OK

    # -- the terminal ----------------------------------------------------------------------------
    def on_signals(self) -> None:
        try:
            while self._wake_r.recv(512):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum == signal.SIGWINCH:
                self.resize()
            else:
                self.quit("Leaving")

    def resize(self) -> None:
        """Our SIGWINCH handler replaces ncurses' own, so tell curses the new size."""
        try:
            size = os.get_terminal_size(sys.__stdout__.fileno())
        except OSError:
            return
        curses.resizeterm(size.lines, size.columns)
        self.screen.invalidate()

    def on_keys(self) -> None:
        got_any = False
        while self.exit_code is None:
            try:
                key = self.scr.get_wch()
            except curses.error:
                break
            got_any = True
            self.on_key(key)
        if got_any:
            self.app.user_active()
        # A terminal that hung up stays readable but yields nothing: leave instead of spinning.
        self._empty_reads = 0 if got_any else self._empty_reads + 1
        if self._empty_reads >= EMPTY_READS_BEFORE_EOF:
            self.quit("Terminal closed")

    def _size(self) -> tuple[int, int]:
        height, width = self.scr.getmaxyx()
        return width, height

    def on_key(self, key: str | int) -> None:
        app, line = self.app, self.app.input
        if self.paste is not None:
            text = self.paste.feed(key, time.monotonic())
            if text is not None:
                self.paste = None
                app.paste(text)
            return
        if isinstance(key, str):
            binding = CONTROL_KEYS.get(key)
            if binding is not None:
                self.act(binding)
            elif key == ESC:
                self._on_escape()
            elif key.isprintable() or ord(key) >= 0xA0:
                line.insert(key)
            return
        if key == curses.KEY_RESIZE:
            self.screen.invalidate()
        elif key in (curses.KEY_PPAGE, curses.KEY_NPAGE):
            self.execute(app.scroll_page(-1 if key == curses.KEY_PPAGE else 1,
                                         *self.app.pane_size(*self._size())))
        else:
            binding = FUNCTION_KEYS.get(curses.keyname(key))
            if binding is not None:
                self.act(binding)

    def act(self, binding: Binding) -> None:
        """Do what a key means (keys.Binding: who acts, the method, its arguments)."""
        who, method, args = binding
        target = {"loop": self, "app": self.app, "input": self.app.input,
                  "screen": self.screen}[who]
        getattr(target, method)(*args)

    def _on_escape(self) -> None:
        """ESC followed by a key is Alt+key (that is what terminals send); ESC [200~ starts
        a bracketed paste."""
        binding = after_escape(self._next_key)
        if binding is not None:
            self.act(binding)

    def start_paste(self) -> None:
        self.paste = PasteReader()

    def _next_key(self) -> str | int | None:
        """The next key of a sequence: it may still be on its way (a busy machine, a slow
        link), so wait a little for it instead of reading a sequence cut in two."""
        self.scr.timeout(SEQUENCE_WAIT_MS)
        try:
            return self.scr.get_wch()
        except curses.error:
            return None
        finally:
            self.scr.nodelay(True)

    def submit(self) -> None:
        self.execute(self.app.submit(now_utc()))


def run(app: App, connection: Connection | None = None, tls: ssl.SSLContext | None = None,
        state_path: Path | None = None) -> int:
    """Run the client in the terminal until the user quits; returns the exit status."""
    os.environ.setdefault("ESCDELAY", str(ESC_DELAY_MS))

    def body(stdscr: curses.window) -> int:
        curses.raw()  # Ctrl-C, Ctrl-W... arrive as keys instead of signals or flow control
        curses.noecho()
        stdscr.keypad(True)
        stdscr.nodelay(True)
        terminal = sys.__stdout__.fileno()
        os.write(terminal, PASTE_MODE_ON.encode())  # pastes arrive framed: see tui.keys
        try:
            return Loop(stdscr, app, connection, tls, state_path).run()
        finally:
            os.write(terminal, PASTE_MODE_OFF.encode())

    try:
        return curses.wrapper(body)  # restores the terminal on any exit, crash included
    except StartupError as exc:
        print(f"tui: {exc}", file=sys.stderr)
        return EXIT_CONNECT_FAILED
