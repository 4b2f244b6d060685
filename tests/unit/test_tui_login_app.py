"""tui.app with logins: the name prompt first, a hidden password prompt for a reserved name,
"keep this login?", /register, saved logins used by themselves, and the reconnect loop that
stops after a fatal ERROR. No terminal, no socket, no file."""

import unittest
from datetime import UTC, datetime, timedelta

from tui.app import App, Connect, Mode, SaveCredentials
from tui.effects import Disconnect, Send
from tui.sasl import Credentials

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
SASL = "sasl=PLAIN"
SECRET = "correct horse"


def sent(actions) -> list[str]:
    return [a.line for a in actions if isinstance(a, Send)]


class LoginAppTest(unittest.TestCase):
    def app(self, saved: Credentials | None = None, nick: str | None = None) -> App:
        return App("Chat.test", 6697, nick=nick, login="root", tz=UTC, saved=saved)

    def start(self, app: App, name: str | None = None, caps: str = SASL) -> list:
        if name is not None:
            app.input.set(name)
        self.assertEqual(app.submit(T0), [Connect()])
        app.on_connected(T0)
        out = app.on_line(f":s CAP * LS :{caps}", T0)  # CAP REQ ...
        return app.on_line(f":s CAP * ACK :{sent(out)[0].split(' ', 2)[2]}", T0)

    def shown(self, app: App) -> str:
        return "\n".join(line.text for buf in app.state.buffers for line in buf.lines)

    def type(self, app: App, text: str) -> list:
        app.input.set("")
        app.input.insert(text)
        return app.submit(T0)

    def test_reserved_name_password_login_and_keep(self) -> None:
        app = self.app()
        self.assertEqual(app.mode, Mode.NAME)  # the name is still asked first
        self.assertEqual(sent(self.start(app, "alice")), ["CAP END"])
        app.on_line(":s 433 * alice :Nickname is reserved by a registered account", T0)
        self.assertEqual(app.mode, Mode.PASSWORD)
        self.assertIn("Password for alice", app.prompt)
        self.assertEqual(sent(self.type(app, SECRET)), ["AUTHENTICATE PLAIN"])
        app.on_line("AUTHENTICATE +", T0)
        out = app.on_line(":s 903 * :SASL authentication successful", T0)
        self.assertEqual(sent(out), ["NICK alice"])
        self.assertEqual(app.mode, Mode.KEEP)
        out = self.type(app, "y")
        self.assertEqual(out, [SaveCredentials("chat.test:6697", Credentials("alice", SECRET))])
        app.saved_credentials(Credentials("alice", SECRET), None, T0)
        self.assertIn("logs in as alice by itself", self.shown(app))
        self.assertEqual(app.mode, Mode.CHAT)
        self.assertNotIn(SECRET, self.shown(app))
        self.assertEqual(app.input.history, [])

    def test_typing_the_password_is_masked(self) -> None:
        app = self.app()
        self.start(app, "alice")
        app.on_line(":s FAIL NICK NICKNAME_RESERVED alice :reserved", T0)
        app.input.insert("pw")
        self.assertEqual(app.input.view(20), ("**", 2))

    def test_empty_password_asks_for_another_name(self) -> None:
        app = self.app()
        self.start(app, "alice")
        app.on_line(":s 433 * alice :Nickname is reserved", T0)
        self.assertEqual(self.type(app, ""), [])
        self.assertEqual(app.mode, Mode.NICK)
        self.assertEqual(app.input.text, "alice_")
        self.assertFalse(app.input.masked)

    def test_saved_login_is_used_by_itself(self) -> None:
        saved = Credentials("alice", SECRET)
        app = self.app(saved)
        self.assertEqual(app.input.text, "alice")  # the name prompt offers the saved nick
        self.assertEqual(sent(self.start(app)), ["AUTHENTICATE PLAIN"])  # before CAP END
        app.on_line("AUTHENTICATE +", T0)
        out = app.on_line(":s 903 alice :ok", T0)
        self.assertEqual(sent(out), ["CAP END"])
        self.assertEqual(app.mode, Mode.CHAT)  # nothing new to keep

    def test_saved_login_is_not_used_for_another_name(self) -> None:
        app = self.app(Credentials("alice", SECRET))
        self.assertEqual(sent(self.start(app, "bob")), ["CAP END"])
        app = self.app(Credentials("alice", SECRET), nick="Alice")
        app.on_connected(T0)
        self.assertEqual(app.session.login.credentials, Credentials("alice", SECRET))

    def test_register_with_the_password_on_the_line(self) -> None:
        app = self.app()
        self.start(app, "alice", "draft/account-registration")
        app.on_line(":s 001 alice :Welcome", T0)
        self.assertEqual(sent(self.type(app, f"/register {SECRET}")),
                         [f"REGISTER alice * :{SECRET}"])
        self.assertEqual(app.input.history, [])  # never recalled with Up
        app.on_line(":s REGISTER SUCCESS alice :Account created", T0)
        self.assertEqual(app.mode, Mode.KEEP)
        self.assertEqual(self.type(app, "n"), [])
        self.assertIn("Not kept", self.shown(app))
        self.assertNotIn(SECRET, self.shown(app))

    def test_register_alone_asks_hidden(self) -> None:
        app = self.app()
        self.start(app, "alice", "draft/account-registration")
        app.on_line(":s 001 alice :Welcome", T0)
        self.assertEqual(self.type(app, "/register"), [])
        self.assertEqual((app.mode, app.input.masked), (Mode.PASSWORD, True))
        self.assertEqual(sent(self.type(app, SECRET)), [f"REGISTER alice * :{SECRET}"])
        self.assertEqual(app.input.history, ["/register"])

    def test_login_refused_here_reconnects_at_once(self) -> None:
        app = self.app()
        self.start(app, "alice")
        app.on_line(":s 433 * alice :Nickname is reserved", T0)
        self.type(app, SECRET)
        out = app.on_line(":s 421 * AUTHENTICATE :Unknown command", T0)
        self.assertEqual(out, [Disconnect("logging in as alice")])
        app.on_connection_lost("logging in as alice", T0)
        self.assertEqual(app.tick(T0), [Connect()])
        app.on_connected(T0)
        out = app.on_line(":s CAP * LS :sasl=PLAIN", T0)
        self.assertEqual(sent(app.on_line(":s CAP * ACK :sasl", T0)), ["AUTHENTICATE PLAIN"])

    def test_fatal_error_stops_reconnecting(self) -> None:
        app = self.app()
        self.start(app, "alice", "server-time")
        app.on_line(":s 465 alice :You are banned from this server", T0)
        app.on_line("ERROR :Closing link: (banned)", T0)
        app.on_connection_lost("the server closed the connection", T0)
        self.assertIsNone(app.next_deadline())
        self.assertEqual(app.tick(T0 + timedelta(minutes=5)), [])
        self.assertEqual(app.connection_label(), "stopped")
        self.assertIn("Not reconnecting: you are banned", self.shown(app))


if __name__ == "__main__":
    unittest.main()
