"""tui's server password: PASS before NICK/USER, a 464 turns into a hidden prompt (no
reconnect loop meanwhile), and the typed password is used for the next connection and kept
out of the input history. Pure: no terminal, no socket."""

import unittest
from datetime import UTC, datetime

from tui.app import App, Connect, Mode
from tui.effects import Send

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class PasswordTest(unittest.TestCase):
    def test_pass_goes_before_nick_and_user(self) -> None:
        app = App("chat.test", 6667, nick="alice", tz=UTC, password="s3cret pw")
        sends = [a.line for a in app.on_connected(T0) if isinstance(a, Send)]
        self.assertIn("PASS :s3cret pw", sends)
        self.assertLess(sends.index("PASS :s3cret pw"), sends.index("NICK alice"))

    def test_no_pass_without_a_password(self) -> None:
        app = App("chat.test", 6667, nick="alice", tz=UTC)
        sends = [a.line for a in app.on_connected(T0) if isinstance(a, Send)]
        self.assertFalse([line for line in sends if line.startswith("PASS")])

    def test_464_asks_for_the_password_hidden_then_reconnects_with_it(self) -> None:
        app = App("chat.test", 6667, nick="alice", tz=UTC)
        app.on_connected(T0)
        app.on_line(":s 464 alice :Password incorrect", T0)
        self.assertEqual(app.mode, Mode.PASSWORD)
        self.assertTrue(app.input_hidden)
        self.assertEqual(app.prompt, "Server password: ")
        app.on_line("ERROR :Closing link: (alice@h) [Bad password]", T0)
        app.on_connection_lost("the server closed the connection", T0)
        self.assertIsNone(app.next_deadline())  # no reconnect until the user answers
        app.input.set("hunter2")
        self.assertEqual(app.submit(T0), [Connect()])
        self.assertFalse(app.input_hidden)
        self.assertEqual(app.input.text, "")
        app.input.history_prev()
        self.assertNotEqual(app.input.text, "hunter2")  # not in the input history
        sends = [a.line for a in app.on_connected(T0) if isinstance(a, Send)]
        self.assertIn("PASS hunter2", sends)

    def test_wrong_password_says_so(self) -> None:
        app = App("chat.test", 6667, nick="alice", tz=UTC, password="bad")
        app.on_connected(T0)
        app.on_line(":s 464 alice :Password incorrect", T0)
        screen = "\n".join("".join(t for t, _ in row) for row in app.pane(80, 10))
        self.assertIn("Wrong server password.", screen)


if __name__ == "__main__":
    unittest.main()
