"""chatd's log lines under systemd's journal (chatd/logsetup.py): when stderr is the stream
$JOURNAL_STREAM names, every log line starts with its syslog priority and has no timestamp;
otherwise lines keep their timestamp. A real chatd, its stderr a file whose device and inode
the test puts in JOURNAL_STREAM, as systemd does for its stream."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.support.chatd_process import chatd_command, chatd_env
from tests.support.wait import wait_until

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


class JournalLogTest(unittest.TestCase):
    def run_briefly(self, journal: bool) -> list[str]:
        """Start chatd, wait until it listens, stop it; return its stderr lines."""
        tmp = tempfile.TemporaryDirectory(prefix="chatd-journal-")
        self.addCleanup(tmp.cleanup)
        folder = Path(tmp.name)
        conf = folder / "chatd.conf"
        conf.write_text("[server]\nlisten = 127.0.0.1:0\nlog_level = debug\n", encoding="utf-8")
        log = folder / "stderr.log"
        with open(log, "wb") as stderr:
            st = os.fstat(stderr.fileno())
            stream = f"{st.st_dev}:{st.st_ino}" if journal else f"{st.st_dev}:{st.st_ino + 1}"
            proc = subprocess.Popen(chatd_command("-c", str(conf)), cwd=folder,
                                    env=dict(chatd_env(), JOURNAL_STREAM=stream),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        wait_until(lambda: "listening on" in log.read_text(), 15, message="chatd listening")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(15))
        return log.read_text().splitlines()

    def test_under_the_journal_lines_carry_priorities_and_no_timestamps(self) -> None:
        lines = [line for line in self.run_briefly(journal=True)
                 if not line.startswith("chatd: listening on")]  # a plain line: level info
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[2-7]>(DEBUG|INFO|WARNING|ERROR) chatd\[")
            self.assertNotRegex(line, TIMESTAMP)
        self.assertTrue(any(re.match(r"<6>INFO chatd\[master:\d+\]", line) for line in lines))

    def test_elsewhere_lines_keep_their_timestamps(self) -> None:
        lines = [line for line in self.run_briefly(journal=False)
                 if not line.startswith("chatd: listening on")]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, TIMESTAMP)
            self.assertFalse(line.startswith("<"), line)


if __name__ == "__main__":
    unittest.main()
