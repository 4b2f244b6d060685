"""tui.batch: collecting IRCv3 batches, nested ones included, within limits."""

import unittest

from ircproto.message import parse
from tui import batch as batch_module
from tui.batch import Batches


def feed(batches: Batches, *lines: str) -> list:
    """(consumed, finished batch) for each line."""
    return [batches.feed(parse(line)) for line in lines]


class BatchesTest(unittest.TestCase):
    def test_a_batch_is_handed_over_whole(self) -> None:
        b = Batches()
        results = feed(b, "@label=x :s BATCH +1 chathistory #lobby",
                       "@batch=1;msgid=5 :bob!b@h PRIVMSG #lobby :hi",
                       ":bob!b@h PRIVMSG #lobby :not in it",
                       ":s BATCH -1")
        self.assertEqual([r[0] for r in results], [True, True, False, True])
        done = results[-1][1]
        self.assertEqual((done.type, done.params, done.label), ("chathistory", ("#lobby",), "x"))
        self.assertEqual([m.params[1] for m in done.messages()], ["hi"])
        self.assertEqual(b.open, {})

    def test_nested_batches_arrive_inside_their_parent(self) -> None:
        b = Batches()
        results = feed(b, "@label=L :s BATCH +out labeled-response",
                       "@batch=out :s BATCH +in chathistory #a",
                       "@batch=in :bob!b@h PRIVMSG #a :one",
                       ":s BATCH -in",
                       "@batch=out :s NOTICE alice :after",
                       ":s BATCH -out")
        self.assertEqual([r[1] is not None for r in results], [False] * 5 + [True])
        outer = results[-1][1]
        inner = outer.items[0]
        self.assertEqual((inner.type, inner.parent), ("chathistory", outer))
        self.assertEqual(inner.messages()[0].params[1], "one")
        self.assertEqual(outer.messages()[0].params[1], "after")

    def test_unknown_and_malformed(self) -> None:
        cases = [":s BATCH -nope", "@batch=nope :bob!b@h PRIVMSG #a :hi", ":s BATCH + x"]
        for line in cases:
            with self.subTest(line=line):
                b = Batches()
                consumed, done = b.feed(parse(line))
                self.assertIsNone(done)
                self.assertEqual(consumed, not line.startswith("@batch"))

    def test_limits(self) -> None:
        old = batch_module.MAX_ITEMS, batch_module.MAX_OPEN
        batch_module.MAX_ITEMS, batch_module.MAX_OPEN = 2, 2
        self.addCleanup(lambda: setattr(batch_module, "MAX_ITEMS", old[0]))
        self.addCleanup(lambda: setattr(batch_module, "MAX_OPEN", old[1]))
        b = Batches()
        feed(b, ":s BATCH +1 x", ":s BATCH +2 x", ":s BATCH +3 x")
        self.assertEqual(sorted(b.open), ["1", "2"])
        results = feed(b, *[f"@batch=1 :s NOTICE a :{i}" for i in range(5)], ":s BATCH -1")
        done = results[-1][1]
        self.assertEqual((len(done.items), done.dropped), (2, 3))

    def test_reset_forgets_open_batches(self) -> None:
        b = Batches()
        feed(b, ":s BATCH +1 x")
        b.reset()
        self.assertEqual(b.feed(parse("@batch=1 :s NOTICE a :x")), (False, None))


if __name__ == "__main__":
    unittest.main()
