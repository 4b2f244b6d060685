"""The master process's loop: it waits on its selector and routes — connections to workers,
workers' frames through its pure pipeline (chatd/hub/pipeline.py: PING barriers, the Hub, the
Sequencer), rows to the writer, committed frames back to the workers — and carries out what
its parts decide: accepting (chatd/processes/accepting.py), supervising children
(supervision.py, writer_watchdog.py, shutdown.py), its children's pipes and backpressure
(child_pipes.py, chatd/hub/backpressure.py). It holds the
global state through the Hub but never touches SQLite and never blocks: every socket is
non-blocking and waiting is done by the selector. It imports no other role: the children's
entry functions come from its caller (chatd/cli.py).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import signal
import socket
import sys
import time
from typing import Any, Callable, NamedTuple

from chatd.config import Config
from chatd.exitcodes import EXIT_OK, EXIT_RUNTIME
from chatd.hub.backpressure import Backpressure
from chatd.hub import klines
from chatd.hub.barriers import Barriers
from chatd.hub.hub import Hub
from chatd.hub.pipeline import Pipeline
from chatd.ipc import frames
from chatd.store import lock as history_lock
from chatd.ipc.pipe import PipeClosed
from chatd.processes import fdlimit
from chatd.processes.accepting import Acceptor, Listener, bind_listeners
from chatd.processes.child_pipes import ChildPipes
from chatd.processes.control import CONTROL_KEY, ControlServer
from chatd.processes.loop_timeout import select_timeout
from chatd.processes.metrics_http import MetricsSocket
from chatd.processes.metrics_view import MasterParts, MetricsLink
from chatd.processes.reloading import reload_settings
from chatd.processes.sdnotify import Notifier
from chatd.processes.service import ServiceLink
from chatd.processes.shutdown import Shutdown, Step
from chatd.processes.startup import (StartupError, make_created_files_private,
                                      warn_if_history_readable)
from chatd.processes.supervision import WRITER, Child, Exit, Supervisor
from chatd.processes.writer_watchdog import WriterWatchdog
from chatd.serverinfo import ServerInfo, build_server_info, read_motd

log = logging.getLogger(__name__)

WRITER_READY_TIMEOUT_S = 30.0
WAKEUP_KEY = "wakeup"  # the signal wakeup socket's data in the selector


class ChildEntries(NamedTuple):
    """The entry functions of the processes the master forks, given by the composition root
    (chatd/cli.py) so that the master imports no other role."""
    writer: Callable[[socket.socket, Config, bool], int]
    worker: Callable[[int, socket.socket, ServerInfo], int]


class Master:
    def __init__(self, config: Config, listeners: list[Listener], entries: ChildEntries) -> None:
        self.config = config
        self.selector = selectors.DefaultSelector()
        tls_ports = tuple(listener.sock.getsockname()[1] for listener in listeners
                          if listener.tls)
        self.info = build_server_info(config, read_motd(config), time.time(), tls_ports)
        self.hub = Hub(config, boot_id=self.info.boot_id)
        self.next_conn_id = 1
        self.exit_code = EXIT_OK
        self._signals: list[int] = []
        self._wake_r, self._wake_w = socket.socketpair()
        # Asked before a connection is taken: K-lines, then the per-address limits.
        self.acceptor = Acceptor(listeners, self.selector, config.max_clients,
                                 screen=lambda host, now: klines.connection_refusal(
                                     self.hub, host, now, int(time.time() * 1000)))
        self.children = Supervisor(
            self.selector,
            # The first writer of a run (no Ready yet) settles what a crash left (new_run).
            writer_entry=lambda sock: entries.writer(sock, self.config,
                                                     self.pipeline.sequencer is None),
            worker_entry=lambda index, sock: entries.worker(index, sock, self.info),
            close_master_fds=self._close_master_fds)
        self.watchdog = WriterWatchdog()
        self.backpressure = Backpressure()
        self.barriers = Barriers()
        self.pipeline = Pipeline(self.hub, self.barriers)
        self.shutdown: Shutdown | None = None  # set once stopping
        self.lock_fd: int | None = None  # the history's writer lock (chatd/store/lock.py)
        self.control = ControlServer(history_lock.control_path(config.history_path),
                                     self.selector)
        self.pipes = ChildPipes(self.children, self.control, self.backpressure)
        self.service = ServiceLink(Notifier(), time.monotonic())  # systemd, when it runs us
        self.metrics = MetricsLink(config.metrics_listen, self.selector, MasterParts(
            self.hub, self.children, self.pipeline, self.backpressure, self.info.boot_id / 1000))

    @property
    def stopping(self) -> bool:
        return self.shutdown is not None

    # startup
    def start(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        fd_limit = fdlimit.raise_soft_limit()  # before forking: the children inherit it
        capacity = fdlimit.clients_per_worker(fd_limit)
        # One address's share is a fraction of the places there are (chatd/hub/addresses.py).
        self.hub.addresses.set_places(self.config.max_clients
                                      or capacity * self.config.workers)
        log.info("file descriptor limit %d: up to %d clients per worker%s", fd_limit, capacity,
                 f", {self.config.max_clients} in all" if self.config.max_clients else "")
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(signum, self._record_signal)
        self.selector.register(self._wake_r, selectors.EVENT_READ, WAKEUP_KEY)
        self.children.start_writer()
        self._wait_for_writer()
        self.children.start_workers(self.config.workers)
        self.control.start()
        self.metrics.start()
        self.acceptor.start(capacity)
        # The stable ready lines operators and tests rely on: printed whatever the log level,
        # in one write so that the workers' log lines on the same stderr cannot split them.
        # The plain listener's line comes last and ends with the port (tests wait for it);
        # a TLS listener's line ends with "(tls)".
        plain, *secure = self.acceptor.listeners
        lines = [f"chatd: listening on {listener.address()} (tls)\n" for listener in secure]
        sys.stderr.write("".join(lines) + f"chatd: listening on {plain.address()}\n")
        sys.stderr.flush()
        self.service.ready(self.hub.registry)

    def _record_signal(self, signum: int, _frame: object) -> None:
        self._signals.append(signum)  # acted on by the main loop, never here

    def _close_master_fds(self) -> None:
        """In a new child: close the master's sockets other than the children's channels."""
        for listener in self.acceptor.listeners:
            listener.sock.close()
        if self.control.listener is not None:
            self.control.listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self.service.notifier.close()
        self.metrics.close_in_child()

    def _wait_for_writer(self) -> None:
        """Block (startup only) until the writer has opened the history."""
        deadline = time.monotonic() + WRITER_READY_TIMEOUT_S
        while self.pipeline.sequencer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StartupError("the history writer did not start in time")
            writer = self.children.writer
            for key, _mask in self.selector.select(remaining):
                if writer is not None and key.data is writer:
                    self._on_child_readable(writer)
            self._handle_signals()
            writer = self.children.writer
            if writer is None or not writer.alive or self.stopping:
                raise StartupError("")  # the writer has said why on stderr

    # main loop
    def run(self) -> int:
        while True:
            events = self.selector.select(timeout=self._select_timeout())
            polled_at = time.monotonic()  # everything the workers sent before this is read below
            for key, mask in events:
                if isinstance(key.data, Listener):
                    self.acceptor.accept(key.data, self.children.workers, self._hand_off,
                                         polled_at)
                elif key.data == WAKEUP_KEY:
                    self._drain_wakeup()
                elif key.data == CONTROL_KEY:
                    self.control.accept()
                elif type(key.data) is tuple:  # (CONTROL_KEY, control_id)
                    self._on_control_request(key.data[1])
                elif isinstance(key.data, MetricsSocket):
                    key.data.handle(mask)
                elif mask & selectors.EVENT_READ and self.pipes.reads(key.data):
                    self._on_child_readable(key.data)
            self._handle_signals()
            if self.stopping and self._stop_progress():
                return self.exit_code
            self.acceptor.resume_if_due(time.monotonic())
            self._release_barriers(polled_at)
            self._watch_writer()
            self._send_rows()
            self._tend_service()
            self.metrics.expire(time.monotonic())
            self.pipes.flush(time.monotonic())
            if not self.stopping:
                self.pipes.kill_hung_workers(time.monotonic())

    def _select_timeout(self) -> float:
        return select_timeout(time.monotonic(), self.acceptor.paused_until,
                              self.barriers.next_due(), self.backpressure.reading_workers,
                              self.service.next_due())

    def _tend_service(self) -> None:
        self.service.tend(time.monotonic(), self.children.children(),
                          lambda child: not self.pipes.reads(child), self.pipes.send,
                          self.hub.registry)

    def _hand_off(self, worker: Child, sock: socket.socket, host: str, port: str,
                  tls: bool) -> None:
        """Register an accepted connection and pass its descriptor to `worker` (which does
        the TLS, if it came from a TLS listener)."""
        conn_id = self.next_conn_id
        self.next_conn_id += 1
        self.hub.connection_opened(conn_id, worker.index, host, int(time.time()))
        # Tests and operators match this line (peer port) to see which worker holds whom.
        log.info("connection %d from %s port %s -> worker %d%s", conn_id, host, port,
                  worker.index, " (tls)" if tls else "")
        worker.conns += 1
        self.metrics.accepted += 1
        self.pipes.send(worker, frames.NewConn(conn_id=conn_id, host=host, tls=tls),
                   fds=(sock.detach(),))

    def _drain_wakeup(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while self._wake_r.recv(4096):
                pass

    def _on_child_readable(self, child: Child) -> None:
        try:
            received = child.pipe.receive()
        except PipeClosed:
            received = None
        if received:
            if child.role == WRITER:
                self._on_writer_frames(received)
            else:
                self._on_worker_frames(child, received)
        if received is None:
            self.children.watch(child, 0)
            child.alive = False  # reaped (and restarted) when SIGCHLD is handled
        sequencer = self.pipeline.sequencer
        if sequencer is not None:
            self.backpressure.update(sequencer.backlog, time.monotonic())

    def _on_control_request(self, control_id: int) -> None:
        """An admin command's account write (chatd/admin.py): ordered with the events, and
        answered once committed (CONTROL_WORKER in _dispatch)."""
        request = self.control.read(control_id)
        if request is None:
            return
        if self.pipeline.sequencer is None or self.stopping:
            self.control.answer(control_id, b"error unavailable the server is stopping")
            return
        log.info("account %s %s (admin command)", request["op"], request["name"])
        self.pipes.dispatch(self.pipeline.admin_request(
            control_id, request["op"], request["name"], request.get("payload", {}),
            int(time.time() * 1000)))

    # the writer's frames
    def _on_writer_frames(self, received: list[Any]) -> None:
        for frame in received:
            if isinstance(frame, frames.HeartbeatAck):
                self.service.answered(self.children.writer, time.monotonic())
            elif isinstance(frame, frames.Committed):
                self.metrics.committed(self.pipeline.sequencer.committed_id, frame.up_to_id,
                                       time.monotonic())
                self.pipes.dispatch(self.pipeline.committed(frame.up_to_id))
                self.watchdog.committed(self.pipeline.sequencer.uncommitted_count > 0,
                                        time.monotonic())
            elif isinstance(frame, frames.Ready):
                self._on_writer_ready(frame)
            elif isinstance(frame, frames.Stalled):
                self.watchdog.stalled(time.monotonic())
            elif isinstance(frame, frames.DiskSpace):  # the writer logged why
                if frame.low != self.pipeline.hub.disk_low:
                    log.info("%s clients' messages", "refusing" if frame.low else "storing")
                self.pipeline.hub.disk_low = frame.low

    def _on_writer_ready(self, ready: frames.Ready) -> None:
        self.watchdog.writer_ready()
        restarted = self.pipeline.sequencer is not None
        rows, releasable = self.pipeline.writer_ready(ready)
        if not restarted:
            return
        log.info("writer back at id %d; storing %d pending events again", ready.last_id,
                 len(rows))
        if rows:
            self.pipes.send(self.children.writer, frames.store(rows))
            self.watchdog.resent(time.monotonic())
        self.pipes.dispatch(releasable)

    # the workers' frames
    def _on_worker_frames(self, worker: Child, received: list[Any]) -> None:
        if any(type(frame) is frames.HeartbeatAck for frame in received):
            self.service.answered(worker, time.monotonic())
            received = [frame for frame in received if type(frame) is not frames.HeartbeatAck]
        self.pipes.dispatch(self.pipeline.on_worker_frames(
            worker.index, received, int(time.time() * 1000), time.monotonic()))
        if self.hub.reload_requested_by is not None:  # an oper's REHASH
            self._reload()
        self._count_departures()

    def _release_barriers(self, polled_at: float) -> None:
        """Handle the frames of clients whose PING barrier was due when this iteration's
        select returned: what other workers sent until then has been read first. While the
        workers are not read (backlog), barriers wait too."""
        if not self.backpressure.reading_workers:
            return
        self.pipes.dispatch(self.pipeline.release_barriers(polled_at, int(time.time() * 1000)))
        self._count_departures()

    def _count_departures(self) -> None:
        """Each worker's count of clients (for placing new ones) loses those that left."""
        workers = self.children.workers
        for index in self.pipeline.take_departed():
            workers[index].conns -= 1

    # sending
    def _send_rows(self) -> None:
        writer = self.children.writer
        if self.pipeline.sequencer is not None and writer is not None and writer.alive:
            rows = self.pipeline.take_rows()
            if rows:
                self.pipes.send(writer, frames.store(rows))
                self.watchdog.rows_sent(time.monotonic())
                self.metrics.clock.sent(rows[-1].event_id, time.monotonic())

    # signals and children
    def _handle_signals(self) -> None:
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum in (signal.SIGTERM, signal.SIGINT) and not self.stopping:
                log.info("received %s: shutting down", signal.Signals(signum).name)
                self._begin_stop()
            elif signum == signal.SIGHUP and not self.stopping:
                self._reload()
        for ended in self.children.reap():
            self._on_child_exit(ended)

    def _reload(self) -> None:
        """SIGHUP, or an oper's REHASH (who is told, with the other opers, how it went)."""
        by, self.hub.reload_requested_by = self.hub.reload_requested_by, None
        info = reload_settings(self.info, self.hub, self.acceptor, self.children.children(),
                               self.pipes.send, self.service)
        if info is not None:
            self.info, self.config = info, info.config  # restarted children get these too
        if by is not None and self.pipeline.sequencer is not None:
            self.pipes.dispatch(self.pipeline.tell_opers(
                f"{by} reloaded the configuration" if info is not None else
                f"{by}: the configuration was not reloaded (errors in it: see the log)"))

    def _on_child_exit(self, ended: Exit) -> None:
        child = ended.child
        if self.stopping:
            log.info("%s %d %s", child.role, child.index, ended.text)
            return
        log.error("%s %d (pid %d) %s", child.role, child.index, ended.pid, ended.text)
        if not self.children.may_restart(ended, time.monotonic()):
            self.exit_code = EXIT_RUNTIME
            self._begin_stop()
            return
        if child.role != WRITER:  # its connections died with it: everyone hears they quit
            self.pipes.dispatch(
                self.pipeline.drop_worker_clients(child.index, int(time.time() * 1000)))
            self.pipes.worker_restarted(child.index)
        self.children.restart(child)

    def _watch_writer(self) -> None:
        writer = self.children.writer
        if writer is None or not writer.alive:
            return
        if self.watchdog.is_hung(time.monotonic()):
            log.error("writer acknowledged nothing for %.0f s; killing it",
                      self.watchdog.stall_s)
            self.children.kill(writer)
            self.watchdog.forget()

    # shutdown: workers first (they tell clients), then the writer (it commits what is left)
    def _begin_stop(self) -> None:
        self.service.stopping()
        self.shutdown = Shutdown(time.monotonic())
        self.acceptor.close()
        self.control.close()
        for worker in self.children.workers:
            self.pipes.send(worker, frames.Shutdown())

    def _stop_progress(self) -> bool:
        """Advance the shutdown; True when every child has exited."""
        assert self.shutdown is not None
        workers_left = [w for w in self.children.workers if w.pid]
        writer = self.children.writer
        step = self.shutdown.next_step(bool(workers_left), writer is not None and writer.pid != 0,
                                       time.monotonic())
        if step is Step.KILL_WORKERS:
            for worker in workers_left:
                log.warning("worker %d did not stop in time; killing it", worker.index)
                self.children.kill(worker)
        elif step is Step.TELL_WRITER:
            # The workers are gone: everyone they served leaves the history, last of all.
            self.pipes.dispatch(self.pipeline.shutdown_departures(int(time.time() * 1000)))
            self._send_rows()
            self.pipes.send(writer, frames.Shutdown())
        elif step is Step.KILL_WRITER:
            log.warning("writer did not stop in time; killing it")
            assert writer is not None
            self.children.kill(writer)
        elif step is Step.DONE:
            log.info("chatd stopped")
        return step is Step.DONE


def run(config: Config, entries: ChildEntries) -> int:
    """Run chatd until it is told to stop. Returns the process exit status."""
    warn_if_history_readable(config.history_path)
    make_created_files_private()  # before anything is created: the writer inherits it
    try:
        listeners = bind_listeners(config)
    except StartupError as exc:
        print(f"chatd: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    try:
        lock_fd = history_lock.take(config.history_path)  # held until exit (children inherit it)
    except (history_lock.HistoryLocked, OSError) as exc:
        print(f"chatd: {exc}", file=sys.stderr)
        for listener in listeners:
            listener.sock.close()
        return EXIT_RUNTIME
    master = Master(config, listeners, entries)
    master.lock_fd = lock_fd
    try:
        master.start()
    except StartupError as exc:
        if str(exc):
            print(f"chatd: {exc}", file=sys.stderr)
        master.children.kill_all_now()
        return EXIT_RUNTIME
    return master.run()
