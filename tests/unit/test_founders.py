"""Registered channels as the master decides them (chatd/hub/founders.py, the registry's
kept channels, channel_access's join rules): who founds a channel, MODE +r/-r, operator
accounts recorded by +o, what survives emptiness, what is written for the writer, and the
stored state's round trip. Driven through the Hub like tests/unit/test_hub.py; the writes are
what founders.write_changes emits once a request is handled (as Pipeline does)."""

import json
import unittest

from chatd import events
from chatd.hub import founders
from chatd.hub.bans import MAX_MASK_BYTES
from chatd.ipc import frames as ipc
from chatd.credentials import make_credentials
from chatd.limits import (CHANNELLEN, KEYLEN, MAX_ACCOUNTS, MAX_CERTS_PER_ACCOUNT,
                          MAX_FOUNDED_PER_ACCOUNT, MAX_LIST_ENTRIES, MAX_OPERATOR_ACCOUNTS,
                          MAX_REGISTERED_CHANNELS, NICKLEN, TOPICLEN)
from chatd.stored_channel import StoredChannel, from_json, to_json
from ircproto import numerics as N
from tests.unit.test_hub import add_client, codes, emits, make_hub, replies, run


def writes(hub) -> list[tuple[str, str, dict | None]]:
    """The channel writes the handled requests call for: (op, channel, state or None)."""
    founders.write_changes(hub)
    return [(e.source, e.target, json.loads(e.text) if e.text else None)
            for e in emits(hub.take_effects()) if e.kind == events.CHANNEL_KIND]


class FounderTest(unittest.TestCase):
    """alice and bob are logged in to their accounts; carol is not logged in."""

    def setUp(self):
        self.hub = make_hub(server_name="irc.test", autojoin=("#lobby",))
        self.alice = self.logged_in(1, "alice")
        self.bob = self.logged_in(2, "bob", worker=1)
        self.carol = add_client(self.hub, 3, "carol")

    def logged_in(self, conn_id: int, name: str, worker: int = 0):
        self.hub.accounts.add(name, "scrypt$x", "scram$x")
        client = add_client(self.hub, conn_id, name, worker=worker)
        client.account = name
        return client

    def do(self, client, line: str) -> list:
        return run(self.hub, client, line)

    def channel(self, name: str = "#c"):
        return self.hub.registry.channel(name)

    def modes_shown(self, client, name: str = "#c") -> tuple[str, ...]:
        [modeis, _created] = replies(self.do(client, f"MODE {name}"))
        return modeis.params[2:]


class FoundingTest(FounderTest):
    def test_a_logged_in_creator_founds_the_channel(self):
        self.do(self.alice, "JOIN #c")
        self.assertEqual(self.channel().founder, "alice")
        self.assertEqual(self.modes_shown(self.alice), ("+nrt", "alice"))
        [(op, name, state)] = writes(self.hub)
        self.assertEqual((op, name, state["founder"], state["flags"]), ("set", "#c", "alice", "nt"))

    def test_no_founder_without_an_account_or_in_an_autojoin_channel(self):
        self.do(self.carol, "JOIN #c")
        self.do(self.alice, "JOIN #lobby")
        self.assertEqual((self.channel().founder, self.channel("#lobby").founder), (None, None))
        self.assertEqual(writes(self.hub), [])

    def test_founding_is_bounded_per_account_and_on_the_server(self):
        for i in range(MAX_FOUNDED_PER_ACCOUNT + 1):
            self.do(self.alice, f"JOIN #c{i}")
        founded = [self.channel(f"#c{i}").founder for i in range(MAX_FOUNDED_PER_ACCOUNT + 1)]
        self.assertEqual(founded, ["alice"] * MAX_FOUNDED_PER_ACCOUNT + [None])
        self.hub.registry.founded["others"] = MAX_REGISTERED_CHANNELS - MAX_FOUNDED_PER_ACCOUNT
        self.do(self.bob, "JOIN #full")
        self.assertIsNone(self.channel("#full").founder)
        [refused] = replies(self.do(self.bob, "MODE #full +r"))
        self.assertEqual((refused.command, refused.params[-1]), (
            N.ERR_INVALIDMODEPARAM,
            f"This server keeps {MAX_REGISTERED_CHANNELS} registered channels already"))
        [refused] = replies(self.do(self.alice, f"MODE #c{MAX_FOUNDED_PER_ACCOUNT} +r"))
        self.assertEqual(refused.params[-1], "That account is the founder of"
                                             f" {MAX_FOUNDED_PER_ACCOUNT} channels already")


class EmptinessTest(FounderTest):
    def setUp(self):
        super().setUp()
        self.do(self.alice, "JOIN #c")
        self.do(self.alice, "MODE #c +mk-t sekrit")
        self.do(self.alice, "MODE #c +b carol")
        self.do(self.alice, "TOPIC #c :kept topic")
        self.do(self.bob, "JOIN #c sekrit")
        self.do(self.alice, "MODE #c +o bob")  # bob's account is kept
        for client in (self.alice, self.bob):
            self.do(client, "PART #c")
        writes(self.hub)

    def test_a_registered_channel_keeps_its_state_while_empty(self):
        self.assertIsNone(self.channel())
        dave = add_client(self.hub, 4, "dave")
        self.assertEqual(codes(self.do(dave, "JOIN #c")), [N.ERR_BADCHANNELKEY])
        self.assertEqual(codes(self.do(self.carol, "JOIN #c sekrit")), [N.ERR_BANNEDFROMCHAN])
        [join] = emits(self.do(dave, "JOIN #c sekrit"))
        self.assertIn(":irc.test 332 dave #c :kept topic", join.extra)
        channel = self.channel()
        self.assertEqual(channel.ranks, {})  # the first one in is not its operator
        self.assertEqual((channel.modes.flags, channel.modes.key), ({"m", "n"}, "sekrit"))
        self.assertEqual([e.mask for e in channel.modes.lists["b"]], ["carol!*@*"])
        self.assertEqual(self.modes_shown(dave), ("+kmnr", "sekrit", "alice"))
        self.assertEqual(writes(self.hub), [])  # nothing kept changed

    def test_its_founder_and_operator_accounts_are_opped_and_pass_its_modes(self):
        self.assertEqual(codes(self.do(self.alice, "MODE #c")), [N.ERR_NOSUCHCHANNEL])  # empty
        self.do(self.bob, "JOIN #c")  # no key needed
        self.do(self.alice, "JOIN #c")
        self.assertEqual(self.channel().ranks, {2: "o", 1: "o"})

    def test_dropped_it_vanishes_when_empty(self):
        self.do(self.alice, "JOIN #c")
        self.do(self.alice, "MODE #c -r")
        self.assertEqual((self.channel().founder, self.channel().operators), (None, set()))
        self.assertEqual(writes(self.hub), [("del", "#c", None)])
        self.do(self.alice, "PART #c")
        self.assertNotIn("#c", self.hub.registry.dormant)
        self.do(self.carol, "JOIN #c")  # made again: no ban, no key, carol its operator
        self.assertEqual((self.channel().ranks, self.channel().modes.flags), ({3: "o"}, {"n", "t"}))
        self.assertEqual(writes(self.hub), [])


class UnregisteredTest(FounderTest):
    def test_an_unregistered_channel_vanishes_with_its_state(self):
        self.do(self.carol, "JOIN #c")
        self.do(self.carol, "MODE #c +im")
        self.do(self.carol, "TOPIC #c :gone soon")
        self.do(self.carol, "PART #c")
        self.assertEqual(writes(self.hub), [])
        self.do(self.bob, "JOIN #c")  # created again, founded by bob now
        channel = self.channel()
        self.assertEqual((channel.topic, channel.modes.flags, channel.ranks, channel.founder),
                         ("", {"n", "t"}, {2: "o"}, "bob"))

    def test_an_autojoin_channel_keeps_its_topic_alone(self):
        # Everyone was put in #lobby at registration; alice, the first, is its operator.
        self.assertIsNone(self.channel("#lobby").founder)
        self.do(self.alice, "MODE #lobby +m")
        self.do(self.alice, "TOPIC #lobby :Welcome")
        [(op, name, state)] = writes(self.hub)
        self.assertEqual((op, name, state["topic"], state["flags"], state["founder"]),
                         ("set", "#lobby", "Welcome", "", ""))
        for client in (self.alice, self.bob, self.carol):
            self.do(client, "PART #lobby")
        self.do(self.bob, "JOIN #lobby")
        lobby = self.channel("#lobby")
        self.assertEqual((lobby.topic, lobby.modes.flags, lobby.ranks), ("Welcome", {"n", "t"},
                                                                         {2: "o"}))
        self.do(self.bob, "TOPIC #lobby :")
        self.do(self.bob, "PART #lobby")
        self.assertEqual([w[:2] for w in writes(self.hub)], [("del", "#lobby")])
        self.assertNotIn("#lobby", self.hub.registry.dormant)


class FounderModeTest(FounderTest):
    def setUp(self):
        super().setUp()
        self.do(self.alice, "JOIN #c")
        for client in (self.bob, self.carol):
            self.do(client, "JOIN #c")
        writes(self.hub)

    def refused(self, client, line: str) -> tuple[str, ...]:
        effects = self.do(client, line)
        self.assertEqual(emits(effects), [])
        [error] = replies(effects)
        return (error.command,) + error.params[1:]

    def test_the_founder_hands_it_over_to_an_account_in_the_channel(self):
        self.do(self.alice, "MODE #c +o bob")
        [emit] = emits(self.do(self.alice, "MODE #c +r BOB"))
        self.assertEqual((emit.kind, emit.text), ("MODE", "+r bob"))  # stored, as every MODE
        self.assertEqual(self.channel().founder, "bob")
        [(_, _, state)] = writes(self.hub)
        self.assertEqual((state["founder"], state["operators"]), ("bob", []))
        self.assertEqual(self.refused(self.alice, "MODE #c -r"),
                         (N.ERR_CHANOPRIVSNEEDED, "#c", "You're not the channel founder"))

    def test_a_deopped_founder_may_op_itself_again_an_operator_account_may_not(self):
        self.do(self.alice, "MODE #c +o bob")  # bob's account: an operator account
        self.do(self.bob, "MODE #c -o alice")
        self.do(self.alice, "MODE #c -o bob")
        self.assertFalse(self.channel().is_operator(self.alice))
        self.assertEqual(self.refused(self.bob, "MODE #c +o bob")[0], N.ERR_CHANOPRIVSNEEDED)
        [emit] = emits(self.do(self.alice, "MODE #c +o alice"))
        self.assertEqual(emit.text, "+o alice")
        self.assertTrue(self.channel().is_operator(self.alice))
        self.do(self.alice, "PART #c")
        self.assertEqual(self.refused(self.alice, "MODE #c +m")[0], N.ERR_CHANOPRIVSNEEDED)

    def test_refusals(self):
        self.do(self.alice, "MODE #c +o carol")
        self.logged_in(5, "nobody")  # not in #c
        cases = [
            (self.alice, "MODE #c +r ghost", "There is no account ghost"),
            (self.alice, "MODE #c +r nobody", "The new founder must be in the channel, logged"
                                              " in to that account"),
        ]
        for client, line, why in cases:
            with self.subTest(line=line):
                self.assertEqual(self.refused(client, line),
                                 (N.ERR_INVALIDMODEPARAM, "#c", "r", line.split()[-1], why))
        self.assertEqual(self.refused(self.carol, "MODE #c -r")[0], N.ERR_CHANOPRIVSNEEDED)

    def test_an_operator_registers_an_unregistered_channel_to_its_own_account(self):
        self.do(self.alice, "MODE #c -r")
        self.do(self.alice, "MODE #c +o carol")
        self.assertEqual(self.refused(self.carol, "MODE #c +r")[-1],
                         "Log in to an account to register a channel")
        self.assertEqual(self.refused(self.alice, "MODE #c +r bob")[-1],
                         "Register the channel to your own account, then hand it over")
        [emit] = emits(self.do(self.alice, "MODE #c +r"))
        self.assertEqual(emit.text, "+r alice")
        self.assertEqual(self.channel().founder, "alice")


class OperatorAccountsTest(FounderTest):
    def setUp(self):
        super().setUp()
        self.do(self.alice, "JOIN #c")
        for client in (self.bob, self.carol):
            self.do(client, "JOIN #c")
        writes(self.hub)

    def test_op_of_a_logged_in_member_records_its_account(self):
        self.do(self.alice, "MODE #c +o carol")  # not logged in: an op until it leaves
        self.assertEqual(writes(self.hub), [])
        self.do(self.alice, "MODE #c +o bob")
        self.assertEqual(self.channel().operators, {"bob"})
        [(_, _, state)] = writes(self.hub)
        self.assertEqual(state["operators"], ["bob"])
        self.do(self.alice, "MODE #c -o bob")
        self.assertEqual(self.channel().operators, set())
        self.assertEqual(writes(self.hub)[0][2]["operators"], [])

    def test_an_operator_already_opped_is_recorded_and_announced(self):
        self.do(self.alice, "MODE #c -r")
        self.do(self.alice, "MODE #c +o bob")
        self.do(self.alice, "MODE #c +r")
        writes(self.hub)
        [emit] = emits(self.do(self.alice, "MODE #c +o bob"))
        self.assertEqual(emit.text, "+o bob")
        self.assertEqual(self.channel().operators, {"bob"})

    def test_the_list_is_bounded(self):
        self.channel().operators.update(f"acc{i}" for i in range(MAX_OPERATOR_ACCOUNTS))
        effects = self.do(self.alice, "MODE #c +o bob")
        self.assertEqual(codes(effects), [N.ERR_BANLISTFULL])
        self.assertEqual(emits(effects), [])
        self.assertNotIn(2, {conn for conn, rank in self.channel().ranks.items() if "o" in rank})

    def test_a_deleted_account_founds_and_opps_nothing(self):
        self.do(self.alice, "MODE #c +o bob")
        writes(self.hub)
        founders.forget_account(self.hub, "BOB")
        self.assertEqual(self.channel().operators, set())
        founders.forget_account(self.hub, "alice")
        self.assertIsNone(self.channel().founder)
        self.assertEqual([w[:2] for w in writes(self.hub)], [("del", "#c")])
        self.assertEqual(self.hub.registry.founded["alice"], 0)


class BoundsTest(unittest.TestCase):
    def test_every_registered_channel_at_its_fullest_fits_the_ready_frame(self):
        """The writer hands the master every kept channel in one Ready frame: at the bounds
        (MAX_REGISTERED_CHANNELS channels of MAX_LIST_ENTRIES entries of the longest masks
        and setters, MAX_OPERATOR_ACCOUNTS accounts, the longest topic) it still fits, with
        room for the accounts that ride in the same frame. Every text differs (marshal would
        store equal objects once; a real Ready's come from separate rows)."""
        def fullest(c: int) -> tuple:
            entries = tuple((f"{c:04d}{i:04d}" + "m" * (MAX_MASK_BYTES - 8),
                             f"{c:04d}{i:04d}" + "n" * (NICKLEN - 8) + "!" + "u" * 64 + "@"
                             + "h" * 63, 1_700_000_000 + i) for i in range(MAX_LIST_ENTRIES))
            return tuple(StoredChannel(
                name=f"#{c:04d}" + "c" * (CHANNELLEN - 5), founder=f"{c:04d}" + "f" * 26,
                created_s=1_700_000_000, flags="imnst", key="k" * KEYLEN, limit=1_000_000,
                topic=f"{c:04d}" + "\u00e9" * (TOPICLEN // 2 - 2), topic_setter="n" * NICKLEN,
                topic_ts_ms=1_700_000_000_000, lists={"b": entries},
                operators=tuple(f"{c:04d}{i:03d}" + "a" * (NICKLEN - 7)
                                for i in range(MAX_OPERATOR_ACCOUNTS))))

        sample = 100
        size = len(ipc.encode(ipc.Ready(last_id=0, last_ts_ms=0,
                                        channels=tuple(fullest(c) for c in range(sample)))))
        self.assertLess(size * (MAX_REGISTERED_CHANNELS // sample), ipc.MAX_FRAME_BYTES * 0.6)

    def test_every_account_at_its_fullest_fits_beside_them(self):
        """...and MAX_ACCOUNTS accounts (the longest names, real credentials, each with
        MAX_CERTS_PER_ACCOUNT certificates) take less than the room left."""
        creds = make_credentials("pencil-and-paper")
        sample = 1_000
        accounts = tuple((f"{a:05d}" + "a" * (NICKLEN - 5), creds.password_hash + f"{a}",
                          creds.scram + f"{a}",
                          tuple(f"{a:05d}{c:059x}" for c in range(MAX_CERTS_PER_ACCOUNT)))
                         for a in range(sample))
        size = len(ipc.encode(ipc.Ready(last_id=0, last_ts_ms=0, channels=(),
                                        accounts=accounts)))
        self.assertLess(size * (MAX_ACCOUNTS // sample), ipc.MAX_FRAME_BYTES * 0.35)


class StoredStateTest(FounderTest):
    def test_a_kept_state_round_trip(self):
        self.do(self.alice, "JOIN #Round")
        self.do(self.alice, "MODE #round +ilb 7 *!*@bad")
        self.do(self.alice, "MODE #round +eI x!*@* $a:bob")
        self.do(self.alice, "TOPIC #round :round trip")
        self.do(self.bob, "JOIN #round")  # alice's invite exception lets bob in
        self.do(self.alice, "MODE #round +o bob")
        [(_, _, written)] = writes(self.hub)
        channel = self.channel("#round")
        state = founders.snapshot(channel)
        self.assertEqual(from_json(to_json(state)), state)
        self.assertEqual(written, json.loads(to_json(state)))
        back = founders.restored(state)
        self.assertEqual((back.name, back.created_s, back.founder, back.operators, back.topic,
                          back.modes.flags, back.modes.limit, back.modes.lists),
                         ("#Round", channel.created_s, "alice", {"bob"}, "round trip",
                          {"i", "n", "t"}, 7, channel.modes.lists))


if __name__ == "__main__":
    unittest.main()
