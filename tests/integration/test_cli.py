"""`python3 -m chatd` refusing to start: bad configuration or command line -> exit status 2,
cannot run (port in use, unusable history) -> 1; a clear line on stderr naming the problem,
and no process left behind."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.support.chatd_process import chatd_command, chatd_env, pids_running_config

RUN_TIMEOUT_S = 15  # each run must end by itself well within this


class StartupFailureTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="chatd-cli-")
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)

    def run_chatd(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(chatd_command(*args), cwd=self.dir, env=chatd_env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, check=False)

    def write_config(self, text: str, name: str = "chatd.conf") -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def assert_nothing_left(self, conf: Path) -> None:
        self.assertEqual([], pids_running_config(conf), "a chatd process was left running")

    def test_configuration_errors_exit_2_with_one_line(self) -> None:
        base = "[server]\nlisten = 127.0.0.1:0\n"
        cases = [
            ("unknown section", base + "[colours]\nred = 1\n", "unknown section [colours]"),
            ("unknown key", base + "colour = red\n", "unknown key 'colour'"),
            ("bad workers", "[server]\nworkers = many\n", "workers = 'many'"),
            ("zero workers", "[server]\nworkers = 0\n", "workers = '0'"),
            ("bad listen", "[server]\nlisten = nowhere\n", "listen = 'nowhere'"),
            ("listen port too big", "[server]\nlisten = 127.0.0.1:70000\n", "listen"),
            ("ping below minimum", base + "ping_interval = 0.5\n", "ping_interval"),
            ("history folder missing", base + "[history]\npath = no/such/folder/h.db\n",
             "does not exist"),
            ("bad replay", base + "[history]\nreplay = lots\n", "replay = 'lots'"),
            ("bad default modes", base + "[channels]\ndefault_modes = +ntq\n",
             "default_modes = '+ntq': must be + and channel modes from imnst"),
            ("not INI", "just some text\n", "not a valid INI file"),
        ]
        for case, text, expected in cases:
            with self.subTest(case=case):
                conf = self.write_config(text)
                result = self.run_chatd("-c", str(conf))
                self.assertEqual(2, result.returncode, result.stderr)
                self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
                self.assertIn(expected, result.stderr)
                self.assertIn(str(conf), result.stderr)  # says which file
                self.assertEqual("", result.stdout)
                self.assert_nothing_left(conf)

    def test_every_problem_is_reported_at_once(self) -> None:
        conf = self.write_config("[server]\nworkers = many\nlisten = nowhere\n[oops]\n")
        result = self.run_chatd("-c", str(conf))
        self.assertEqual(2, result.returncode)
        lines = result.stderr.splitlines()
        self.assertEqual(3, len(lines), result.stderr)
        for expected in ("workers = 'many'", "listen = 'nowhere'", "unknown section [oops]"):
            self.assertEqual(1, sum(expected in line for line in lines), result.stderr)

    def test_missing_config_file_exits_2(self) -> None:
        missing = self.dir / "absent.conf"
        result = self.run_chatd("-c", str(missing))
        self.assertEqual(2, result.returncode)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        self.assertIn(str(missing), result.stderr)
        self.assertIn("No such file", result.stderr)

    def test_bad_command_line_exits_2_with_usage(self) -> None:
        result = self.run_chatd("--no-such-option")
        self.assertEqual(2, result.returncode)
        self.assertIn("usage: chatd", result.stderr)

    def test_without_config_the_defaults_keep_history_in_the_state_directory(self) -> None:
        state = self.dir / "state"
        state.mkdir()
        result = subprocess.run(chatd_command("--check"), cwd=self.dir,
                                env=dict(chatd_env(), STATE_DIRECTORY=f"{state}:/elsewhere"),
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT_S, check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(f"chatd: built-in defaults: configuration is valid; history "
                         f"{state / 'chatd.db'} (created at start)", result.stdout.strip())
        without = subprocess.run(chatd_command("--check"), cwd=self.dir,
                                 env={k: v for k, v in chatd_env().items()
                                      if k != "STATE_DIRECTORY"},
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=RUN_TIMEOUT_S, check=False)
        self.assertIn(f"history {self.dir.resolve() / 'chatd.db'} ", without.stdout)

    def test_under_systemd_a_relative_history_path_is_in_the_state_directory(self) -> None:
        state = self.dir / "state"
        state.mkdir()
        elsewhere = self.dir / "elsewhere.db"
        for history, expected in (("chatd.db", state / "chatd.db"),
                                  (str(elsewhere), elsewhere)):
            with self.subTest(history=history):
                conf = self.write_config(f"[history]\npath = {history}\n")
                result = subprocess.run(
                    chatd_command("-c", str(conf), "--check"), cwd=self.dir,
                    env=dict(chatd_env(), STATE_DIRECTORY=str(state)), stdin=subprocess.DEVNULL,
                    capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
                self.assertEqual(0, result.returncode, result.stderr)
                self.assertIn(f"history {expected} (created at start)", result.stdout)

    def test_print_config_prints_the_shipped_example_which_is_valid(self) -> None:
        result = self.run_chatd("--print-config")
        self.assertEqual(0, result.returncode, result.stderr)
        shipped = Path(__file__).resolve().parents[2] / "chatd.conf"
        self.assertEqual(shipped.read_text(encoding="utf-8"), result.stdout)
        conf = self.write_config(result.stdout)
        self.assertEqual(0, self.run_chatd("-c", str(conf), "--check").returncode)

    def test_port_in_use_exits_1_and_leaves_nothing_running(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            conf = self.write_config(f"[server]\nlisten = 127.0.0.1:{port}\n")
            result = self.run_chatd("-c", str(conf))
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertEqual([f"chatd: cannot listen on 127.0.0.1:{port}: Address already in use"],
                         result.stderr.splitlines())
        self.assert_nothing_left(conf)
        self.assertFalse((self.dir / "chatd.db").exists(), "history created before failing")

    def test_unusable_history_exits_1_and_leaves_nothing_running(self) -> None:
        (self.dir / "broken.db").write_bytes(b"this is not an SQLite database\n" * 200)
        conf = self.write_config("[server]\nlisten = 127.0.0.1:0\nlog_level = error\n"
                                 "[history]\npath = broken.db\n")
        result = self.run_chatd("-c", str(conf))
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertRegex(result.stderr, r"(?m)^chatd: cannot open history .*broken\.db.*"
                                        r"not a database$")
        self.assertNotIn("listening on", result.stderr)
        self.assert_nothing_left(conf)

    def test_check_option_validates_only(self) -> None:
        conf = self.write_config("[server]\nlisten = 127.0.0.1:0\n")
        result = self.run_chatd("-c", str(conf), "--check")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("configuration is valid", result.stdout)
        self.assertFalse((self.dir / "chatd.db").exists())


if __name__ == "__main__":
    unittest.main()
