"""tui.outbox: own messages pending until their echo, queued while offline, verified against
the caught-up history after a reconnect (never stored twice, never dropped silently)."""

import unittest
from datetime import timedelta

from ircproto.message import parse
from tests.unit.test_tui_support import ALL_CAPS, MASK, Harness
from tui import outbox as outbox_module
from tui.effects import Send
from tui.state import Delivery, Kind

NO_LABELS = ALL_CAPS.replace("labeled-response ", "")


def privmsgs(lines: list[str]) -> list[tuple[str, ...]]:
    return [parse(line).params for line in lines if parse(line).command == "PRIVMSG"]


class Chat:
    """A harness joined to #lobby with its history loaded."""

    def __init__(self, caps: str = ALL_CAPS) -> None:
        self.h = Harness(caps=caps)
        self.h.register()
        self.connect_and_join(first=True)

    def connect_and_join(self, first: bool = False) -> list[str]:
        if not first:
            self.h.register()
        out = self.h.join()
        if any("CHATHISTORY" in line for line in out):
            out += self.h.answer([])
        return out

    def say(self, text: str) -> list[str]:
        return self.h._keep(self.h.session.say("#lobby", text, self.h.now))

    def drop(self) -> None:
        self.h.session.disconnected("Connection reset by peer", self.h.now)
        self.h.now += timedelta(seconds=30)

    def own(self, text: str) -> list:
        return [l for l in self.h.buffer("#lobby").lines if l.own and l.text == text]

    def delivery(self, text: str) -> Delivery | None:
        lines = self.own(text)
        assert len(lines) == 1, f"{text!r} shown {len(lines)} times"
        return lines[0].delivery


class EchoTest(unittest.TestCase):
    def test_pending_until_the_echo(self) -> None:
        cases = [  # (capabilities, tags the sent line carries)
            (ALL_CAPS, {"label", "+chatd/nonce"}),
            (NO_LABELS, {"+chatd/nonce"}),
            ("echo-message server-time", set()),
        ]
        for caps, tags in cases:
            with self.subTest(caps=caps):
                c = Chat(caps)
                out = c.say("hello")
                self.assertEqual(privmsgs(out), [("#lobby", "hello")])
                self.assertEqual(set(parse(out[0]).tags), tags)
                self.assertEqual(c.delivery("hello"), Delivery.PENDING)
                c.h.echo(out[0], msgid=42)
                self.assertEqual(c.delivery("hello"), Delivery.SENT)
                if "message-tags" in caps:
                    self.assertEqual(c.own("hello")[0].msgid, "42")
                self.assertEqual(len(c.h.session.outbox), 0)

    def test_without_echo_message_written_is_sent(self) -> None:
        c = Chat("server-time")
        out = c.say("hello")
        self.assertEqual(privmsgs(out), [("#lobby", "hello")])
        self.assertEqual(c.delivery("hello"), Delivery.SENT)
        self.assertEqual(len(c.h.session.outbox), 0)

    def test_echo_of_a_long_split_message_confirms_each_part(self) -> None:
        c = Chat()
        out = c.say("word " * 200)
        self.assertGreater(len(out), 1)
        for i, line in enumerate(out):
            c.h.echo(line, msgid=10 + i)
        lines = [l for l in c.h.buffer("#lobby").lines if l.own]
        self.assertEqual({l.delivery for l in lines}, {Delivery.SENT})
        self.assertEqual(len(lines), len(out))

    def test_an_own_message_not_sent_by_us_is_shown(self) -> None:
        c = Chat()
        c.h.recv(c.h.line("PRIVMSG", "#lobby", "from /quote", source=MASK, msgid=5))
        self.assertEqual(c.own("from /quote")[0].delivery, None)

    def test_refusals_mark_the_message_failed(self) -> None:
        cases = [
            (ALL_CAPS, "@label={label} :srv 404 alice #lobby :Cannot send to channel"),
            (ALL_CAPS, "@label={label} :srv ACK"),
            (NO_LABELS, ":srv 404 alice #lobby :Cannot send to channel"),
        ]
        for caps, reply in cases:
            with self.subTest(caps=caps, reply=reply):
                c = Chat(caps)
                out = c.say("hello")
                c.h.recv(reply.format(label=parse(out[0]).tags.get("label")))
                self.assertEqual(c.delivery("hello"), Delivery.FAILED)
                self.assertEqual(len(c.h.session.outbox), 0)

    def test_labeled_batch_with_the_echo(self) -> None:
        c = Chat()
        out = c.say("hello")
        label = parse(out[0]).tags["label"]
        echo = c.h.line("PRIVMSG", "#lobby", "hello", source=MASK, msgid=8)
        c.h.recv(f"@label={label} :srv BATCH +x labeled-response", "@batch=x;" + echo[1:],
                 ":srv BATCH -x")
        self.assertEqual(c.delivery("hello"), Delivery.SENT)


class OfflineTest(unittest.TestCase):
    def test_typed_while_offline_is_sent_after_rejoin_and_catch_up_in_order(self) -> None:
        c = Chat()
        c.drop()
        self.assertEqual(c.say("one") + c.say("two"), [])
        self.assertEqual([c.delivery("one"), c.delivery("two")], [Delivery.QUEUED] * 2)
        c.h.register()
        out = c.h.join()
        self.assertEqual(privmsgs(out), [])  # the catch-up comes first
        out = c.h.answer([])
        self.assertEqual(privmsgs(out), [("#lobby", "one"), ("#lobby", "two")])
        for line, msgid in zip(out, (20, 21)):
            c.h.echo(line, msgid)
        self.assertEqual([c.delivery("one"), c.delivery("two")], [Delivery.SENT] * 2)

    def test_stored_before_the_drop_is_found_by_nonce_not_resent(self) -> None:
        c = Chat()
        c.h.recv(c.h.line("PRIVMSG", "#lobby", "m1", msgid=1))
        out = c.say("did it arrive?")
        nonce = parse(out[0]).tags["+chatd/nonce"]
        c.h.recv(c.h.line("PRIVMSG", "#lobby", "m3", msgid=3))  # seen; our echo (2) was not
        c.drop()
        c.say("after")
        c.h.register()
        out = c.h.join()
        self.assertEqual(parse(out[0]).params, ("AFTER", "#lobby", "msgid=1", "100"))
        stored = c.h.line("PRIVMSG", "#lobby", "did it arrive?", source=MASK, msgid=2,
                          tags={"+chatd/nonce": nonce})
        out = c.h.answer([stored, c.h.line("PRIVMSG", "#lobby", "m3", msgid=3)])
        self.assertEqual(privmsgs(out), [("#lobby", "after")])
        self.assertEqual(c.delivery("did it arrive?"), Delivery.SENT)
        self.assertEqual(c.own("did it arrive?")[0].msgid, "2")
        self.assertEqual(c.h.texts("#lobby").count("m3"), 1)

    def test_not_stored_before_the_drop_is_sent_again_with_the_same_nonce(self) -> None:
        c = Chat()
        first = c.say("lost?")
        c.drop()
        c.h.register()
        c.h.join()
        out = c.h.answer([])
        self.assertEqual(privmsgs(out), [("#lobby", "lost?")])
        self.assertEqual(parse(out[0]).tags["+chatd/nonce"],
                         parse(first[0]).tags["+chatd/nonce"])
        self.assertEqual(c.delivery("lost?"), Delivery.PENDING)

    def test_without_history_an_unconfirmed_message_waits_for_resend(self) -> None:
        from tui.commands import run_input
        c = Chat("echo-message server-time")
        c.say("maybe")
        c.drop()
        c.say("queued")
        out = c.connect_and_join()
        self.assertEqual(privmsgs(out), [("#lobby", "queued")])
        self.assertEqual(c.delivery("maybe"), Delivery.UNCONFIRMED)
        self.assertTrue(any("/resend" in text for text in c.h.texts("#lobby")))
        c.h.state.focus(c.h.buffer("#lobby"))
        actions = run_input("/resend", c.h.session, c.h.state, c.h.now)
        self.assertEqual(privmsgs([a.line for a in actions if isinstance(a, Send)]),
                         [("#lobby", "maybe")])
        self.assertEqual(c.delivery("maybe"), Delivery.PENDING)

    def test_without_history_a_replayed_copy_confirms_it(self) -> None:
        c = Chat("echo-message server-time")
        c.h.now += timedelta(minutes=1)
        c.say("maybe")
        c.drop()
        c.connect_and_join()
        c.h.recv(c.h.line("PRIVMSG", "#lobby", "maybe", source=MASK,
                          when=c.h.now - timedelta(minutes=1)))
        self.assertEqual(c.delivery("maybe"), Delivery.SENT)

    def test_failed_catch_up_cannot_verify(self) -> None:
        c = Chat()
        c.say("maybe")
        c.drop()
        c.h.register()
        out = c.h.join()
        label = parse(out[0]).tags["label"]
        out = c.h.recv(f"@label={label} :srv FAIL CHATHISTORY MESSAGE_ERROR AFTER #lobby :No")
        self.assertEqual(privmsgs(out), [])
        self.assertEqual(c.delivery("maybe"), Delivery.UNCONFIRMED)

    def test_private_message_queued_offline(self) -> None:
        c = Chat()
        c.drop()
        c.h._keep(c.h.session.say("bob", "psst", c.h.now))
        out = c.h.register()
        asked = [parse(l) for l in out if parse(l).command == "CHATHISTORY"]
        self.assertEqual([m.params[0] for m in asked], ["TARGETS", "LATEST"])
        out = c.h.answer([], asked[1])
        self.assertEqual(privmsgs(out), [("bob", "psst")])

    def test_leaving_the_channel_fails_what_waits(self) -> None:
        c = Chat()
        c.drop()
        c.say("never")
        c.h.register()
        c.h.recv(c.h.line("PART", "#lobby", source=MASK))
        self.assertEqual(len(c.h.session.outbox), 0)

    def test_the_outbox_is_bounded(self) -> None:
        old = outbox_module.MAX_ENTRIES
        outbox_module.MAX_ENTRIES = 2
        self.addCleanup(setattr, outbox_module, "MAX_ENTRIES", old)
        c = Chat()
        c.drop()
        for text in ("a", "b", "c"):
            c.say(text)
        self.assertEqual(len(c.h.session.outbox), 2)
        last = c.h.buffer("#lobby").lines[-1]
        self.assertEqual(last.kind, Kind.ERROR)
        self.assertIn("not queued: c", last.text)


if __name__ == "__main__":
    unittest.main()
