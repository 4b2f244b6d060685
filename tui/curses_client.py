"""The terminal: the only module that imports curses. Draws the pane, status bar and input
line, reads keys, follows resizes, and runs the one event loop (a selector over the socket,
the terminal and a signal wakeup pipe; timeouts come from the app's next deadline).

Everything it shows comes from `App`; everything it reads becomes an `App` call. The terminal
is restored on every way out (normal quit, Ctrl-C, a signal, a crash).
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

from tui import saved_files
from tui.app import App, Connect
from tui.commands import Quit
from tui.connection import Connection, ConnectionClosed
from tui.effects import Disconnect, Send
from tui.keys import (CONTROL_KEYS, ESC, FUNCTION_KEYS, PASTE_MODE_OFF, PASTE_MODE_ON, Binding,
                      PasteReader, after_escape)
from tui.layout import Row, clip, text_width
from tui.render import input_row
from tui.sanitize import Style

EXIT_OK = 0
EXIT_CONNECT_FAILED = 1
QUIT_FLUSH_TIMEOUT_S = 1.0
MAX_IDLE_WAIT_S = 30.0
ESC_DELAY_MS = 25  # short: Alt-N arrives as ESC N immediately; a lone ESC is rare in chat
SEQUENCE_WAIT_MS = 100  # for the rest of a key sequence after ESC (curses waits ESC_DELAY_MS)
EMPTY_READS_BEFORE_EOF = 50  # readable stdin that yields no key this often: terminal is gone

# IRC colour number -> curses colour, for 16-colour and 8-colour terminals.
IRC_TO_16 = (15, 0, 4, 2, 9, 1, 5, 3, 11, 10, 6, 14, 12, 13, 8, 7)
IRC_TO_8 = (7, 0, 4, 2, 1, 1, 5, 3, 3, 2, 6, 6, 4, 5, 7, 7)


class StartupError(Exception):
    """The first connection failed: reported on stderr after the terminal is restored."""


def now_utc() -> datetime:
    return datetime.now(UTC)


class Screen:
    """Turns rows of styled segments into curses calls."""

    def __init__(self, stdscr: curses.window):
        self.scr = stdscr
        self._pairs: dict[tuple[int, int], int] = {}
        self._colours = 0
        if curses.has_colors():
            curses.start_color()
            try:
                curses.use_default_colors()
                self._default = -1
            except curses.error:
                self._default = 0
            self._colours = curses.COLORS

    def _attr(self, style: Style) -> int:
        attr = curses.A_NORMAL
        if style.bold:
            attr |= curses.A_BOLD
        if style.dim:
            attr |= curses.A_DIM
        if style.underline:
            attr |= curses.A_UNDERLINE
        if style.reverse:
            attr |= curses.A_REVERSE
        if style.italic:
            attr |= getattr(curses, "A_ITALIC", 0)
        if (style.fg is not None or style.bg is not None) and self._colours >= 8:
            attr |= curses.color_pair(self._pair(style.fg, style.bg))
        return attr

    def _pair(self, fg: int | None, bg: int | None) -> int:
        table = IRC_TO_16 if self._colours >= 16 else IRC_TO_8
        key = (table[fg] if fg is not None else self._default,
               table[bg] if bg is not None else self._default)
        if key not in self._pairs:
            number = len(self._pairs) + 1
            if number >= curses.COLOR_PAIRS:
                return 0  # out of pairs: default colours rather than failure
            curses.init_pair(number, *key)
            self._pairs[key] = number
        return self._pairs[key]

    def put_row(self, y: int, row: Row, width: int, left: int = 0) -> None:
        """Draw `row` at line `y` in the `width` columns that start at column `left`."""
        x = 0
        for text, style in row:
            if x >= width:
                break
            text = clip(text, width - x)
            try:
                self.scr.addstr(y, left + x, text, self._attr(style))
            except curses.error:
                pass  # writing the bottom-right cell moves the cursor off-screen: harmless
            x += text_width(text)

    def draw(self, app: App) -> None:
        height, width = self.scr.getmaxyx()
        self.scr.erase()
        pane_height = max(height - 2, 0)
        if pane_height:
            nick_width, nick_rows = app.nick_column(width, pane_height)
            pane_width = width - nick_width
            rows = app.pane(pane_width, pane_height)
            top = pane_height - len(rows)  # new lines appear at the bottom, like a terminal
            for i, row in enumerate(rows):
                self.put_row(top + i, row, pane_width)
            for i, row in enumerate(nick_rows):
                self.put_row(i, row, nick_width, left=pane_width)
        if height >= 2:
            self.put_row(height - 2, app.status(width), width)
        row, cursor_col = input_row(app.prompt, app.input, width)
        self.put_row(height - 1, row, width)
        try:
            self.scr.move(height - 1, min(cursor_col, width - 1))
        except curses.error:
            pass
        self.scr.noutrefresh()
        curses.doupdate()


class Loop:
    """One selector over the terminal, the socket and the signal wakeup fd."""

    def __init__(self, stdscr: curses.window, app: App,
                 connection: Connection | None = None, tls: ssl.SSLContext | None = None):
        self.scr = stdscr
        self.tls = tls  # for every new connection
        self.app = app
        self.screen = Screen(stdscr)
        self.sel = selectors.DefaultSelector()
        self.conn = connection
        self.exit_code: int | None = None
        self._signals: list[int] = []
        self._empty_reads = 0
        self.paste: PasteReader | None = None  # a bracketed paste being read
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._wake_r, self._wake_w):
            s.setblocking(False)
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "tty")
        self.sel.register(self._wake_r, selectors.EVENT_READ, "signal")
        self._net_sock: socket.socket | None = None  # the socket registered with the selector
        self._net_fd: int | None = None

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
                self.screen.draw(self.app)
                self._update_registration()
                for key, mask in self.sel.select(self._timeout_s()):
                    if key.data == "tty":
                        self.on_keys()
                    elif key.data == "signal":
                        self.on_signals()
                    elif key.data == "net":
                        self.on_network(mask)
                    if self.exit_code is not None:
                        break
                if self.exit_code is None:
                    self.execute(self.app.tick(now_utc()))
                    self._check_connect_timeout()
            return self.exit_code
        finally:
            self.restore_signals(previous)
            self._drop_connection()
            self.sel.close()
            self._wake_r.close()
            self._wake_w.close()

    def _timeout_s(self) -> float:
        timeout = MAX_IDLE_WAIT_S
        deadline = self.app.next_deadline()
        if deadline is not None:
            timeout = min(timeout, (deadline - now_utc()).total_seconds())
        if self.conn is not None and self.conn.deadline_s is not None:
            timeout = min(timeout, self.conn.deadline_s - time.monotonic())
        return max(timeout, 0.0)

    # -- the connection ------------------------------------------------------------------------
    def _update_registration(self) -> None:
        sock = self.conn.sock if self.conn is not None else None
        if sock is not self._net_sock:
            if self._net_fd is not None:
                try:
                    self.sel.unregister(self._net_fd)
                except (KeyError, ValueError):
                    pass
            self._net_sock, self._net_fd = sock, None
            if sock is not None:
                self._net_fd = sock.fileno()
                self.sel.register(self._net_fd, selectors.EVENT_READ, "net")
        if sock is None or self.conn is None:
            return
        if self.conn.connecting:  # TCP connect, or the TLS handshake waiting to read or write
            events = (selectors.EVENT_READ if self.conn.handshake_wants_read
                      else selectors.EVENT_WRITE)
        elif self.conn.wants_write:
            events = selectors.EVENT_READ | selectors.EVENT_WRITE
        else:
            events = selectors.EVENT_READ
        self.sel.modify(self._net_fd, events, "net")

    def _drop_connection(self) -> None:
        if self._net_fd is not None:
            try:
                self.sel.unregister(self._net_fd)
            except (KeyError, ValueError):
                pass
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
                for line in conn.on_readable():
                    self.execute(self.app.on_line(line, now_utc()))
                    if self.conn is not conn:
                        break  # the line ended the connection (ping timeout, quit)
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
            else:
                saved_files.save(self.app, action, now_utc())

    def quit(self, reason: str) -> None:
        """Send QUIT (if connected), give it a moment to leave, and end the loop with 0."""
        conn = self.conn
        if conn is not None and not conn.connecting:
            try:
                for effect in self.app.session.quit(reason):
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
        self.scr.clear()

    def on_keys(self) -> None:
        got_any = False
        while self.exit_code is None:
            try:
                key = self.scr.get_wch()
            except curses.error:
                break
            got_any = True
            self.on_key(key)
        # A terminal that hung up stays readable but yields nothing: leave instead of spinning.
        self._empty_reads = 0 if got_any else self._empty_reads + 1
        if self._empty_reads >= EMPTY_READS_BEFORE_EOF:
            self.quit("Terminal closed")

    def _pane_size(self) -> tuple[int, int]:
        height, width = self.scr.getmaxyx()
        return self.app.pane_width(width), max(height - 2, 1)

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
            self.scr.clear()
        elif key in (curses.KEY_PPAGE, curses.KEY_NPAGE):
            self.execute(app.scroll_page(-1 if key == curses.KEY_PPAGE else 1,
                                         *self._pane_size()))
        else:
            binding = FUNCTION_KEYS.get(curses.keyname(key))
            if binding is not None:
                self.act(binding)

    def act(self, binding: Binding) -> None:
        """Do what a key means (keys.Binding: who acts, the method, its arguments)."""
        who, method, args = binding
        target = {"loop": self, "app": self.app, "input": self.app.input, "screen": self.scr}[who]
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


def run(app: App, connection: Connection | None = None, tls: ssl.SSLContext | None = None) -> int:
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
            return Loop(stdscr, app, connection, tls).run()
        finally:
            os.write(terminal, PASTE_MODE_OFF.encode())

    try:
        return curses.wrapper(body)  # restores the terminal on any exit, crash included
    except StartupError as exc:
        print(f"tui: {exc}", file=sys.stderr)
        return EXIT_CONNECT_FAILED
