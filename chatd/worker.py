"""A worker process: owns a share of the client connections and runs their event loop.

It reads lines from its clients and feeds them to each connection's Session, forwards what
needs global state to the master, and hands what the master sends back to the sessions and to
the fan-out (chatd/session/delivery.py: committed events into the local recipients' output
buffers). This module is the I/O: sockets, the selector, flushing each client's buffer once
per loop iteration, pacing against the master, the read-only history connection. A worker
never talks to another worker, and never writes the history.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import selectors
import signal
import socket
import sqlite3
import time

from chatd import logsetup
from chatd.config import Config, log_level_number
from chatd.exitcodes import EXIT_OK
from chatd.ipc import frames
from chatd.ipc.pipe import LOST_FD, Pipe, PipeClosed
from chatd.selectmask import rewatch
from chatd.serverinfo import ServerInfo
from chatd.session.delivery import Delivery, Recipient
from chatd.session.session import SYNC_POINT, Session
from chatd.store.reader import HistoryReader, replay
from ircproto.framing import LineReader, encode_line

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 1.0
READ_BYTES = 1 << 16
# Bytes queued for the master that its socket did not take. Past HIGH the worker stops reading
# its clients (TCP then slows the senders) until the queue is back under LOW; within one loop
# iteration, reads stop once ITERATION_CAP is queued. So the master's own pause (when the
# writer is behind) bounds what waits here, however fast clients send.
CHANNEL_HIGH_WATER = 1 << 20
CHANNEL_LOW_WATER = 1 << 18
ITERATION_CAP = 8 << 20
SHUTDOWN_FLUSH_S = 2.0


class Connection(Recipient):
    """A client socket with its line reader, and (from Recipient) its output buffer and
    protocol session."""

    __slots__ = ("sock", "reader", "want_write", "held", "mask")

    def __init__(self, sock: socket.socket, session: Session):
        super().__init__(session)
        self.sock = sock
        self.reader = LineReader(cr_ends_line=True)
        self.want_write = False
        # Replies of the session's own, held until the master's SYNCED says that the master's
        # replies to earlier commands are out (one segment per outstanding SYNC).
        self.held: collections.deque[bytearray] = collections.deque()
        self.mask = 0  # what the selector watches the socket for (0: not registered)


class Worker:
    """The event loop of one worker process."""

    def __init__(self, index: int, channel: Pipe, info: ServerInfo):
        self.index = index
        self.channel = channel
        self.info = info
        self.config: Config = info.config
        self.selector = selectors.DefaultSelector()
        self.conns: dict[int, Connection] = {}
        self.channel_wants_write = False  # whether the selector watches it for EVENT_WRITE
        self.reading_clients = True  # False while the master is not taking our frames
        self._paused_at = 0.0
        self.stopping = False
        self.history = HistoryReader(self.config.history_path)
        self.delivery = Delivery(self.conns, self.config, self.read_replay, self.drop_slow_reader)
        self.frame_handlers = self._frame_handlers()

    # main loop
    def run(self) -> int:
        self.selector.register(self.channel, selectors.EVENT_READ, None)
        next_timer = time.monotonic() + TIMER_INTERVAL_S
        while not self.stopping:
            timeout = max(0.0, next_timer - time.monotonic())
            for key, mask in self.selector.select(timeout):
                if key.data is None:
                    if not self.on_master_readable():
                        return EXIT_OK
                elif (mask & selectors.EVENT_READ and self.reading_clients
                      and self.channel.pending_bytes < ITERATION_CAP):
                    self.on_client_readable(key.data)
                if key.data is not None and mask & selectors.EVENT_WRITE:
                    self.delivery.dirty.add(key.data)
            now = time.monotonic()
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
        self.flush_channel()
        for conn in self.delivery.dirty:
            if not conn.closed:
                self.flush_conn(conn)
        self.delivery.dirty.clear()
        self.flush_channel()

    def flush_channel(self) -> None:
        try:
            done = self.channel.flush()
        except PipeClosed:
            return
        if done == self.channel_wants_write:
            mask = selectors.EVENT_READ | (0 if done else selectors.EVENT_WRITE)
            self.selector.modify(self.channel, mask, None)
            self.channel_wants_write = not done

    def pace_clients(self) -> None:
        """Stop reading clients while the master is not taking our frames; resume after."""
        pending = self.channel.pending_bytes
        if self.reading_clients and pending > CHANNEL_HIGH_WATER:
            self.reading_clients = False
            self._paused_at = time.monotonic()
            log.debug("%d bytes wait for the master: not reading clients", pending)
        elif not self.reading_clients and pending <= CHANNEL_LOW_WATER:
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
                | (selectors.EVENT_WRITE if conn.want_write else 0))
        conn.mask = rewatch(self.selector, conn.sock, conn, conn.mask, mask)

    # master channel
    def on_master_readable(self) -> bool:
        try:
            received = self.channel.receive()
        except PipeClosed:
            log.warning("master is gone; closing %d connections", len(self.conns))
            self.shutdown_clients()
            return False
        handlers = self.frame_handlers
        for frame in received:
            handlers[type(frame)](frame)
        return True

    def _frame_handlers(self) -> dict:
        """Master frame type -> handler(frame)."""
        return {
            frames.Event: self.delivery.on_event,
            frames.Reply: lambda f: self.on_reply(f.conn_id, f.payload),
            frames.NewConn: lambda f: self.on_new_conn(f.conn_id, f.host, self.channel.take_fd()),
            frames.Synced: lambda f: self.on_synced(f.conn_id),
            frames.LabelStart: lambda f: self.on_label_start(f.conn_id, f.label),
            frames.LabelEnd: lambda f: self.on_label_end(f.conn_id),
            frames.NickOk: lambda f: self.on_master_verdict(f.conn_id, Session.on_nick_granted,
                                                            f.nick),
            frames.Welcome: lambda f: self.on_master_verdict(f.conn_id, Session.on_welcome),
            frames.CloseConn: lambda f: self.on_close_request(f.conn_id, f.reason),
            frames.Shutdown: lambda f: setattr(self, "stopping", True),
        }

    def on_master_verdict(self, conn_id: int, method, *args) -> None:
        """The master granted a nick or accepted a registration: let the session react;
        what it says is part of the master's ordered stream, so it goes out at once."""
        conn = self.conns.get(conn_id)
        if conn is not None:
            method(conn.session, *args)
            self.apply_session_effects(conn, caused_by_master=True)

    def on_close_request(self, conn_id: int, reason: str) -> None:
        conn = self.conns.get(conn_id)
        if conn is not None:
            conn.session.close(reason)
            self.apply_session_effects(conn)

    def on_new_conn(self, conn_id: int, host: str, fd: int) -> None:
        if fd == LOST_FD:
            # The master counts clients against our descriptor limit, so this is not meant to
            # happen; if it does, the connection is gone and the master must forget it.
            log.error("connection %d from %s lost: no file descriptor left", conn_id, host)
            self.channel.send(frames.ConnClosed(conn_id, "Server out of file descriptors"))
            return
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = Session(conn_id, host, self.info, time.monotonic(), self.history)
        conn = Connection(sock, session)
        self.conns[conn_id] = conn
        self.watch(conn)
        log.debug("connection %d from %s", conn_id, host)

    def on_reply(self, conn_id: int, payload: bytes) -> None:
        conn = self.conns.get(conn_id)
        if conn is not None:
            self.delivery.respond(conn, payload)

    def on_label_start(self, conn_id: int, label: str) -> None:
        conn = self.conns.get(conn_id)
        if conn is not None:
            conn.master_answer.start(label)

    def on_label_end(self, conn_id: int) -> None:
        conn = self.conns.get(conn_id)
        if conn is None or not conn.master_answer.capturing:
            return
        label, lines = conn.master_answer.finish()
        self.delivery.queue(conn, b"".join(conn.session.label_response(lines, label)))

    def read_replay(self, folded: str, before_id: int, limit: int) -> list[tuple]:
        """A joined channel's last messages, for delivery's join replay (docs/history.md)."""
        try:
            return replay(self.history, folded, before_id, limit)
        except sqlite3.Error as exc:
            log.error("history replay for %s failed: %s", folded, exc)
            return []

    # clients
    def on_client_readable(self, conn: Connection) -> None:
        if conn.closed:
            return
        try:
            data = conn.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.close_conn(conn, f"Read error: {os.strerror(exc.errno or errno.EIO)}")
            return
        if not data:
            self.close_conn(conn, "Connection closed")
            return
        now = time.monotonic()
        session = conn.session
        try:
            for line in conn.reader.feed(data):
                session.on_line(line, now)
                if session.close_reason is not None:
                    break
        except Exception:  # a bug with one client's line must not take the worker down
            log.exception("error handling a line from connection %d", session.conn_id)
            session.close("Internal server error")
        self.apply_session_effects(conn)

    def on_synced(self, conn_id: int) -> None:
        conn = self.conns.get(conn_id)
        if conn is None:
            return
        if conn.held:
            segment = conn.held.popleft()
            if segment:
                self.delivery.queue(conn, bytes(segment))
        try:  # runs the client's held lines: guarded as in on_client_readable
            conn.session.on_synced(time.monotonic())
        except Exception:  # a bug with one client's line must not take the worker down
            log.exception("error handling a line from connection %d", conn_id)
            conn.session.close("Internal server error")
        self.apply_session_effects(conn)

    def apply_session_effects(self, conn: Connection, caused_by_master: bool = False) -> None:
        """Carry out what the session asked for. Output it produced on the client's behalf
        waits behind any outstanding SYNC; output caused by a master frame (welcome, nick
        granted) is itself part of the master's ordered stream and goes out now."""
        session = conn.session
        if session.out:
            direct = bytearray()
            for item in session.out:
                if item == SYNC_POINT:  # lines are never empty: this marks a sync point
                    conn.held.append(bytearray())
                    caused_by_master = False
                elif conn.held and not caused_by_master:
                    conn.held[-1] += item
                else:
                    direct += item
            session.out.clear()
            if direct:
                self.delivery.queue(conn, bytes(direct))
        for frame in session.to_master:
            self.channel.send(frame)
        session.to_master.clear()
        if session.close_reason is not None:
            self.close_conn(conn, session.close_reason)

    def drop_slow_reader(self, conn: Connection) -> None:
        """A reader that cannot keep up is dropped rather than buffered without bound."""
        log.info("connection %d (%s) dropped: over its send queue of %d bytes",
                 conn.session.conn_id, conn.session.nick or "unregistered", self.config.sendq_bytes)
        conn.outbuf.clear()
        conn.session.close("SendQ exceeded")
        self.apply_session_effects(conn)

    def flush_conn(self, conn: Connection) -> None:
        if conn.outbuf:
            try:
                sent = conn.sock.send(conn.outbuf)
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
        if conn.closed:
            return
        conn.closed = True
        for segment in conn.held:  # e.g. the ERROR line after a QUIT
            conn.outbuf += segment
        conn.held.clear()
        if conn.outbuf:
            try:
                conn.sock.send(conn.outbuf)
            except OSError:
                pass
        conn_id = conn.session.conn_id
        self.conns.pop(conn_id, None)
        # Membership is left to the QUIT event the master will send, so that the local
        # tables change only in history order.
        if conn.mask:
            self.selector.unregister(conn.sock)
            conn.mask = 0
        conn.sock.close()
        if tell_master:
            self.channel.send(frames.ConnClosed(conn_id, reason))
        log.debug("connection %d closed: %s", conn_id, reason)

    def on_timer(self, now: float) -> None:
        if not self.reading_clients:
            return  # their answers are unread: no timeouts now (excused when reading resumes)
        for conn in list(self.conns.values()):
            conn.session.on_timer(now)
            if conn.session.out or conn.session.close_reason:
                self.apply_session_effects(conn)

    def shutdown_clients(self) -> None:
        """Tell every client the server is going away and flush, within a deadline."""
        notice = encode_line("ERROR :Server shutting down")
        writable = selectors.DefaultSelector()  # only write interest: no spinning on reads
        for conn in self.conns.values():
            for segment in conn.held:
                conn.outbuf += segment
            conn.held.clear()
            conn.outbuf += notice
            writable.register(conn.sock, selectors.EVENT_WRITE, conn)
        deadline = time.monotonic() + SHUTDOWN_FLUSH_S
        pending = len(self.conns)
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
        self.history.close()

    def _send_some(self, conn: Connection) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            conn.outbuf.clear()  # the client is gone; nothing more to flush
            return
        del conn.outbuf[:sent]


def run_worker(index: int, sock: socket.socket, info: ServerInfo) -> int:
    """Entry point of a worker process. Returns the exit status."""
    logsetup.configure(log_level_number(info.config), f"worker-{index}")
    # Only the master decides when workers stop (it sends SHUTDOWN); see master.py.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = Worker(index, Pipe(sock), info)
    log.info("worker %d started", index)
    return worker.run()

