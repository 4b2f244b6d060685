"""Bulk loader for the history benchmark: writes N synthetic events into a chatd history file
through chatd's own writer code (chatd.store.schema.open_for_writing + writes.insert_events, the calls
the writer process makes), in large transactions.

    python3 bench/load_history.py --messages 10000000 --out /tmp/history-10m.db

Rows look like a busy server's: a few channels of different activity (#lobby the busiest),
a few hundred nicks with user@host sources, texts of 40-120 bytes; about 93% channel PRIVMSG,
2% NOTICE, 2% JOIN, 1.5% PART, 1% QUIT (stored in each of the user's channels' timelines) and
0.5% private PRIVMSG (stored in both participants' timelines). Ids are 1..N after what the
file already holds, times grow with ids (a few tens of ms apart, ending now).

Never run it on a history a chatd server has open: the writer process must be the only writer.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatd import events  # noqa: E402
from chatd.events import StoreRow  # noqa: E402
from chatd.store import members, schema, writes  # noqa: E402

CHANNELS = ("#lobby", "#dev", "#random", "#ops", "#music")
CHANNEL_WEIGHTS = (0.50, 0.20, 0.15, 0.10, 0.05)
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "yuki")
WORDS = ("the", "build", "passed", "deploy", "after", "lunch", "is", "anyone", "looking", "at",
         "ticket", "review", "please", "merged", "thanks", "yes", "no", "maybe", "tomorrow",
         "server", "logs", "look", "fine", "restart", "it", "again", "coffee", "meeting", "in",
         "five", "minutes", "ok", "sounds", "good", "lgtm", "what", "about", "tests", "flaky",
         "again?", "ship", "it", "hotfix", "queue", "latency", "spike", "around", "noon", ":)")
TEXT_POOL = 8192
BATCH_ROWS = 50_000
AVG_GAP_MS = 30


def make_texts(rng: random.Random) -> list[str]:
    texts = []
    for _ in range(TEXT_POOL):
        target = rng.randint(40, 120)
        words: list[str] = []
        size = -1
        while size < target:
            word = rng.choice(WORDS)
            words.append(word)
            size += len(word) + 1
        texts.append(" ".join(words)[:target])
    return texts


def make_users(rng: random.Random, count: int = 400) -> list[tuple[str, str]]:
    users = []
    for i in range(count):
        nick = f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}"
        host = f"198.51.100.{rng.randint(1, 254)}"
        users.append((nick, f"{nick}!{nick[:10]}@{host}"))
    return users


def rows_for(first_id: int, count: int, ts: int, rng: random.Random, texts: list[str],
             users: list[tuple[str, str]]) -> tuple[list[tuple], int]:
    """`count` rows (id, ts, kind, source, target, text, tags, convs) from `first_id`."""
    rows = []
    channel_cum = []
    total = 0.0
    for weight in CHANNEL_WEIGHTS:
        total += weight
        channel_cum.append(total)
    rand = rng.random
    for event_id in range(first_id, first_id + count):
        ts += rng.randrange(0, 2 * AVG_GAP_MS)
        nick, source = users[int(rand() * len(users))]
        pick = rand()
        channel = CHANNELS[min(bisect.bisect(channel_cum, pick), len(CHANNELS) - 1)]
        folded = channel  # channel names above are already casefolded
        kind_roll = rand()
        if kind_roll < 0.93:
            row = (event_id, ts, "PRIVMSG", source, channel, texts[int(rand() * TEXT_POOL)], "",
                   (folded,))
        elif kind_roll < 0.95:
            row = (event_id, ts, "NOTICE", source, channel, texts[int(rand() * TEXT_POOL)], "",
                   (folded,))
        elif kind_roll < 0.97:
            row = (event_id, ts, "JOIN", source, channel, "", "", (folded,))
        elif kind_roll < 0.985:
            row = (event_id, ts, "PART", source, channel, "", "", (folded,))
        elif kind_roll < 0.995:
            convs = tuple(rng.sample(CHANNELS, rng.randint(1, 3)))
            row = (event_id, ts, "QUIT", source, "", "Quit: see you", "", convs)
        else:
            other = users[int(rand() * len(users))][0]
            # both as logged in to the account of their nick (docs/history.md)
            convs = events.private_timelines(events.history_owner(nick, 0, 0), nick,
                                             events.history_owner(other, 0, 0), other)
            row = (event_id, ts, "PRIVMSG", source, other, texts[int(rand() * TEXT_POOL)], "",
                   convs)
        rows.append(row)
    return rows, ts


def load(path: Path, messages: int, seed: int = 1, progress: bool = True,
         batch_rows: int = BATCH_ROWS) -> dict:
    """Append `messages` synthetic events to the history at `path`, `batch_rows` per
    transaction. Returns figures."""
    rng = random.Random(seed)
    texts = make_texts(rng)
    users = make_users(rng)
    os.umask(0o077)  # private, as chatd makes it: the file holds private messages
    conn = schema.open_for_writing(path, "normal")
    # Loader-only tuning: a big page cache for the index inserts (the server keeps its own).
    conn.execute("PRAGMA cache_size=-262144")
    last_id, last_ts = writes.last_id_and_time(conn)
    ts = max(last_ts, int(time.time() * 1000) - messages * AVG_GAP_MS)
    t0 = time.monotonic()
    done = 0
    next_report = t0 + 10
    try:
        while done < messages:
            count = min(batch_rows, messages - done)
            rows, ts = rows_for(last_id + done + 1, count, ts, rng, texts, users)
            writes.insert_events(conn, [StoreRow(*row) for row in rows])
            done += count
            if progress and time.monotonic() >= next_report:
                rate = done / (time.monotonic() - t0)
                print(f"  loaded {done:,} of {messages:,} ({rate:,.0f} rows/s, "
                      f"about {(messages - done) / rate:,.0f} s left)", flush=True)
                next_report = time.monotonic() + 10
        # Nobody loaded here is connected: without this the next start would take the
        # history's members for a crashed server's and store a QUIT for each.
        conn.execute(f"DELETE FROM {members.TABLE}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    elapsed = time.monotonic() - t0
    return {"loaded": messages, "load_s": elapsed, "load_rows_per_s": messages / elapsed,
            "first_id": last_id + 1, "last_id": last_id + messages}


def database_bytes(path: Path) -> int:
    """The history's size on disk: the database file plus its WAL and shared-memory files."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            total += candidate.stat().st_size
    return total


def count_messages(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True, help="history file to create or extend")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=BATCH_ROWS,
                        help="events per transaction (a quiet server commits one at a time,"
                             " which leaves the search index in many small segments)")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    figures = load(args.out, args.messages, args.seed, batch_rows=args.batch)
    size = database_bytes(args.out)
    total = count_messages(args.out)
    print(f"{args.out}: {total:,} events, {size:,} bytes ({size / total:.0f} bytes/event); "
          f"loaded {figures['loaded']:,} in {figures['load_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
