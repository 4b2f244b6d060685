"""chatd's processes carry their role in ps, top and systemctl status (chatd/proctitle.py):
the kernel's name (/proc/PID/comm: top, ps -e) and the command line (/proc/PID/cmdline:
ps aux, systemctl status) of the master, each worker and the writer, on a real chatd."""

from __future__ import annotations

import re
import shutil
import subprocess
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.wait import wait_until


def comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
        return fh.read().rstrip("\n")


def cmdline_words(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return [word.decode() for word in fh.read().split(b"\0") if word]


class ProcessNamesTest(unittest.TestCase):
    def test_every_process_is_named_for_its_role(self) -> None:
        server = start_chatd(self, workers=2)
        writer = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])
        expected = {server.pid: "chatd: master", writer: "chatd: writer",
                    server.worker_pid(0): "chatd: worker 0",
                    server.worker_pid(1): "chatd: worker 1"}
        config_args = ["-c", str(server.conf_path)]
        for pid, title in expected.items():
            with self.subTest(title=title):
                # A child names itself once forked, just after the master logs its start.
                # The config stays on the command line: which instance is which.
                wait_until(lambda: cmdline_words(pid) == [title, *config_args], 10,
                           message=f"{pid}'s command line names {title}")
                self.assertEqual(title, comm(pid))  # set before the command line

    @unittest.skipUnless(shutil.which("ps"), "ps is not installed")
    def test_ps_shows_the_titles(self) -> None:
        server = start_chatd(self, workers=1)
        pids = [server.pid, server.worker_pid(0)]
        wait_until(lambda: cmdline_words(pids[1])[0] == "chatd: worker 0", 10,
                   message="worker named")
        out = subprocess.run(["ps", "-o", "comm=,args=", "-p", ",".join(map(str, pids))],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        self.assertIn(f"chatd: master   chatd: master -c {server.conf_path}", out)
        self.assertIn(f"chatd: worker 0 chatd: worker 0 -c {server.conf_path}", out)


if __name__ == "__main__":
    unittest.main()
