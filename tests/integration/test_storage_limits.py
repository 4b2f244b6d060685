"""The history against a hostile client, on a real chatd (issue 12, points 4 and 5), each attack
at a size that runs in seconds, each test ending with every chatd PID unchanged:

- a history holding a million TAGMSGs (what a client storing reactions in a loop leaves):
  twenty `CHATHISTORY LATEST #t * 100` in one write from a client with draft/event-playback
  but without message-tags are answered at once, and a bystander on the same worker gets its
  PONG within 100 ms (before schema 5: 0.5-0.9 s a request, the worker frozen meanwhile); a
  live flood of typing notifications is relayed but adds no row;
- a client storing faster than `[history] client_bytes_per_s` has each message past its budget
  refused with `FAIL PRIVMSG RATE_LIMITED` — never echoed, never relayed, never silent — while
  the others chat on;
- free space below `[history] min_free_mb` (made real: a file that takes the room, on the
  history's own file system): messages are refused with `FAIL PRIVMSG TEMPORARILY_UNAVAILABLE`
  while PING, CHATHISTORY and new registrations go on; when the file is removed, messages are
  stored again.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
import unittest
from pathlib import Path

from tests.integration.test_history_bounds import TAGMSGS, build_history
from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

MIB = 1 << 20
PING_LIMIT_S = 0.1
FLOODER_HOST = "127.0.0.2"  # the servers below exempt only 127.0.0.1
TEXT = "y" * 400


def round_trip_s(client: IRCClient, token: str) -> float:
    started = time.monotonic()
    client.send(f"PING :{token}")
    client.expect(rf" PONG \S+ :?{token}$", 5.0)
    return time.monotonic() - started


def pids(server: ChatdProcess) -> list[int]:
    return [server.pid, *sorted(server.child_pids())]


def count_rows(server: ChatdProcess, where: str = "1") -> int:
    db = sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(f"SELECT count(*) FROM messages WHERE {where}").fetchone()[0]
    finally:
        db.close()


class TagmsgFloodTest(unittest.TestCase):
    def test_queries_stay_fast_over_a_million_tagmsgs(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-test-")
        self.addCleanup(tmp.cleanup)
        build_history(Path(tmp.name) / "history.db").close()  # #t: 20,000 JOINs, 1 M TAGMSGs
        server = ChatdProcess(Path(tmp.name), workers=1)
        self.addCleanup(server.kill)
        server.start(timeout_s=60)  # the start-up check reads the whole file once
        before = pids(server)
        asker = open_client(self, server.port, "asker", caps=(
            "batch", "server-time", "draft/chathistory", "draft/event-playback"))
        bystander = open_client(self, server.port, "bystander")
        asker.send("JOIN #t")
        asker.expect(r" 366 asker #t ")
        asker.send("CHATHISTORY LATEST #t * 100")  # the worker opens the history on first use
        asker.expect_until(r"^:\S+ BATCH -", 10.0)

        started = time.monotonic()
        asker.send_raw(b"CHATHISTORY LATEST #t * 100\r\n" * 20)
        rtt = round_trip_s(bystander, "during")
        for _ in range(20):
            lines = asker.expect_until(r"^:\S+ BATCH -", 10.0)
            self.assertEqual(sum(" JOIN #t" in line for line in lines), 100)
        elapsed = time.monotonic() - started
        self.assertLessEqual(rtt, PING_LIMIT_S, f"bystander PING took {rtt * 1000:.0f} ms")
        self.assertLess(elapsed, 2.0, f"20 requests took {elapsed:.2f} s")

        # A live flood (from an exempt address: all at once): typing notifications are
        # relayed and not stored, reactions stored.
        flooder = open_client(self, server.port, "flooder", caps=("message-tags",))
        watcher = open_client(self, server.port, "watcher", caps=("message-tags",))
        for client, nick in ((flooder, "flooder"), (watcher, "watcher")):
            client.send("JOIN #t")
            client.expect(rf" 366 {nick} #t ")
        rows = count_rows(server)
        flooder.send_raw(b"@+typing=active TAGMSG #t\r\n" * 1000
                         + b"@+draft/react=x TAGMSG #t\r\n" * 200)
        relayed = []
        for _ in range(200):
            relayed += watcher.expect_until(r"\+draft/react=x\S* :flooder!\S* TAGMSG #t$", 20.0)
        self.assertEqual(sum("+typing=active" in line for line in relayed), 1000)
        self.assertEqual(count_rows(server), rows + 200)
        self.assertEqual(count_rows(server, f"kind = 'TAGMSG' AND id > {TAGMSGS[-1]}"), 200)
        self.assertLessEqual(round_trip_s(bystander, "after"), PING_LIMIT_S)
        self.assertEqual(pids(server), before)


class StoreRateTest(unittest.TestCase):
    def test_a_client_storing_too_fast_is_refused_while_others_chat(self) -> None:
        server = start_chatd(self, workers=2, extra={"limits": {
            "flood_rate": "0", "exempt": "127.0.0.1/32"}})  # [history] client_bytes_per_s: 2048
        before = pids(server)
        flooder = open_client(self, server.port, "flooder", source=FLOODER_HOST, caps=(
            "echo-message", "standard-replies"))
        bob = open_client(self, server.port, "bob")
        carol = open_client(self, server.port, "carol")
        for client in (flooder, bob, carol):
            client.sync()  # joined #lobby (autojoin)

        count = 250
        flooder.send_raw(b"".join(b"PRIVMSG #lobby :%d %s\r\n" % (n, TEXT.encode())
                                  for n in range(count)))
        # The median of five, taken while the flood is handled: one sample can meet a
        # scheduler hiccup of another job on a shared machine; a slow worker slows all five.
        rtt = statistics.median(round_trip_s(carol, f"during{n}") for n in range(5))
        carol.send("PRIVMSG #lobby :still chatting")
        received = bob.expect_until(r"^:carol!\S+ PRIVMSG #lobby :still chatting$")
        answers = []
        for n in range(count):  # every message is either echoed (stored, sent) or refused
            line = flooder.expect(rf"(PRIVMSG #lobby :{n} |FAIL PRIVMSG RATE_LIMITED #lobby :)")
            answers.append("echo" if line.startswith(":flooder!") else line)
        echoed = answers.count("echo")
        refused = [a for a in answers if a != "echo"]
        self.assertGreater(echoed, 50)   # the burst: 32 s of the rate, ~120 of these
        self.assertLess(echoed, 200)
        self.assertEqual(len(refused), count - echoed)
        self.assertIn("You are sending more than the history may keep (2048 bytes/s)",
                      refused[0])
        # Only what was echoed was relayed, and stored.
        seen = [line for line in received + bob.sync() if line.startswith(":flooder!")]
        self.assertEqual(len(seen), echoed)
        self.assertEqual(count_rows(server, "kind = 'PRIVMSG' AND source LIKE 'flooder!%'"), echoed)
        self.assertLessEqual(rtt, PING_LIMIT_S, f"bystander PING took {rtt * 1000:.0f} ms")
        self.assertEqual(pids(server), before)


class FreeSpaceTest(unittest.TestCase):
    def test_below_min_free_messages_are_refused_and_the_rest_goes_on(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-test-")
        self.addCleanup(tmp.cleanup)
        free = shutil.disk_usage(tmp.name).free
        if free < 3 * 1024 * MIB:
            self.skipTest(f"needs 3 GiB free on {tmp.name} to take 1 GiB of it")
        # The line lies 512 MiB below today's free space; a 1 GiB file puts it 512 MiB under:
        # others' writes on this disk while the test runs would have to move it by that much.
        min_free_mb = (free - 512 * MIB) // MIB
        server = ChatdProcess(Path(tmp.name), workers=2, extra={
            "history": {"min_free_mb": str(min_free_mb)}})
        self.addCleanup(server.kill)
        server.start()
        before = pids(server)
        alice = open_client(self, server.port, "alice", caps=(
            "echo-message", "standard-replies", "batch", "server-time", "draft/chathistory"))
        bob = open_client(self, server.port, "bob")
        alice.send("PRIVMSG #lobby :before")
        bob.expect(r"^:alice!\S+ PRIVMSG #lobby :before$")

        ballast = Path(tmp.name) / "ballast"
        fd = os.open(ballast, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, 1024 * MIB)
        finally:
            os.close(fd)
        self.addCleanup(ballast.unlink, missing_ok=True)
        wait_until(lambda: "refusing clients' messages" in server.log_text(), 10,
                   message="the master's word that it refuses messages")
        alice.send("PRIVMSG #lobby :during")
        alice.expect(r"^:\S+ FAIL PRIVMSG TEMPORARILY_UNAVAILABLE #lobby :The server is almost"
                     r" out of disk space")
        bob.send("PRIVMSG alice :during too")  # bob has no standard-replies: a NOTICE
        bob.expect(r"^:\S+ NOTICE bob :PRIVMSG alice: The server is almost out of disk space")
        self.assertLessEqual(round_trip_s(bob, "low"), PING_LIMIT_S)
        alice.send("CHATHISTORY LATEST #lobby * 10")
        history = alice.expect_until(r"^:\S+ BATCH -")
        self.assertEqual([line.rsplit(" :", 1)[1] for line in history if " PRIVMSG " in line],
                         ["before"])
        carol = open_client(self, server.port, "carol")  # registers, joins #lobby
        bob.expect(r"^:carol!\S+ JOIN #lobby$")
        alice.assert_no_line("during", within_s=0.2)
        bob.assert_no_line("during", within_s=0.1)

        ballast.unlink()
        wait_until(lambda: "storing clients' messages" in server.log_text(), 10,
                   message="the master's word that it stores messages again")
        alice.send("PRIVMSG #lobby :after")
        for client in (bob, carol):
            client.expect(r"^:alice!\S+ PRIVMSG #lobby :after$")
        self.assertEqual(count_rows(server, "kind = 'PRIVMSG'"), 2)  # before, after
        self.assertEqual(pids(server), before)


class QuotaTest(unittest.TestCase):
    def test_the_history_stays_within_max_size_mb(self) -> None:
        server = start_chatd(self, workers=1, extra={"history": {"max_size_mb": "1"}})
        before = pids(server)
        alice = open_client(self, server.port, "alice", caps=(
            "batch", "server-time", "message-tags", "draft/chathistory"))
        alice.sync()
        for burst in range(6):  # ~3 MiB of messages, in bursts the writer commits as they come
            alice.send_raw(b"".join(b"PRIVMSG #lobby :%d %s\r\n" % (burst * 1000 + n,
                                                                     TEXT[:300].encode())
                                    for n in range(1000)))
            alice.sync(f"b{burst}")

        def data_bytes() -> int:
            db = sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True)
            try:
                pages, free, size = (db.execute(f"PRAGMA {name}").fetchone()[0]
                                     for name in ("page_count", "freelist_count", "page_size"))
                return (pages - free) * size
            finally:
                db.close()

        wait_until(lambda: data_bytes() <= MIB, 15, message="the history back under 1 MiB")
        wait_until(lambda: "quota: deleted the" in server.log_text(), 5,
                   message="the writer's log of what the quota deleted")
        alice.send("CHATHISTORY AFTER #lobby msgid=0 5")
        answer = alice.expect_until(r"^:\S+ BATCH -")
        self.assertTrue(any(" NOTE CHATHISTORY HISTORY_TRUNCATED #lobby " in line
                            for line in answer), answer)
        alice.send("CHATHISTORY LATEST #lobby * 1")  # the newest are kept
        latest = alice.expect_until(r"^:\S+ BATCH -")
        self.assertTrue(any(" PRIVMSG #lobby :5999 " in line for line in latest), latest)
        self.assertEqual(pids(server), before)


if __name__ == "__main__":
    unittest.main()
