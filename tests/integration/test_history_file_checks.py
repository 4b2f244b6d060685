"""The history file is checked at start and never damaged by the check: a SQLite file that is
not chatd's is refused without a byte written to it, and a chatd history with a damaged page
is refused at start with one clear line (exit status 1) instead of a writer that crash-loops
on the first stored message. Real files, a real `python3 -m chatd`."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import tempfile
import unittest
from pathlib import Path

from chatd.events import HistoryUnavailable, StoreRow
from chatd.store import schema, writes
from chatd.store.reader import HistoryReader
from tests.support.chatd_process import chatd_command, chatd_env, pids_running_config

RUN_TIMEOUT_S = 15  # each run must end by itself well within this


def file_state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def make_history(path: Path, events: int) -> None:
    """A chatd history holding `events` channel messages, written as the writer writes it."""
    conn = schema.open_for_writing(path, "normal")
    rows = [StoreRow(i, 1_700_000_000_000 + i, "PRIVMSG", "alice!a@h", "#c", f"message {i} " * 8,
                     "", ("#c",)) for i in range(1, events + 1)]
    writes.insert_events(conn, rows)
    conn.close()  # the last connection checkpoints the WAL into the file


def damage_index(path: Path, index: str) -> None:
    """Overwrite the root page of an index with junk, as a failing disk might."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (index,)).fetchone()[0]
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes(range(7, 256, 3)) * (page_size // 83))


class HistoryFileCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-filecheck-")
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        self.conf = self.dir / "chatd.conf"
        self.conf.write_text("[server]\nlisten = 127.0.0.1:0\nlog_level = error\n"
                             "[history]\npath = history.db\n", encoding="utf-8")
        self.path = self.dir / "history.db"

    def run_chatd(self, *extra: str) -> subprocess.CompletedProcess:
        result = subprocess.run(chatd_command("-c", str(self.conf), *extra), cwd=self.dir,
                                env=chatd_env(), stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=RUN_TIMEOUT_S, check=False)
        self.assertEqual([], pids_running_config(self.conf), "a chatd process was left running")
        return result

    def refusal(self, result: subprocess.CompletedProcess) -> str:
        """The one line saying why chatd did not start (besides the master's log records of
        its writer's exit status 3, at level error): exit status 1, no restart loop."""
        self.assertEqual(1, result.returncode, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.startswith("chatd: ")]
        self.assertEqual(1, len(lines), result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertIn(str(self.path), lines[0])
        return lines[0]

    def test_a_foreign_sqlite_file_is_refused_untouched(self) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
            conn.executemany("INSERT INTO invoices (total) VALUES (?)", [(9.5,), (12.0,)])
        conn.close()
        before = file_state(self.path)
        line = self.refusal(self.run_chatd())
        self.assertIn("not a chatd history", line)
        self.assertIn("invoices", line)
        self.assertEqual(before, file_state(self.path))
        self.assertFalse(Path(f"{self.path}-shm").exists())
        self.assertFalse(Path(f"{self.path}-wal").exists())

    def test_a_sqlite_file_with_an_unmarked_meta_table_is_refused_untouched(self) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT INTO meta VALUES ('owner', 'another program')")
        conn.close()
        before = file_state(self.path)
        self.assertIn("not a chatd history", self.refusal(self.run_chatd()))
        self.assertEqual(before, file_state(self.path))

    def test_a_damaged_index_is_refused_at_start_with_one_line(self) -> None:
        make_history(self.path, 3000)
        damage_index(self.path, "messages_ts")
        line = self.refusal(self.run_chatd())
        self.assertTrue(line.startswith(f"chatd: history {self.path} is damaged ("), line)
        self.assertTrue(line.endswith("): restore a backup or move it away"), line)

    def test_check_option_refuses_what_the_start_would_refuse(self) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.close()
        before = file_state(self.path)
        self.assertIn("not a chatd history", self.refusal(self.run_chatd("--check")))
        self.assertEqual(before, file_state(self.path))
        self.path.unlink()
        make_history(self.path, 3000)
        damage_index(self.path, "messages_ts")
        self.assertIn("is damaged", self.refusal(self.run_chatd("--check")))

    def test_check_option_passes_a_sound_history(self) -> None:
        make_history(self.path, 50)
        result = self.run_chatd("--check")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(f"chatd: {self.conf}: configuration is valid; history {self.path}"
                         " (checked)", result.stdout.strip())

    def test_a_chatd_history_opens_and_keeps_its_events(self) -> None:
        make_history(self.path, 50)
        self.assertEqual({"messages", "timeline", "meta", "accounts", "account_certs",
                          "private_latest", "server_bans", "live_members", "channels",
                          "history_floors", "message_search", "message_search_data",
                          "message_search_idx", "message_search_config", "read_markers"},
                         schema.check_existing(self.path))
        conn = schema.open_for_writing(self.path, "normal")
        self.addCleanup(conn.close)
        self.assertEqual((50, 1_700_000_000_050), writes.last_id_and_time(conn))


    def test_the_reader_reports_a_damaged_page_as_history_unavailable(self) -> None:
        make_history(self.path, 3000)
        damage_index(self.path, "timeline_chat")
        reader = HistoryReader(self.path)
        self.addCleanup(reader.close)
        with self.assertRaises(HistoryUnavailable) as caught:
            reader.select("#c", 0, 10**18, 50, True, ("PRIVMSG", "NOTICE"))
        self.assertIn(str(self.path), str(caught.exception))
        self.assertEqual(2999, reader.last_id_at_or_before(1_700_000_000_000 + 2999))


if __name__ == "__main__":
    unittest.main()
