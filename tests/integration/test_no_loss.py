"""Proof of "nothing lost, nothing twice": senders and receivers talk in one channel over real
sockets while the server is restarted (SIGTERM, start again; twice) in the middle.

Receivers do what tui does: on every (re)connection they JOIN and fill the gap with
CHATHISTORY AFTER the last msgid they had, paging until a short page, de-duplicating by msgid,
then follow the live stream. Senders put a client-only +chatd/nonce tag on each message; an
echo (echo-message) means "stored"; after a reconnection they look in the history for the
nonces of the messages whose echo they did not get, and send again only those not found.

At the end every receiver must hold exactly the channel's stored sequence (no gap, no
duplicate, same order), every planned message must be stored exactly once, and every echo a
sender got must name the stored message with its nonce."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
import unittest
import uuid

from ircproto.message import Message, parse
from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ircv3 import NO_AUTOJOIN
from tests.support.wait import wait_until

CHANNEL = "#flow"
NONCE = "+chatd/nonce"
PAGE = 100
SENDERS = ("s1", "s2", "s3")
RECEIVERS = ("r1", "r2", "r3")
PER_SENDER = 150
RESTARTS = 2
WINDOW = 8  # messages a sender has in flight (sent, no echo yet)
DEADLINE_S = 30.0
RECEIVER_CAPS = ("message-tags", "server-time", "batch", "draft/chathistory")
SENDER_CAPS = RECEIVER_CAPS + ("echo-message",)


class Disconnected(Exception):
    """The connection is gone (server stopping, refused, reset)."""


class Stopped(Exception):
    """The test is over (failed early): threads end."""


class Conn:
    """One connection of a test peer: line reading with a deadline, failures as
    Disconnected."""

    def __init__(self, port: int, nick: str, caps: tuple[str, ...]):
        try:
            self.client = IRCClient(port, timeout_s=5.0)
        except OSError as exc:
            raise Disconnected(str(exc)) from exc
        try:
            self.send(f"CAP LS 302\r\nCAP REQ :{' '.join(caps)}\r\nNICK {nick}\r\n"
                      f"USER {nick} 0 * :{nick}\r\nCAP END\r\nJOIN {CHANNEL}")
            self.read_until(lambda m: m.command == "366")
        except BaseException:
            self.close()
            raise

    def send(self, text: str) -> None:
        try:
            self.client.send(text)
        except OSError as exc:
            raise Disconnected(str(exc)) from exc

    def raw_lines(self, timeout_s: float) -> list[str]:
        """What arrives within the timeout (maybe nothing); Disconnected once it is closed."""
        client = self.client
        if not client.backlog:
            client._fill(time.monotonic() + timeout_s)
        lines = client.backlog[:]
        client.backlog.clear()
        if not lines and client.closed:
            raise Disconnected("closed")
        return lines

    def lines(self, timeout_s: float) -> list[Message]:
        return [parse(line) for line in self.raw_lines(timeout_s)]

    def read_until(self, done, timeout_s: float = 10.0) -> list[Message]:
        """Messages up to and including the first for which done(msg) is true."""
        deadline = time.monotonic() + timeout_s
        got: list[Message] = []
        while time.monotonic() < deadline:
            raw = self.raw_lines(0.2)
            for i, line in enumerate(raw):
                msg = parse(line)
                got.append(msg)
                if done(msg):
                    self.client.backlog[:0] = raw[i + 1:]
                    return got
        raise AssertionError(f"timed out; last lines: {self.client.seen[-20:]}")

    def page_after(self, msgid: int) -> tuple[list[Message], list[Message]]:
        """One CHATHISTORY AFTER page: (its messages, live messages that arrived meanwhile)."""
        self.send(f"CHATHISTORY AFTER {CHANNEL} msgid={msgid} {PAGE}")
        ref: str | None = None
        inside: list[Message] = []
        live: list[Message] = []
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            raw = self.raw_lines(0.2)
            for i, line in enumerate(raw):
                msg = parse(line)
                if msg.command == "BATCH" and msg.params[0].startswith("+"):
                    assert ref is None and msg.params[1:] == ("chathistory", CHANNEL), msg
                    ref = msg.params[0][1:]
                elif ref is not None and msg.command == "BATCH" and msg.params[0] == "-" + ref:
                    self.client.backlog[:0] = raw[i + 1:]
                    return inside, live
                elif ref is not None and msg.tags.get("batch") == ref:
                    inside.append(msg)
                elif msg.command == "FAIL":
                    raise AssertionError(f"history refused: {msg}")
                else:
                    live.append(msg)
        raise AssertionError(f"no history batch; last lines: {self.client.seen[-20:]}")

    def close(self) -> None:
        self.client.close()


def is_channel_message(msg: Message) -> bool:
    return msg.command == "PRIVMSG" and msg.params[:1] == (CHANNEL,)


class Run:
    """State shared by the test's threads."""

    def __init__(self, server: ChatdProcess):
        self.server = server
        self.port = server.port
        self.up = threading.Event()  # set while the server accepts connections
        self.up.set()
        self.over = threading.Event()  # set at cleanup: every thread stops
        self.lock = threading.Lock()
        self.acked = 0
        self.final_id: int | None = None  # the channel's last msgid, once senders are done
        self.errors: list[BaseException] = []
        self.deadline = time.monotonic() + DEADLINE_S

    def check_time(self) -> None:
        if self.over.is_set():
            raise Stopped()
        if time.monotonic() > self.deadline:
            raise AssertionError("the run took too long")

    def connect(self, nick: str, caps: tuple[str, ...], attempt: int) -> Conn:
        while True:
            self.check_time()
            if not self.up.wait(1.0):
                continue
            return Conn(self.port, f"{nick}x{attempt}", caps)


class Receiver:
    def __init__(self, run: Run, name: str):
        self.run, self.name = run, name
        self.sequence: list[int] = []  # msgids, in the order this receiver took them
        self.seen: set[int] = set()
        self.duplicates_dropped = 0
        self.disconnections = 0

    def take(self, msg: Message) -> None:
        msgid = int(msg.tags["msgid"])
        if msgid in self.seen:
            self.duplicates_dropped += 1
            return
        self.seen.add(msgid)
        self.sequence.append(msgid)

    def finished(self) -> bool:
        final = self.run.final_id
        return final is not None and bool(self.sequence) and self.sequence[-1] >= final

    def __call__(self) -> None:
        attempt = 0
        while not self.finished():
            try:
                conn = self.run.connect(self.name, RECEIVER_CAPS, attempt)
            except Disconnected:
                attempt += 1
                self.disconnections += 1
                continue
            try:
                self.follow(conn)
            except Disconnected:
                attempt += 1
                self.disconnections += 1
            finally:
                conn.close()

    def follow(self, conn: Conn) -> None:
        # Gap fill: everything after the last message we have, page by page.
        live: list[Message] = []
        while True:
            last = self.sequence[-1] if self.sequence else 0
            page, arrived = conn.page_after(last)
            live += arrived
            for msg in page:
                self.take(msg)
            if len(page) < PAGE:
                break
        for msg in live:
            if is_channel_message(msg):
                self.take(msg)
        while not self.finished():
            self.run.check_time()
            for msg in conn.lines(0.2):
                if is_channel_message(msg):
                    self.take(msg)


class Sender:
    def __init__(self, run: Run, name: str):
        self.run, self.name = run, name
        self.plan = [(f"{name}-{i}-{uuid.uuid4().hex[:8]}", f"{name} says {i}")
                     for i in range(PER_SENDER)]
        self.queue = list(self.plan)  # not yet sent on the current connection
        self.in_flight: dict[str, str] = {}  # nonce -> text, sent, no echo yet
        self.echoed: dict[str, int] = {}  # nonce -> msgid, from an echo
        self.found: dict[str, int] = {}  # nonce -> msgid, found in history after reconnecting
        self.resent: list[str] = []
        self.last_stored = 0  # highest msgid known stored for this sender

    def done(self) -> bool:
        return not self.queue and not self.in_flight

    def __call__(self) -> None:
        attempt = 0
        while not self.done():
            try:
                conn = self.run.connect(self.name, SENDER_CAPS, attempt)
            except Disconnected:
                attempt += 1
                continue
            try:
                if self.in_flight:
                    self.recover(conn)
                self.send_all(conn)
            except Disconnected:
                attempt += 1
            finally:
                conn.close()

    def recover(self, conn: Conn) -> None:
        """The previous connection died with messages unacknowledged: look for their nonces
        in the history (everything after our last stored message) before sending again."""
        after = self.last_stored
        stored: dict[str, int] = {}
        while True:
            page, _live = conn.page_after(after)
            for msg in page:
                if NONCE in msg.tags:
                    stored[msg.tags[NONCE]] = int(msg.tags["msgid"])
            if len(page) < PAGE:
                break
            after = int(page[-1].tags["msgid"])
        lost = []
        for nonce, text in self.in_flight.items():
            if nonce in stored:
                self.found[nonce] = stored[nonce]
                self.last_stored = max(self.last_stored, stored[nonce])
                self.count_ack()
            else:
                lost.append((nonce, text))
                self.resent.append(nonce)
        self.in_flight.clear()
        self.queue[:0] = lost  # first, in their original order

    def count_ack(self) -> None:
        with self.run.lock:
            self.run.acked += 1

    def send_all(self, conn: Conn) -> None:
        while not self.done():
            self.run.check_time()
            while self.queue and len(self.in_flight) < WINDOW:
                nonce, text = self.queue.pop(0)
                self.in_flight[nonce] = text  # before sending: it may arrive even if we fail
                conn.send(f"@{NONCE}={nonce} PRIVMSG {CHANNEL} :{text}")
            for msg in conn.lines(0.2):
                nonce = msg.tags.get(NONCE)
                if is_channel_message(msg) and nonce in self.in_flight:
                    assert msg.params[1] == self.in_flight.pop(nonce), msg
                    self.echoed[nonce] = int(msg.tags["msgid"])
                    self.last_stored = max(self.last_stored, self.echoed[nonce])
                    self.count_ack()


def read_stored_by_history(port: int) -> list[tuple[int, str, str]]:
    """(msgid, nonce, text) of every message of the channel, read with CHATHISTORY."""
    conn = Conn(port, "auditor", RECEIVER_CAPS)
    stored: list[tuple[int, str, str]] = []
    try:
        while True:
            page, _ = conn.page_after(stored[-1][0] if stored else 0)
            stored += [(int(m.tags["msgid"]), m.tags.get(NONCE, ""), m.params[1]) for m in page]
            if len(page) < PAGE:
                return stored
    finally:
        conn.close()


def read_stored_from_file(server: ChatdProcess) -> list[tuple[int, str, str]]:
    db = sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT m.id, m.tags, m.text FROM timeline t JOIN messages m ON m.id = t.id"
            " WHERE t.conv = ? AND m.kind = 'PRIVMSG' ORDER BY m.id", (CHANNEL,)).fetchall()
    finally:
        db.close()
    return [(msgid, parse(f"@{tags} PING x").tags.get(NONCE, ""), text)
            for msgid, tags, text in rows]


class NothingLostNothingTwiceTest(unittest.TestCase):
    def test_senders_and_receivers_across_a_restart(self) -> None:
        started = time.monotonic()
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        run = Run(server)
        self.addCleanup(run.over.set)
        receivers = [Receiver(run, name) for name in RECEIVERS]
        senders = [Sender(run, name) for name in SENDERS]

        def guarded(target):
            def body():
                try:
                    target()
                except Stopped:
                    pass
                except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                    with run.lock:
                        run.errors.append(exc)
            return threading.Thread(target=body, daemon=True)

        receiver_threads = [guarded(r) for r in receivers]
        for thread in receiver_threads:
            thread.start()
        sender_threads = [guarded(s) for s in senders]
        for thread in sender_threads:
            thread.start()

        # Restart in the middle of the traffic, twice.
        acked_at_stop = []
        for part in range(1, RESTARTS + 1):
            mark = len(SENDERS) * PER_SENDER * part // (RESTARTS + 1)
            wait_until(lambda mark=mark: run.acked >= mark or run.errors, 15, 0.001,
                       message=f"{mark} messages acknowledged")
            self.assertEqual([], run.errors)
            run.up.clear()
            acked_at_stop.append(run.acked)
            self.assertEqual(0, server.stop())
            server.start_on_same_config()
            run.port = server.port
            run.up.set()

        for thread in sender_threads:
            thread.join(DEADLINE_S)
        self.assertEqual([], run.errors)
        self.assertFalse(any(t.is_alive() for t in sender_threads), "senders did not finish")
        stored = read_stored_by_history(server.port)
        run.final_id = stored[-1][0]
        for thread in receiver_threads:
            thread.join(DEADLINE_S)
        self.assertEqual([], run.errors)
        self.assertFalse(any(t.is_alive() for t in receiver_threads), "receivers did not finish")
        self.assertEqual(0, server.stop())
        self.assertEqual(stored, read_stored_from_file(server))
        stored_ids = [msgid for msgid, _, _ in stored]
        nonces = [nonce for _, nonce, _ in stored]

        # Nothing twice, nothing lost: each planned message stored exactly once, as sent.
        self.assertEqual(len(nonces), len(set(nonces)), "a message was stored twice")
        planned = {nonce: text for s in senders for nonce, text in s.plan}
        self.assertEqual(set(planned), set(nonces))
        for _, nonce, text in stored:
            self.assertEqual(planned[nonce], text)
        # Each sender's messages are stored in the order it wrote them.
        for sender in senders:
            mine = [n for n in nonces if n.startswith(sender.name + "-")]
            self.assertEqual([n for n, _ in sender.plan], mine)
        # Every echo names the stored message.
        by_id = {msgid: nonce for msgid, nonce, _ in stored}
        for sender in senders:
            for nonce, msgid in {**sender.echoed, **sender.found}.items():
                self.assertEqual(nonce, by_id.get(msgid), (sender.name, nonce, msgid))
        # Every receiver holds exactly the stored sequence: no gap, no duplicate, same order.
        for receiver in receivers:
            self.assertEqual(stored_ids, receiver.sequence, receiver.name)

        # The restart really happened in the middle of the traffic.
        # Acknowledgements before, between and after the restarts; every receiver lost its
        # connection at least once.
        self.assertEqual(sorted(set(acked_at_stop)), acked_at_stop)
        self.assertTrue(0 < acked_at_stop[0] and acked_at_stop[-1] < len(planned), acked_at_stop)
        self.assertTrue(all(r.disconnections >= 1 for r in receivers))
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, DEADLINE_S)
        if os.environ.get("CHATD_TEST_VERBOSE"):
            print("\nno-loss run:", {
                "messages": len(stored),
                "acked_at_stop": acked_at_stop,
                "found_in_history": sum(len(s.found) for s in senders),
                "resent": sum(len(s.resent) for s in senders),
                "duplicates_dropped": [r.duplicates_dropped for r in receivers],
                "disconnections": [r.disconnections for r in receivers],
                "seconds": round(elapsed, 2),
            }, file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
