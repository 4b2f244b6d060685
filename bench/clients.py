"""The load generator: child processes that each hold many IRC client sockets.

A `Pool` is one child process (multiprocessing, fork) driven over a pipe by the benchmark's
parent process. Inside, one selector loop serves every socket of the pool and the control pipe.
It is made cheap so the server, not the generator, is what gets measured:
- one large recv per readable socket; lines are counted with bytes.count (C speed), never
  split into Python objects;
- latency is parsed only on "probe" sockets (a random sample chosen by the parent): a regex
  finds the `t=<CLOCK_MONOTONIC ns>` token the sender put in each message's text, and the
  difference to the receive time is kept in an array of ints;
- senders build their lines in batches per tick and write each socket once per tick.

Commands (parent -> child) and replies (child -> parent) are small tuples; see `PoolLoop.on_*`.
Every wait has a deadline given by the parent. Loopback only.
"""

from __future__ import annotations

import array
import collections
import ctypes
import errno
import multiprocessing
import os
import re
import selectors
import signal
import socket
import ssl
import time
from multiprocessing.connection import Connection, wait

RECV_BYTES = 1 << 18
TAIL_BYTES = 64  # enough to find a token split across two reads
MAX_LATENCY_SAMPLES = 4_000_000  # per pool; beyond this samples are dropped (and counted)
T_TOKEN = re.compile(rb"t=(\d+)")
# Seen before the wait token while registering: the registration failed.
FAIL_TOKENS = (b"ERROR ", b" 433 ", b" 432 ", b" 451 ", b" 405 ", b" 403 ")

_CTX = multiprocessing.get_context("fork")
_PARENT_ENDS: list[Connection] = []  # every pool's parent end: children close them all
PR_SET_PDEATHSIG = 1


class Pool:
    """Parent-side handle of one load-generator process."""

    def __init__(self, name: str):
        self.name = name
        self.conn, child_end = _CTX.Pipe()
        _PARENT_ENDS.append(self.conn)
        self.proc = _CTX.Process(target=_pool_main, args=(child_end, list(_PARENT_ENDS)),
                                 name=name, daemon=True)
        self.proc.start()
        child_end.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, *command) -> None:
        self.conn.send(command)

    def receive(self, timeout_s: float) -> tuple:
        if not self.conn.poll(timeout_s):
            raise TimeoutError(f"{self.name}: no reply within {timeout_s:.0f} s")
        return self.conn.recv()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the process to close its sockets and exit; kill it by PID if it does not."""
        try:
            self.conn.send(("quit",))
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout_s)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        if self.conn in _PARENT_ENDS:
            _PARENT_ENDS.remove(self.conn)
        self.conn.close()


def gather(pools: list[Pool], timeout_s: float) -> list[tuple]:
    """One reply from each pool, in pool order; TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    replies: dict[int, tuple] = {}
    by_conn = {id(p.conn): i for i, p in enumerate(pools)}
    while len(replies) < len(pools):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            late = [pools[i].name for i in range(len(pools)) if i not in replies]
            raise TimeoutError(f"no reply within {timeout_s:.0f} s from {', '.join(late)}")
        waiting = [p.conn for i, p in enumerate(pools) if i not in replies]
        for conn in wait(waiting, remaining):
            index = by_conn[id(conn)]
            try:
                replies[index] = conn.recv()
            except EOFError:
                raise RuntimeError(f"{pools[index].name} died") from None
    return [replies[i] for i in range(len(pools))]


# ---------------------------------------------------------------------------------------------
# inside the child process

# The benchmark measures the server: no certificate checks (its certificate is throwaway).
TLS_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS_CONTEXT.check_hostname = False
TLS_CONTEXT.verify_mode = ssl.CERT_NONE


class Client:
    __slots__ = ("index", "nick", "sock", "state", "lines", "tail", "watch", "probe", "ptail",
                 "outbuf", "want_write", "reason", "sent", "join", "done", "caps")

    def __init__(self, index: int, nick: str, probe: bool, join: str, caps: str):
        self.index = index
        self.nick = nick
        self.sock: socket.socket | None = None
        self.state = "new"  # new, connecting, registering, ready, dead
        self.lines = 0
        self.tail = b""
        self.watch: bytes | None = None
        self.probe = probe
        self.ptail = b""
        self.outbuf = bytearray()
        self.want_write = False
        self.reason = ""
        self.sent = 0
        self.join = join
        self.done = False
        self.caps = caps


def _pool_main(ctl: Connection, siblings: list[Connection]) -> None:
    # Hold no parent end of any pool's pipe (our own included), so EOF means the parent is gone;
    # and die with the parent even if it is killed outright.
    for conn in siblings:
        conn.close()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    # Ctrl-C reaches the whole process group; the parent decides and tells us to quit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    PoolLoop(ctl).run()
    os._exit(0)


class PoolLoop:
    def __init__(self, ctl: Connection):
        self.ctl = ctl
        self.selector = selectors.DefaultSelector()
        self.clients: list[Client] = []
        self.running = True
        self.measuring = False
        self.latencies = array.array("q")
        self.dropped_samples = 0
        self.last_recv_ns = 0
        self.first_recv_ns = 0
        self.op: dict | None = None  # the command in progress (connect, barrier, send, ...)
        # One receive buffer for every socket: recv() would allocate (mmap) 256 KiB per call
        # and shrink it (mremap), which costs more than the read itself.
        self.rbuf = bytearray(RECV_BYTES)

    def run(self) -> None:
        self.selector.register(self.ctl.fileno(), selectors.EVENT_READ, None)
        while self.running:
            for key, mask in self.selector.select(self.timeout()):
                client = key.data
                if client is None:
                    try:
                        command = self.ctl.recv()
                    except EOFError:  # the parent is gone
                        self.running = False
                        break
                    getattr(self, "on_" + command[0])(*command[1:])
                    continue
                if client.state == "handshaking":
                    self.handshake(client)
                    continue
                if mask & selectors.EVENT_WRITE:
                    if client.state == "connecting":
                        self.on_connected(client)
                    else:
                        self.flush(client)
                if mask & selectors.EVENT_READ and client.state not in ("dead", "connecting",
                                                                        "handshaking"):
                    self.on_readable(client)
            self.progress()
        for client in self.clients:
            if client.sock is not None:
                client.sock.close()

    # ---- reading
    def on_readable(self, c: Client) -> None:
        while True:
            try:
                size = c.sock.recv_into(self.rbuf)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                    ssl.SSLWantWriteError):
                return
            except OSError as exc:
                self.kill(c, os.strerror(exc.errno or errno.EIO))
                return
            self.on_data(c, size)
            # TLS: what OpenSSL decrypted already is invisible to select.
            if c.state == "dead" or not size or not isinstance(c.sock, ssl.SSLSocket) \
                    or not c.sock.pending():
                return

    def on_data(self, c: Client, size: int) -> None:
        if not size:
            self.kill(c, "closed by server")
            return
        now = time.monotonic_ns()
        c.lines += self.rbuf.count(b"\n", 0, size)
        if c.watch is not None or (c.probe and self.measuring):
            data = bytes(memoryview(self.rbuf)[:size])  # only these look inside the data
        if self.measuring:
            self.last_recv_ns = now
            if not self.first_recv_ns:
                self.first_recv_ns = now
        if c.watch is not None:
            self.look_for_token(c, data)
        if c.probe and self.measuring:
            buf = c.ptail + data if c.ptail else data
            cut = buf.rfind(b"\n")
            if cut < 0:
                c.ptail = buf
            else:
                found = T_TOKEN.findall(buf, 0, cut)
                c.ptail = buf[cut + 1:]
                if len(self.latencies) < MAX_LATENCY_SAMPLES:
                    self.latencies.extend([now - int(t) for t in found])
                else:
                    self.dropped_samples += len(found)
        op = self.op
        if op is not None and op["kind"] == "drain" and not c.done:
            if c.lines >= op["expected"][c.index]:
                c.done = True
                op["remaining"] -= 1

    def look_for_token(self, c: Client, data: bytes) -> None:
        buf = c.tail + data
        if c.state == "registering":
            for bad in FAIL_TOKENS:
                at = buf.find(bad)
                if at >= 0 and (c.watch not in buf or buf.find(c.watch) > at):
                    line = buf[max(0, buf.rfind(b"\n", 0, at) + 1):].split(b"\r\n", 1)[0]
                    self.kill(c, "registration refused: " + line.decode("utf-8", "replace")[:120])
                    return
        if c.watch in buf:
            c.watch = None
            c.tail = b""
            if c.state == "registering":
                c.state = "ready"
                self.op["pending"] -= 1
            elif self.op is not None and self.op["kind"] == "barrier":
                self.op["remaining"] -= 1
        else:
            c.tail = buf[-TAIL_BYTES:]

    def kill(self, c: Client, reason: str) -> None:
        if c.state == "dead":
            return
        was = c.state
        c.state = "dead"
        c.reason = reason
        if c.sock is not None:
            try:
                self.selector.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
        op = self.op
        if op is None:
            return
        if op["kind"] == "connect" and was in ("connecting", "handshaking", "registering"):
            op["pending"] -= 1
        elif op["kind"] == "barrier" and c.watch is not None:
            op["remaining"] -= 1
        elif op["kind"] == "drain" and not c.done:
            c.done = True
            op["remaining"] -= 1
        c.watch = None

    # ---- writing
    def write(self, c: Client, data: bytes) -> None:
        if c.state == "dead":
            return
        c.outbuf += data
        self.flush(c)

    def flush(self, c: Client) -> None:
        if c.outbuf and c.state != "dead":
            try:
                sent = c.sock.send(c.outbuf)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                    ssl.SSLWantWriteError):
                sent = 0
            except OSError as exc:
                self.kill(c, os.strerror(exc.errno or errno.EIO))
                return
            del c.outbuf[:sent]
        want = bool(c.outbuf)
        if want != c.want_write and c.state != "dead":
            c.want_write = want
            mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.selector.modify(c.sock, mask, c)

    # ---- commands
    def on_connect(self, host: str, port: int, nicks: list[str], probes: list[bool],
                   joins: list[str], caps: str, wait_token: bytes, in_flight: int,
                   timeout_s: float, rcvbuf: int, tls: bool = False) -> None:
        """Open one socket per nick, at most `in_flight` registering at a time; each is
        ready when `wait_token` arrives (e.g. b" 366 ": its autojoin's NAMES ended)."""
        base = len(self.clients)
        for i, nick in enumerate(nicks):
            self.clients.append(Client(base + i, nick, probes[i], joins[i] if joins else "",
                                       caps))
        self.op = {"kind": "connect", "addr": (host, port), "queue": collections.deque(
            self.clients[base:]), "pending": 0, "in_flight": in_flight, "token": wait_token,
            "deadline": time.monotonic() + timeout_s, "rcvbuf": rcvbuf,
            "t0": time.monotonic_ns(), "count": len(nicks), "tls": tls}

    def start_connect(self, c: Client) -> None:
        op = self.op
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if op["rcvbuf"]:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, op["rcvbuf"])
        c.sock = sock
        c.state = "connecting"
        op["pending"] += 1
        code = sock.connect_ex(op["addr"])
        if code not in (0, errno.EINPROGRESS):
            self.kill(c, "connect: " + os.strerror(code))
            return
        self.selector.register(sock, selectors.EVENT_WRITE, c)

    def on_connected(self, c: Client) -> None:
        code = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.kill(c, "connect: " + os.strerror(code))
            return
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.op["tls"]:
            self.selector.unregister(c.sock)  # the wrapped socket is a new object
            c.sock = TLS_CONTEXT.wrap_socket(c.sock, do_handshake_on_connect=False)
            self.selector.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
            c.state = "handshaking"
            self.handshake(c)
            return
        self.register(c)

    def handshake(self, c: Client) -> None:
        """Advance a client's TLS handshake (it counts toward the connect time)."""
        try:
            c.sock.do_handshake()
        except ssl.SSLWantReadError:
            self.selector.modify(c.sock, selectors.EVENT_READ, c)
            return
        except ssl.SSLWantWriteError:
            self.selector.modify(c.sock, selectors.EVENT_WRITE, c)
            return
        except OSError as exc:
            self.kill(c, f"TLS handshake: {exc}")
            return
        self.register(c)

    def register(self, c: Client) -> None:
        c.state = "registering"
        c.watch = self.op["token"]
        self.selector.modify(c.sock, selectors.EVENT_READ, c)
        lines = []
        if c.caps:
            lines.append(f"CAP REQ :{c.caps}")
        lines += [f"NICK {c.nick}", f"USER {c.nick} 0 * :bench client"]
        if c.caps:
            lines.append("CAP END")
        if c.join:
            lines.append(f"JOIN {c.join}")
        self.write(c, ("\r\n".join(lines) + "\r\n").encode())

    def on_reset(self) -> None:
        """Start of a measured phase: counters and latency samples back to zero."""
        for c in self.clients:
            c.lines = 0
            c.ptail = b""
            c.done = False
        self.latencies = array.array("q")
        self.dropped_samples = 0
        self.first_recv_ns = self.last_recv_ns = 0
        self.measuring = True
        self.ctl.send(("reset",))

    def on_barrier(self, token: bytes, timeout_s: float, skip: list[int]) -> None:
        """Watch every live socket (but those in `skip`) for `token`: reply "armed" at once,
        then "barrier" once all have received it. The parent sends the token only after every
        pool is armed, so no socket can see it before it is watched."""
        remaining = 0
        for c in self.clients:
            if c.state == "ready" and c.index not in skip:
                c.watch, c.tail = token, b""
                remaining += 1
        self.op = {"kind": "barrier", "remaining": remaining,
                   "deadline": time.monotonic() + timeout_s}
        self.ctl.send(("armed",))

    def on_say(self, index: int, line: bytes) -> None:
        self.write(self.clients[index], line)

    def on_say_any(self, line: bytes) -> None:
        """Send `line` from the first ready socket (which then waits for no barrier token:
        it does not get its own message back); reply with its index."""
        c = next(c for c in self.clients if c.state == "ready")
        if c.watch is not None and self.op is not None and self.op["kind"] == "barrier":
            c.watch = None
            self.op["remaining"] -= 1
        self.write(c, line)
        self.ctl.send(("say_any", c.index))

    def on_send(self, rate: float, duration_s: float, target: str, text_bytes: int) -> None:
        """Send `rate` messages/s in total, round robin over this pool's sockets, for
        `duration_s`; each text starts with t=<send time, CLOCK_MONOTONIC ns>."""
        ready = [c for c in self.clients if c.state == "ready"]
        for c in ready:
            c.sent = 0
        pad = "x" * max(0, text_bytes - len("t=1234567890123456 "))
        now = time.monotonic_ns()
        self.op = {"kind": "send", "rate": rate, "t0": now, "end": now + int(duration_s * 1e9),
                   "sent": 0, "clients": ready, "prefix": f"PRIVMSG {target} :t=",
                   "suffix": f" {pad}\r\n", "first_ns": 0, "last_ns": 0, "max_backlog": 0}

    def on_flood(self, duration_s: float, window: int, text: str) -> None:
        """Store benchmark: each socket floods its own channel (its `join`), keeping at most
        `window` messages without their echo (echo-message: sent only after the commit)."""
        ready = [c for c in self.clients if c.state == "ready"]
        for c in ready:
            c.sent = 0
            c.lines = 0
        now = time.monotonic_ns()
        self.op = {"kind": "flood", "t0": now, "end": now + int(duration_s * 1e9),
                   "clients": ready, "window": window,
                   "line": {c.index: f"PRIVMSG {c.join} :{text}\r\n".encode() for c in ready},
                   "draining": False, "echoed_in_window": 0, "end_ns": 0}

    def on_drain(self, expected, timeout_s: float) -> None:
        """Reply once each socket has received `expected` lines since the reset (an int for
        all, or a list by socket index), or at the deadline."""
        if isinstance(expected, int):
            expected = [expected] * len(self.clients)
        remaining = 0
        for c in self.clients:
            c.done = c.state == "dead" or c.lines >= expected[c.index]
            remaining += not c.done
        self.op = {"kind": "drain", "expected": expected, "remaining": remaining,
                   "deadline": time.monotonic() + timeout_s}

    def on_status(self) -> None:
        self.ctl.send(("status", self.status()))

    def on_quit(self) -> None:
        self.running = False

    def status(self) -> dict:
        reasons = collections.Counter(c.reason for c in self.clients if c.state == "dead")
        return {"ready": sum(c.state == "ready" for c in self.clients),
                "dead": sum(c.state == "dead" for c in self.clients),
                "dead_reasons": dict(reasons.most_common(5)),
                "lines": sum(c.lines for c in self.clients)}

    # ---- progress of the command in progress
    def timeout(self) -> float:
        op = self.op
        if op is None:
            return 1.0
        if op["kind"] == "send":
            due = op["t0"] + int(op["sent"] * 1e9 / op["rate"])
            return min(0.05, max(0.001, (due - time.monotonic_ns()) / 1e9))
        if op["kind"] == "flood":
            return 0.001
        return max(0.0, min(0.2, op["deadline"] - time.monotonic()))

    def progress(self) -> None:
        op = self.op
        if op is None:
            return
        getattr(self, "progress_" + op["kind"])(op)

    def progress_connect(self, op: dict) -> None:
        queue = op["queue"]
        while queue and op["pending"] < op["in_flight"]:
            self.start_connect(queue.popleft())
        timed_out = time.monotonic() > op["deadline"]
        if (not queue and op["pending"] == 0) or timed_out:
            for c in self.clients:
                if c.state in ("new", "connecting", "registering"):
                    self.kill(c, "timed out registering")
            self.op = None
            mine = self.clients[-op["count"]:] if op["count"] else []
            reasons = collections.Counter(c.reason for c in mine if c.state == "dead")
            self.ctl.send(("connect", {
                "ready": sum(c.state == "ready" for c in mine),
                "failed": sum(c.state == "dead" for c in mine),
                "reasons": dict(reasons.most_common(5)),
                "t0_ns": op["t0"], "t_end_ns": time.monotonic_ns()}))

    def progress_barrier(self, op: dict) -> None:
        if op["remaining"] <= 0 or time.monotonic() > op["deadline"]:
            missing = sum(c.watch is not None for c in self.clients if c.state == "ready")
            for c in self.clients:
                c.watch = None
            self.op = None
            self.ctl.send(("barrier", {"missing": missing, "t_end_ns": time.monotonic_ns()}))

    def progress_send(self, op: dict) -> None:
        now = time.monotonic_ns()
        clients = op["clients"]
        if not clients:
            now = op["end"]
        if now >= op["end"]:
            self.op = None
            self.ctl.send(("send", {
                "sent": op["sent"], "per_client": {c.index: c.sent for c in clients},
                "first_ns": op["first_ns"], "last_ns": op["last_ns"],
                "max_backlog_bytes": op["max_backlog"]}))
            return
        due = int((now - op["t0"]) * op["rate"] / 1e9) + 1 - op["sent"]
        if due <= 0:
            return
        stamp = f"{op['prefix']}{now}{op['suffix']}".encode()  # one send time per tick
        n = len(clients)
        start = op["sent"]
        if due >= n:
            whole, extra = divmod(due, n)
            for k, c in enumerate(clients):
                count = whole + (1 if (k - start) % n < extra else 0)
                if count:
                    c.sent += count
                    c.outbuf += stamp * count
        else:
            for k in range(start, start + due):
                c = clients[k % n]
                c.sent += 1
                c.outbuf += stamp
        op["sent"] += due
        if not op["first_ns"]:
            op["first_ns"] = now
        op["last_ns"] = now
        backlog = 0
        for c in clients:
            if c.outbuf:
                self.flush(c)
                backlog += len(c.outbuf)
        op["max_backlog"] = max(op["max_backlog"], backlog)

    def progress_flood(self, op: dict) -> None:
        now = time.monotonic_ns()
        if not op["draining"] and now >= op["end"]:
            op["draining"] = True
            op["echoed_in_window"] = sum(c.lines for c in op["clients"])
            op["end_ns"] = now
            op["drain_deadline"] = now + int(30e9)
        if op["draining"]:
            live = [c for c in op["clients"] if c.state != "dead"]
            if all(c.lines >= c.sent for c in live) or now > op["drain_deadline"]:
                self.op = None
                self.ctl.send(("flood", {
                    "sent": sum(c.sent for c in op["clients"]),
                    "echoed": sum(c.lines for c in op["clients"]),
                    "echoed_in_window": op["echoed_in_window"],
                    "t0_ns": op["t0"], "end_ns": op["end_ns"], "drained_ns": now,
                    "dead": sum(c.state == "dead" for c in op["clients"])}))
            return
        window = op["window"]
        for c in op["clients"]:
            room = window - (c.sent - c.lines)
            if room * 2 >= window and c.state != "dead":  # top up in batches of half a window
                c.sent += room
                self.write(c, op["line"][c.index] * room)

    def progress_drain(self, op: dict) -> None:
        if op["remaining"] <= 0 or time.monotonic() > op["deadline"]:
            self.op = None
            self.measuring = False
            expected = op["expected"]
            short = [max(0, expected[c.index] - c.lines) for c in self.clients]
            self.ctl.send(("drain", {
                "received": sum(c.lines for c in self.clients),
                "expected": sum(expected[c.index] for c in self.clients),
                "missing": sum(short),
                "incomplete_clients": sum(1 for s in short if s),
                "dead": sum(c.state == "dead" for c in self.clients),
                "dead_reasons": dict(collections.Counter(
                    c.reason for c in self.clients if c.state == "dead").most_common(5)),
                "first_recv_ns": self.first_recv_ns, "last_recv_ns": self.last_recv_ns,
                "latencies": self.latencies.tobytes(), "dropped_samples": self.dropped_samples}))
