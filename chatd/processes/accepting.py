"""Taking connections in the master: the listening socket (bind), the accept loop, the choice
of a worker with room for one more client, and the refusal ("Server is full") of a connection
no worker can take. It does not route frames or supervise children: a taken connection is
handed to the master's callback, which registers it and passes its descriptor on."""

from __future__ import annotations

import errno
import logging
import selectors
import socket
from typing import Callable, Protocol, Sequence, TypeVar

from chatd.config import Config
from chatd.processes.startup import StartupError
from chatd.serverinfo import closing_link
from ircproto.framing import encode_line

log = logging.getLogger(__name__)

ACCEPTS_PER_WAKEUP = 64
LISTEN_BACKLOG = 1024
# accept() failing for want of descriptors or memory: pause accepting this long (the pending
# connections wait in the kernel's backlog) rather than spin on a listener that stays ready.
ACCEPT_PAUSE_S = 0.5
ACCEPT_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
# Refused connections are logged once, then summed up at most this often.
REFUSAL_LOG_INTERVAL_S = 10.0
SERVER_FULL = "Server is full"
LISTEN_KEY = "listen"  # the listener's data in the master's selector


class Placeable(Protocol):
    """What picking a worker needs to know of one."""
    alive: bool
    conns: int


Worker = TypeVar("Worker", bound=Placeable)
# (worker, accepted socket, client host, peer port for the log) -> None
HandOff = Callable[[Worker, socket.socket, str, str], None]


def bind(config: Config) -> socket.socket:
    """Create the listening socket; raise StartupError with a one-line reason."""
    host = config.listen_host
    try:
        infos = socket.getaddrinfo(host, config.listen_port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(_cannot_listen(config, exc)) from None
    family, socktype, proto, _canon, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(_cannot_listen(config, exc)) from None
    return sock


def _cannot_listen(config: Config, exc: OSError) -> str:
    return f"cannot listen on {config.listen_host}:{config.listen_port}: {exc.strerror}"


def pick_worker(workers: Sequence[Worker], max_clients: int, capacity: int) -> Worker | None:
    """The least-loaded live worker, or None when chatd is at `max_clients` (0: no limit) or
    every worker is at the `capacity` its descriptor limit leaves room for."""
    alive = [w for w in workers if w.alive]
    if max_clients and sum(w.conns for w in alive) >= max_clients:
        return None
    worker = min(alive, key=lambda w: w.conns, default=None)
    if worker is None or worker.conns >= capacity:
        return None
    return worker


def client_host(addr: object) -> str:
    """The host a client is known by in replies, from accept()'s address."""
    host = addr[0] if isinstance(addr, tuple) else "localhost"
    if host.startswith(":"):
        host = "0" + host  # "::1" would read as a trailing parameter in replies
    return host


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


class Acceptor:
    """The listening socket in the master's selector: accepts, places or refuses, and pauses
    itself while accept() lacks resources."""

    def __init__(self, listener: socket.socket, selector: selectors.BaseSelector,
                 max_clients: int) -> None:
        self.listener = listener
        self.selector = selector
        self.max_clients = max_clients
        self.capacity = 0  # clients one worker can hold: set from the fd limit at start
        self.paused_until: float | None = None
        self._refusals = RefusalLog()
        self._closed = False

    def start(self, capacity: int) -> None:
        self.capacity = capacity
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, LISTEN_KEY)

    def accept(self, workers: Sequence[Worker], hand_off: HandOff, now: float) -> None:
        """Take what the listener has (up to ACCEPTS_PER_WAKEUP) and hand each connection to a
        worker with room, or refuse it."""
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in ACCEPT_OUT_OF_RESOURCES:
                    self._pause(exc, now)
                    return
                log.debug("accept failed: %s", exc)  # e.g. the client gave up already
                continue
            host = client_host(addr)
            worker = pick_worker(workers, self.max_clients, self.capacity)
            if worker is None:
                self._refuse(sock, host, SERVER_FULL, now)
                continue
            hand_off(worker, sock, host, str(addr[1]) if isinstance(addr, tuple) else "-")

    def _refuse(self, sock: socket.socket, host: str, reason: str, now: float) -> None:
        """Tell a connection chatd cannot take why, in one line, and close it."""
        try:
            sock.setblocking(False)
            sock.send(encode_line(closing_link(None, host, reason)))
        except OSError:
            pass  # it is closed anyway
        sock.close()
        self._refusals.record(host, reason, now)

    def _pause(self, exc: OSError, now: float) -> None:
        log.error("accept failed: %s; accepting again in %.1f s", exc, ACCEPT_PAUSE_S)
        self.selector.unregister(self.listener)
        self.paused_until = now + ACCEPT_PAUSE_S

    def resume_if_due(self, now: float) -> None:
        until = self.paused_until
        if until is not None and now >= until and not self._closed:
            self.paused_until = None
            self.selector.register(self.listener, selectors.EVENT_READ, LISTEN_KEY)

    def close(self) -> None:
        """Stop accepting for good (shutdown)."""
        self._closed = True
        self.paused_until = None  # the listener closes: no resume to wait for
        try:
            self.selector.unregister(self.listener)
        except (KeyError, ValueError):
            pass
        self.listener.close()
