"""chatd.hub.storing: what the history keeps of a message (TAGMSGs, client tags), each
client's budget of stored bytes, and the refusals while the disk is low — driven through the
Hub's handlers as the master runs them (tests/unit/test_hub.py's helpers)."""

import unittest

from chatd.hub import storing
from chatd.hub.hub import Emit
from chatd.hub.sequencer import Sequencer
from tests.unit.test_hub import add_client, emits, make_hub, replies, run

TEXT = "x" * 400


def with_tags(hub, tags: str, client, line: str) -> list:
    hub.command_tags = tags
    try:
        return run(hub, client, line)
    finally:
        hub.command_tags = ""


class WhatIsKeptTest(unittest.TestCase):
    def test_a_tagmsg_is_kept_only_with_a_reaction(self):
        cases = [
            ("+typing=active", False),
            ("+draft/typing=paused", False),
            ("+example.com/x=1", False),
            ("", False),
            ("+draft/react=\U0001f44d;+draft/reply=12", True),
            ("+typing=active;+react=ok", True),
            ("+draft/reactx=1", False),
        ]
        for tags, kept in cases:
            with self.subTest(tags=tags):
                self.assertEqual(storing.keeps_tagmsg(tags), kept)

    def test_stored_tags_are_bounded_whole_tags_without_typing(self):
        big = "+a=" + "v" * 600
        cases = [
            ("", ""),
            ("+draft/reply=5;+typing=active", "+draft/reply=5"),
            (f"{big};+chatd/nonce=abc", "+chatd/nonce=abc"),     # the big one is left out
            ("+b=" + "w" * 505, "+b=" + "w" * 505),              # 509 bytes: fits
            ("+b=" + "w" * 505 + ";+c=1234", "+b=" + "w" * 505),  # 509 + 1 + 6 > 512
            ("+b=" + "w" * 505 + ";+c", "+b=" + "w" * 505 + ";+c"),  # exactly 512
        ]
        for tags, stored in cases:
            with self.subTest(tags=tags[:40]):
                self.assertEqual(storing.stored_tags(tags), stored)
                self.assertLessEqual(len(storing.stored_tags(tags).encode()),
                                     storing.STORED_TAGS_MAX_BYTES)

    def test_the_history_gets_the_bounded_tags_and_the_relay_all_of_them(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #a")
        tags = "+a=" + "v" * 600 + ";+draft/reply=3"
        [emit] = emits(with_tags(hub, tags, alice, "PRIVMSG #a :hi"))
        self.assertEqual((emit.tags, emit.stored_tags), (tags, "+draft/reply=3"))
        sequencer = Sequencer(0, 0)
        sequencer.add([emit], 1)
        [row] = sequencer.take_rows()
        self.assertEqual(row.tags, "+draft/reply=3")
        # A typing notification is relayed with no timeline: the writer stores no row.
        [typing] = emits(with_tags(hub, "+typing=active", alice, "TAGMSG #a"))
        self.assertEqual((typing.tags, typing.convs), ("+typing=active", ()))


class BudgetTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub(history_client_bytes_per_s=1000)
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob")
        run(self.hub, self.alice, "JOIN #a")
        run(self.hub, self.bob, "JOIN #a")

    def send_until_refused(self, client, line: str = f"PRIVMSG #a :{TEXT}") -> tuple[int, list]:
        for sent in range(1000):
            effects = run(self.hub, client, line)
            if not emits(effects):
                return sent, effects
        self.fail("never refused")

    def test_a_client_past_its_budget_is_refused_and_told(self):
        size = storing.stored_bytes(self.alice.source, "#a", TEXT, "", ("#a",))
        burst = 1000 * storing.BURST_SECONDS
        sent, effects = self.send_until_refused(self.alice)
        self.assertEqual(sent, burst // size)
        [notice] = replies(effects)  # no standard-replies: a server NOTICE
        self.assertEqual((notice.source, notice.command, notice.params[0]),
                         ("chat.example", "NOTICE", "alice"))
        self.assertIn("PRIVMSG #a: You are sending more than the history may keep "
                      "(1000 bytes/s)", notice.params[1])
        # Others are not charged for it.
        self.assertEqual(len(emits(run(self.hub, self.bob, "PRIVMSG #a :hi"))), 1)
        # With standard-replies: FAIL, for a NOTICE, a TOPIC and a reaction too (even the
        # smallest: the budget is spent).
        self.alice.caps = frozenset({"standard-replies"})
        self.alice.stored_allowance = 0.0
        for line, command in ((f"PRIVMSG #a :{TEXT}", "PRIVMSG"), ("NOTICE #a :x", "NOTICE"),
                              ("TOPIC #a :new", "TOPIC"), ("TAGMSG #a", "TAGMSG")):
            with self.subTest(line=line):
                tags = "+draft/react=x" if command == "TAGMSG" else ""
                effects = with_tags(self.hub, tags, self.alice, line)
                self.assertEqual(emits(effects), [])
                [fail] = replies(effects)
                self.assertEqual(fail.params[:3], (command, "RATE_LIMITED", "#a"))
        # A typing notification is not stored: not charged, still relayed.
        self.assertEqual(len(emits(with_tags(self.hub, "+typing=active", self.alice,
                                             "TAGMSG #a"))), 1)
        # The budget refills at the rate: two seconds later, 2000 bytes more.
        self.hub.now_ms += 2000
        self.assertEqual(self.send_until_refused(self.alice)[0], 2000 // size)
        self.hub.now_ms += 3_600_000  # and never beyond the burst
        self.assertEqual(self.send_until_refused(self.alice)[0], burst // size)

    def test_exempt_addresses_and_zero_are_not_limited(self):
        hub = make_hub(history_client_bytes_per_s=0)
        carol = add_client(hub, 3, "carol")
        run(hub, carol, "JOIN #c")
        for _ in range(200):
            self.assertEqual(len(emits(run(hub, carol, f"PRIVMSG #c :{TEXT}"))), 1)
        local = add_client(self.hub, 4, "local")
        self.hub.registry.clients[4].address = "127.0.0.1"  # in the default [limits] exempt
        run(self.hub, local, "JOIN #a")
        for _ in range(200):
            self.assertEqual(len(emits(run(self.hub, local, f"PRIVMSG #a :{TEXT}"))), 1)


class DiskLowTest(unittest.TestCase):
    def test_messages_are_refused_and_the_rest_goes_on(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        bob = add_client(hub, 2, "bob")
        run(hub, alice, "JOIN #a")
        alice.caps = frozenset({"standard-replies"})
        hub.disk_low = True
        for line, command, tags in (("PRIVMSG #a :hi", "PRIVMSG", ""),
                                    ("PRIVMSG bob :hi", "PRIVMSG", ""),
                                    ("NOTICE #a :hi", "NOTICE", ""),
                                    ("TOPIC #a :t", "TOPIC", ""),
                                    ("TAGMSG #a", "TAGMSG", "+draft/react=x")):
            with self.subTest(line=line):
                effects = with_tags(hub, tags, alice, line)
                self.assertEqual(emits(effects), [])
                [fail] = replies(effects)
                self.assertEqual((fail.command, *fail.params[:3]),
                                 ("FAIL", command, "TEMPORARILY_UNAVAILABLE",
                                  line.split()[1]))
                self.assertIn("almost out of disk space", fail.params[3])
        # Not stored: relayed as ever. Membership and queries too.
        self.assertEqual(len(emits(with_tags(hub, "+typing=active", alice, "TAGMSG #a"))), 1)
        self.assertIsInstance(emits(run(hub, bob, "JOIN #a"))[0], Emit)
        self.assertEqual(len(emits(run(hub, bob, "PART #a"))), 1)
        self.assertTrue(replies(run(hub, bob, "WHOIS alice")))
        hub.disk_low = False
        self.assertEqual(len(emits(run(hub, alice, "PRIVMSG #a :back"))), 1)


if __name__ == "__main__":
    unittest.main()
