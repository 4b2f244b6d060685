"""SEARCH (draft/search, soju.im/search's attributes) against a real chatd: the spec's
examples, what the answer holds and in which order, limits, times, the access rules (a channel
one is not in is refused; private conversations only one's own), malformed queries, hostile
texts that must never reach FTS5 as syntax, the capability's value, a client without
server-time; and the migration of an existing schema-8 history, whose messages are indexed
in the background while the server serves (searches meanwhile say that older messages are
not all searched yet)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import unittest
from pathlib import Path

from chatd.search_terms import timeline_term
from chatd.store import schema, search_index
from ircproto.message import Message, parse
from ircproto.servertime import format_server_time
from tests.support.chatd_process import ChatdProcess, open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ircv3 import (HISTORY_CAPS, NO_AUTOJOIN, SERVER, Batch, connect,
                                 find_batch, join, send_echoed, send_spaced, wait_past)
from tests.support.wait import wait_until

CAPS = HISTORY_CAPS + ("draft/search",)


def search(client: IRCClient, attributes: str) -> Batch:
    """Send a SEARCH that must be answered with one draft/search batch."""
    client.send(f"SEARCH {attributes}")
    batch = find_batch(client.sync())
    assert batch.params == ("draft/search",), batch.params
    return batch


def search_fail(client: IRCClient, attributes: str) -> Message:
    client.send(f"SEARCH {attributes}")
    answers = [m for m in map(parse, client.sync()) if m.source == SERVER]
    assert len(answers) == 1 and answers[0].command == "FAIL", answers
    assert answers[0].params[0] == "SEARCH", answers
    return answers[0]


def texts(batch: Batch) -> list[str]:
    return batch.texts


class SearchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.jackie = jackie = connect(cls, server, "jackie", CAPS)
        cls.welcome = list(jackie.seen)
        cls.bill = bill = open_on_other_worker(cls, server, jackie, "bill", CAPS)
        for client in (jackie, bill):
            join(client, "#chan")
        cls.said = send_spaced(jackie, "#chan", ["Be what you want", "Want what you be"])
        cls.said += send_spaced(bill, "#chan", ["That was fast!"])
        cls.said += send_spaced(jackie, "#chan", ["Fasting is hard."])
        # elsewhere: a channel jackie is not in, and private conversations
        cls.outsider = connect(cls, server, "outsider", CAPS)
        join(cls.outsider, "#secret")
        send_echoed(cls.outsider, "PRIVMSG #secret :want the secret plans")
        send_echoed(bill, "PRIVMSG jackie :want a private word")
        send_echoed(bill, "PRIVMSG outsider :want nothing from jackie")

    def test_the_spec_examples(self) -> None:
        # SEARCH from=jackie;in=#chan: jackie's two messages, with msgid and time
        batch = search(self.jackie, "from=jackie;in=#chan")
        self.assertEqual(texts(batch), ["Be what you want", "Want what you be", "Fasting is hard."])
        for msg, said in zip(batch.messages, self.said[:2]):
            self.assertEqual((msg.tags["msgid"], msg.tags["time"], msg.source),
                             (said.tags["msgid"], said.tags["time"], said.source))
        # text=fast: whole words (no stemming), so "Fasting" is not "fast"
        self.assertEqual(texts(search(self.jackie, "text=fast;in=#chan;limit=2")),
                         ["That was fast!"])
        # nothing before 2010: an empty batch
        self.assertEqual(search(self.jackie, "before=2010-01-01T00:00:00.000Z;in=#chan").inner,
                         [])

    def test_newest_matches_up_to_the_limit_sent_oldest_first(self) -> None:
        self.assertEqual(texts(search(self.jackie, "text=want;in=#chan;limit=1")),
                         ["Want what you be"])
        self.assertEqual(texts(search(self.jackie, "text=WANT;in=#chan")),
                         ["Be what you want", "Want what you be"])
        # after: the nearest after it (both bounds inclusive)
        first = self.said[0].tags["time"]
        self.assertEqual(texts(search(self.jackie, f"in=#chan;after={first};limit=2")),
                         ["Be what you want", "Want what you be"])
        self.assertEqual(texts(search(self.jackie, f"in=#chan;before={first}")),
                         ["Be what you want"])
        last = self.said[3].tags["time"]
        self.assertEqual(texts(search(self.jackie, f"in=#chan;after={last}")), ["Fasting is hard."])

    def test_phrases_and_words(self) -> None:
        self.assertEqual(texts(search(self.jackie, r'text="what\syou\sbe"')), ["Want what you be"])
        self.assertEqual(texts(search(self.jackie, r"text=you\swant;in=#chan")),
                         ["Be what you want", "Want what you be"])
        self.assertEqual(texts(search(self.jackie, r"text=fast\sbe")), [])

    def test_without_in_my_channels_and_my_conversations_only(self) -> None:
        found = texts(search(self.jackie, "text=want"))
        self.assertEqual(found, ["Be what you want", "Want what you be", "want a private word"])
        self.assertEqual(texts(search(self.outsider, "text=want")),
                         ["want the secret plans", "want nothing from jackie"])

    def test_a_channel_one_is_not_in_is_refused(self) -> None:
        for target in ("#secret", "#does-not-exist"):
            with self.subTest(target=target):
                fail = search_fail(self.jackie, f"in={target};text=want")
                self.assertEqual(fail.params[1:3], ("INVALID_TARGET", target))

    def test_private_conversations_only_one_s_own(self) -> None:
        self.assertEqual(texts(search(self.jackie, "in=bill")), ["want a private word"])
        # bill's conversation with outsider is not jackie's: nothing, not an error
        self.assertEqual(texts(search(self.jackie, "in=outsider")), [])
        self.assertEqual(texts(search(self.bill, "in=outsider")), ["want nothing from jackie"])

    def test_malformed_queries(self) -> None:
        cases = [("text=!!!", "text"), ("limit=0", "limit"), ("limit=ten", "limit"),
                 ("before=yesterday", "before"), ("from=#chan", "from"),
                 ("text=" + r"\s".join("abcdefghij"), "text")]
        for attributes, culprit in cases:
            with self.subTest(attributes=attributes):
                fail = search_fail(self.jackie, attributes)
                self.assertEqual(fail.params[1:3], ("INVALID_PARAMS", culprit))
        self.jackie.send("SEARCH")
        self.jackie.expect(r" 461 jackie SEARCH ")

    def test_hostile_texts_are_words_never_fts5_syntax(self) -> None:
        hostile = ['a" OR "b', "want NEAR(what you)", "NOT want", "want*", "-want", "^want",
                   "text:want", "scope:x", "(want", "want)", '"', '""', "AND", "OR OR OR",
                   "want\\", "{text} : want", "*", "NEAR", "😀 want", "\u0000want"]
        for text in hostile:
            with self.subTest(text=text):
                self.jackie.send("SEARCH text=" + text.replace("\\", "\\\\").replace(" ", "\\s")
                                 .replace(";", "\\:").replace("\u0000", ""))
                lines = self.jackie.sync()
                commands = [parse(l).command for l in lines]
                if "FAIL" in commands:
                    [fail] = [parse(l) for l in lines if parse(l).command == "FAIL"]
                    self.assertEqual(fail.params[1], "INVALID_PARAMS", lines)  # no words
                else:
                    batch = find_batch(lines)
                    for msg in batch.messages:
                        self.assertIn("want", msg.params[1].lower())

    def test_limit_is_bounded_and_advertised(self) -> None:
        ls = [l for l in self.welcome if " CAP " in l and " LS " in l]
        self.assertIn("draft/search=max-limit=100", " ".join(ls))
        join(self.bill, "#many")
        join(self.jackie, "#many")
        for i in range(105):
            self.bill.send(f"PRIVMSG #many :many {i}")
        self.bill.sync()
        self.assertEqual(len(search(self.jackie, "text=many;limit=1000").messages), 100)
        self.assertEqual(search(self.jackie, "text=many").messages[-1].params[1], "many 104")

    def test_labeled_and_without_server_time(self) -> None:
        self.jackie.send("@label=s1 SEARCH text=hard")
        lines = self.jackie.sync()
        self.assertTrue(lines[0].startswith("@label=s1 "), lines)
        plain = connect(self, self.server, "plain", ("draft/search",))
        join(plain, "#chan")
        plain.send("SEARCH text=hard;in=#chan")
        [line] = plain.sync()
        self.assertRegex(line, r"^:jackie!\S+ PRIVMSG #chan :\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\]"
                               r" Fasting is hard\.$")

    def test_soju_name(self) -> None:
        client = connect(self, self.server, "sojuclient", ("batch", "soju.im/search"))
        join(client, "#chan")
        client.send("SEARCH text=hard")
        batch = find_batch(client.sync())
        self.assertEqual(batch.params, ("soju.im/search",))


def v8_history(path: Path, messages: int) -> None:
    """A schema-8 history of `messages` events (bench/load_history.py's mix): what this
    chatd writes, without what schema 9 added."""
    from bench.load_history import load
    load(path, messages, seed=3, progress=False)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("DROP TABLE message_search")
        db.execute("DROP INDEX timeline_private_ids")
        db.execute("DELETE FROM meta WHERE key = 'search_unindexed_up_to'")
        db.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


class MigrationTest(unittest.TestCase):
    """A schema-8 history is upgraded at open; its messages are indexed, newest first, a
    batch at a time, while the server serves."""

    EVENTS = 50_000  # a hundred backfill batches

    @classmethod
    def setUpClass(cls) -> None:
        folder = tempfile.TemporaryDirectory(prefix="chatd-v8-")
        cls.addClassCleanup(folder.cleanup)
        cls.folder = Path(folder.name)
        cls.template = cls.folder / "v8.db"
        v8_history(cls.template, cls.EVENTS)
        db = sqlite3.connect(cls.template)
        # the oldest and the newest PRIVMSG of #lobby, and how many messages it holds
        cls.oldest, cls.newest, cls.lobby_messages = db.execute(
            "SELECT min(id), max(id), count(*) FROM messages"
            " WHERE kind IN ('PRIVMSG', 'NOTICE') AND target = '#lobby'").fetchone()
        cls.oldest_time = format_server_time(db.execute(
            "SELECT ts FROM messages WHERE id = ?", (cls.oldest,)).fetchone()[0])
        db.close()

    def server_on(self, history: Path) -> ChatdProcess:
        workdir = Path(tempfile.mkdtemp(prefix="chatd-test-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        server = ChatdProcess(workdir, workers=2, extra={"history": {"max_size_mb": "0"}})
        shutil.copy(history, server.db_path)
        self.addCleanup(server.kill)
        return server.start()

    def read(self, server: ChatdProcess, sql: str) -> tuple:
        db = sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchone()
        finally:
            db.close()

    def unindexed(self, server: ChatdProcess) -> int:
        row = self.read(server, "SELECT value FROM meta WHERE key = 'search_unindexed_up_to'")
        return int(row[0]) if row else -1

    def oldest_search(self, client: IRCClient) -> Batch:
        return search(client, f"in=#lobby;before={self.oldest_time}")

    def test_upgraded_at_open_and_indexed_while_serving(self) -> None:
        server = self.server_on(self.template)
        self.assertEqual(self.read(server, "SELECT value FROM meta WHERE key = 'schema_version'"),
                         (str(schema.SCHEMA_VERSION),))
        client = connect(self, server, "reader", CAPS)
        join(client, "#lobby")
        # The newest messages are found at once; a search that reaches messages not indexed
        # yet says so; the oldest is found once the backfill has reached it.
        self.assertEqual(search(client, "in=#lobby;limit=1").msgids, [str(self.newest)])
        notes_seen: set[str] = set()
        round_trips: list[float] = []

        def oldest_found() -> bool:
            started = time.monotonic()
            client.send("PART #lobby")
            join(client, "#lobby")  # two commits: they do not wait for the backfill
            round_trips.append(time.monotonic() - started)
            batch = self.oldest_search(client)
            notes_seen.update(note.params[1] for note in batch.notes())
            return batch.msgids == [str(self.oldest)] and not batch.notes()

        wait_until(oldest_found, 120.0, 0.01, message="the oldest message becomes searchable")
        self.assertIn("INDEXING", notes_seen, "no search saw the backfill in progress")
        self.assertEqual(self.unindexed(server), 0)
        self.assertLess(max(round_trips), 2.0)
        self.assertIn("search index: every stored message is indexed", server.log_text())

    def test_a_backfill_stopped_midway_goes_on_at_the_next_start(self) -> None:
        midway = self.folder / "midway.db"
        shutil.copy(self.template, midway)
        db = schema.open_for_writing(midway, "normal")
        try:
            for _ in range(3):
                search_index.backfill_step(db)
            left = search_index.unindexed_up_to(db)
        finally:
            db.close()
        self.assertGreater(left, 0)
        server = self.server_on(midway)
        wait_until(lambda: self.unindexed(server) == 0, 120.0, 0.05, message="backfill done")
        client = connect(self, server, "reader", CAPS)
        join(client, "#lobby")
        self.assertEqual(self.oldest_search(client).msgids, [str(self.oldest)])
        # every message of #lobby indexed once, none twice; the index is sound
        term = timeline_term("#lobby")
        self.assertEqual(self.read(server, "SELECT count(*) FROM message_search WHERE"
                                           f" message_search MATCH 'scope : \"{term}\"'"),
                         (self.lobby_messages,))
        db = sqlite3.connect(server.db_path)
        try:
            db.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
