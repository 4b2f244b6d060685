"""tui.typing_notices: typing notifications sent (throttled, paused, done, only where allowed)
and received (shown until a message, leaving, done or expiry), and the status bar text."""

import unittest
from datetime import timedelta

from tests.unit.test_tui_support import T0, Harness, sent
from tui.app import App
from tui.commands import run_input
from tui.typing_notices import tag_denied, typing_text


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


class SendingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness(caps="message-tags server-time")
        self.h.register()
        self.h.join()
        self.lobby = self.h.buffer("#lobby")
        self.typing = self.h.session.typing

    def typed(self, text: str, seconds: float, buf=None) -> list[str]:
        return sent(self.typing.input_changed(buf or self.lobby, text, at(seconds)))

    def test_active_throttled_then_paused_then_done(self) -> None:
        self.assertEqual(self.typed("h", 0), ["@+typing=active TAGMSG #lobby"])
        self.assertEqual(self.typed("he", 1), [])  # within 3 s of the last one
        self.assertEqual(self.typed("hel", 3), ["@+typing=active TAGMSG #lobby"])
        self.assertEqual(sent(self.typing.tick(at(8))), [])  # 5 s after the last change
        self.assertEqual(self.typing.deadline(), at(9))
        self.assertEqual(sent(self.typing.tick(at(9))), ["@+typing=paused TAGMSG #lobby"])
        self.assertEqual(sent(self.typing.tick(at(30))), [])  # paused is said once
        self.assertEqual(self.typed("", 31), ["@+typing=done TAGMSG #lobby"])
        self.assertEqual(self.typed("", 40), [])  # done once

    def test_done_held_back_by_the_throttle_goes_later(self) -> None:
        self.typed("x", 0)
        self.assertEqual(self.typed("", 1), [])
        self.assertEqual(self.typing.deadline(), at(3))
        self.assertEqual(sent(self.typing.tick(at(3))), ["@+typing=done TAGMSG #lobby"])
        self.typed("y", 10)
        self.typed("", 11)
        self.typed("yz", 12)  # typing again before the held-back done: it never goes
        self.assertEqual(sent(self.typing.tick(at(14))), [])

    def test_a_sent_message_needs_no_done(self) -> None:
        self.typed("hello", 0)
        self.typing.message_sent()
        self.assertEqual(self.typed("", 5), [])
        self.assertEqual(self.typed("next", 6), ["@+typing=active TAGMSG #lobby"])

    def test_slash_commands_are_not_typing(self) -> None:
        self.assertEqual(self.typed("/join #x", 0), [])
        self.assertEqual(self.typed("//not a command", 1), ["@+typing=active TAGMSG #lobby"])
        self.assertEqual(self.typed("/", 5), ["@+typing=done TAGMSG #lobby"])

    def test_private_buffers_only_once_the_user_opened_them(self) -> None:
        self.h.recv(":mallory!m@h PRIVMSG alice :hi there")
        mallory = self.h.buffer("mallory")
        self.assertEqual(self.typed("who are", 0, mallory), [])
        run_input("/query bob", self.h.session, self.h.state, self.h.now)
        self.assertEqual(self.typed("hey", 10, self.h.buffer("bob")),
                         ["@+typing=active TAGMSG bob"])
        self.h.recv(":zed!z@h PRIVMSG alice :psst")
        zed = self.h.buffer("zed")
        self.assertEqual(self.typed("x", 15, zed), ["@+typing=done TAGMSG bob"])
        self.h.state.focus(zed)
        run_input("who is this?", self.h.session, self.h.state, self.h.now)  # answered
        self.assertEqual(self.typed("y", 16, zed), ["@+typing=active TAGMSG zed"])
        run_input("/msg mallory ok", self.h.session, self.h.state, self.h.now)
        self.assertEqual(self.typed("so", 20, mallory), ["@+typing=done TAGMSG zed",
                                                          "@+typing=active TAGMSG mallory"])

    def test_not_without_message_tags_or_when_the_server_denies_the_tag(self) -> None:
        h = Harness(caps="server-time")
        h.register()
        h.join()
        self.assertEqual(h.session.typing.input_changed(h.buffer("#lobby"), "x", T0), [])
        self.h.recv(":srv 005 alice CLIENTTAGDENY=*,-react :are supported")
        self.assertEqual(self.typed("x", 0), [])
        cases = [("", False), ("*", True), ("typing", True), ("*,-typing", False),
                 ("react,typing", True), ("-typing", False)]
        for value, denied in cases:
            with self.subTest(value=value):
                self.assertEqual(tag_denied(value), denied)

    def test_the_app_reports_changes_of_the_input_line(self) -> None:
        app = App("chat.test", 6667, nick="alice")
        app.on_connected(T0)
        for line in (":s CAP * LS :message-tags", ":s CAP * ACK :message-tags",
                     ":s 001 alice :Welcome", ":s 422 alice :No MOTD",
                     ":alice!a@h JOIN #lobby"):
            app.on_line(line, T0)
        app.input.insert("hi")
        self.assertIn("@+typing=active TAGMSG #lobby",
                      [getattr(a, "line", "") for a in app.tick(at(1))])
        app.submit(at(2))
        self.assertFalse(any("done" in getattr(a, "line", "") for a in app.tick(at(10))))


class ReceivingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness(caps="message-tags server-time")
        self.h.register()
        self.h.join(names="alice bob carol dave eve")
        self.lobby = self.h.buffer("#lobby")
        self.typing = self.h.session.typing

    def typers(self, seconds: float = 0) -> list[str]:
        return self.typing.typing_in(self.lobby, at(seconds))

    def test_until_a_message_done_or_leaving(self) -> None:
        self.h.recv("@+typing=active :bob!b@h TAGMSG #lobby",
                    "@+draft/typing=active :carol!c@h TAGMSG #lobby",
                    "@+typing=active :dave!d@h TAGMSG #lobby",
                    "@+typing=active :eve!e@h TAGMSG #lobby",
                    "@+typing=bogus :mallory!m@h TAGMSG #lobby",
                    "@+typing=active :alice!a@h TAGMSG #lobby")  # our own echo
        self.assertEqual(self.typers(), ["bob", "carol", "dave", "eve"])
        self.h.recv(":bob!b@h PRIVMSG #lobby :hi", "@+typing=done :carol!c@h TAGMSG #lobby",
                    ":dave!d@h PART #lobby", ":eve!e@h QUIT :bye")
        self.assertEqual(self.typers(), [])

    def test_expiry_after_active_and_after_paused(self) -> None:
        self.h.recv("@+typing=active :bob!b@h TAGMSG #lobby",
                    "@+typing=paused :carol!c@h TAGMSG #lobby")
        self.assertEqual(self.typing.deadline(), at(6))
        self.assertEqual(self.typers(5.9), ["bob", "carol"])
        self.assertEqual(self.typers(6), ["carol"])
        self.h.advance(30)
        self.assertEqual(self.typers(30), [])
        self.assertIsNone(self.typing.deadline())

    def test_private_typing_only_in_an_existing_buffer_and_never_from_the_ignored(self) -> None:
        self.h.recv("@+typing=active :zed!z@h TAGMSG alice")
        self.assertIsNone(self.h.state.get("zed"))
        run_input("/query zed", self.h.session, self.h.state, self.h.now)
        self.h.recv("@+typing=active :zed!z@h TAGMSG alice")
        self.assertEqual(self.typing.typing_in(self.h.buffer("zed"), T0), ["zed"])
        self.h.session.ctx.ignores.add("bob")
        self.h.recv("@+typing=active :bob!b@h TAGMSG #lobby")
        self.assertEqual(self.typers(), [])

    def test_status_text(self) -> None:
        cases = [([], ""), (["bob"], "bob is typing…"),
                 (["bob", "carol"], "bob and carol are typing…"),
                 (["a", "b", "c"], "a, b and c are typing…"),
                 (["a", "b", "c", "d"], "4 people are typing…")]
        for nicks, text in cases:
            with self.subTest(nicks=nicks):
                self.assertEqual(typing_text(nicks), text)


if __name__ == "__main__":
    unittest.main()
