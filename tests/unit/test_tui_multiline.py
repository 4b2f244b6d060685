"""Messages of several lines: bracketed paste and Alt-Enter (tui.keys, the input line), one
IRCv3 draft/multiline message when the server takes them (tui.multiline, the outbox, echoes and
history), the "send N lines?" question when it does not, and how they are drawn."""

import unittest

from ircproto.message import parse
from tests.unit.test_tui_support import ALL_CAPS, MASK, T0, Harness, sent
from tui.app import App, Mode
from tui.batch import Batch
from tui.command_context import ConfirmLines
from tui.commands import run_input
from tui.effects import Send
from tui.inputline import InputLine
from tui.keys import PasteReader, after_escape, paste_text
from tui.multiline import Limits, batch_lines, combine, fits, limits, pieces
from tui.render import line_rows
from tui.state import Delivery, Kind, Line

MULTILINE_CAPS = ALL_CAPS + " draft/multiline=max-bytes=4096,max-lines=10"


def row_texts(rows) -> list[str]:
    return ["".join(t for t, _ in row) for row in rows]


class MultilineTest(unittest.TestCase):
    def test_limits(self) -> None:
        cases = [("max-bytes=4096,max-lines=100", Limits(4096, 100)),
                 ("max-lines=5,max-bytes=40000,future=x", Limits(40000, 5)),
                 ("max-bytes=512", Limits(512, None)), ("max-lines=5", None), ("", None),
                 (None, None), ("max-bytes=0", None), ("max-bytes=-3", None)]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(limits(value), expected)

    def test_pieces_split_long_lines_with_concat(self) -> None:
        self.assertEqual(pieces("hello\n\nhow is everyone?", 9),
                         [("hello", False), ("", False), ("how is ", False),
                          ("everyone?", True)])

    def test_fits(self) -> None:
        bounds = Limits(20, 3)
        cases = [("a\nb\nc", True), ("a\nb\nc\nd", False), ("a" * 10 + "\n" + "b" * 9, True),
                 ("a" * 10 + "\n" + "b" * 10, False), ("\n \n", False)]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(fits(text, 100, bounds), expected)

    def test_batch_lines(self) -> None:
        self.assertEqual(batch_lines("r1", "PRIVMSG", "#c", "hi\nhow is everyone?", 9,
                                     {"label": "x", "+chatd/nonce": "n"}), [
            "@label=x;+chatd/nonce=n BATCH +r1 draft/multiline #c",
            "@batch=r1 PRIVMSG #c hi",
            "@batch=r1 PRIVMSG #c :how is ",
            "@batch=r1;draft/multiline-concat PRIVMSG #c everyone?",
            "BATCH -r1"])

    def test_combine(self) -> None:
        batch = Batch("r", "draft/multiline", ("#c",), {"msgid": "7", "time": "t"})
        batch.items = [parse("@batch=r :bob!b@h PRIVMSG #c hello"),
                       parse("@batch=r :bob!b@h PRIVMSG #c :"),
                       parse("@batch=r :bob!b@h PRIVMSG #c :how is "),
                       parse("@batch=r;draft/multiline-concat :bob!b@h PRIVMSG #c everyone?")]
        msg = combine(batch)
        self.assertEqual((msg.command, msg.params, msg.source, msg.tags),
                         ("PRIVMSG", ("#c", "hello\n\nhow is everyone?"), "bob!b@h",
                          {"msgid": "7", "time": "t"}))
        self.assertIsNone(combine(Batch("r", "draft/multiline", ("#c",), {})))


class SendingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness(caps=MULTILINE_CAPS)
        self.h.register()
        self.h.join()
        self.h.answer([])

    def run_(self, text: str) -> list:
        return run_input(text, self.h.session, self.h.state, self.h.now)

    def test_one_message_echoed_as_one(self) -> None:
        out = sent(self.run_("one\ntwo\nthree"))
        self.assertEqual([parse(line).command for line in out],
                         ["BATCH", "PRIVMSG", "PRIVMSG", "PRIVMSG", "BATCH"])
        opening = parse(out[0])
        self.assertEqual(opening.params[1:], ("draft/multiline", "#lobby"))
        self.assertIn("label", opening.tags)
        self.assertIn("+chatd/nonce", opening.tags)
        self.assertEqual({tuple(parse(line).tags) for line in out[1:4]}, {("batch",)})
        line = self.h.buffer("#lobby").lines[-1]
        self.assertEqual((line.text, line.delivery), ("one\ntwo\nthree", Delivery.PENDING))
        ref = parse(out[0]).params[0][1:]
        echo = [f"@label={opening.tags['label']};msgid=9;time=2026-11-25T18:00:00.000Z;"
                f"+chatd/nonce={opening.tags['+chatd/nonce']} :{MASK} BATCH +{ref} "
                "draft/multiline #lobby"]
        echo += [f"@batch={ref} :{MASK} PRIVMSG #lobby {word}" for word in ("one", "two",
                                                                             "three")]
        self.h.recv(*echo, f":{MASK} BATCH -{ref}")
        line = self.h.buffer("#lobby").lines[-1]
        self.assertEqual((line.text, line.delivery, line.msgid),
                         ("one\ntwo\nthree", Delivery.SENT, "9"))
        self.assertEqual(len(self.h.session.outbox), 0)

    def test_received_live_and_in_history_as_one_message(self) -> None:
        self.h.recv("@msgid=20 :bob!b@h BATCH +m draft/multiline #lobby",
                    "@batch=m :bob!b@h PRIVMSG #lobby :line 1",
                    "@batch=m :bob!b@h PRIVMSG #lobby :line 2", ":bob!b@h BATCH -m")
        self.assertEqual(self.h.texts("#lobby")[-1], "line 1\nline 2")
        buf = self.h.buffer("#lobby")
        buf.history_start = False
        self.h.session.load_older(buf)
        request = self.h.last("CHATHISTORY")
        self.h.recv(f"@label={request.tags['label']} :srv BATCH +h chathistory #lobby",
                    "@batch=h;msgid=3 :bob!b@h BATCH +n draft/multiline #lobby",
                    "@batch=n :bob!b@h PRIVMSG #lobby :old 1",
                    "@batch=n;draft/multiline-concat :bob!b@h PRIVMSG #lobby : and more",
                    "@batch=n :bob!b@h PRIVMSG #lobby :old 2", ":bob!b@h BATCH -n",
                    ":srv BATCH -h")
        self.assertIn("old 1 and more\nold 2", self.h.texts("#lobby"))

    def test_too_long_for_the_server_asks_first(self) -> None:
        text = "\n".join(f"line {i}" for i in range(11))  # max-lines=10
        [ask] = self.run_(text)
        self.assertEqual((ask.target, ask.count), ("#lobby", 11))

    def test_a_command_or_an_action_is_one_line(self) -> None:
        for text in ("/topic a\nb", "/me waves\nagain"):
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), [])
                self.assertEqual(self.h.buffer("#lobby").lines[-1].kind, Kind.ERROR)

    def test_queued_then_the_server_no_longer_takes_them(self) -> None:
        self.h.session.disconnected("gone", self.h.now)
        self.run_("a\nb")
        self.h.caps = ALL_CAPS
        self.h.register()
        self.h.join()
        self.h.answer([])
        self.assertNotIn("BATCH", " ".join(self.h.lines[-5:]))
        line = next(line for line in self.h.buffer("#lobby").lines if line.text == "a\nb")
        self.assertEqual(line.delivery, Delivery.FAILED)


class FallbackTest(unittest.TestCase):
    """A server without draft/multiline: the app asks before sending each line apart."""

    def setUp(self) -> None:
        self.app = App("chat.test", 6667, nick="alice")
        self.app.on_connected(T0)
        for line in (":s 001 alice :Welcome", ":s 422 alice :No MOTD",
                     ":alice!a@h JOIN #lobby"):
            self.app.on_line(line, T0)

    def test_yes_sends_each_line(self) -> None:
        self.app.paste("one\n\ntwo\nthree")
        self.assertEqual(self.app.prompt, "[4 lines] ")
        self.assertEqual(self.app.submit(T0), [])
        self.assertEqual((self.app.mode, self.app.prompt),
                         (Mode.CONFIRM, "Send 3 lines as 3 messages? (y/n) "))
        self.app.input.insert("y")
        self.assertEqual(self.app.submit(T0), [Send("PRIVMSG #lobby one"),
                                               Send("PRIVMSG #lobby two"),
                                               Send("PRIVMSG #lobby three")])
        self.assertEqual(self.app.mode, Mode.CHAT)

    def test_no_puts_the_text_back(self) -> None:
        self.app.paste("one\ntwo")
        self.app.submit(T0)
        self.app.input.insert("n")
        self.assertEqual(self.app.submit(T0), [])
        self.assertEqual((self.app.mode, self.app.input.text), (Mode.CHAT, "one\ntwo"))

    def test_a_paste_in_a_prompt_takes_its_first_line(self) -> None:
        app = App("chat.test", 6667, nick=None)
        app.input.set("")
        app.paste("bob2\nrm -rf")
        self.assertEqual((app.mode, app.input.text, app.prompt), (Mode.NAME, "bob2",
                                                                  "Your name: "))

    def test_confirm_lines_counts_only_lines_with_text(self) -> None:
        ask = ConfirmLines("#c", "a\n \nb", self.app.state.current)
        self.assertEqual((ask.count, ask.lines), (2, ["a", "b"]))


class InputAndKeysTest(unittest.TestCase):
    def test_newlines_only_where_meant(self) -> None:
        line = InputLine()
        line.insert("a\nb")
        self.assertEqual(line.text, "ab")
        line.insert("\nc\nd", lines=True)
        self.assertEqual((line.text, line.line_count), ("ab\nc\nd", 3))
        self.assertEqual(line.view(20), ("ab↵c↵d", 6))
        self.assertEqual(line.submit(), "ab\nc\nd")
        line.history_prev()
        self.assertEqual(line.text, "ab\nc\nd")  # recalled whole
        line.masked = True
        line.set("")
        line.insert("x\ny", lines=True)
        self.assertEqual(line.text, "xy")  # never a line break in a password

    def test_after_escape(self) -> None:
        cases = [("", None), ("3", ("app", "switch", (2,))), ("0", ("app", "switch", (9,))),
                 ("b", ("input", "word_left", ())), ("\r", ("app", "paste", ("\n",))),
                 ("\x7f", ("input", "kill_word", ())), ("[200~", ("loop", "start_paste", ())),
                 ("[201~", None), ("[A", None), ("z", None)]
        for keys, expected in cases:
            with self.subTest(keys=keys):
                pending = list(keys)
                self.assertEqual(after_escape(lambda: pending.pop(0) if pending else None),
                                 expected)

    def test_paste_reader(self) -> None:
        reader = PasteReader()
        results = [reader.feed(key, 0.01 * i) for i, key in
                   enumerate("one\rtwo\r\tthree\r\x1b[201~")]
        self.assertEqual(results[-1], "one\ntwo\n    three")
        self.assertEqual(results[:-1], [None] * (len(results) - 1))
        self.assertEqual(paste_text("a\r\nb\x07\x1bc\n\n"), "a\nbc")

    def test_a_paste_without_its_end_ends_at_the_next_key_after_a_pause(self) -> None:
        reader = PasteReader()
        self.assertEqual([reader.feed(key, 0.0) for key in "ab\r"], [None] * 3)
        self.assertEqual(reader.feed("c", 5.0), "ab\nc")

    def test_alt_enter_is_a_line_break_in_chat_only(self) -> None:
        app = App("chat.test", 6667, nick=None)
        app.input.set("bob")
        app.paste("\n")
        self.assertEqual(app.input.text, "bob")  # the name prompt takes no line break
        chat = App("chat.test", 6667, nick="alice")
        chat.input.insert("one")
        chat.paste("\n")
        chat.input.insert("two")
        self.assertEqual((chat.input.text, chat.prompt), ("one\ntwo", "[2 lines] "))


class DrawingTest(unittest.TestCase):
    def test_each_line_below_the_first_at_the_indent(self) -> None:
        line = Line(T0, Kind.MESSAGE, "hello\n\nhow is everyone", nick="bob",
                    delivery=Delivery.PENDING)
        rows = line_rows(line, 24)
        self.assertEqual(row_texts(rows), [
            f"{T0.astimezone().strftime('%H:%M')} bob: hello", " " * 11,
            " " * 11 + "how is ", " " * 11 + "everyone ⋯"])
        # Waiting for its echo: every line of it dimmed, not only the last ones.
        self.assertEqual([row[-1][1].dim for row in rows if row[-1][0].strip()],
                         [True, True, True])


if __name__ == "__main__":
    unittest.main()
