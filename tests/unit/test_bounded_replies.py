"""Bounded replies (issue 12, point 1), driven on the Hub: NAMES, WHO, LIST and WHOIS build
their lines only while the requester's reply budget lasts (chatd/hub/reply_budget.py), fold
duplicate targets, answer at most MAX_QUERY_TARGETS of them, and always end with their end
numeric; the fast 352 and 322 lines are the very lines hub.numeric makes."""

import random
import unittest

from chatd.hub import queries
from chatd.hub.reply_budget import (ALLOWANCE_REFILL_S, ALLOWANCE_SHARE, REPLY_SHARE,
                                    SEARCH_NAMES, Allowance, ReplyAllowances, ReplyBudget)
from chatd.limits import NICKLEN
from chatd.serverinfo import MAX_QUERY_TARGETS, build_server_info
from ircproto import numerics as N
from tests.unit.test_hub import add_client, codes, make_hub, replies, run

SENDQ = 16384
LIMIT = SENDQ // REPLY_SHARE  # one reply's budget
ALLOWANCE = SENDQ // ALLOWANCE_SHARE  # what one client's replies may take at once


def reply_bytes(effects: list) -> int:
    return sum(len(line.encode()) + 2 for effect in effects
               for line in getattr(effect, "lines", ()))


def body_bytes(effects: list, end_code: str) -> int:
    """The bytes of a reply's lines before its end numerics."""
    return sum(len(line.encode()) + 2 for effect in effects for line in getattr(effect, "lines", ())
               if f" {end_code} " not in line)


class ReplyBudgetTest(unittest.TestCase):
    def test_lines_fit_until_one_does_not_then_none(self):
        budget = ReplyBudget(20)
        self.assertEqual(budget.take(["x" * 8, "x" * 9, "x"]), ["x" * 8])  # 10 bytes, then 11
        self.assertEqual(budget.take(["x"]), [])  # cut at one place: nothing after it
        self.assertEqual(ReplyBudget(22).take(["a" * 8, "b" * 8, "c"]), ["a" * 8, "b" * 8])
        made = []
        ReplyBudget(10).take(made.append(n) or "x" * 8 for n in range(5))
        self.assertEqual(made, [0, 1])  # a generator is not drained past the cut

    def test_bytes_are_utf8_bytes(self):
        self.assertEqual(ReplyBudget(11).take(["\u00e9" * 5]), [])  # 10 bytes + CRLF
        self.assertEqual(ReplyBudget(12).take(["\u00e9" * 5]), ["\u00e9" * 5])

    def test_the_allowance_is_charged_and_caps_the_budget(self):
        allowance = Allowance(bytes_left=30, at_ms=0)
        budget = ReplyBudget(100, allowance)
        self.assertEqual(budget.take(["x" * 8] * 5), ["x" * 8] * 3)
        self.assertEqual(allowance.bytes_left, 0)

    def test_an_allowance_refills_over_time_up_to_the_send_queue(self):
        allowances = ReplyAllowances(SENDQ)
        budget = allowances.budget(1, now_ms=1000)
        self.assertEqual(budget.left, LIMIT)  # full at first: one reply's share
        for _ in range(ALLOWANCE // LIMIT):
            allowances.budget(1, now_ms=1000).take(["xx"] * SENDQ)
        self.assertEqual(allowances.budget(1, now_ms=1000).left, 0)  # spent
        half_refill_ms = int(ALLOWANCE_REFILL_S * 1000 / 2)
        self.assertEqual(allowances.budget(1, now_ms=1000 + half_refill_ms).left, LIMIT)
        self.assertEqual(allowances.budget(2, now_ms=0).left, LIMIT)  # its own allowance
        # a clock that steps back refills nothing, and time does not fill past the allowance
        allowances.budget(1, now_ms=0).take(["xx"] * SENDQ)
        self.assertEqual(allowances._by_conn[1].bytes_left, ALLOWANCE / 2 - LIMIT)
        allowances.budget(1, now_ms=10 ** 9)
        self.assertEqual(allowances._by_conn[1].bytes_left, ALLOWANCE)
        allowances.forget(1)
        self.assertNotIn(1, allowances._by_conn)

    def test_a_reload_of_sendq_applies_to_the_next_reply(self):
        allowances = ReplyAllowances(SENDQ)
        allowances.budget(1, now_ms=0)
        allowances.set_sendq(SENDQ // 4)
        self.assertEqual(allowances.budget(1, now_ms=0).left, LIMIT // 4)
        self.assertEqual(allowances._by_conn[1].bytes_left, ALLOWANCE // 4)

    def test_searches_are_charged_in_names_apart_from_the_bytes(self):
        allowances = ReplyAllowances(SENDQ)
        budget = allowances.budget(1, now_ms=0)
        self.assertEqual(budget.search(SEARCH_NAMES - 10), SEARCH_NAMES - 10)
        self.assertEqual(budget.left, LIMIT)  # the reply's bytes are untouched
        self.assertEqual(allowances.budget(1, now_ms=0).search(100), 10)  # what is left
        self.assertEqual(allowances.budget(1, now_ms=0).search(100), 0)
        quarter_ms = int(ALLOWANCE_REFILL_S * 1000 / 4)
        self.assertEqual(allowances.budget(1, now_ms=quarter_ms).search(SEARCH_NAMES),
                         SEARCH_NAMES // 4)
        self.assertEqual(ReplyBudget(10).search(10 ** 9), 10 ** 9)  # unmetered


class BoundedRepliesTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub(sendq_bytes=SENDQ)
        # 300 members of #big with 20-character nicks: NAMES is ~6.3 KB, WHO ~22 KB.
        self.members = [add_client(self.hub, i + 1, f"member{i:04d}xxxxxxxxxx")
                        for i in range(300)]
        for client in self.members:
            run(self.hub, client, "JOIN #big")
        self.asker = add_client(self.hub, 1000, "asker")

    def fresh_allowance(self):
        self.hub.now_ms += int(ALLOWANCE_REFILL_S * 1000)

    def test_duplicate_names_targets_are_answered_once(self):
        self.fresh_allowance()
        once = run(self.hub, self.asker, "NAMES #big")
        self.fresh_allowance()
        twice = run(self.hub, self.asker, "NAMES " + ",".join(["#big", "#BIG"] * 50))
        self.assertEqual(codes(twice), codes(once))
        self.assertEqual(codes(once).count(N.RPL_ENDOFNAMES), 1)

    def test_at_most_max_query_targets_are_answered(self):
        names = [f"#c{i}" for i in range(MAX_QUERY_TARGETS + 3)]
        got = codes(run(self.hub, self.asker, f"WHOIS {','.join(names)}"))
        self.assertEqual(got.count(N.RPL_ENDOFWHOIS), MAX_QUERY_TARGETS)
        # NAMES of several channels ends once, naming the channels it answered (the first 5)
        end = replies(run(self.hub, self.asker, f"NAMES {','.join(names)}"))[-1]
        self.assertEqual((end.command, end.params[1]),
                         (N.RPL_ENDOFNAMES, ",".join(names[:MAX_QUERY_TARGETS])))
        for name in names:
            run(self.hub, self.members[0], f"JOIN {name}")
        listed = replies(run(self.hub, self.asker, "LIST " + ",".join(names + names)))
        self.assertEqual([m.params[1] for m in listed if m.command == N.RPL_LIST],
                         sorted(names[:MAX_QUERY_TARGETS]))

    def test_whois_folds_duplicates_and_ends_each_nick(self):
        effects = run(self.hub, self.asker, "WHOIS member0000xxxxxxxxxx,MEMBER0000XXXXXXXXXX,nobody")
        ends = [m.params[1] for m in replies(effects) if m.command == N.RPL_ENDOFWHOIS]
        self.assertEqual(ends, ["member0000xxxxxxxxxx", "nobody"])
        self.assertEqual(codes(effects).count(N.RPL_WHOISUSER), 1)
        self.assertEqual(codes(effects).count(N.ERR_NOSUCHNICK), 1)

    def test_each_reply_is_cut_at_its_budget_and_ends_with_its_end_numeric(self):
        self.hub.registry.set_topic(self.hub.registry.channel("#big"), "t " * 150, "x", 0)
        for i in range(100):  # LIST: 100 channels with 300-byte topics
            run(self.hub, self.members[i], f"JOIN #chan{i:03d}")
            self.hub.registry.set_topic(self.hub.registry.channel(f"#chan{i:03d}"), "t " * 150,
                                        "x", 0)
        cases = [("NAMES #big", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES),
                 ("WHO #big", N.RPL_WHOREPLY, N.RPL_ENDOFWHO),
                 ("WHO *", N.RPL_WHOREPLY, N.RPL_ENDOFWHO),
                 ("WHO member*", N.RPL_WHOREPLY, N.RPL_ENDOFWHO),
                 ("LIST", N.RPL_LIST, N.RPL_LISTEND)]
        for line, row_code, end_code in cases:
            with self.subTest(line=line):
                self.fresh_allowance()
                effects = run(self.hub, self.asker, line)
                got = codes(effects)
                self.assertEqual(got[-1], end_code)
                self.assertGreater(got.count(row_code), 3)
                # cut within the budget, and near it (not far before); only the rows count
                # (321 and the end numeric are outside it)
                rows = sum(len(ln.encode()) + 2 for e in effects for ln in e.lines
                           if f" {row_code} " in ln)
                self.assertLessEqual(rows, LIMIT)
                self.assertGreater(rows, LIMIT - 600)
                self.assertLessEqual(reply_bytes(effects) - rows, 200)

    def test_a_client_asking_too_often_gets_end_numerics_only_until_its_allowance_refills(self):
        self.fresh_allowance()
        spent = 0
        for _ in range(2 * REPLY_SHARE):
            effects = run(self.hub, self.asker, "WHO #big")
            self.assertEqual(codes(effects)[-1], N.RPL_ENDOFWHO)
            spent += body_bytes(effects, N.RPL_ENDOFWHO)
        self.assertLessEqual(spent, ALLOWANCE)  # never more than the allowance at once
        self.assertGreater(spent, ALLOWANCE - 600 * (ALLOWANCE // LIMIT))
        self.assertEqual(codes(run(self.hub, self.asker, "WHO #big")), [N.RPL_ENDOFWHO])
        self.assertEqual(codes(run(self.hub, self.asker, "NAMES #big")), [N.RPL_ENDOFNAMES])
        self.fresh_allowance()
        self.assertGreater(codes(run(self.hub, self.asker, "WHO #big")).count(N.RPL_WHOREPLY), 3)
        # another client was not charged for any of it
        self.assertGreater(codes(run(self.hub, self.members[0], "WHO #big"))
                           .count(N.RPL_WHOREPLY), 3)

    def test_pipelined_who_masks_search_only_what_the_allowance_pays_for(self):
        self.hub.reply_allowances = ReplyAllowances(1 << 30)  # bytes are not what runs out
        users = len(self.hub.registry.clients)
        found = [codes(run(self.hub, self.asker, f"WHO *{i % 10}xx*")).count(N.RPL_WHOREPLY)
                 for i in range(2 * SEARCH_NAMES // users)]
        self.assertEqual(found[:5], [30] * 5)  # member0000..0299: 30 end with each digit
        self.assertEqual(found[-5:], [0] * 5)  # nothing left to search with
        self.fresh_allowance()
        self.assertEqual(codes(run(self.hub, self.asker, "WHO *7xx*")).count(N.RPL_WHOREPLY), 30)

    def test_the_names_after_a_join_are_cut_too(self):
        self.fresh_allowance()
        [emit] = [e for e in run(self.hub, self.asker, "JOIN #big") if hasattr(e, "extra")]
        lines = emit.extra.split("\r\n")
        self.assertIn(f" {N.RPL_ENDOFNAMES} ", lines[-1])
        names = sum(len(ln.encode()) + 2 for ln in lines if f" {N.RPL_NAMREPLY} " in ln)
        self.assertLessEqual(names, LIMIT)
        self.assertGreater(names, LIMIT - 600)

    def test_a_mask_longer_than_any_nick_is_not_tried(self):
        for mask in ["*a" * NICKLEN + "*b", "?" * (NICKLEN + 1), "x" * (NICKLEN + 1) + "*"]:
            with self.subTest(mask=mask):
                self.assertEqual(codes(run(self.hub, self.asker, f"WHO {mask}")),
                                 [N.RPL_ENDOFWHO])
        # as long as a nick can be: tried (and matching)
        longest = add_client(self.hub, 2000, "n" * NICKLEN)
        self.assertEqual(codes(run(self.hub, self.asker, "WHO " + "*n" * NICKLEN + "*")),
                         [N.RPL_WHOREPLY, N.RPL_ENDOFWHO])
        self.assertTrue(longest.registered)

    def test_targmax_says_what_is_enforced(self):
        info = build_server_info(self.hub.config, None, 0)
        [targmax] = [t for t in info.isupport if t.startswith("TARGMAX=")]
        limits = dict(item.split(":") for item in targmax[len("TARGMAX="):].split(","))
        for command in ("NAMES", "LIST", "WHOIS"):
            self.assertEqual(limits[command], str(MAX_QUERY_TARGETS))


class FastLinesTest(unittest.TestCase):
    """The 352 and 322 lines made with an f-string are the lines hub.numeric makes."""

    def test_who_lines(self):
        hub = make_hub(sendq_bytes=1 << 30)
        rng = random.Random(3)
        realnames = ["Real", "a b  c", ":colon", "\u00e9t\u00e9 \u2603", "x" * 300,
                     "\u00e9" * 240, "y " * 230]
        for i, realname in enumerate(realnames * 3):
            client = add_client(hub, i + 1, f"n{i}" + "q" * rng.randint(0, 25))
            client.realname = realname
            client.host = rng.choice(["host.example", "::1", "2001:db8::1", "a" * 63])
            client.away = rng.choice([None, "gone"])
            run(hub, client, "JOIN #" + "c" * rng.randint(1, 49))
        asker = add_client(hub, 999, "asker")
        for client in hub.registry.clients.values():
            channel = next(iter(client.channels.values()), None)
            name = channel.name if channel else "*"
            fast = list(queries._who_lines(hub, asker, name, [client]))
            slow = hub.numeric(asker, N.RPL_WHOREPLY, name, client.user, client.host,
                               hub.config.server_name, client.nick,
                               "G" if client.away is not None else "H", f"0 {client.realname}")
            self.assertEqual(fast, [slow])
            self.assertLessEqual(len(slow.encode()), 510)

    def test_list_lines(self):
        hub = make_hub()
        asker = add_client(hub, 1, "asker")
        topics = ["", "word", "two words", ":colon", "\u00e9" * 200, "t " * 195, "x" * 390]
        for i, topic in enumerate(topics):
            run(hub, asker, f"JOIN #chan{i}" + "c" * 40)
            channel = hub.registry.channel(f"#chan{i}" + "c" * 40)
            hub.registry.set_topic(channel, topic, "x", 0)
            [fast] = list(queries._list_lines(hub, asker, [channel]))
            self.assertEqual(fast, hub.numeric(asker, N.RPL_LIST, channel.name, "1", topic))


if __name__ == "__main__":
    unittest.main()
