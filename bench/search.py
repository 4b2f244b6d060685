"""search: SEARCH latency on a large history (issue 15).

The history is built by the bulk loader (load_history.py, chatd's own insert path: the
full-text index is filled in the same transactions) unless an existing file is given with
--db. A file from before the index (schema 7 or older) is indexed by chatd itself when it starts, in
the background: the run then waits for that backfill to finish and reports how long it took
and how many events per second it indexed, the server serving meanwhile. Then one client in
every channel of the loader measures, one request at a time (round trip seen by the client):
- a word in the busiest channel (`text=<word>;in=#lobby`), the issue's "word query";
- a word in the quietest channel (`in=#music`, 5% of the traffic);
- a word anywhere the client may read (no `in`: five channels and its private conversations);
- two words, and a two-word phrase, anywhere;
- a word from one sender (`from=<nick>`, one of 400);
- a word in the busiest channel before a random moment of the history (`before=`: the walk
  starts deep in the index) and after one (`after=`: the oldest matches after it come);
- a word that is in no message;
each `--queries` times with words drawn from the loader's vocabulary, `limit=--limit`.
Every reply is checked (a batch, no FAIL); searches cut short by the time limit (NOTE SEARCH
TIMEOUT) are counted.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import load_history
from common import BenchError
from history_queries import LineClient, prepare_history, summarize

from ircproto.servertime import format_server_time

CHANNELS = ",".join(load_history.CHANNELS)
WORDS = [w for w in load_history.WORDS if w.isalpha()]
CAPS = "draft/search batch message-tags server-time"
BACKFILL_TIMEOUT_S = 3600.0
PROBE_GAP_S = 0.1


def _unindexed(db: Path) -> int:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'search_unindexed_up_to'"
                           ).fetchone()
        return int(row[0]) if row else -1
    except sqlite3.OperationalError:  # no meta table yet: the writer is still opening it
        return -1
    finally:
        conn.close()


def wait_for_backfill(db: Path, events: int, port: int) -> dict:
    """Wait until chatd has indexed every event; how long that took (0 if nothing was left)
    and how long a message took to be stored meanwhile: a client in #lobby sends one every
    PROBE_GAP_S and times its echo (echo-message: stored, chatd's rule), which waits behind
    any backfill transaction in the writer."""
    t0 = time.monotonic()
    left = _unindexed(db)
    if left == 0:
        return {}
    print("waiting for chatd to index the older messages ...", flush=True)
    prober = LineClient(port, "prober", "echo-message", join="#lobby")
    samples: list[int] = []
    next_report = t0 + 10
    while left != 0:
        if time.monotonic() - t0 > BACKFILL_TIMEOUT_S:
            raise BenchError(f"the backfill did not finish within {BACKFILL_TIMEOUT_S:.0f} s")
        token = f"probe{len(samples)}"
        sent = time.monotonic_ns()
        prober.send(f"PRIVMSG #lobby :{token}")
        prober.read_until(f":{token}".encode())
        samples.append(time.monotonic_ns() - sent)
        time.sleep(PROBE_GAP_S)  # pacing the probes, not waiting for anything
        left = _unindexed(db)
        if time.monotonic() >= next_report:
            print(f"  {left:,} events left to index", flush=True)
            next_report = time.monotonic() + 10
    elapsed = time.monotonic() - t0
    prober.close()
    echo = summarize("echo while indexing", samples, [])
    return {"backfill_s": elapsed, "backfill_events_per_s": events / elapsed,
            "backfill_echo": echo}


def time_span(db: Path) -> tuple[int, int]:
    """The times (ms) of the oldest and the newest event of the history."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT min(ts), max(ts) FROM messages").fetchone()
    finally:
        conn.close()


def _plans(rng: random.Random, limit: int, span: tuple[int, int]) -> list[tuple[str, object]]:
    word = lambda: rng.choice(WORDS)  # noqa: E731
    nick = lambda: rng.choice(load_history.NAMES)  # noqa: E731
    moment = lambda: format_server_time(rng.randint(*span))  # noqa: E731
    return [
        ("word in #lobby", lambda: f"text={word()};in=#lobby;limit={limit}"),
        ("word in #music (5%)", lambda: f"text={word()};in=#music;limit={limit}"),
        ("word anywhere", lambda: f"text={word()};limit={limit}"),
        ("two words anywhere", lambda: f"text={word()}\\s{word()};limit={limit}"),
        ("phrase anywhere", lambda: f"text=\"{word()}\\s{word()}\";limit={limit}"),
        ("word from one nick", lambda: f"text={word()};from={nick()};limit={limit}"),
        ("word in #lobby before T", lambda: f"text={word()};in=#lobby;before={moment()};"
                                            f"limit={limit}"),
        ("word in #lobby after T", lambda: f"text={word()};in=#lobby;after={moment()};"
                                           f"limit={limit}"),
        ("word in no message", lambda: f"text=zzyzx{rng.randrange(10**6)};limit={limit}"),
    ]


def run_search(args) -> dict:
    rng = random.Random(args.seed)
    keep_db = args.db is not None
    db, server, load_figures = prepare_history(args, workers=args.workers,
                                               synchronous=args.synchronous, autojoin="")
    events = load_history.count_messages(db)
    server.start()
    results = []
    try:
        backfill = wait_for_backfill(db, events, server.port)
        size = load_history.database_bytes(db)
        client = LineClient(server.port, "searcher", CAPS, join=CHANNELS)
        for name, make in _plans(rng, args.limit, time_span(db)):
            samples, found, cut = [], [], 0
            for _ in range(args.queries):
                request = f"SEARCH {make()}"
                t0 = time.monotonic_ns()
                client.send(request)
                reply = client.read_until(b" BATCH -")
                samples.append(time.monotonic_ns() - t0)
                if b" FAIL " in reply:
                    raise BenchError(f"{request}: {reply[:300]!r}")
                found.append(reply.count(b" PRIVMSG ") + reply.count(b" NOTICE "))
                cut += b" NOTE SEARCH TIMEOUT " in reply
            summary = summarize(name, samples, found)
            summary["timeouts"] = cut
            results.append(summary)
        client.close()
        problems = server.problem_lines()
    finally:
        server.stop_and_note()
    return {"events_in_history": events, "database_bytes": size,
            "bytes_per_event": size / events if events else 0.0,
            "db_path": str(db) if keep_db else "", "limit": args.limit, "queries": results,
            "server_log_problems": problems, **backfill, **load_figures}
