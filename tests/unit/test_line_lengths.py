"""Every line chatd sends that is not a numeric fits 512 bytes with its CRLF (tags apart), with
the longest names chatd allows: relayed events (PRIVMSG/NOTICE refused with 417 when they would
not fit; a JOIN's realname, a PART or QUIT reason and a topic fitted before they are stored, so
what was shown is what the history holds), their replays, and the lines a worker builds
itself (PONG, ERROR, FAIL, CAP). Numerics: tests/unit/test_reply_lengths.py."""

import unittest

from chatd import events
from chatd.hub.hub import Emit
from chatd.limits import CHANNELLEN, NICKLEN, TOPICLEN
from chatd.serverinfo import closing_link
from ircproto import numerics as N
from ircproto.framing import MAX_BODY_NO_CRLF_BYTES
from ircproto.message import Message, fitted_line, parse
from tests.unit.test_hub import add_client, codes, make_hub, run
from tests.unit.test_session import feed, make_session, register, take_out

LIMIT = MAX_BODY_NO_CRLF_BYTES  # 510: 512 with CRLF
NICK = "n" * NICKLEN
USER = "\U0001d400" * 16  # the worker keeps 16 letters or digits: 4 bytes each at most
HOST = "h" * 63  # longer than any address or cloak chatd shows
SOURCE = f"{NICK}!{USER}@{HOST}"
CHANNEL = "#" + "\U0001f600" * (CHANNELLEN - 1)  # 197 bytes
ACCOUNT = "a" * NICKLEN
TEXTS = {"ascii": "x" * 600, "two-byte": "\u00e9" * 300, "four-byte": "\U0001f600" * 150}


def body(line: str) -> str:
    """A line without its tag section."""
    return line.split(" ", 1)[1] if line.startswith("@") else line


def size(line: str) -> int:
    return len(body(line).encode("utf-8"))


class FittedLineTest(unittest.TestCase):
    def test_a_long_trailing_text_is_cut_at_a_character_boundary(self):
        for kind, text in TEXTS.items():
            with self.subTest(kind=kind):
                line = fitted_line(Message("PONG", ("chat.test", text), "chat.test"))
                self.assertLessEqual(size(line), LIMIT)
                self.assertGreater(size(line), LIMIT - 4)  # cut no more than one character
                self.assertTrue(text.startswith(parse(line).params[-1]))

    def test_an_echoed_word_is_what_gives_way(self):
        # 421 for a 500-byte command word: the word is cut, the text stays.
        line = fitted_line(Message(N.ERR_UNKNOWNCOMMAND, ("nick", "X" * 500, "Unknown command"),
                                   "chat.test"))
        self.assertLessEqual(size(line), LIMIT)
        self.assertEqual(parse(line).params[-1], "Unknown command")

    def test_a_line_that_fits_is_unchanged(self):
        msg = Message("FAIL", ("CHATHISTORY", "INVALID_TARGET", "#a", "No such target"), "s")
        self.assertEqual(fitted_line(msg), msg.format())

    def test_the_error_line_of_a_long_quit_fits(self):
        line = closing_link(USER, HOST, "Quit: " + "q" * 600)
        self.assertLessEqual(size(line), LIMIT)
        self.assertTrue(line.endswith("qq]"))


class EventLinesTest(unittest.TestCase):
    def check_every_variant(self, row: tuple) -> None:
        for variant in range(events.VARIANTS):
            self.assertLessEqual(size(events.event_line(row, variant)), LIMIT, variant)
            self.assertLessEqual(size(events.stamped_replay_line(row, variant)), LIMIT, variant)

    def test_a_fitted_text_fits_every_variant_and_is_a_prefix(self):
        for kind, target in (("PRIVMSG", CHANNEL), ("NOTICE", NICK), ("TOPIC", CHANNEL),
                             ("PART", CHANNEL), ("QUIT", ""), ("JOIN", CHANNEL)):
            for name, text in TEXTS.items():
                with self.subTest(kind=kind, text=name):
                    fitted = events.fit_event_text(kind, SOURCE, target, text, ACCOUNT)
                    self.assertTrue(text.startswith(fitted))
                    self.assertGreater(len(fitted.encode()), 100)  # the room there is
                    line = events.format_event(kind, SOURCE, target, fitted, True, ACCOUNT)
                    self.assertGreater(size(line), LIMIT - 4)
                    self.check_every_variant((1, 0, kind, SOURCE, target, fitted, "", ACCOUNT))

    def test_a_text_that_fits_is_kept_whole(self):
        self.assertEqual(events.fit_event_text("PART", SOURCE, CHANNEL, "bye"), "bye")
        for kind in ("NICK", "TAGMSG"):  # no text in the line
            self.assertEqual(events.fit_event_text(kind, SOURCE, NICK, ""), "")

    def test_an_oversized_row_from_an_older_chatd_is_cut_when_sent(self):
        for kind, target in (("PRIVMSG", CHANNEL), ("JOIN", CHANNEL), ("QUIT", "")):
            with self.subTest(kind=kind):
                row = (1, 1_700_000_000_000, kind, SOURCE, target, "\u00e9" * 400, "", ACCOUNT)
                self.check_every_variant(row)

    def test_a_stamped_replay_marks_its_cut(self):
        text = events.fit_event_text("PRIVMSG", SOURCE, CHANNEL, "x" * 600)
        row = (1, 1_700_000_000_000, "PRIVMSG", SOURCE, CHANNEL, text, "", "")
        line = events.stamped_replay_line(row, 0)
        self.assertLessEqual(size(line), LIMIT)
        self.assertTrue(line.endswith("x…"))


class HubEventsTest(unittest.TestCase):
    """The master fits texts before the event is stored: the Emit holds the fitted text."""

    def setUp(self):
        self.hub = make_hub()
        self.client = add_client(self.hub, 1, NICK)
        self.client.user, self.client.host, self.client.account = USER, HOST, ACCOUNT
        self.client.realname = "r" * 500

    def emitted(self, effects: list) -> list[Emit]:
        found = [e for e in effects if isinstance(e, Emit)]
        for event in found:
            # Stored as it is sent: every line shows the whole text, not a cut of it.
            self.assertEqual(event.text, events.fit_event_text(
                event.kind, event.source, event.target, event.text, event.account))
            row = (1, 0, event.kind, event.source, event.target, event.text, "", event.account)
            for variant in range(events.VARIANTS):
                self.assertLessEqual(size(events.event_line(row, variant)), LIMIT)
        return found

    def test_join_part_topic_quit(self):
        (join,) = self.emitted(run(self.hub, self.client, f"JOIN {CHANNEL}"))
        self.assertTrue(self.client.realname.startswith(join.text))
        (topic,) = self.emitted(run(self.hub, self.client, f"TOPIC {CHANNEL} :" + "t" * 450))
        self.assertEqual(self.hub.registry.channel(CHANNEL).topic, topic.text)  # shown = kept
        self.assertLess(len(topic.text), TOPICLEN)
        # The same long topic again is no change: nothing is announced.
        self.assertEqual([], self.emitted(run(self.hub, self.client,
                                              f"TOPIC {CHANNEL} :" + "t" * 450)))
        (part,) = self.emitted(run(self.hub, self.client, f"PART {CHANNEL} :" + "p" * 450))
        self.assertTrue(part.text.startswith("ppp"))
        self.hub.connection_closed(self.client, "Quit: " + "q" * 500)
        (quit_event,) = self.emitted(self.hub.take_effects())
        self.assertTrue(quit_event.text.startswith("Quit: qqq"))

    def test_a_message_that_would_not_fit_is_refused_not_cut(self):
        other = add_client(self.hub, 2, "other")
        head = f":{SOURCE} PRIVMSG other :"
        room = LIMIT - len(head.encode())
        self.assertEqual([N.ERR_INPUTTOOLONG],
                         codes(run(self.hub, self.client, "PRIVMSG other :" + "m" * (room + 1))))
        (message,) = self.emitted(run(self.hub, self.client, "PRIVMSG other :" + "m" * room))
        self.assertEqual(message.text, "m" * room)  # exactly full: sent whole
        self.assertEqual(other.nick, message.target)


class WorkerLinesTest(unittest.TestCase):
    """take_out (tests/unit/test_session.py) asserts every line is at most 512 bytes."""

    def setUp(self):
        self.session = make_session()
        register(self.session, "n" * NICKLEN)

    def test_pong_with_a_long_token(self):
        feed(self.session, "PING :" + "p" * 504)
        (pong,) = [m for m in take_out(self.session) if m.command == "PONG"]
        self.assertTrue(pong.params[-1].startswith("ppp"))

    def test_error_line_after_a_long_quit(self):
        feed(self.session, "QUIT :" + "q" * 504)
        (error,) = take_out(self.session)
        self.assertEqual(error.command, "ERROR")

    def test_a_cap_ack_too_long_to_echo_is_a_nak(self):
        feed(self.session, "CAP REQ :" + "sasl " * 99 + "sasl")
        (nak,) = take_out(self.session)
        self.assertEqual(nak.params[1], "NAK")

    def test_fail_echoing_a_long_target(self):
        feed(self.session, "CAP REQ draft/chathistory")
        take_out(self.session)
        feed(self.session, "CHATHISTORY LATEST #" + "c" * 470 + " * 10")
        (fail,) = take_out(self.session)
        self.assertEqual(fail.command, "FAIL")


if __name__ == "__main__":
    unittest.main()
