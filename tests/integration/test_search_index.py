"""The full-text index on a real history file, through the writer's and the reader's own code
(chatd/store/search_index.py, tombstones.py, writes.py, reader.py): messages indexed in the
transaction that stores them (found once, even when a batch is stored again after a writer
restart), taken out again by a redaction and by retention with the index still sound, the
time limit of a search, expressions built from hostile texts never failing in FTS5, and a
history without FTS5 (no index; everything else as before)."""

from __future__ import annotations

import random
import sqlite3
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from chatd import events
from chatd.events import NO_UPPER_BOUND, StoreRow
from chatd.search_terms import QueryError, match_expression, phrases
from chatd.store import schema, search_index, writes
from chatd.store.reader import HistoryReader

TS = 1_700_000_000_000


def message(event_id: int, text: str, target: str = "#c", convs: tuple[str, ...] = ("#c",),
            kind: str = "PRIVMSG", source: str = "alice!a@h") -> StoreRow:
    return StoreRow(event_id, TS + event_id, kind, source, target, text, "", convs)


class IndexTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory(prefix="chatd-search-")
        self.addCleanup(folder.cleanup)
        self.path = Path(folder.name) / "history.db"
        self.db = schema.open_for_writing(self.path, "normal")
        self.addCleanup(self.db.close)
        self.reader = HistoryReader(self.path)
        self.addCleanup(self.reader.close)

    def find(self, text: str | None = None, timelines=("#c",), owners=(), sender=None,
             limit: int = 100) -> list[int]:
        match = match_expression(phrases(text) if text else [], list(timelines), list(owners),
                                 sender)
        rows, finished = self.reader.search(match, 0, NO_UPPER_BOUND, limit, True, 5.0)
        self.assertTrue(finished)
        return [row[events.ID] for row in rows]

    def sound(self) -> None:
        self.db.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")

    def test_indexed_with_the_message_once_and_found_by_scope(self) -> None:
        private = events.private_timelines("~alice", "alice", "~bob", "bob")
        rows = [message(1, "deploy friday"), message(2, "deploy monday", "#d", ("#d",)),
                message(3, "deploy privately", "bob", private),
                message(4, "", kind="TAGMSG"), message(5, "", kind="JOIN")]
        writes.insert_events(self.db, rows)
        writes.insert_events(self.db, rows)  # resent after a writer restart: found once
        self.sound()
        self.assertEqual(self.find("deploy"), [1])
        self.assertEqual(self.find("deploy", timelines=("#c", "#d")), [1, 2])
        self.assertEqual(self.find("deploy", timelines=(), owners=("~bob",)), [3])
        self.assertEqual(self.find("deploy", timelines=("~alice bob",)), [3])
        self.assertEqual(self.find(None, timelines=("#c", "#d"), sender="ALICE"), [1, 2])
        self.assertEqual(self.find("deploy", timelines=("#c",), sender="bob"), [])
        self.assertEqual(self.db.execute("SELECT count(*) FROM message_search WHERE"
                                         " message_search MATCH 'deploy'").fetchone(), (3,))

    def test_a_redaction_takes_the_message_out(self) -> None:
        private = events.private_timelines("~alice", "alice", "!1.2", "bob")
        writes.insert_events(self.db, [message(1, "secret plans"),
                                       message(2, "secret too", "bob", private)])
        writes.insert_events(self.db, [
            StoreRow(3, TS + 3, "REDACT", "alice!a@h", "#c", "1 :oops", "", ("#c",)),
            StoreRow(4, TS + 4, "REDACT", "alice!a@h", "bob", "2", "", private)])
        self.sound()
        self.assertEqual(self.find("secret", timelines=("#c",), owners=("~alice",)), [])
        self.assertEqual(self.db.execute("SELECT text FROM messages WHERE id IN (1, 2)"
                                         ).fetchall(), [("",), ("",)])
        self.assertEqual(sorted(self.db.execute("SELECT conv, id, chat FROM timeline"
                                                " WHERE id IN (1, 2)").fetchall()),
                         sorted([("#c", 1, 3), (private[0], 2, 3), (private[1], 2, 3)]))
        # a REDACT stored again (writer restart) changes nothing and breaks nothing
        writes.insert_events(self.db, [
            StoreRow(3, TS + 3, "REDACT", "alice!a@h", "#c", "1 :oops", "", ("#c",))])
        self.sound()

    def test_retention_takes_deleted_messages_out(self) -> None:
        writes.insert_events(self.db, [message(i, f"word{i % 3} common") for i in range(1, 301)])
        writes.delete_up_to(self.db, 200)
        self.sound()
        self.assertEqual(self.find("common"), list(range(201, 301)))
        self.assertEqual(self.db.execute("SELECT count(*) FROM message_search WHERE"
                                         " message_search MATCH 'common'").fetchone(), (100,))

    def test_a_search_stops_at_its_time_limit_with_the_nearest_matches(self) -> None:
        writes.insert_events(self.db, [message(i, "common word here") for i in range(1, 5001)])
        match = match_expression([["common"]], ["#c"], [], None)
        rows, finished = self.reader.search(match, 0, NO_UPPER_BOUND, 5000, True, 0.0)
        self.assertFalse(finished)
        ids = [row[events.ID] for row in rows]
        self.assertLess(len(ids), 5000)
        self.assertEqual(ids, list(range(5001 - len(ids), 5001)))  # newest, in order
        # the connection goes on serving
        self.assertEqual(len(self.reader.search(match, 0, NO_UPPER_BOUND, 10, True, 5.0)[0]), 10)

    def test_hostile_texts_never_fail_in_fts5(self) -> None:
        writes.insert_events(self.db, [message(1, 'plain "quoted" text: (with) * and - ^')])
        alphabet = list('"*-^:(){}[]+,.;\\\'/ ') + ["NEAR", "AND", "OR", "NOT", "text",
                                                  "scope", "é", "日本", "\ue000", "0x", "a"]
        rng = random.Random(7)
        for _ in range(400):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
            with self.subTest(text=text):
                try:
                    found = phrases(text)
                except QueryError:
                    continue
                match = match_expression(found, ["#c"], ["~alice"], None)
                self.reader.search(match, 0, NO_UPPER_BOUND, 10, True, 5.0)  # no error

    def test_the_backfill_indexes_an_older_history_newest_first(self) -> None:
        writes.insert_events(self.db, [message(i, f"old {i}") for i in range(1, 1201)])
        # as if these had been stored before the index existed
        self.db.execute("DROP TABLE message_search")
        self.db.execute("DELETE FROM meta WHERE key = ?", (search_index.UNINDEXED_KEY,))
        self.assertTrue(search_index.ensure(self.db))
        self.assertEqual(search_index.unindexed_up_to(self.db), 1200)
        self.assertEqual(self.find("old"), [])
        self.assertTrue(search_index.backfill_step(self.db, 500))
        self.assertEqual(search_index.unindexed_up_to(self.db), 700)
        self.assertEqual(self.find("old", limit=1000), list(range(701, 1201)))
        writes.insert_events(self.db, [message(1201, "old and new")])  # meanwhile
        while search_index.backfill_step(self.db, 500):
            pass
        self.assertEqual(search_index.unindexed_up_to(self.db), 0)
        self.assertEqual(self.find("old", limit=2000), list(range(1, 1202)))
        self.sound()


class WithoutFts5Test(unittest.TestCase):
    def test_a_history_without_fts5_has_no_index_and_works_as_before(self) -> None:
        folder = tempfile.TemporaryDirectory(prefix="chatd-nofts-")
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "history.db"
        with mock.patch.object(search_index, "fts5_available", return_value=False):
            with self.assertLogs("chatd.store.search_index", "WARNING"):
                db = schema.open_for_writing(path, "normal")
        self.addCleanup(db.close)
        writes.insert_events(db, [message(1, "hello"), StoreRow(
            2, TS + 2, "REDACT", "alice!a@h", "#c", "1", "", ("#c",))])
        writes.delete_up_to(db, 1)
        reader = HistoryReader(path)
        self.addCleanup(reader.close)
        self.assertFalse(reader.searchable())
        self.assertEqual(db.execute("SELECT kind FROM messages").fetchall(), [("REDACT",)])
        # with FTS5 again (another Python), the next open makes the index and fills it
        db.close()
        db = schema.open_for_writing(path, "normal")
        self.assertTrue(reader.searchable())
        self.assertEqual(search_index.unindexed_up_to(db), 2)
        db.close()
        # and a history with an index is refused where there is no FTS5 to keep it
        with mock.patch.object(search_index, "fts5_available", return_value=False):
            with self.assertRaisesRegex(schema.HistoryError, "has no FTS5"):
                schema.open_for_writing(path, "normal")


if __name__ == "__main__":
    unittest.main()
