"""tui.app: the whole client flow without a terminal or socket, and the purity boundary."""

import ast
import unittest
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui.app import App, Connect, Mode, default_nick
from tui.session import Send

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
PURE_MODULES = ["app", "commands", "inputline", "layout", "render", "sanitize", "session",
                "state"]
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

    def test_reconnect_with_backoff(self) -> None:
        self.connect()
        self.app.on_connection_lost("reset", T0)
        self.assertEqual(self.app.connection_label(), "reconnecting")
        self.assertEqual(self.app.tick(T0 + timedelta(seconds=0.5)), [])
        self.assertEqual(self.app.tick(T0 + timedelta(seconds=1)), [Connect()])
        self.app.on_connection_lost("refused", T0)
        self.assertEqual(self.app.next_deadline(), T0 + timedelta(seconds=2))

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

    def test_only_curses_client_imports_curses(self) -> None:
        root = Path(__file__).resolve().parents[2] / "tui"
        for path in root.glob("*.py"):
            with self.subTest(module=path.name):
                has_curses = "import curses" in path.read_text(encoding="utf-8")
                self.assertEqual(has_curses, path.name == "curses_client.py")


if __name__ == "__main__":
    unittest.main()
