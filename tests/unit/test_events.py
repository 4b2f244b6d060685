"""chatd.events: how a stored event reads as an IRC line, live and replayed."""

import unittest

from chatd import events
from chatd.irc.message import parse


class EventsTest(unittest.TestCase):
    def test_format_event(self):
        cases = [
            ("PRIVMSG", "#a", "hi there", ":n!u@h PRIVMSG #a :hi there"),
            ("NOTICE", "bob", "psst", ":n!u@h NOTICE bob :psst"),
            ("TOPIC", "#a", "", ":n!u@h TOPIC #a :"),
            ("JOIN", "#a", "", ":n!u@h JOIN #a"),
            ("NICK", "newnick", "", ":n!u@h NICK newnick"),
            ("PART", "#a", "", ":n!u@h PART #a"),
            ("PART", "#a", "bye now", ":n!u@h PART #a :bye now"),
            ("QUIT", "", "Quit: gone", ":n!u@h QUIT :Quit: gone"),
        ]
        for kind, target, text, line in cases:
            with self.subTest(kind=kind, text=text):
                self.assertEqual(events.format_event(kind, "n!u@h", target, text), line)
                self.assertEqual(parse(line).command, kind)

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            events.format_event("KICK", "n!u@h", "#a", "")

    def test_server_time(self):
        cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (1_700_000_000_007, "2023-11-14T22:13:20.007Z"),
        ]
        for ts_ms, text in cases:
            with self.subTest(ts_ms=ts_ms):
                self.assertEqual(events.server_time(ts_ms), text)

    def test_tag_prefix_parses(self):
        prefix = events.tag_prefix(42, 1_700_000_000_123)
        msg = parse(prefix + ":n!u@h PRIVMSG #a :hi")
        self.assertEqual(msg.tags, {"time": "2023-11-14T22:13:20.123Z", "msgid": "42"})

    def test_replay_text(self):
        ts = 1_700_000_000_123
        cases = [
            ("PRIVMSG", "hello", "[2023-11-14 22:13 UTC] hello"),
            ("NOTICE", "hello", "[2023-11-14 22:13 UTC] hello"),
            ("PRIVMSG", "\x01ACTION waves\x01", "\x01ACTION [2023-11-14 22:13 UTC] waves\x01"),
            ("TOPIC", "\x01ACTION x\x01", "[2023-11-14 22:13 UTC] \x01ACTION x\x01"),
        ]
        for kind, text, expected in cases:
            with self.subTest(kind=kind, text=text):
                self.assertEqual(events.replay_text(kind, text, ts), expected)

    def test_private_timeline(self):
        cases = [("alice", "bob"), ("Bob", "ALICE"), ("a[1]", "A{1}")]
        for a, b in cases:
            with self.subTest(a=a, b=b):
                self.assertEqual(events.private_timeline(a, b), events.private_timeline(b, a))
                self.assertFalse(events.private_timeline(a, b).startswith("#"))
        self.assertEqual(events.private_timeline("Bob", "ALICE"), "alice bob")


if __name__ == "__main__":
    unittest.main()
