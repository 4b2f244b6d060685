"""A worker process: owns a share of the client connections and runs their event loop.

What happens to the connections between the sockets — the master's frames, the clients'
lines, the order of replies, the fan-out into output buffers — is decided by its pure core
(chatd/session/switchboard.py); this module is the I/O that carries it out: sockets, the
selector, reading bytes, flushing each client's buffer once per loop iteration, pacing
against the master, timers, shutdown, the read-only history connection, and NewConn (a
passed descriptor becomes a socket). A worker never talks to another worker, and never
writes the history.

TLS happens here (the master only says that a connection came from a TLS listener): the
socket is wrapped at NewConn and its handshake is driven by the selector like any other I/O
(chatd/tls.py has the non-blocking steps). The session exists from NewConn, so a handshake
that stalls ends at the registration timeout; one that fails (plain text or garbage on the
TLS port, an old TLS version) closes that connection with one log line.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import selectors
import signal
import socket
import ssl
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor

from chatd import logsetup, proctitle, reload, tls
from chatd.config import Config, log_level_number
from chatd.events import HistoryUnavailable
from chatd.exitcodes import EXIT_OK
from chatd.ipc import frames
from chatd.ipc.pipe import LOST_FD, Pipe, PipeClosed
from chatd.selectmask import rewatch
from chatd.serverinfo import ServerInfo
from chatd.session.session import Session, Work
from chatd.session.switchboard import LocalClient, Switchboard
from chatd.store.read_markers import MarkerReader
from chatd.store.reader import HistoryReader, replay
from ircproto.framing import encode_line

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 1.0
READ_BYTES = 1 << 16
# Bytes queued for the master that its socket did not take. Past HIGH the worker stops reading
# its clients (TCP then slows the senders) until the queue is back under LOW; within one loop
# iteration, reads stop once ITERATION_CAP is queued. So the master's own pause (when the
# writer is behind) bounds what waits here, however fast clients send.
PIPE_HIGH_WATER = 1 << 20
PIPE_LOW_WATER = 1 << 18
ITERATION_CAP = 8 << 20
SHUTDOWN_FLUSH_S = 2.0
# Password hashing (scrypt, PBKDF2: tens of ms each; hashlib releases the GIL) runs on these
# threads so the loop keeps serving; each connection has at most one computation in flight.
VERIFY_THREADS = 2
WORK_DONE_KEY = "work-done"  # the selector's data for the threads' wakeup socket


class Connection(LocalClient):
    """A client socket, and (from LocalClient) its session, line reader and output."""

    __slots__ = ("sock", "want_write", "mask", "tls", "handshaking", "handshake_wants_write")

    def __init__(self, sock: socket.socket, session: Session, over_tls: bool = False):
        super().__init__(session)
        self.sock = sock
        self.want_write = False
        self.mask = 0  # what the selector watches the socket for (0: not registered)
        self.tls = over_tls  # sock is an ssl.SSLSocket
        self.handshaking = over_tls  # no line is read or written before the handshake ends
        self.handshake_wants_write = False


class Worker:
    """The event loop of one worker process."""

    def __init__(self, index: int, pipe: Pipe, info: ServerInfo,
                 tls_context: ssl.SSLContext | None = None):
        self.index = index
        self.tls_context = tls_context  # built once before the fork (chatd/cli.py)
        self.pipe = pipe
        self.info = info
        self.config: Config = info.config
        self.selector = selectors.DefaultSelector()
        self.pipe_wants_write = False  # whether the selector watches it for EVENT_WRITE
        self.reading_clients = True  # False while the master is not taking our frames
        self._paused_at = 0.0
        self.stopping = False
        self.history = HistoryReader(self.config.history_path)
        self.switchboard = Switchboard(self.config, self.read_replay, MarkerReader(self.history))
        self.conns = self.switchboard.conns  # conn_id -> Connection
        self._verifier: ThreadPoolExecutor | None = None  # started on first use
        self._work_done: collections.deque[tuple[int, object]] = collections.deque()
        self._work_wake_r, self._work_wake_w = socket.socketpair()
        for end in (self._work_wake_r, self._work_wake_w):
            end.setblocking(False)

    # main loop
    def run(self) -> int:
        self.selector.register(self.pipe, selectors.EVENT_READ, None)
        self.selector.register(self._work_wake_r, selectors.EVENT_READ, WORK_DONE_KEY)
        next_timer = time.monotonic() + TIMER_INTERVAL_S
        while not self.stopping:
            timeout = next_timer - time.monotonic()
            # Fakelag: wake when a held client may run its next line (not while clients are
            # paused: their lines wait for the master anyway).
            wake = self.switchboard.next_wake() if self.reading_clients else None
            if wake is not None:
                timeout = min(timeout, wake - time.monotonic())
            timeout = max(0.0, timeout)
            for key, mask in self.selector.select(timeout):
                if key.data is None:
                    if not self.on_master_readable():
                        return EXIT_OK
                    continue
                if key.data is WORK_DONE_KEY:
                    self.on_work_done()
                    continue
                if (mask & selectors.EVENT_READ and self.reading_clients
                      and self.pipe.pending_bytes < ITERATION_CAP):
                    self.on_client_readable(key.data)
                if mask & selectors.EVENT_WRITE:
                    self.switchboard.dirty.add(key.data)
            now = time.monotonic()
            if self.reading_clients:
                self.switchboard.on_wake(now)
                self.carry_out()
            if now >= next_timer:
                self.on_timer(now)
                next_timer = now + TIMER_INTERVAL_S
            self.flush_all()
            self.pace_clients()
        self.shutdown_clients()
        return EXIT_OK

    def flush_all(self) -> None:
        # The master first, so requests leave promptly; then again for what flushing the
        # clients queued (the CONN_CLOSED of a write error).
        self.flush_pipe()
        dirty = self.switchboard.dirty
        while dirty:  # (a TLS handshake ending here reads lines, which may add to it)
            conn = dirty.pop()
            if not conn.closed:
                self.flush_conn(conn)
        self.flush_pipe()

    def flush_pipe(self) -> None:
        try:
            done = self.pipe.flush()
        except PipeClosed:
            return
        if done == self.pipe_wants_write:
            mask = selectors.EVENT_READ | (0 if done else selectors.EVENT_WRITE)
            self.selector.modify(self.pipe, mask, None)
            self.pipe_wants_write = not done

    def pace_clients(self) -> None:
        """Stop reading clients while the master is not taking our frames; resume after."""
        pending = self.pipe.pending_bytes
        if self.reading_clients and pending > PIPE_HIGH_WATER:
            self.reading_clients = False
            self._paused_at = time.monotonic()
            log.debug("%d bytes wait for the master: not reading clients", pending)
        elif not self.reading_clients and pending <= PIPE_LOW_WATER:
            self.reading_clients = True
            paused_for = time.monotonic() - self._paused_at
            for conn in self.conns.values():
                conn.session.excuse(paused_for)
        else:
            return
        for conn in self.conns.values():
            self.watch(conn)

    def watch(self, conn: Connection) -> None:
        """Have the selector watch the client for what it should now: reads unless clients
        are paused, writes while output waits."""
        mask = ((selectors.EVENT_READ if self.reading_clients else 0)
                | (selectors.EVENT_WRITE if conn.want_write or conn.handshake_wants_write
                   else 0))
        conn.mask = rewatch(self.selector, conn.sock, conn, conn.mask, mask)

    # the master's pipe
    def on_master_readable(self) -> bool:
        try:
            received = self.pipe.receive()
        except PipeClosed:
            log.warning("master is gone; closing %d connections", len(self.conns))
            self.shutdown_clients()
            return False
        switchboard = self.switchboard
        now = time.monotonic()
        for frame in received:
            kind = type(frame)
            if kind is frames.NewConn:
                self.on_new_conn(frame.conn_id, frame.host, self.pipe.take_fd(), frame.tls)
            elif kind is frames.Shutdown:
                self.stopping = True
            elif kind is frames.Reconfigure:
                self.reconfigure(reload.unpack(frame.settings))
            elif kind is frames.Heartbeat:
                self.pipe.send(frames.HeartbeatAck(frame.seq))
            else:
                switchboard.on_master_frame(frame, now)
        self.carry_out()
        return True

    def reconfigure(self, info: ServerInfo) -> None:
        """A reload (chatd/reload.py): new settings for every session from now on, and the
        TLS certificate re-read for new handshakes (sessions on TLS keep theirs)."""
        self.info, self.config = info, info.config
        self.switchboard.reconfigure(info.config)
        for conn in self.conns.values():
            conn.session.reconfigure(info)
        logging.getLogger().setLevel(log_level_number(info.config))
        if self.tls_context is not None:
            self.tls_context = tls.fresh_context(info.config.tls_cert, info.config.tls_key,
                                                 self.tls_context)

    def on_new_conn(self, conn_id: int, host: str, fd: int, over_tls: bool = False) -> None:
        if fd == LOST_FD:
            # The master counts clients against our descriptor limit, so this is not meant to
            # happen; if it does, the connection is gone and the master must forget it.
            log.error("connection %d from %s lost: no file descriptor left", conn_id, host)
            self.switchboard.to_master.append(
                frames.ConnClosed(conn_id, "Server out of file descriptors"))
            return
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = Session(conn_id, host, self.info, time.monotonic(), self.history)
        if over_tls and self.tls_context is not None:
            sock = tls.wrap(self.tls_context, sock)
        conn = Connection(sock, session, over_tls and self.tls_context is not None)
        self.switchboard.add(conn)
        self.watch(conn)
        log.debug("connection %d from %s%s", conn_id, host, " (tls)" if conn.tls else "")
        if over_tls and self.tls_context is None:  # not meant to happen: cli gives the context
            log.error("connection %d came from a TLS listener, but TLS is not set up", conn_id)
            self.close_conn(conn, "TLS is not available")

    def continue_handshake(self, conn: Connection) -> None:
        """Advance a TLS handshake; once done, the session learns the client certificate."""
        try:
            step = tls.handshake(conn.sock)
        except tls.HandshakeFailed as exc:
            # Expected from scanners and plain-text clients: one line, no traceback.
            log.info("connection %d from %s: TLS handshake failed: %s",
                     conn.session.conn_id, conn.session.host, exc)
            self.close_conn(conn, "TLS handshake failed")
            return
        conn.handshake_wants_write = step is tls.Step.WANT_WRITE
        if step is tls.Step.DONE:
            conn.handshaking = False
            conn.session.on_tls_established(tls.certificate_fingerprint(conn.sock))
            log.debug("connection %d: %s %s, client certificate %s", conn.session.conn_id,
                      conn.sock.version(), (conn.sock.cipher() or ("?",))[0],
                      conn.session.certfp or "none")
        self.watch(conn)
        if step is tls.Step.DONE:
            # Lines may have come with the handshake's last flight, already decrypted by
            # OpenSSL: select would never report them.
            self.on_client_readable(conn)

    def carry_out(self) -> None:
        """Do what the switchboard decided: frames to the master (in order), then the
        sockets of the connections it closed."""
        switchboard = self.switchboard
        if switchboard.to_master:
            for frame in switchboard.take_to_master():
                self.pipe.send(frame)
        if switchboard.closing:
            for conn, reason in switchboard.take_closing():
                self._close_socket(conn, reason)
        if switchboard.work:
            work, switchboard.work = switchboard.work, []
            for item in work:
                self._submit(item)

    # the verification threads
    def _submit(self, work: Work) -> None:
        if self._verifier is None:
            self._verifier = ThreadPoolExecutor(VERIFY_THREADS, "verify")
        future = self._verifier.submit(work.fn, *work.args)
        future.add_done_callback(lambda done: self._finished(work.conn_id, done))

    def _finished(self, conn_id: int, future: Future) -> None:
        """On a verification thread: queue the result and wake the loop (deque.append is
        atomic; the loop does the rest)."""
        try:
            result = future.result()
        except Exception:  # a bug in hashing: the loop answers as for a failed check
            log.exception("password computation for connection %d failed", conn_id)
            result = None
        self._work_done.append((conn_id, result))
        try:
            self._work_wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass  # the wakeup is pending already

    def on_work_done(self) -> None:
        try:
            while self._work_wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._work_done:
            conn_id, result = self._work_done.popleft()
            self.switchboard.on_work_done(conn_id, result)
        self.carry_out()

    def read_replay(self, folded: str, before_id: int, limit: int) -> list[tuple]:
        """A joined channel's last messages, for delivery's join replay (docs/history.md)."""
        try:
            return replay(self.history, folded, before_id, limit)
        except HistoryUnavailable as exc:
            log.error("history replay for %s failed: %s", folded, exc)
            return []

    # clients
    def on_client_readable(self, conn: Connection) -> None:
        if conn.closed:
            return
        if conn.handshaking:
            self.continue_handshake(conn)
            return
        try:
            data = tls.receive(conn.sock) if conn.tls else conn.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except ssl.SSLError as exc:  # before OSError, which it is: its errno means nothing
            self.close_conn(conn, f"TLS error: {exc.reason or exc}")
            return
        except OSError as exc:
            self.close_conn(conn, f"Read error: {os.strerror(exc.errno or errno.EIO)}")
            return
        if data is None:  # TLS: no complete record yet
            return
        if not data:
            self.close_conn(conn, "Connection closed")
            return
        self.switchboard.on_data(conn, data, time.monotonic())
        self.carry_out()

    def flush_conn(self, conn: Connection) -> None:
        if conn.handshaking:  # its output waits for the handshake (woken for writing by it)
            self.continue_handshake(conn)
            return
        if conn.outbuf:
            try:
                sent = (tls.send(conn.sock, conn.outbuf) if conn.tls
                        else conn.sock.send(conn.outbuf))
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self.close_conn(conn, f"Write error: {os.strerror(exc.errno or errno.EIO)}")
                return
            del conn.outbuf[:sent]
        want_write = bool(conn.outbuf)
        if want_write != conn.want_write:
            conn.want_write = want_write
            self.watch(conn)

    def close_conn(self, conn: Connection, reason: str, tell_master: bool = True) -> None:
        """Close a client connection (flushing what fits, e.g. its ERROR line)."""
        self.switchboard.close(conn, reason, tell_master)
        self.carry_out()

    def _close_socket(self, conn: Connection, reason: str) -> None:
        """The I/O half of closing (the switchboard did the rest): send what fits, close."""
        if conn.outbuf and not conn.handshaking:
            try:
                conn.sock.send(conn.outbuf)
            except OSError:
                pass
        if conn.mask:
            self.selector.unregister(conn.sock)
            conn.mask = 0
        conn.sock.close()
        log.debug("connection %d closed: %s", conn.session.conn_id, reason)

    def on_timer(self, now: float) -> None:
        if not self.reading_clients:
            return  # their answers are unread: no timeouts now (excused when reading resumes)
        self.switchboard.on_timer(now)
        self.carry_out()

    def shutdown_clients(self) -> None:
        """Tell every client the server is going away and flush, within a deadline."""
        notice = encode_line("ERROR :Server shutting down")
        pending = 0
        writable = selectors.DefaultSelector()  # only write interest: no spinning on reads
        for conn in self.conns.values():
            if conn.handshaking:
                continue  # nothing can be said before the handshake: just closed below
            self.switchboard.release_held(conn)
            conn.outbuf += notice
            writable.register(conn.sock, selectors.EVENT_WRITE, conn)
            pending += 1
        deadline = time.monotonic() + SHUTDOWN_FLUSH_S
        while pending and time.monotonic() < deadline:
            for key, _mask in writable.select(max(0.0, deadline - time.monotonic())):
                conn = key.data
                self._send_some(conn)
                if not conn.outbuf or conn.closed:
                    writable.unregister(conn.sock)
                    pending -= 1
        writable.close()
        for conn in list(self.conns.values()):
            self.close_conn(conn, "Server shutting down", tell_master=False)
        self.flush_pipe()  # what they were shown (chatd/session/seen.py), before we exit
        self.history.close()
        if self._verifier is not None:
            self._verifier.shutdown(wait=False, cancel_futures=True)

    def _send_some(self, conn: Connection) -> None:
        try:
            sent = tls.send(conn.sock, conn.outbuf) if conn.tls else conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            conn.outbuf.clear()  # the client is gone; nothing more to flush
            return
        del conn.outbuf[:sent]


def run_worker(index: int, sock: socket.socket, info: ServerInfo,
               tls_context: ssl.SSLContext | None = None) -> int:
    """Entry point of a worker process (`tls_context`: for connections from TLS listeners).
    Returns the exit status."""
    logsetup.configure(log_level_number(info.config), f"worker-{index}")
    proctitle.set_title(f"chatd: worker {index}", sys.argv[1:])
    # Only the master decides when workers stop (it sends SHUTDOWN); see master.py.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if tls_context is not None and info.generation:
        # Started after a reload: the context built before the first fork may hold a
        # certificate that was renewed since.
        tls_context = tls.fresh_context(info.config.tls_cert, info.config.tls_key, tls_context)
    worker = Worker(index, Pipe(sock), info, tls_context)
    log.info("worker %d started", index)
    return worker.run()

