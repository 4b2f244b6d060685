"""tui.app: the whole client flow without a terminal or socket, and the purity boundary."""

import ast
import random
import unittest
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui.app import App, Connect, Mode, default_nick, reconnect_delay_s
from tui.effects import Send

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
PURE_MODULES = ["alerts", "app", "app_view", "attention", "batch", "buffer", "buffer_list",
                "caps", "chat", "command_context", "commands", "config", "context",
                "credentials", "effects", "fatal", "frame", "history", "ignores", "inputline",
                "keepalive", "keys", "layout", "lines", "login", "membership", "memory",
                "multiline", "nicklist", "notify", "outbox", "people", "people_commands",
                "read_markers", "registration", "rejoining", "render", "results", "sanitize",
                "sasl", "saved_state", "search", "session", "state", "typing_notices",
                "view_commands", "xdg"]
IO_MODULES = {"socket", "selectors", "curses", "sqlite3", "subprocess", "select"}


def screen(app: App, width: int = 60, height: int = 10) -> str:
    return "\n".join("".join(t for t, _ in row) for row in app.pane(width, height))


class FlowTest(unittest.TestCase):
    def setUp(self) -> None:
        self.app = App("chat.test", 6667, nick=None, login="root", tz=UTC)

    def connect(self, nick: str = "alice") -> list:
        self.app.input.set(nick)
        self.assertEqual(self.app.submit(T0), [Connect()])
        return self.app.on_connected(T0)

    def test_name_prompt_is_prefilled_with_the_login(self) -> None:
        self.assertEqual(self.app.mode, Mode.NAME)
        self.assertEqual(self.app.prompt, "Your name: ")
        self.assertEqual((self.app.input.text, self.app.input.selected), ("root", True))
        self.assertEqual(self.app.start(), [])

    def test_invalid_name_asks_again(self) -> None:
        self.app.input.set("9 lives")
        self.assertEqual(self.app.submit(T0), [])
        self.assertEqual(self.app.mode, Mode.NAME)
        self.assertIn("cannot be a nick", screen(self.app))

    def test_nick_taken_prompts_with_a_suggestion(self) -> None:
        sends = self.connect()
        self.assertIn(Send("NICK alice"), sends)
        self.app.on_line(":s 433 * alice :Nickname is already in use", T0)
        self.assertEqual(self.app.mode, Mode.NICK)
        self.assertIn("alice is already taken", self.app.prompt)
        self.assertEqual(self.app.input.text, "alice_")
        self.assertEqual(self.app.submit(T0), [Send("NICK alice_")])
        self.assertEqual(self.app.mode, Mode.CHAT)

    def test_the_nick_prompt_tells_the_latest_problem(self) -> None:
        """Issue 16, point 6: a second bad nick used to leave the first one's error shown."""
        self.connect()
        self.app.on_line(":s 433 * alice :Nickname is already in use", T0)
        self.app.input.set("9lives")
        self.assertEqual(self.app.submit(T0), [])
        self.assertEqual(self.app.mode, Mode.NICK)
        self.assertEqual(self.app.prompt, "'9lives' cannot be a nick. New nick: ")
        self.app.input.set("bob")
        self.assertEqual(self.app.submit(T0), [Send("NICK bob")])
        self.app.on_line(":s 432 * bob :Erroneous nickname", T0)
        self.assertEqual(self.app.prompt,
                         "The nick bob is not allowed (Erroneous nickname). New nick: ")

    def test_chat_scroll_and_status(self) -> None:
        self.connect()
        self.app.on_line(":s 001 alice :Welcome", T0)
        self.app.on_line(":alice!a@h JOIN #lobby", T0)
        self.app.on_line(":s 353 alice = #lobby :alice bob", T0)
        self.app.on_line(":s 366 alice #lobby :End", T0)
        for i in range(30):
            self.app.on_line(f":bob!b@h PRIVMSG #lobby :line {i}", T0)
        self.assertIn("line 29", screen(self.app))
        status = "".join(t for t, _ in self.app.status(80))
        self.assertIn("2:#lobby (2 users)", status)
        self.assertIn("connected", status)
        self.app.scroll_page(-1, 60, 10)
        self.assertNotIn("line 29", screen(self.app))
        self.app.on_line(":bob!b@h PRIVMSG #lobby :newest", T0)
        self.assertNotIn("newest", screen(self.app))
        self.assertIn("more below (1 new)", "".join(t for t, _ in self.app.status(80)))
        self.app.scroll_page(1, 60, 10)  # back where we were, one line above the end
        self.assertIn("more below", "".join(t for t, _ in self.app.status(80)))
        self.app.scroll_page(1, 60, 10)
        self.assertIn("newest", screen(self.app))
        self.assertNotIn("more below", "".join(t for t, _ in self.app.status(80)))

    def test_tab_completes_channel_nicks(self) -> None:
        self.connect()
        self.app.on_line(":s 001 alice :Welcome", T0)
        self.app.on_line(":alice!a@h JOIN #lobby", T0)
        self.app.on_line(":s 353 alice = #lobby :alice @bob", T0)
        self.app.on_line(":s 366 alice #lobby :End", T0)
        self.app.input.insert("b")
        self.app.complete()
        self.assertEqual(self.app.input.text, "bob: ")

    def test_the_nick_list_is_a_side_column_beside_the_buffer_list(self) -> None:
        self.connect()
        for line in (":s 001 alice :Welcome", ":alice!a@h JOIN #lobby",
                     ":s 353 alice = #lobby :alice @bob", ":s 366 alice #lobby :End"):
            self.app.on_line(line, T0)

        def regions(width: int) -> dict:
            return {r.name: r for r in self.app.frame(width, 12).regions}

        wide = regions(120)
        self.assertEqual(["".join(t for t, _ in row) for row in wide["nicks"].rows[:3]],
                         [" @bob", " alice", ""])
        self.assertLess(wide["buffers"].x, wide["pane"].x)
        self.assertLess(wide["pane"].x + wide["pane"].width, wide["nicks"].x)
        self.assertGreaterEqual(wide["pane"].width, 60)
        # 85 columns: beside the buffer list (18 + 1), a nick list (9 + 1) would leave the
        # conversation 56 columns (< 60): it is left out until the buffer list is hidden.
        self.assertEqual({"buffers", "pane"} & set(regions(85)), {"buffers", "pane"})
        self.assertNotIn("nicks", regions(85))
        self.app.toggle_buffer_list()
        self.assertIn("nicks", regions(85))
        self.assertEqual(self.app.pane_size(85, 12), (85 - 10, 10))

    def test_reconnect_with_backoff(self) -> None:
        self.connect()
        self.app.on_connection_lost("reset", T0)
        self.assertEqual(self.app.connection_label(), "reconnecting")
        self.assertIn("reconnecting", "".join(t for t, _ in self.app.status(80)))
        self.assertEqual(self.app.tick(T0 + timedelta(seconds=0.79)), [])
        self.assertEqual(self.app.tick(T0 + timedelta(seconds=1.2)), [Connect()])
        delays = []
        for _ in range(8):
            self.app.on_connection_lost("refused", T0)
            delays.append((self.app.next_deadline() - T0).total_seconds())
        for attempt, delay in enumerate(delays, start=1):
            with self.subTest(attempt=attempt):
                base = min(2 ** attempt, 30)
                self.assertGreaterEqual(delay, base * 0.8)
                self.assertLessEqual(delay, base * 1.2)
        self.app.on_line(":s 001 alice :Welcome", T0)  # registered: backoff starts over
        self.app.on_connection_lost("reset", T0)
        self.assertLessEqual((self.app.next_deadline() - T0).total_seconds(), 1.2)

    def test_backoff_delays(self) -> None:
        rng = random.Random(7)
        cases = [(0, 1), (1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (6, 30), (40, 30)]
        for attempt, base in cases:
            with self.subTest(attempt=attempt):
                spread = {round(reconnect_delay_s(attempt, rng) / base, 2) for _ in range(50)}
                self.assertTrue(all(0.8 <= s <= 1.2 for s in spread), spread)
                self.assertGreater(len(spread), 5)  # jittered, not fixed

    def test_page_up_at_the_top_loads_older_history(self) -> None:
        self.connect()
        lines = [":s CAP * LS :batch draft/chathistory message-tags server-time",
                 ":s CAP * ACK :batch draft/chathistory message-tags server-time",
                 ":s 001 alice :Welcome", ":s 422 alice :No MOTD",
                 "@time=2026-11-25T18:00:00.000Z :alice!a@h JOIN #lobby",
                 ":s BATCH +1 chathistory #lobby"]
        lines += [f"@batch=1;msgid={i};time=2026-11-25T17:{i:02d}:00.000Z :bob!b@h PRIVMSG "
                  f"#lobby :line {i}" for i in range(10, 60)]
        for line in lines + [":s BATCH -1"]:
            self.app.on_line(line, T0)
        self.assertIn("line 59", screen(self.app))
        self.assertEqual(self.app.scroll_page(-1, 60, 10), [])  # not at the top yet
        actions = []
        for _ in range(10):
            actions += self.app.scroll_page(-1, 60, 10)
        self.assertEqual(actions, [Send("CHATHISTORY BEFORE #lobby msgid=10 50")])
        self.assertIn("loading history", "".join(t for t, _ in self.app.status(100)))
        self.assertIn("line 10", screen(self.app))

    def test_status_counts_messages_not_yet_stored(self) -> None:
        self.connect()
        self.app.on_line(":s 001 alice :Welcome", T0)
        self.app.on_line(":alice!a@h JOIN #lobby", T0)
        self.app.on_connection_lost("reset", T0)
        self.app.input.set("typed offline")
        self.assertEqual(self.app.submit(T0), [])
        self.assertIn("⋯1 pending", "".join(t for t, _ in self.app.status(100)))
        self.assertIn("alice: typed offline ⋯", screen(self.app))

    def test_default_nick(self) -> None:
        cases = [("root", "root"), ("john.doe", "johndoe"), ("1user", "u1user"), ("", "guest"),
                 ("Zoë", "Zo")]
        for login, expected in cases:
            with self.subTest(login=login):
                self.assertEqual(default_nick(login), expected)


class PurityTest(unittest.TestCase):
    def test_pure_modules_import_no_io(self) -> None:
        root = Path(__file__).resolve().parents[2] / "tui"
        for name in PURE_MODULES:
            with self.subTest(module=name):
                tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
                imported = set()
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        imported |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.module:
                        imported.add(node.module.split(".")[0])
                self.assertFalse(imported & IO_MODULES, imported & IO_MODULES)

    def test_only_the_terminal_modules_import_curses(self) -> None:
        root = Path(__file__).resolve().parents[2] / "tui"
        for path in root.glob("*.py"):
            with self.subTest(module=path.name):
                has_curses = "import curses" in path.read_text(encoding="utf-8")
                self.assertEqual(has_curses, path.name in ("curses_client.py",
                                                           "curses_screen.py"))


if __name__ == "__main__":
    unittest.main()
