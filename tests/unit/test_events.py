"""chatd.events: how a stored event reads as an IRC line, live and replayed."""

import unittest

from chatd import events
from chatd.limits import is_nick
from ircproto.message import parse


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
            ("TAGMSG", "#a", "", ":n!u@h TAGMSG #a"),
            ("MODE", "#a", "+o-v bob carol", ":n!u@h MODE #a +o-v bob carol"),
            ("MODE", "#a", "+b *!*@x", ":n!u@h MODE #a +b *!*@x"),
            ("KICK", "#a", "bob :too loud", ":n!u@h KICK #a bob :too loud"),
        ]
        for kind, target, text, line in cases:
            with self.subTest(kind=kind, text=text):
                self.assertEqual(events.format_event(kind, "n!u@h", target, text), line)
                self.assertEqual(parse(line).command, kind)

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            events.format_event("INVITE", "n!u@h", "#a", "")

    def test_full_tag_section_parses(self):
        prefix = events.tag_section(events.WANTS_TIME | events.WANTS_TAGS, 42,
                                    1_700_000_000_123, "")
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

    def test_history_owner_is_the_account_or_the_connection(self):
        cases = [
            (("Alice", 5, 7), "~alice"),              # logged in: the account, folded
            (("a[1]", 5, 7), "~a{1}"),                # rfc1459 folding
            ((None, 1_700_000_000_000, 7), "!1700000000000.7"),  # not logged in: this connection
            (("", 5, 7), "!5.7"),
        ]
        for args, owner in cases:
            with self.subTest(args=args):
                self.assertEqual(events.history_owner(*args), owner)
        # Never a nick or a channel: neither '~' nor '!' may start one.
        for owner in ("~alice", "!5.7"):
            self.assertFalse(is_nick(owner) or owner.startswith("#"))

    def test_private_timelines_give_each_participant_a_key(self):
        # (sender owner, sender nick, recipient owner, recipient nick, keys)
        cases = [
            ("~alice", "al", "~bob", "Bob", ("~alice bob", "~bob al")),
            ("!5.1", "alice", "~bob", "bob", ("!5.1 bob", "~bob alice")),
            ("~carol", "Carol", "~carol", "carol", ("~carol carol",)),  # to oneself: one key
            ("~a", "a[1]", "~a", "A{1}", ("~a a{1}",)),
        ]
        for sender, sender_nick, recipient, recipient_nick, keys in cases:
            with self.subTest(sender=sender, recipient=recipient):
                self.assertEqual(events.private_timelines(sender, sender_nick, recipient,
                                                          recipient_nick), keys)

    def test_private_timeline_is_the_owners_key(self):
        # Each participant finds the conversation under its own key, and that key is one of
        # those the message was stored under; a third party's key, or the same nick with
        # another owner, is not.
        keys = events.private_timelines("~alice", "alice", "~bob", "Bob")
        self.assertIn(events.private_timeline("~alice", "BOB"), keys)
        self.assertIn(events.private_timeline("~bob", "ALICE"), keys)
        self.assertNotIn(events.private_timeline("~carol", "bob"), keys)
        self.assertNotIn(events.private_timeline("!5.9", "bob"), keys)  # alice's nick, not her

    def test_tag_section_per_variant(self):
        ts = 1_700_000_000_123
        time_tag = "time=2023-11-14T22:13:20.123Z"
        cases = [
            # (variant, client tags, extra, expected)
            (0, "", "", ""),
            (0, "+draft/react=x", "", ""),                      # client tags need message-tags
            (0, "", "batch=b1", "@batch=b1 "),
            (events.WANTS_TIME, "+a", "", f"@{time_tag} "),    # no msgid without message-tags
            (events.WANTS_TAGS, "", "", "@msgid=42 "),          # no time without server-time
            (events.WANTS_TAGS, "+a=1;+b", "", "@msgid=42;+a=1;+b "),
            (events.WANTS_TIME | events.WANTS_TAGS, "+a", "batch=b1",
             f"@batch=b1;{time_tag};msgid=42;+a "),
        ]
        for variant, client_tags, extra, expected in cases:
            with self.subTest(variant=variant, client_tags=client_tags, extra=extra):
                self.assertEqual(events.tag_section(variant, 42, ts, client_tags, extra),
                                 expected)

    def test_event_line(self):
        row = (7, 1_700_000_000_123, "PRIVMSG", "n!u@h", "#a", "hi there", "+x=1")
        cases = [
            (0, ":n!u@h PRIVMSG #a :hi there"),
            (events.WANTS_TIME, "@time=2023-11-14T22:13:20.123Z :n!u@h PRIVMSG #a :hi there"),
            (events.WANTS_TAGS, "@msgid=7;+x=1 :n!u@h PRIVMSG #a :hi there"),
        ]
        for variant, line in cases:
            with self.subTest(variant=variant):
                self.assertEqual(events.event_line(row, variant), line)
        full = parse(events.event_line(row, events.WANTS_TIME | events.WANTS_TAGS, "label=L"))
        self.assertEqual(full.tags, {"label": "L", "time": "2023-11-14T22:13:20.123Z",
                                     "msgid": "7", "+x": "1"})
        self.assertEqual((full.command, full.params), ("PRIVMSG", ("#a", "hi there")))
        tagmsg = (8, 0, "TAGMSG", "n!u@h", "bob", "", "+typing=active")
        self.assertEqual(events.event_line(tagmsg, events.WANTS_TAGS),
                         "@msgid=8;+typing=active :n!u@h TAGMSG bob")


if __name__ == "__main__":
    unittest.main()


class AccountEventsTest(unittest.TestCase):
    """account-tag and extended-join on stored rows (live, replayed and in CHATHISTORY alike)."""

    ROW = (5, 1_700_000_000_000, "PRIVMSG", "n!u@h", "#a", "hi", "", "Ann")

    def test_account_tag_per_variant(self):
        # (variant, row's account, line)
        cases = [
            (0, "Ann", ":n!u@h PRIVMSG #a :hi"),
            (events.WANTS_ACCOUNT, "Ann", "@account=Ann :n!u@h PRIVMSG #a :hi"),
            (events.WANTS_ACCOUNT, "", ":n!u@h PRIVMSG #a :hi"),
            (events.WANTS_ACCOUNT | events.WANTS_TAGS, "Ann",
             "@account=Ann;msgid=5 :n!u@h PRIVMSG #a :hi"),
            (events.WANTS_ACCOUNT, "back\\slash", "@account=back\\\\slash :n!u@h PRIVMSG #a :hi"),
        ]
        for variant, account, line in cases:
            with self.subTest(variant=variant, account=account):
                self.assertEqual(events.event_line(self.ROW[:7] + (account,), variant), line)

    def test_a_row_without_account_reads_as_not_logged_in(self):
        self.assertEqual(events.event_line(self.ROW[:7], events.WANTS_ACCOUNT),
                         ":n!u@h PRIVMSG #a :hi")

    def test_extended_join(self):
        join = (6, 0, "JOIN", "n!u@h", "#a", "Ann Example", "", "Ann")
        self.assertEqual(events.event_line(join, 0), ":n!u@h JOIN #a")
        self.assertEqual(events.event_line(join, events.WANTS_EXTENDED_JOIN),
                         ":n!u@h JOIN #a Ann :Ann Example")
        self.assertEqual(events.event_line(join[:7] + ("",), events.WANTS_EXTENDED_JOIN),
                         ":n!u@h JOIN #a * :Ann Example")

    def test_stamped_replay_keeps_the_account(self):
        line = events.stamped_replay_line(self.ROW, events.WANTS_ACCOUNT)
        self.assertRegex(line, r"^@account=Ann :n!u@h PRIVMSG #a :\[\S+ \S+ UTC\] hi$")

    def test_relevant_bits(self):
        plain = events.WANTS_TIME | events.WANTS_TAGS
        self.assertEqual(events.relevant_bits("PRIVMSG", ""), plain)
        self.assertEqual(events.relevant_bits("PRIVMSG", "Ann"), plain | events.WANTS_ACCOUNT)
        self.assertEqual(events.relevant_bits("JOIN", ""), plain | events.WANTS_EXTENDED_JOIN)
