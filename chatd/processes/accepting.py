"""Taking connections in the master: the listening sockets (bind: the plain one and each TLS
one, side by side), the accept loop, the choice
of a worker with room for one more client, and the refusal of a connection no worker can take
("Server is full") or its address may not open now (asked of the Hub's address book, given as
a callable). It does not route frames or supervise children: a taken connection is
handed to the master's callback, which registers it and passes its descriptor on, saying
whether it came from a TLS listener: the worker does the TLS, the master only routes."""

from __future__ import annotations

import errno
import logging
import selectors
import socket
from typing import Callable, NamedTuple, Protocol, Sequence, TypeVar

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
# Each client socket's kernel send buffer (the kernel doubles it for its bookkeeping; setting
# it also turns off send-buffer autotuning, which would let it grow to net.ipv4.tcp_wmem's
# maximum, 4 MiB by default). With the worker's [limits] sendq this bounds what one client
# that does not read can cost: sendq + 2 * 64 KiB. 64 KiB still fills a 100 ms round trip at
# 640 KB/s, far beyond what a chat client needs.
CLIENT_SNDBUF_BYTES = 64 * 1024


class Listener(NamedTuple):
    """A listening socket (its data in the master's selector) and whether it speaks TLS."""
    sock: socket.socket
    tls: bool

    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Placeable(Protocol):
    """What picking a worker needs to know of one."""
    alive: bool
    conns: int


Worker = TypeVar("Worker", bound=Placeable)
# (worker, accepted socket, client host, peer port for the log, from a TLS listener) -> None
HandOff = Callable[[Worker, socket.socket, str, str, bool], None]
# (client host, now) -> None to take the connection, or the reason to refuse it
Screen = Callable[[str, float], str | None]


def bind_listeners(config: Config) -> list[Listener]:
    """The plain listener first, then one per [tls] listen address; raise StartupError with
    a one-line reason (closing those already bound) if one cannot listen."""
    listeners: list[Listener] = []
    try:
        listeners.append(Listener(bind(config.listen_host, config.listen_port), tls=False))
        for host, port in config.tls_listen:
            listeners.append(Listener(bind(host, port), tls=True))
    except StartupError:
        for listener in listeners:
            listener.sock.close()
        raise
    return listeners


def bind(host: str, port: int) -> socket.socket:
    """Create one listening socket; raise StartupError with a one-line reason."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(_cannot_listen(host, port, exc)) from None
    family, socktype, proto, _canon, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(_cannot_listen(host, port, exc)) from None
    return sock


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    return f"cannot listen on {host}:{port}: {exc.strerror}"


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


def cap_send_buffer(sock: socket.socket) -> None:
    """Bound the kernel memory a client that does not read can hold (CLIENT_SNDBUF_BYTES);
    the option stays with the socket when its descriptor is passed to a worker."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF_BYTES)
    except OSError:
        pass  # e.g. the client is gone already: its worker will notice


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
    """The listening sockets in the master's selector: accepts, places or refuses, and pauses
    itself while accept() lacks resources."""

    def __init__(self, listeners: list[Listener], selector: selectors.BaseSelector,
                 max_clients: int, screen: Screen = lambda host, now: None) -> None:
        self.listeners = listeners
        self.screen = screen
        self.selector = selector
        self.max_clients = max_clients
        self.capacity = 0  # clients one worker can hold: set from the fd limit at start
        self.paused_until: float | None = None
        self._refusals = RefusalLog()
        self._closed = False

    def start(self, capacity: int) -> None:
        self.capacity = capacity
        for listener in self.listeners:
            listener.sock.setblocking(False)
        self._watch_listeners()

    def _watch_listeners(self) -> None:
        for listener in self.listeners:
            self.selector.register(listener.sock, selectors.EVENT_READ, listener)

    def accept(self, listener: Listener, workers: Sequence[Worker], hand_off: HandOff,
               now: float) -> None:
        """Take what the listener has (up to ACCEPTS_PER_WAKEUP) and hand each connection to a
        worker with room, or refuse it."""
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                sock, addr = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in ACCEPT_OUT_OF_RESOURCES:
                    self._pause(exc, now)
                    return
                log.debug("accept failed: %s", exc)  # e.g. the client gave up already
                continue
            host = client_host(addr)
            refusal = self.screen(host, now)  # first: every attempt counts toward the rate
            if refusal is not None:
                self._refuse(sock, host, refusal, now)
                continue
            worker = pick_worker(workers, self.max_clients, self.capacity)
            if worker is None:
                # (Over TLS the plain ERROR line is noise to the client, which then fails its
                # handshake: the connection is refused either way.)
                self._refuse(sock, host, SERVER_FULL, now)
                continue
            cap_send_buffer(sock)
            hand_off(worker, sock, host, str(addr[1]) if isinstance(addr, tuple) else "-",
                     listener.tls)

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
        if self.paused_until is not None:
            return  # another listener of the same wakeup paused already
        log.error("accept failed: %s; accepting again in %.1f s", exc, ACCEPT_PAUSE_S)
        for listener in self.listeners:
            self.selector.unregister(listener.sock)
        self.paused_until = now + ACCEPT_PAUSE_S

    def resume_if_due(self, now: float) -> None:
        until = self.paused_until
        if until is not None and now >= until and not self._closed:
            self.paused_until = None
            self._watch_listeners()

    def close(self) -> None:
        """Stop accepting for good (shutdown)."""
        self._closed = True
        self.paused_until = None  # the listeners close: no resume to wait for
        for listener in self.listeners:
            try:
                self.selector.unregister(listener.sock)
            except (KeyError, ValueError):
                pass
            listener.sock.close()
