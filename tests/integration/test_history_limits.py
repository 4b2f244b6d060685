"""The writer's limits on the history file (issue 12, point 5), on real SQLite files without a
server: the size quota deletes the oldest events and no more (chatd.store.writes.trim_to_quota),
events with no timeline are not stored but their ids are never given out again, and the
free-space watch's decisions (chatd.store.space.SpaceWatch, with a made-up measure)."""

from __future__ import annotations

import shutil
import tempfile
import unittest
from pathlib import Path

from chatd.events import NO_UPPER_BOUND, StoreRow
from chatd.store import schema, space, writes
from chatd.store.reader import HistoryReader

T = 1_700_000_000_000
MIB = 1 << 20


def rows(first: int, count: int) -> list[StoreRow]:
    """Channel messages of ~300 bytes, every tenth a private message."""
    made = []
    for i in range(first, first + count):
        if i % 10 == 0:
            made.append(StoreRow(i, T + i, "PRIVMSG", f"u{i}!u@h", "bob", "p" * 300, "",
                                 (f"~bob u{i}", f"~u{i} bob")))
        else:
            made.append(StoreRow(i, T + i, "PRIVMSG", "alice!a@h", "#a", "m" * 300, "", ("#a",)))
    return made


class HistoryCase(unittest.TestCase):
    def open(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = Path(tmp.name) / "history.db"
        db = schema.open_for_writing(path, "normal")
        self.addCleanup(db.close)
        return path, db


class QuotaTest(HistoryCase):
    def test_the_oldest_events_go_until_the_data_fits(self):
        path, db = self.open()
        for first in range(1, 20_001, 1000):
            writes.insert_events(db, rows(first, 1000))
        used = writes.used_bytes(db)
        self.assertGreater(used, 8 * MIB)
        quota = used // 2
        self.assertEqual(writes.trim_to_quota(db, used, 0.9, 100_000), 0)  # within: nothing
        deleted = []
        while True:  # as the writer does, a step a second
            step = writes.trim_to_quota(db, quota, 0.95, 2_000)
            if not step:
                break
            self.assertLessEqual(step, 2_000)
            deleted.append(step)
        self.assertLessEqual(writes.used_bytes(db), quota)
        self.assertGreater(writes.used_bytes(db), quota * 0.85)  # about what was asked
        gone = sum(deleted)
        self.assertGreater(gone, 8_000)
        self.assertLess(gone, 12_000)
        first_left, last = db.execute("SELECT min(id), max(id) FROM messages").fetchone()
        self.assertEqual((first_left, last), (gone + 1, 20_000))
        # Every trace of what was deleted is gone, and readers are told where history ends.
        self.assertEqual(db.execute("SELECT count(*) FROM timeline WHERE id <= ?",
                                    (gone,)).fetchone(), (0,))
        self.assertEqual(db.execute("SELECT count(*) FROM private_latest WHERE id <= ?",
                                    (gone,)).fetchone(), (0,))
        private_left = sum(1 for i in range(gone + 1, 20_001) if i % 10 == 0)
        self.assertEqual(db.execute("SELECT count(*) FROM private_latest").fetchone(),
                         (2 * private_left,))  # each with two timelines of its own
        reader = HistoryReader(path)
        self.addCleanup(reader.close)
        # Each timeline's floor is the last of its own events deleted.
        self.assertEqual(reader.floor_id("#a"), max(i for i in range(1, gone + 1) if i % 10))
        self.assertEqual(reader.floor_id("~bob u10"), 10)
        self.assertEqual(reader.floor_id(f"~bob u{20_000}"), 0)  # it lost nothing
        oldest = reader.select("#a", 0, NO_UPPER_BOUND, 1, False, ("PRIVMSG", "NOTICE"))
        self.assertGreater(oldest[0][0], gone)
        # Ids deleted are never given out again.
        self.assertEqual(writes.last_id_and_time(db)[0], 20_000)


class UnstoredTest(HistoryCase):
    def test_an_event_of_no_timeline_is_not_stored_and_its_id_not_reused(self):
        path, db = self.open()
        writes.insert_events(db, rows(1, 5) + [
            StoreRow(6, T + 6, "TAGMSG", "alice!a@h", "#a", "", "+typing=active", ()),
            StoreRow(7, T + 7, "QUIT", "carol!c@h", "", "bye", "", ())])
        self.assertEqual(db.execute("SELECT max(id), count(*) FROM messages").fetchone(), (5, 5))
        self.assertEqual(writes.last_id_and_time(db), (7, T + 5))
        db.close()
        reopened = schema.open_for_writing(path, "normal")
        self.addCleanup(reopened.close)
        self.assertEqual(writes.last_id_and_time(reopened)[0], 7)
        # A later, lower id (a batch resent after a writer restart) never lowers it.
        writes.insert_events(reopened, [StoreRow(3, T + 3, "TAGMSG", "a!a@h", "#a", "", "", ())])
        self.assertEqual(writes.last_id_and_time(reopened)[0], 7)


class SpaceWatchTest(unittest.TestCase):
    def test_low_below_the_minimum_and_fine_again_past_a_margin(self):
        free = [500 * MIB]
        watch = space.SpaceWatch(100 * MIB, lambda: free[0])
        margin = space.RECOVERY_MARGIN_BYTES
        steps = [  # (free bytes, what the master is told: None = nothing new)
            (500 * MIB, (False, 500 * MIB)),   # the first look is always told
            (300 * MIB, None),
            (100 * MIB, None),                 # at the line: still fine
            (100 * MIB - 1, (True, 100 * MIB - 1)),
            (50 * MIB, None),
            (100 * MIB + margin - 1, None),    # back over the line, not past the margin
            (100 * MIB + margin, (False, 100 * MIB + margin)),
            (101 * MIB, None),
            (0, (True, 0)),
        ]
        for measured, told in steps:
            with self.subTest(free=measured):
                free[0] = measured
                news = watch.check()
                self.assertEqual(None if news is None else (news.low, news.free_bytes), told)

    def test_off_never_measures(self):
        def measure() -> int:
            raise AssertionError("measured with min_free_mb = 0")
        watch = space.SpaceWatch(0, measure)
        self.assertEqual(watch.check().low, False)
        self.assertIsNone(watch.check())

    def test_the_real_measure_is_the_file_systems(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertAlmostEqual(space.free_bytes(Path(tmp)), shutil.disk_usage(tmp).free,
                                   delta=64 * MIB)


if __name__ == "__main__":
    unittest.main()
