"""The everyday extensions in the master's pure core (chatd/hub/presence.py, monitor.py,
whowas.py and their hooks in the Hub): MONITOR (ircv3.net monitor: 730-734, the limit charged
to each client), WHOWAS (modern.ircdocs: 314/312/406/369, newest first, count), SETNAME
(ircv3.net setname), away-notify, extended-monitor, and bot mode (ircv3.net bot-mode: +B, 335,
WHO's B, the `bot` tag) — driven through the Hub as the master runs them."""

from __future__ import annotations

import dataclasses
import unittest

from chatd.hub.hub import Emit, ReplyLines, ToWorker
from chatd.hub.monitor import MonitorBook
from chatd.hub.presence import WHOWAS_MAX_ENTRIES
from chatd.hub.whowas import WhowasEntry, WhowasTable
from chatd.ipc import frames as ipc
from ircproto import numerics as N
from ircproto.framing import MAX_BODY_BYTES
from ircproto.message import parse
from tests.unit.test_hub import (
    add_client, claim_nick, codes, emits, kinds, make_hub, replies, run)


def notified(effects: list) -> list[tuple[int, tuple[int, ...], str]]:
    """(worker, conn ids, line) of each Notify frame among the effects, in order."""
    return [(e.worker, e.frame.conn_ids, e.frame.line) for e in effects
            if isinstance(e, ToWorker) and isinstance(e.frame, ipc.Notify)]


def numerics_to(effects: list, conn_id: int) -> list[tuple[str, ...]]:
    """(code, params after the recipient's nick...) of the replies to one connection."""
    return [(m.command, *m.params[1:]) for e in effects
            if isinstance(e, ReplyLines) and e.conn_id == conn_id
            for m in map(parse, e.lines)]


class MonitorBookTest(unittest.TestCase):
    def test_lists_and_watchers_stay_consistent(self) -> None:
        hub = make_hub()
        alice, bob = add_client(hub, 1, "alice"), add_client(hub, 2, "bob")
        book = MonitorBook()
        book.add(alice, "Carol")
        book.add(alice, "carol")  # the same nick (rfc1459 case mapping): kept once
        book.add(alice, "dave")
        book.add(bob, "CAROL")
        self.assertEqual(book.targets(alice), ["Carol", "dave"])
        self.assertEqual(book.count(alice), 2)
        self.assertEqual(book.watchers("carol"), [alice, bob])
        book.remove(alice, "CAROL")
        self.assertEqual(book.watchers("carol"), [bob])
        book.remove(alice, "nobody")  # not there: nothing happens
        book.clear(bob)
        self.assertEqual(book.watchers("carol"), [])
        self.assertEqual((book.targets(bob), book.count(bob)), ([], 0))
        book.clear(alice)
        self.assertEqual((book._lists, book._watchers), ({}, {}))  # nothing left behind


class WhowasTableTest(unittest.TestCase):
    @staticmethod
    def entry(nick: str, user: str, left_s: int = 0) -> WhowasEntry:
        return WhowasEntry(nick, user, "h", "R", left_s)

    def test_newest_first_up_to_count(self) -> None:
        table = WhowasTable(10)
        for user in ("u1", "u2", "u3"):
            table.remember(self.entry("Nick", user))
        table.remember(self.entry("other", "x"))
        self.assertEqual([e.user for e in table.lookup("NICK", 10)], ["u3", "u2", "u1"])
        self.assertEqual([e.user for e in table.lookup("nick", 2)], ["u3", "u2"])
        self.assertEqual(table.lookup("nobody", 10), [])

    def test_bounded_oldest_forgotten_first(self) -> None:
        table = WhowasTable(3)
        for i in range(5):
            table.remember(self.entry("a" if i % 2 else "b", f"u{i}"))
        self.assertEqual(len(table), 3)  # u2, u3, u4 remain
        self.assertEqual([e.user for e in table.lookup("b", 9)], ["u4", "u2"])
        self.assertEqual([e.user for e in table.lookup("a", 9)], ["u3"])
        table.resize(1)
        self.assertEqual((len(table), table.lookup("a", 9)), (1, []))
        table.resize(0)
        table.remember(self.entry("c", "u"))
        self.assertEqual((len(table), table.lookup("c", 9), table._by_nick), (0, [], {}))


class MonitorCommandTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(server_name="irc.test", monitor_limit=3)
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob", worker=1)

    def test_add_answers_online_and_offline(self) -> None:
        effects = run(self.hub, self.alice, "MONITOR + Bob,carol,*!*@host,bob")
        self.assertEqual(numerics_to(effects, 1), [(N.RPL_MONONLINE, "bob!u2@host2"),
                                                   (N.RPL_MONOFFLINE, "carol")])
        self.assertEqual(self.hub.monitors.targets(self.alice), ["Bob", "carol"])  # no mask

    def test_list_status_remove_clear(self) -> None:
        run(self.hub, self.alice, "MONITOR + bob,carol")
        self.assertEqual(numerics_to(run(self.hub, self.alice, "MONITOR L"), 1),
                         [(N.RPL_MONLIST, "bob,carol"),
                          (N.RPL_ENDOFMONLIST, "End of MONITOR list")])
        self.assertEqual(numerics_to(run(self.hub, self.alice, "MONITOR S"), 1),
                         [(N.RPL_MONONLINE, "bob!u2@host2"), (N.RPL_MONOFFLINE, "carol")])
        self.assertEqual(run(self.hub, self.alice, "MONITOR - CAROL"), [])  # no output
        self.assertEqual(self.hub.monitors.targets(self.alice), ["bob"])
        self.assertEqual(run(self.hub, self.alice, "MONITOR c"), [])
        self.assertEqual(codes(run(self.hub, self.alice, "MONITOR L")), [N.RPL_ENDOFMONLIST])

    def test_the_limit_is_each_clients(self) -> None:
        effects = run(self.hub, self.alice, "MONITOR + n1,n2,n3,n4,n5")
        self.assertEqual(numerics_to(effects, 1), [(N.RPL_MONOFFLINE, "n1,n2,n3"),
                                                   (N.ERR_MONLISTFULL, "3", "n4,n5",
                                                    "Monitor list is full")])
        # Full: nothing more is added, but a nick already there is still answered.
        self.assertEqual(codes(run(self.hub, self.alice, "MONITOR + N1,bob")),
                         [N.RPL_MONOFFLINE, N.ERR_MONLISTFULL])
        self.assertEqual(self.hub.monitors.count(self.alice), 3)
        self.assertEqual(codes(run(self.hub, self.bob, "MONITOR + n4")), [N.RPL_MONOFFLINE])

    def test_errors(self) -> None:
        cases = [("MONITOR X", N.ERR_UNKNOWNERROR), ("MONITOR +", N.ERR_NEEDMOREPARAMS),
                 ("MONITOR -", N.ERR_NEEDMOREPARAMS)]
        for line, code in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, self.alice, line)), [code])

    def test_long_lists_are_split_within_512_bytes(self) -> None:
        hub = make_hub(server_name="irc.test", monitor_limit=1000)
        alice = add_client(hub, 1, "alice")
        nicks = [f"nick{i:026d}" for i in range(40)]  # 30-byte nicks
        run(hub, alice, "MONITOR + " + ",".join(nicks[:15]))
        run(hub, alice, "MONITOR + " + ",".join(nicks[15:30]))
        run(hub, alice, "MONITOR + " + ",".join(nicks[30:]))
        for line in ("MONITOR L", "MONITOR S"):
            effects = run(hub, alice, line)
            listed = [n for m in replies(effects) if m.command != N.RPL_ENDOFMONLIST
                      for n in m.params[-1].split(",")]
            self.assertEqual(listed, nicks)
            self.assertGreater(len(replies(effects)), 2)
            for reply in effects[0].lines:
                self.assertLessEqual(len(reply.encode()) + 2, MAX_BODY_BYTES)

    def test_arrival_departure_and_nick_changes(self) -> None:
        run(self.hub, self.alice, "MONITOR + carol")
        run(self.hub, self.bob, "MONITOR + carol,dave")
        carol = add_client(self.hub, 3, "carol", register=False)
        self.assertEqual(self.hub.take_effects(), [])  # not online before registration
        self.hub.registered(carol, "u3", "Carol")
        effects = self.hub.take_effects()
        self.assertEqual(numerics_to(effects, 1), [(N.RPL_MONONLINE, "carol!u3@host3")])
        self.assertEqual(numerics_to(effects, 2), [(N.RPL_MONONLINE, "carol!u3@host3")])
        claim_nick(self.hub, carol, "CAROL")  # a change of case: nothing to tell
        self.assertEqual(numerics_to(self.hub.take_effects(), 1), [])
        claim_nick(self.hub, carol, "dave")
        effects = self.hub.take_effects()
        self.assertEqual(numerics_to(effects, 1), [(N.RPL_MONOFFLINE, "CAROL")])
        self.assertEqual(numerics_to(effects, 2), [(N.RPL_MONOFFLINE, "CAROL"),
                                                   (N.RPL_MONONLINE, "dave!u3@host3")])
        self.hub.connection_closed(carol, "bye")
        self.assertEqual(numerics_to(self.hub.take_effects(), 2), [(N.RPL_MONOFFLINE, "dave")])

    def test_a_list_goes_with_its_client(self) -> None:
        run(self.hub, self.alice, "MONITOR + carol")
        self.hub.connection_closed(self.alice, "bye")
        self.assertEqual(self.hub.monitors.watchers("carol"), [])


class WhowasCommandTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(server_name="irc.test", whowas_entries=100)
        self.alice = add_client(self.hub, 1, "alice")

    def leave(self, conn_id: int, nick: str, user: str) -> None:
        client = add_client(self.hub, conn_id, nick)
        client.user = user
        self.hub.now_ms += 1000
        self.hub.connection_closed(client, "bye")
        self.hub.take_effects()

    def test_quits_and_renames_newest_first(self) -> None:
        self.leave(2, "bob", "first")
        self.leave(3, "Bob", "second")
        carol = add_client(self.hub, 4, "bob")
        claim_nick(self.hub, carol, "carol")  # gives up "bob" too
        self.hub.take_effects()
        lines = replies(run(self.hub, self.alice, "WHOWAS BOB"))
        self.assertEqual([(m.command, m.params[1]) for m in lines],
                         [(N.RPL_WHOWASUSER, "bob"), (N.RPL_WHOISSERVER, "bob"),
                          (N.RPL_WHOWASUSER, "Bob"), (N.RPL_WHOISSERVER, "Bob"),
                          (N.RPL_WHOWASUSER, "bob"), (N.RPL_WHOISSERVER, "bob"),
                          (N.RPL_ENDOFWHOWAS, "BOB")])
        self.assertEqual(lines[0].params, ("alice", "bob", "u4", "host4", "*", "Real bob"))
        self.assertEqual(lines[2].params[2], "second")
        self.assertEqual(lines[3].params[2], "irc.test")
        for line, users in (("WHOWAS bob 1", ["u4"]), ("WHOWAS bob 2", ["u4", "second"]),
                            ("WHOWAS bob 0", ["u4", "second", "first"]),
                            ("WHOWAS bob -1", ["u4", "second", "first"]),
                            ("WHOWAS bob x", ["u4", "second", "first"])):
            with self.subTest(line=line):
                got = [m.params[2] for m in replies(run(self.hub, self.alice, line))
                       if m.command == N.RPL_WHOWASUSER]
                self.assertEqual(got, users)

    def test_no_such_nick_and_no_nick(self) -> None:
        self.assertEqual([(m.command, m.params[1]) for m in
                          replies(run(self.hub, self.alice, "WHOWAS nobody"))],
                         [(N.ERR_WASNOSUCHNICK, "nobody"), (N.RPL_ENDOFWHOWAS, "nobody")])
        self.assertEqual(codes(run(self.hub, self.alice, "WHOWAS")), [N.ERR_NONICKNAMEGIVEN])
        self.assertEqual(codes(run(self.hub, self.alice, "WHOWAS alice")),  # still here
                         [N.ERR_WASNOSUCHNICK, N.RPL_ENDOFWHOWAS])

    def test_one_reply_is_bounded(self) -> None:
        for i in range(WHOWAS_MAX_ENTRIES + 5):
            self.leave(10 + i, "cycler", f"u{i}")
        got = codes(run(self.hub, self.alice, "WHOWAS cycler"))
        self.assertEqual(got.count(N.RPL_WHOWASUSER), WHOWAS_MAX_ENTRIES)

    def test_unregistered_clients_leave_no_entry(self) -> None:
        ghost = add_client(self.hub, 5, "ghost", register=False)
        self.hub.connection_closed(ghost, "gone")
        self.assertEqual(len(self.hub.whowas), 0)

    def test_size_from_config_and_reload(self) -> None:
        self.leave(2, "bob", "x")
        self.hub.reconfigure(dataclasses.replace(self.hub.config, whowas_entries=0))
        self.assertEqual(codes(run(self.hub, self.alice, "WHOWAS bob"))[0], N.ERR_WASNOSUCHNICK)


class AwayNotifyTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub()
        # 1 goes away; 2 (worker 0) and 3 (worker 1) share #a with it and asked; 4 shares #a
        # and did not; 5 asked and shares nothing; 6 watches 1's nick with extended-monitor.
        self.c = {}
        for conn_id, worker, caps, channels in (
                (1, 0, {"away-notify"}, ("#a",)), (2, 0, {"away-notify"}, ("#a",)),
                (3, 1, {"away-notify"}, ("#a",)), (4, 1, set(), ("#a",)),
                (5, 1, {"away-notify"}, ("#z",)),
                (6, 1, {"away-notify", "extended-monitor"}, ())):
            client = self.c[conn_id] = add_client(self.hub, conn_id, f"n{conn_id}", worker)
            client.caps = frozenset(caps)
            for channel in channels:
                run(self.hub, client, f"JOIN {channel}")
        run(self.hub, self.c[6], "MONITOR + n1")

    def test_changes_go_to_those_that_asked_not_to_itself(self) -> None:
        effects = run(self.hub, self.c[1], "AWAY :lunch")
        self.assertEqual(codes(effects), [N.RPL_NOWAWAY])
        self.assertEqual(notified(effects), [(0, (2,), ":n1!u1@host1 AWAY :lunch"),
                                             (1, (3, 6), ":n1!u1@host1 AWAY :lunch")])
        self.assertEqual(notified(run(self.hub, self.c[1], "AWAY :lunch")), [])  # no change
        self.assertEqual(notified(run(self.hub, self.c[1], "AWAY")),
                         [(0, (2,), ":n1!u1@host1 AWAY"), (1, (3, 6), ":n1!u1@host1 AWAY")])
        self.assertEqual(notified(run(self.hub, self.c[1], "AWAY")), [])  # was not away

    def test_an_away_joiner_is_announced_after_its_join(self) -> None:
        self.assertEqual(notified(run(self.hub, self.c[5], "JOIN #b")), [])  # not away
        run(self.hub, self.c[1], "AWAY :gone")
        effects = run(self.hub, self.c[1], "JOIN #z")
        self.assertEqual(kinds(effects), [Emit, ipc.Notify])  # the JOIN, then the AWAY
        self.assertEqual(notified(effects), [(1, (5,), ":n1!u1@host1 AWAY :gone")])

    def test_extended_monitor_needs_the_other_cap_too(self) -> None:
        self.c[6].caps = frozenset({"extended-monitor"})
        self.assertEqual(notified(run(self.hub, self.c[1], "AWAY :x"))[-1][1], (3,))


class SetnameTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(server_name="irc.test")
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        self.carol = add_client(self.hub, 3, "carol", worker=1)
        for client in (self.alice, self.bob, self.carol):
            run(self.hub, client, "JOIN #a")
        self.alice.caps = self.bob.caps = frozenset({"setname"})

    def test_confirmed_and_relayed_to_those_that_asked(self) -> None:
        effects = run(self.hub, self.alice, "SETNAME :Alice Liddell")
        self.assertEqual(numerics_to(effects, 1), [("SETNAME",)])  # its own, as a reply
        self.assertEqual(replies(effects)[0].source, "alice!u1@host1")
        self.assertEqual(replies(effects)[0].params, ("Alice Liddell",))
        self.assertEqual(notified(effects), [(1, (2,), ":alice!u1@host1 SETNAME :Alice Liddell")])
        self.assertEqual(self.alice.realname, "Alice Liddell")
        whois = replies(run(self.hub, self.bob, "WHOIS alice"))[0]
        self.assertEqual(whois.params[-1], "Alice Liddell")

    def test_silent_for_a_client_without_the_cap(self) -> None:
        effects = run(self.hub, self.carol, "SETNAME :C")
        self.assertEqual(replies(effects), [])
        self.assertEqual(notified(effects), [(0, (1,), ":carol!u3@host3 SETNAME C"),
                                             (1, (2,), ":carol!u3@host3 SETNAME C")])

    def test_invalid_realname_fails(self) -> None:
        for realname in ("", "x" * 129):
            with self.subTest(length=len(realname)):
                effects = run(self.hub, self.alice, f"SETNAME :{realname}")
                [fail] = replies(effects)
                self.assertEqual(fail.command, "FAIL")
                self.assertEqual(fail.params[:2], ("SETNAME", "INVALID_REALNAME"))
                self.assertEqual(notified(effects), [])
                self.assertEqual(self.alice.realname, "Real alice")


class BotModeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = make_hub(server_name="irc.test", network="TestNet")
        self.bot = add_client(self.hub, 1, "robo")
        self.user = add_client(self.hub, 2, "user")
        for client in (self.bot, self.user):
            run(self.hub, client, "JOIN #a")

    def test_the_mode_is_the_users_to_set(self) -> None:
        [echo] = replies(run(self.hub, self.bot, "MODE robo +B"))
        self.assertEqual((echo.command, echo.params), ("MODE", ("robo", "+B")))
        self.assertTrue(self.bot.bot)
        run(self.hub, self.bot, "MODE robo +i")
        self.assertEqual(replies(run(self.hub, self.bot, "MODE robo"))[0].params[1], "+Bi")
        self.assertEqual(replies(run(self.hub, self.bot, "MODE robo -B"))[0].params[1], "-B")
        self.assertEqual(codes(run(self.hub, self.user, "MODE robo +B")),
                         [N.ERR_USERSDONTMATCH])

    def test_whois_who_and_the_bot_tag(self) -> None:
        run(self.hub, self.bot, "MODE robo +B")
        whois = replies(run(self.hub, self.user, "WHOIS robo"))
        [bot_line] = [m for m in whois if m.command == N.RPL_WHOISBOT]
        self.assertEqual(bot_line.params, ("user", "robo", "is a bot on TestNet"))
        rows = {m.params[5]: m.params[6] for m in replies(run(self.hub, self.user, "WHO #a"))
                if m.command == N.RPL_WHOREPLY}
        # B after H/G and before the rank (@: robo made #a)
        self.assertEqual(rows, {"robo": "HB@", "user": "H"})
        self.hub.command_tags = "+x=1"
        for line, tags in (("PRIVMSG #a :beep", "bot;+x=1"), ("NOTICE user :boop", "bot;+x=1")):
            with self.subTest(line=line):
                self.assertEqual(emits(run(self.hub, self.bot, line))[0].tags, tags)
        self.hub.command_tags = ""
        self.assertEqual(emits(run(self.hub, self.bot, "TAGMSG #a"))[0].tags, "bot")
        self.assertEqual(emits(run(self.hub, self.user, "PRIVMSG #a :hi"))[0].tags, "")
        self.assertNotIn(N.RPL_WHOISBOT, codes(run(self.hub, self.bot, "WHOIS user")))


if __name__ == "__main__":
    unittest.main()
