"""history: query latency on a large history.

The history is built first by the bulk loader (load_history.py: chatd's own insert path, big
transactions) unless an existing file is given with --db. Then a chatd server is started on
it and two clients measure, one request at a time (round trip seen by the client):
- join replay: JOIN #lobby until the end of the replayed batch ([history] replay messages),
  then PART, repeated (a client without draft/chathistory, with batch);
- CHATHISTORY LATEST #lobby * 100, BEFORE msgid=<id> 100, AFTER msgid=<id> 100, where each
  <id> is drawn at random from #lobby's messages in the middle half of the history (a client
  with draft/chathistory, batch, message-tags, server-time).
Also: bytes on disk per stored event.
"""

from __future__ import annotations

import random
import socket
import sqlite3
import time
from pathlib import Path

import load_history
from common import BenchError, ChatdServer, disk_free_bytes, mib, percentile

CHANNEL = "#lobby"
ESTIMATED_BYTES_PER_EVENT = 400  # with WAL growth during the load; checked before loading
QUERY_TIMEOUT_S = 30.0


class LineClient:
    """A plain blocking IRC client for request/response timing."""

    def __init__(self, port: int, nick: str, caps: str, join: str = ""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=QUERY_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        lines = [f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :bench", "CAP END"]
        if join:
            lines.append(f"JOIN {join}")
        self.send("\r\n".join(lines))
        self.read_until(b" 366 " if join else b" 001 ")
        self.drain_until_quiet()

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def read_until(self, token: bytes) -> bytes:
        """Everything up to and including the line holding `token`."""
        deadline = time.monotonic() + QUERY_TIMEOUT_S
        while True:
            at = self.buf.find(token)
            if at >= 0:
                end = self.buf.find(b"\n", at)
                if end >= 0:
                    out, self.buf = self.buf[:end + 1], self.buf[end + 1:]
                    return out
            if time.monotonic() > deadline:
                raise BenchError(f"no {token!r} within {QUERY_TIMEOUT_S:.0f} s")
            data = self.sock.recv(1 << 16)
            if not data:
                raise BenchError("the server closed the connection: " + self.buf[-300:].decode(
                    "utf-8", "replace"))
            self.buf += data

    def drain_until_quiet(self) -> None:
        """A PING round trip is a barrier in chatd: afterwards nothing older is pending."""
        token = f"quiet{time.monotonic_ns()}"
        self.send(f"PING {token}")
        self.read_until(token.encode())

    def close(self) -> None:
        try:
            self.send("QUIT")
        except OSError:
            pass
        self.sock.close()


def middle_ids(db: Path, count: int, rng: random.Random) -> list[int]:
    """Ids of #lobby events drawn at random from the middle half of the history."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        low, high = conn.execute("SELECT min(id), max(id) FROM messages").fetchone()
        span = high - low
        ids = []
        for _ in range(count):
            at = low + span // 4 + rng.randrange(max(1, span // 2))
            row = conn.execute("SELECT id FROM timeline WHERE conv = ? AND id >= ? ORDER BY id"
                               " LIMIT 1", (CHANNEL, at)).fetchone()
            if row:
                ids.append(row[0])
        return ids
    finally:
        conn.close()


def summarize(name: str, samples_ns: list[int], lines: list[int]) -> dict:
    s = sorted(samples_ns)
    return {"query": name, "count": len(s), "p50_ms": percentile(s, 0.50) / 1e6,
            "p99_ms": percentile(s, 0.99) / 1e6, "max_ms": s[-1] / 1e6 if s else float("nan"),
            "avg_messages": sum(lines) / len(lines) if lines else 0.0}


def count_messages_in(reply: bytes) -> int:
    return reply.count(b" PRIVMSG ") + reply.count(b" NOTICE ")


def prepare_history(args, **settings) -> tuple[Path, ChatdServer, dict]:
    """The history of a run (`--db` if it exists, else loaded: into `--db`, or into the
    server's temporary folder, removed with it) and a server on it, not started yet; the
    loader's figures if it loaded."""
    keep_db = args.db is not None
    if keep_db and args.db.exists():
        print(f"using the existing history {args.db}")
        return args.db, ChatdServer(history_path=args.db, **settings), {}
    folder = args.db.parent if keep_db else Path(args.tmp_dir)
    need = args.messages * ESTIMATED_BYTES_PER_EVENT
    free = disk_free_bytes(folder)
    if free < need:
        raise BenchError(f"{args.messages:,} messages need about {mib(need):,.0f} MiB in "
                         f"{folder}; only {mib(free):,.0f} MiB free")
    server = ChatdServer(history_path=args.db, **settings)
    db = server.history_path
    print(f"loading {args.messages:,} events into {db} ...", flush=True)
    return db, server, load_history.load(db, args.messages, args.seed)


def run_history(args) -> dict:
    rng = random.Random(args.seed)
    keep_db = args.db is not None
    db, server, load_figures = prepare_history(
        args, workers=args.workers, synchronous=args.synchronous, autojoin="",
        replay=args.replay)
    size = load_history.database_bytes(db)
    events = load_history.count_messages(db)
    ids = middle_ids(db, args.queries, rng)
    server.start()
    results = []
    try:
        # join replay
        joiner = LineClient(server.port, "joiner", "batch")
        samples, lines = [], []
        for _ in range(args.queries):
            t0 = time.monotonic_ns()
            joiner.send(f"JOIN {CHANNEL}")
            reply = joiner.read_until(b" BATCH -")
            samples.append(time.monotonic_ns() - t0)
            lines.append(count_messages_in(reply))
            joiner.send(f"PART {CHANNEL}")
            joiner.read_until(b" PART " + CHANNEL.encode())
        joiner.close()
        results.append(summarize(f"JOIN + replay of {args.replay}", samples, lines))
        # CHATHISTORY
        reader = LineClient(server.port, "reader", "draft/chathistory batch message-tags "
                            "server-time", join=CHANNEL)
        plans = [("CHATHISTORY LATEST * 100", lambda i: f"CHATHISTORY LATEST {CHANNEL} * 100"),
                 ("CHATHISTORY BEFORE msgid=<middle> 100",
                  lambda i: f"CHATHISTORY BEFORE {CHANNEL} msgid={ids[i % len(ids)]} 100"),
                 ("CHATHISTORY AFTER msgid=<middle> 100",
                  lambda i: f"CHATHISTORY AFTER {CHANNEL} msgid={ids[i % len(ids)]} 100")]
        for name, make in plans:
            samples, lines = [], []
            for i in range(args.queries):
                request = make(i)
                t0 = time.monotonic_ns()
                reader.send(request)
                reply = reader.read_until(b" BATCH -")
                samples.append(time.monotonic_ns() - t0)
                lines.append(count_messages_in(reply))
                if b"FAIL " in reply:
                    raise BenchError(f"{request}: {reply[:300]!r}")
            results.append(summarize(name, samples, lines))
        reader.close()
        problems = server.problem_lines()
    finally:
        server.stop_and_note()  # also removes its temporary folder (and a loaded db there)
    return {"events_in_history": events, "database_bytes": size,
            "bytes_per_event": size / events if events else 0.0, "db_path": str(db) if keep_db else "",
            "replay": args.replay, "queries": results, "server_log_problems": problems,
            **load_figures}
