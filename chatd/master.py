"""The master process: binds the listening socket, preforks the writer and the workers, accepts
connections and hands each to the least-loaded worker (socket.send_fds), routes frames
between workers and the writer, supervises its children, and shuts everything down in order.

It holds the global state (through the Hub) but never touches SQLite and never blocks: every
socket is non-blocking and waiting is done by the selector.
"""

from __future__ import annotations

import errno
import logging
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass, field

from chatd.processes import children
from chatd.processes import fdlimit
from chatd.ipc import frames
from chatd.hub.barriers import Barriers
from chatd.ipc.pipe import Pipe, PipeClosed, PipeOverflow
from chatd.config import Config
from chatd.exitcodes import EXIT_BOOT_FAILED, EXIT_OK, EXIT_RUNTIME
from chatd.hub.hub import Hub
from chatd.selectmask import rewatch
from ircproto.framing import encode_line
from chatd.hub.worker_frames import handle_request
from chatd.hub.sequencer import Outgoing, Sequencer
from chatd.serverinfo import build_server_info, closing_link
from chatd.worker import run_worker
from chatd.writer import run_writer

log = logging.getLogger(__name__)

ACCEPTS_PER_WAKEUP = 64
WRITER_READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
MAX_RESTARTS_PER_MINUTE = 10
RESTART_WINDOW_S = 60.0
# A writer that acknowledges nothing for this long is hung: it is killed and replaced (the
# master re-sends what it had not committed). Until then clients wait rather than lose data.
WRITER_STALL_S = 30.0
LISTEN_BACKLOG = 1024
# accept() failing for want of descriptors or memory: pause accepting this long (the pending
# connections wait in the kernel's backlog) rather than spin on a listener that stays ready.
ACCEPT_PAUSE_S = 0.5
ACCEPT_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
# Refused connections are logged once, then summed up at most this often.
REFUSAL_LOG_INTERVAL_S = 10.0
SERVER_FULL = "Server is full"
# Events decided but not yet committed. Past HIGH the master stops reading the workers (they
# then stop reading their clients, and TCP slows the senders) until the writer is back under
# LOW: what waits for the disk is bounded, whatever clients send.
BACKLOG_HIGH = 10_000
BACKLOG_LOW = 5_000
BACKLOG_WARN_INTERVAL_S = 60.0


@dataclass
class Child:
    role: str
    index: int
    pid: int
    channel: Pipe
    conns: int = 0
    started_at: float = field(default_factory=time.monotonic)
    alive: bool = True
    mask: int = selectors.EVENT_READ  # what the selector watches its channel for (0: nothing)


class RefusalLog:
    """Logs refused connections so that a flood of them cannot flood the log: one line at
    once, then at most one per REFUSAL_LOG_INTERVAL_S, counting those not logged."""

    def __init__(self) -> None:
        self.unlogged = 0
        self.next_log_at = 0.0

    def record(self, host: str, reason: str, now: float) -> None:
        if now < self.next_log_at:
            self.unlogged += 1
            return
        more = f" ({self.unlogged} more refused since the last such line)" if self.unlogged else ""
        log.warning("connection from %s refused: %s%s", host, reason, more)
        self.unlogged = 0
        self.next_log_at = now + REFUSAL_LOG_INTERVAL_S


class StartupError(Exception):
    """chatd could not start; the message is the one line to show."""


class Master:
    def __init__(self, config: Config, listener: socket.socket):
        self.config = config
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.hub = Hub(config)
        self.sequencer: Sequencer | None = None
        self.writer: Child | None = None
        self.workers: list[Child] = []
        self.next_conn_id = 1
        self.stopping = False
        self.exit_code = EXIT_OK
        self.restarts: list[float] = []
        self._signals: list[int] = []
        self._writer_waiting_since: float | None = None  # oldest unacknowledged STORE
        self._stop_deadline = 0.0
        self._writer_told = False
        self._wake_r, self._wake_w = socket.socketpair()
        self.info = build_server_info(config, _read_motd(config), time.time())
        self.worker_capacity = 0  # clients one worker can hold: set from the fd limit at start
        self._accept_paused_until: float | None = None
        self._refusals = RefusalLog()
        self.reading_workers = True  # False while the writer's backlog is over BACKLOG_HIGH
        self.barriers = Barriers()
        self._backlog_warned_at = -BACKLOG_WARN_INTERVAL_S

    # startup
    def start(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        fd_limit = fdlimit.raise_soft_limit()  # before forking: the children inherit it
        self.worker_capacity = fdlimit.clients_per_worker(fd_limit)
        log.info("file descriptor limit %d: up to %d clients per worker%s", fd_limit,
                 self.worker_capacity, f", {self.config.max_clients} in all"
                 if self.config.max_clients else "")
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(signum, self._record_signal)
        self.selector.register(self._wake_r, selectors.EVENT_READ, "wakeup")
        self.writer = self._spawn_writer()
        self._wait_for_writer()
        for index in range(self.config.workers):
            self.workers.append(self._spawn_worker(index))
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "listen")
        host, port = self.listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        # The stable ready line operators and tests rely on: printed whatever the log level,
        # in one write so that the workers' log lines on the same stderr cannot split it.
        sys.stderr.write(f"chatd: listening on {shown}:{port}\n")
        sys.stderr.flush()

    def _record_signal(self, signum: int, _frame) -> None:
        self._signals.append(signum)  # acted on by the main loop, never here

    def _close_in_child(self) -> None:
        self.listener.close()
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()
        for child in [self.writer, *self.workers]:
            if child is not None:
                child.channel.close()

    def _spawn_writer(self) -> Child:
        pid, channel = children.spawn(lambda sock: run_writer(sock, self.config),
                                      self._close_in_child)
        log.info("writer started (pid %d)", pid)
        child = Child("writer", 0, pid, channel)
        self.selector.register(channel, selectors.EVENT_READ, child)
        return child

    def _spawn_worker(self, index: int) -> Child:
        pid, channel = children.spawn(lambda sock: run_worker(index, sock, self.info),
                                      self._close_in_child)
        log.info("worker %d started (pid %d)", index, pid)
        child = Child("worker", index, pid, channel)
        self.selector.register(channel, selectors.EVENT_READ, child)
        return child

    def _wait_for_writer(self) -> None:
        """Block (startup only) until the writer has opened the history."""
        deadline = time.monotonic() + WRITER_READY_TIMEOUT_S
        assert self.writer is not None
        while self.sequencer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StartupError("the history writer did not start in time")
            for key, _mask in self.selector.select(remaining):
                if key.data is self.writer:
                    self._on_child_readable(self.writer)
            self._handle_signals()
            if self.writer is None or not self.writer.alive or self.stopping:
                raise StartupError("")  # the writer has said why on stderr

    # main loop
    def run(self) -> int:
        while True:
            events = self.selector.select(timeout=self._select_timeout())
            polled_at = time.monotonic()  # everything the workers sent before this is read below
            for key, mask in events:
                if key.data == "listen":
                    self._accept()
                elif key.data == "wakeup":
                    self._drain_wakeup()
                elif mask & selectors.EVENT_READ:
                    child = key.data
                    if child.role == "writer" or self.reading_workers:
                        self._on_child_readable(child)
            self._handle_signals()
            if self.stopping and self._stop_progress():
                return self.exit_code
            self._resume_accepting()
            self._release_barriers(polled_at)
            self._watch_writer()
            self._send_rows()
            self._flush_channels()

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in ACCEPT_OUT_OF_RESOURCES:
                    self._pause_accepting(exc)
                    return
                log.debug("accept failed: %s", exc)  # e.g. the client gave up already
                continue
            host = addr[0] if isinstance(addr, tuple) else "localhost"
            if host.startswith(":"):
                host = "0" + host  # "::1" would read as a trailing parameter in replies
            worker = self._worker_with_room()
            if worker is None:
                self._refuse(sock, host, SERVER_FULL)
                continue
            conn_id = self.next_conn_id
            self.next_conn_id += 1
            self.hub.connection_opened(conn_id, worker.index, host, int(time.time()))
            # Tests and operators match this line (peer port) to see which worker holds whom.
            log.debug("connection %d from %s port %s -> worker %d", conn_id, host,
                      addr[1] if isinstance(addr, tuple) else "-", worker.index)
            worker.conns += 1
            self._send(worker, frames.NewConn(conn_id, host), fds=(sock.detach(),))

    def _worker_with_room(self) -> Child | None:
        """The least-loaded live worker, or None when chatd is at [limits] max_clients or
        every worker is at the number of clients its descriptor limit leaves room for."""
        alive = [w for w in self.workers if w.alive]
        max_clients = self.config.max_clients
        if max_clients and sum(w.conns for w in alive) >= max_clients:
            return None
        worker = min(alive, key=lambda w: w.conns, default=None)
        if worker is None or worker.conns >= self.worker_capacity:
            return None
        return worker

    def _refuse(self, sock: socket.socket, host: str, reason: str) -> None:
        """Tell a connection chatd cannot take why, in one line, and close it."""
        try:
            sock.setblocking(False)
            sock.send(encode_line(closing_link(None, host, reason)))
        except OSError:
            pass  # it is closed anyway
        sock.close()
        self._refusals.record(host, reason, time.monotonic())

    def _pause_accepting(self, exc: OSError) -> None:
        log.error("accept failed: %s; accepting again in %.1f s", exc, ACCEPT_PAUSE_S)
        self.selector.unregister(self.listener)
        self._accept_paused_until = time.monotonic() + ACCEPT_PAUSE_S

    def _resume_accepting(self) -> None:
        until = self._accept_paused_until
        if until is not None and time.monotonic() >= until and not self.stopping:
            self._accept_paused_until = None
            self.selector.register(self.listener, selectors.EVENT_READ, "listen")

    def _select_timeout(self) -> float:
        waits = [1.0]
        now = time.monotonic()
        # Barriers wait while the workers are not read (backlog): no wakeup for them then.
        barrier_due = self.barriers.next_due() if self.reading_workers else None
        for until in (self._accept_paused_until, barrier_due):
            if until is not None:
                waits.append(max(0.0, until - now))
        return min(waits)

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _on_child_readable(self, child: Child) -> None:
        try:
            received = child.channel.receive()
        except PipeClosed:
            received = None
        if received:
            if child.role == "writer":
                self._on_writer_frames(received)
            else:
                self._on_worker_frames(child, received)
        if received is None:
            self._watch(child, 0)
            child.alive = False  # reaped (and restarted) when SIGCHLD is handled
        self._check_backlog()

    def _check_backlog(self) -> None:
        """Stop or resume reading the workers by how far the writer is behind."""
        if self.sequencer is None:
            return
        backlog = self.sequencer.backlog
        if self.reading_workers and backlog >= BACKLOG_HIGH:
            self.reading_workers = False
            now = time.monotonic()
            if now - self._backlog_warned_at >= BACKLOG_WARN_INTERVAL_S:
                self._backlog_warned_at = now
                log.warning("the history writer is %d events behind: clients' input waits "
                            "until it is under %d (logged at most once a minute)",
                            backlog, BACKLOG_LOW)
        elif not self.reading_workers and backlog <= BACKLOG_LOW:
            self.reading_workers = True

    def _on_writer_frames(self, received: list) -> None:
        for frame in received:
            if isinstance(frame, frames.Committed):
                assert self.sequencer is not None
                self._dispatch(self.sequencer.committed(frame.up_to_id))
                self._writer_waiting_since = (
                    time.monotonic() if self.sequencer.uncommitted_count else None)
            elif isinstance(frame, frames.Ready):
                self._on_writer_ready(frame.last_id, frame.last_ts_ms, frame.topics)
            elif isinstance(frame, frames.Stalled) and self._writer_waiting_since is not None:
                # Not hung: it retries. A new writer would fail the same way.
                self._writer_waiting_since = time.monotonic()

    def _on_writer_ready(self, last_id: int, last_ts: int, topics: list) -> None:
        self._writer_waiting_since = None
        if self.sequencer is None:
            self.sequencer = Sequencer(last_id, last_ts)
            for name, text, setter, ts in topics:
                self.hub.registry.restore_topic(name, text, setter.split("!", 1)[0], ts)
            return
        rows, ready = self.sequencer.writer_restarted(last_id)
        log.info("writer back at id %d; storing %d pending events again", last_id, len(rows))
        if rows:
            self._send(self.writer, frames.Store(rows))
            self._writer_waiting_since = time.monotonic()
        self._dispatch(ready)

    def _on_worker_frames(self, worker: Child, received: list) -> None:
        self.hub.now_ms = int(time.time() * 1000)
        now = time.monotonic()
        hold = self.barriers.hold
        for frame in received:
            if not hold(worker, frame, now):
                self._handle_worker_frame(worker, frame)
        assert self.sequencer is not None
        self._dispatch(self.sequencer.add(self.hub.take_effects(), self.hub.now_ms))

    def _release_barriers(self, polled_at: float) -> None:
        """Handle the frames of clients whose PING barrier was due when this iteration's
        select returned: what other workers sent until then has been read first. While the
        workers are not read (backlog), barriers wait too."""
        if not self.reading_workers or self.sequencer is None:
            return
        released = self.barriers.due(polled_at)
        if not released:
            return
        self.hub.now_ms = int(time.time() * 1000)
        for worker, frame in released:
            self._handle_worker_frame(worker, frame)
        self._dispatch(self.sequencer.add(self.hub.take_effects(), self.hub.now_ms))

    def _handle_worker_frame(self, worker: Child, frame) -> None:
        conn_id = frame.conn_id
        client = self.hub.registry.clients.get(conn_id)
        if client is None:
            return
        if isinstance(frame, frames.ConnClosed):
            worker.conns -= 1
        try:
            handle_request(self.hub, client, frame)
        except Exception:  # a bug in one command must not take the server down
            log.exception("error handling %s for connection %d", _frame_summary(frame), conn_id)
            self._send(worker, frames.CloseConn(conn_id, "Internal server error"))

    def _dispatch(self, outgoing: Outgoing) -> None:
        for index, frame in outgoing:
            worker = self.workers[index] if index < len(self.workers) else None
            if worker is not None and worker.alive:
                self._send_raw(worker, frame)

    def _send(self, child: Child | None, frame, fds: tuple[int, ...] = ()) -> None:
        if child is not None and child.alive:
            self._send_raw(child, frames.encode(frame), fds)
        else:
            for fd in fds:
                os.close(fd)

    def _send_raw(self, child: Child, data: bytes, fds: tuple[int, ...] = ()) -> None:
        try:
            child.channel.send_raw(data, fds)
        except PipeOverflow:
            log.error("%s %d is not reading its channel; killing it", child.role, child.index)
            self._kill(child, signal.SIGKILL)

    def _send_rows(self) -> None:
        if self.sequencer is not None and self.writer is not None and self.writer.alive:
            rows = self.sequencer.take_rows()
            if rows:
                self._send(self.writer, frames.Store(rows))
                if self._writer_waiting_since is None:
                    self._writer_waiting_since = time.monotonic()

    def _flush_channels(self) -> None:
        for child in [self.writer, *self.workers]:
            if child is None or not child.alive:
                continue
            try:
                done = child.channel.flush()
            except PipeClosed:
                continue
            reading = child.role == "writer" or self.reading_workers
            self._watch(child, (selectors.EVENT_READ if reading else 0)
                        | (0 if done else selectors.EVENT_WRITE))

    def _watch(self, child: Child, mask: int) -> None:
        """Have the selector watch `child`'s channel for `mask` (0: not at all)."""
        child.mask = rewatch(self.selector, child.channel, child, child.mask, mask)

    # signals and children
    def _handle_signals(self) -> None:
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum in (signal.SIGTERM, signal.SIGINT) and not self.stopping:
                log.info("received %s: shutting down", signal.Signals(signum).name)
                self._begin_stop()
            elif signum == signal.SIGHUP:
                log.warning("SIGHUP: configuration reload is not supported yet; ignored")
        self._reap()

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self._child_by_pid(pid)
            if child is None:
                continue
            code, text = children.describe_exit(status)
            child.alive = False
            child.pid = 0
            self._forget_channel(child)
            if self.stopping:
                log.info("%s %d %s", child.role, child.index, text)
                continue
            log.error("%s %d (pid %d) %s", child.role, child.index, pid, text)
            self._replace(child, code)

    def _watch_writer(self) -> None:
        since = self._writer_waiting_since
        writer = self.writer
        if since is None or writer is None or not writer.alive:
            return
        if time.monotonic() - since > WRITER_STALL_S:
            log.error("writer acknowledged nothing for %.0f s; killing it", WRITER_STALL_S)
            self._kill(writer, signal.SIGKILL)
            self._writer_waiting_since = None

    def _forget_channel(self, child: Child) -> None:
        self._watch(child, 0)
        child.channel.close()

    def _child_by_pid(self, pid: int) -> Child | None:
        for child in [self.writer, *self.workers]:
            if child is not None and child.pid == pid:
                return child
        return None

    def _replace(self, child: Child, code: int) -> None:
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S] + [now]
        if code == EXIT_BOOT_FAILED or len(self.restarts) > MAX_RESTARTS_PER_MINUTE:
            log.critical("%s %d cannot run; stopping chatd", child.role, child.index)
            self.exit_code = EXIT_RUNTIME
            self._begin_stop()
            return
        if child.role == "writer":
            self.writer = self._spawn_writer()
            return
        self._drop_worker_clients(child)
        self.workers[child.index] = self._spawn_worker(child.index)

    def _drop_worker_clients(self, worker: Child) -> None:
        """The worker's connections died with it: tell everyone they quit."""
        self.hub.now_ms = int(time.time() * 1000)
        for client in [c for c in self.hub.registry.clients.values() if c.worker == worker.index]:
            self.hub.connection_closed(client, "Connection lost (server error)")
        if self.sequencer is not None:
            self._dispatch(self.sequencer.add(self.hub.take_effects(), self.hub.now_ms))

    def _kill(self, child: Child, signum: int) -> None:
        if child.pid:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                pass

    # shutdown: workers first (they tell clients), then the writer (it commits what is left)
    def _begin_stop(self) -> None:
        self.stopping = True
        self._accept_paused_until = None  # the listener closes: no resume to wait for
        self._stop_deadline = time.monotonic() + STOP_TIMEOUT_S
        self._writer_told = False
        try:
            self.selector.unregister(self.listener)
        except (KeyError, ValueError):
            pass
        self.listener.close()
        for worker in self.workers:
            self._send(worker, frames.Shutdown())

    def _stop_progress(self) -> bool:
        """Advance the shutdown; True when every child has exited."""
        overdue = time.monotonic() > self._stop_deadline
        workers_left = [w for w in self.workers if w.pid]
        if workers_left:
            if overdue:
                for worker in workers_left:
                    log.warning("worker %d did not stop in time; killing it", worker.index)
                    self._kill(worker, signal.SIGKILL)
            return False
        writer = self.writer
        if writer is not None and writer.pid:
            if not self._writer_told:
                self._send_rows()
                self._send(writer, frames.Shutdown())
                self._writer_told = True
            elif overdue:
                log.warning("writer did not stop in time; killing it")
                self._kill(writer, signal.SIGKILL)
            return False
        log.info("chatd stopped")
        return True

    def shutdown_now(self) -> None:
        """Startup failed: end whatever was started, at once."""
        for child in [self.writer, *self.workers]:
            if child is not None and child.pid:
                self._kill(child, signal.SIGKILL)
                try:
                    os.waitpid(child.pid, 0)
                except ChildProcessError:
                    pass


def _frame_summary(frame) -> str:
    """A frame for a log line: its type and command, never a client's text."""
    command = getattr(frame, "command", "")
    return f"{type(frame).__name__} {command}".rstrip()


def _read_motd(config: Config) -> str | None:
    if config.motd_path is None:
        return None
    with open(config.motd_path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def bind(config: Config) -> socket.socket:
    """Create the listening socket; raise StartupError with a one-line reason."""
    host = config.listen_host
    try:
        infos = socket.getaddrinfo(host, config.listen_port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{config.listen_port}: {exc.strerror}") from None
    family, socktype, proto, _canon, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{config.listen_port}: {exc.strerror}") from None
    return sock


def run(config: Config) -> int:
    """Run chatd until it is told to stop. Returns the process exit status."""
    try:
        listener = bind(config)
    except StartupError as exc:
        print(f"chatd: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    master = Master(config, listener)
    try:
        master.start()
    except StartupError as exc:
        if str(exc):
            print(f"chatd: {exc}", file=sys.stderr)
        master.shutdown_now()
        return EXIT_RUNTIME
    return master.run()
