"""Channel operators and modes as the master decides them: MODE on a channel, KICK, INVITE,
the JOIN checks (+b/+e, +i/+I, +k, +l), who may speak (+n, +m, +b), TOPIC under +t, nick
changes of banned members, secret channels, and the config's default modes and operators.
Driven through the Hub like tests/unit/test_hub.py."""

import unittest

from chatd.hub.hub import Emit, ReplyLines
from tests.unit.test_hub import add_client, claim_nick, codes, emits, make_hub, replies, run
from ircproto import numerics as N


class ChannelTest(unittest.TestCase):
    """alice made #c (its operator); bob is a member; carol is elsewhere."""

    def setUp(self):
        self.hub = make_hub(server_name="irc.test")
        self.alice = add_client(self.hub, 1, "alice", worker=0)
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        self.carol = add_client(self.hub, 3, "carol", worker=2)
        run(self.hub, self.alice, "JOIN #c")
        run(self.hub, self.bob, "JOIN #c")
        self.channel = self.hub.registry.channel("#c")

    def mode(self, line: str, by=None) -> list:
        return run(self.hub, by or self.alice, line)


class ModeTest(ChannelTest):
    def test_creator_is_operator_with_default_modes(self):
        self.assertEqual(self.channel.ranks, {1: "o"})
        [modeis, created] = replies(self.mode("MODE #c"))
        self.assertEqual((modeis.command, modeis.params[1:]),
                         (N.RPL_CHANNELMODEIS, ("#c", "+nt")))
        self.assertEqual((created.command, created.params[1:]),
                         (N.RPL_CREATIONTIME, ("#c", "1700000000")))

    def test_change_is_one_stored_mode_event_for_the_channel(self):
        effects = self.mode("MODE #c +mv-t bob")
        self.assertEqual(codes(effects), [])
        [emit] = emits(effects)
        self.assertEqual((emit.kind, emit.source, emit.target, emit.text),
                         ("MODE", "alice!u1@host1", "#c", "+mv-t bob"))
        self.assertEqual((emit.convs, emit.channels, emit.to_conns, set(emit.workers)),
                         (("#c",), ("#c",), (), {0, 1}))
        self.assertEqual(self.channel.modes.flags, {"m", "n"})
        self.assertEqual(self.channel.ranks[2], "v")

    def test_empty_mode_string_is_a_query(self):
        self.assertEqual(codes(self.mode("MODE #c :")),
                         [N.RPL_CHANNELMODEIS, N.RPL_CREATIONTIME])

    def test_no_change_no_event(self):
        self.assertEqual(self.mode("MODE #c +nt"), [])

    def test_non_operator_is_refused_once_and_nothing_changes(self):
        effects = self.mode("MODE #c +mo-n bob bob", by=self.bob)
        self.assertEqual(codes(effects), [N.ERR_CHANOPRIVSNEEDED])
        self.assertEqual(replies(effects)[0].params[1], "#c")
        self.assertEqual(emits(effects), [])
        self.assertEqual(self.channel.modes.flags, {"n", "t"})
        self.assertEqual(codes(self.mode("MODE #c +m", by=self.carol)),  # not even a member
                         [N.ERR_CHANOPRIVSNEEDED])

    def test_errors_per_mode(self):
        cases = [
            ("MODE #c +o nobody", [N.ERR_NOSUCHNICK]),
            ("MODE #c +o carol", [N.ERR_USERNOTINCHANNEL]),
            ("MODE #nowhere +o bob", [N.ERR_NOSUCHCHANNEL]),
            ("MODE #c +yy", [N.ERR_UNKNOWNMODE]),
            ("MODE #c +xmz", [N.ERR_UNKNOWNMODE, N.ERR_UNKNOWNMODE]),
            ("MODE #c +l 0", [N.ERR_INVALIDMODEPARAM]),
            ("MODE #c +k :a b", [N.ERR_INVALIDMODEPARAM]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(self.mode(line)), expected)
        [e441] = replies(self.mode("MODE #c +o carol"))
        self.assertEqual(e441.params[1:3], ("carol", "#c"))
        effects = self.mode("MODE #c +xs")  # the known letter still applies
        self.assertEqual([e.text for e in emits(effects)], ["+s"])

    def test_lists(self):
        self.mode("MODE #c +b bad")
        self.mode("MODE #c +e *!*@host9")
        lines = replies(self.mode("MODE #c b", by=self.bob))  # anyone may see the bans
        self.assertEqual([(m.command, m.params[1:]) for m in lines], [
            (N.RPL_BANLIST, ("#c", "bad!*@*", "alice!u1@host1", "1700000000")),
            (N.RPL_ENDOFBANLIST, ("#c", "End of channel ban list"))])
        self.assertEqual(codes(self.mode("MODE #c e")), [N.RPL_EXCEPTLIST, N.RPL_ENDOFEXCEPTLIST])
        self.assertEqual(codes(self.mode("MODE #c +I")), [N.RPL_ENDOFINVEXLIST])
        # exceptions say who gets through: operators only
        self.assertEqual(codes(self.mode("MODE #c e", by=self.bob)), [N.ERR_CHANOPRIVSNEEDED])
        self.assertEqual(codes(self.mode("MODE #c bI")),
                         [N.RPL_BANLIST, N.RPL_ENDOFBANLIST, N.RPL_ENDOFINVEXLIST])

    def test_key_shown_to_members_only(self):
        self.mode("MODE #c +kl beer 10")
        shown = lambda who: replies(self.mode("MODE #c", by=who))[0].params[2:]
        self.assertEqual(shown(self.bob), ("+klnt", "beer", "10"))
        self.assertEqual(shown(self.carol), ("+klnt", "*", "10"))

    def test_long_changes_are_split_under_512_bytes(self):
        masks = [f"{i}" * 140 + "!*@*" for i in range(4)]
        effects = self.mode("MODE #c +bbbb " + " ".join(masks))
        texts = [e.text for e in emits(effects)]
        self.assertGreater(len(texts), 1)
        self.assertEqual([m for t in texts for m in t.split()[1:]], masks)  # all, in order
        for text in texts:
            self.assertLessEqual(len(f":alice!u1@host1 MODE #c {text}\r\n".encode()), 512)
        self.assertEqual(len(self.channel.modes.lists["b"]), 4)

    def test_names_who_whois_show_ranks(self):
        self.mode("MODE #c +v alice")
        self.alice.caps = frozenset({"multi-prefix"})
        names = replies(run(self.hub, self.alice, "NAMES #c"))[0]
        self.assertEqual(names.params[-1], "@+alice bob")
        names = replies(run(self.hub, self.bob, "NAMES #c"))[0]
        self.assertEqual(names.params[-1], "@alice bob")  # no multi-prefix: the highest
        run(self.hub, self.bob, "AWAY :out")
        self.mode("MODE #c +v bob")
        rows = {m.params[5]: m.params[6] for m in replies(run(self.hub, self.alice, "WHO #c"))
                if m.command == N.RPL_WHOREPLY}
        self.assertEqual(rows, {"alice": "H@+", "bob": "G+"})
        chans = [m for m in replies(run(self.hub, self.carol, "WHOIS alice"))
                 if m.command == N.RPL_WHOISCHANNELS]
        self.assertEqual(chans[0].params[-1], "@#c")


class JoinTest(ChannelTest):
    def join(self, client, line: str) -> list[str]:
        return codes(run(self.hub, client, line))

    def test_ban_and_exception(self):
        self.mode("MODE #c +b carol!*@*")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_BANNEDFROMCHAN])
        self.mode("MODE #c +e *!u3@*")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [])
        self.assertIn(3, self.channel.members)

    def test_invite_only_and_invite_exception(self):
        self.mode("MODE #c +i")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_INVITEONLYCHAN])
        self.mode("MODE #c +I CAROL")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [])

    def test_key(self):
        self.mode("MODE #c +k beer")
        for line in ("JOIN #c", "JOIN #c wine", "JOIN #c,#d ,beer"):
            with self.subTest(line=line):
                self.assertIn(N.ERR_BADCHANNELKEY, self.join(self.carol, line))
        self.assertEqual(self.join(self.carol, "JOIN #d,#c ,beer"), [])  # keys pair in order
        self.assertIn(3, self.channel.members)

    def test_limit(self):
        self.mode("MODE #c +l 2")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_CHANNELISFULL])
        run(self.hub, self.bob, "PART #c")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [])

    def test_an_operators_invite_passes_ban_invite_only_and_limit_once(self):
        self.mode("MODE #c +bil carol 2")
        self.assertIn(N.RPL_INVITING, codes(run(self.hub, self.alice, "INVITE carol #c")))
        self.assertEqual(self.join(self.carol, "JOIN #c"), [])
        run(self.hub, self.carol, "PART #c")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_BANNEDFROMCHAN])  # used up

    def test_an_invite_does_not_pass_the_key(self):
        self.mode("MODE #c +k beer")
        run(self.hub, self.alice, "INVITE carol #c")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_BADCHANNELKEY])

    def test_an_invite_is_to_that_channel_not_a_later_one_of_the_same_name(self):
        run(self.hub, self.alice, "INVITE carol #c")
        for client in (self.alice, self.bob):
            run(self.hub, client, "PART #c")
        run(self.hub, self.bob, "JOIN #c")  # a new #c: bob is its operator
        run(self.hub, self.bob, "MODE #c +i")
        self.assertEqual(self.join(self.carol, "JOIN #c"), [N.ERR_INVITEONLYCHAN])
        self.assertEqual(codes(run(self.hub, self.carol, "INVITE")), [N.RPL_ENDOFINVITELIST])


class SpeakTest(ChannelTest):
    def say(self, client, command: str = "PRIVMSG") -> list[str]:
        effects = run(self.hub, client, f"{command} #c :hi" if command != "TAGMSG"
                      else "TAGMSG #c")
        return ["sent"] if emits(effects) else codes(effects)

    def test_no_external_messages(self):
        self.assertEqual(self.say(self.carol), [N.ERR_CANNOTSENDTOCHAN])
        self.mode("MODE #c -n")
        self.assertEqual(self.say(self.carol), ["sent"])

    def test_moderated_and_banned_members_are_silent_by_every_command(self):
        for setting, undo in (("+m", "-m"), ("+b bob", "-b bob")):
            with self.subTest(setting=setting):
                self.mode(f"MODE #c {setting}")
                for command in ("PRIVMSG", "TAGMSG"):
                    self.assertEqual(self.say(self.bob, command), [N.ERR_CANNOTSENDTOCHAN])
                self.assertEqual(self.say(self.bob, "NOTICE"), [])  # refused, never answered
                self.assertEqual(self.say(self.alice), ["sent"])  # the operator speaks
                self.mode("MODE #c +v bob")
                self.assertEqual(self.say(self.bob), ["sent"])  # and so does voice
                self.mode("MODE #c -v bob")
                self.mode(f"MODE #c {undo}")
                self.assertEqual(self.say(self.bob), ["sent"])

    def test_a_banned_member_keeps_its_nick(self):
        self.mode("MODE #c +b bob!*@*")
        claim_nick(self.hub, self.bob, "robert")
        [error] = replies(self.hub.take_effects())
        self.assertEqual((error.command, *error.params[1:3]), (N.ERR_BANONCHAN, "robert", "#c"))
        self.assertIs(self.hub.registry.find_nick("bob"), self.bob)
        self.mode("MODE #c +v bob")  # voice lets it
        claim_nick(self.hub, self.bob, "robert")
        self.assertEqual([e.kind for e in emits(self.hub.take_effects())], ["NICK"])

    def test_topic_under_t(self):
        self.assertEqual(codes(run(self.hub, self.bob, "TOPIC #c :mine")),
                         [N.ERR_CHANOPRIVSNEEDED])
        self.assertEqual([e.kind for e in emits(run(self.hub, self.alice, "TOPIC #c :ok"))],
                         ["TOPIC"])
        self.mode("MODE #c -t")
        self.assertEqual([e.kind for e in emits(run(self.hub, self.bob, "TOPIC #c :mine"))],
                         ["TOPIC"])


class KickTest(ChannelTest):
    def test_kick_is_one_stored_event_per_user_and_they_leave(self):
        dave = add_client(self.hub, 4, "dave", worker=2)
        run(self.hub, dave, "JOIN #c")
        effects = run(self.hub, self.alice, "KICK #c bob,DAVE :too loud")
        self.assertEqual(codes(effects), [])
        kicks = emits(effects)
        self.assertEqual([(e.kind, e.target, e.text, e.to_conns) for e in kicks],
                         [("KICK", "#c", "bob :too loud", (2,)),
                          ("KICK", "#c", "dave :too loud", (4,))])
        self.assertEqual(set(kicks[0].workers), {0, 1, 2})  # the kicked one's worker too
        self.assertEqual(list(self.channel.members), [1])
        self.assertNotIn("#c", self.bob.channels)

    def test_default_reason_is_the_kickers_nick(self):
        [kick] = emits(run(self.hub, self.alice, "KICK #c bob"))
        self.assertEqual(kick.text, "bob :alice")

    def test_paired_channels_and_users(self):
        run(self.hub, self.alice, "JOIN #d")
        run(self.hub, self.carol, "JOIN #d")
        effects = run(self.hub, self.alice, "KICK #c,#d bob,carol :out")
        self.assertEqual([(e.target, e.text) for e in emits(effects)],
                         [("#c", "bob :out"), ("#d", "carol :out")])
        self.assertEqual(codes(run(self.hub, self.alice, "KICK #c,#d alice")),
                         [N.ERR_NEEDMOREPARAMS])

    def test_errors(self):
        cases = [
            (self.bob, "KICK #c alice", [N.ERR_CHANOPRIVSNEEDED]),
            (self.carol, "KICK #c bob", [N.ERR_NOTONCHANNEL]),
            (self.alice, "KICK #nowhere bob", [N.ERR_NOSUCHCHANNEL]),
            (self.alice, "KICK #c nobody", [N.ERR_NOSUCHNICK]),
            (self.alice, "KICK #c carol", [N.ERR_USERNOTINCHANNEL]),
            (self.alice, "KICK #c carol,bob", [N.ERR_USERNOTINCHANNEL]),  # bob still goes
        ]
        for client, line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, client, line)), expected)
        self.assertNotIn(2, self.channel.members)

    def test_kicking_the_last_member_ends_the_channel(self):
        run(self.hub, self.bob, "PART #c")
        self.assertEqual(len(emits(run(self.hub, self.alice, "KICK #c alice"))), 1)
        self.assertIsNone(self.hub.registry.channel("#c"))


class InviteTest(ChannelTest):
    def test_invite(self):
        effects = run(self.hub, self.bob, "INVITE carol #c")  # any member, without +i
        [inviting] = [m for m in replies(effects) if m.command == N.RPL_INVITING]
        self.assertEqual(inviting.params, ("bob", "carol", "#c"))
        lines = [(e.conn_id, e.lines) for e in effects
                 if isinstance(e, ReplyLines) and e.conn_id == 3]
        self.assertEqual(lines, [(3, [":bob!u2@host2 INVITE carol #c"])])
        self.assertEqual(self.carol.invites, {})  # not an operator's: it grants nothing

    def test_errors(self):
        run(self.hub, self.alice, "MODE #c +i")
        cases = [
            (self.bob, "INVITE carol #c", [N.ERR_CHANOPRIVSNEEDED]),  # +i: operators only
            (self.carol, "INVITE bob #c", [N.ERR_NOTONCHANNEL]),
            (self.alice, "INVITE nobody #c", [N.ERR_NOSUCHNICK]),
            (self.alice, "INVITE carol #nowhere", [N.ERR_NOSUCHCHANNEL]),
            (self.alice, "INVITE bob #c", [N.ERR_USERONCHANNEL]),
            (self.alice, "INVITE carol", [N.ERR_NEEDMOREPARAMS]),
        ]
        for client, line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, client, line)), expected)

    def test_invite_notify_tells_the_other_operators(self):
        dave = add_client(self.hub, 4, "dave", worker=2)
        run(self.hub, dave, "JOIN #c")
        run(self.hub, self.alice, "MODE #c +o dave")
        dave.caps = self.bob.caps = frozenset({"invite-notify"})
        effects = run(self.hub, self.alice, "INVITE carol #c")
        told = sorted(e.conn_id for e in effects if isinstance(e, ReplyLines)
                      and any(" INVITE carol #c" in line for line in e.lines))
        self.assertEqual(told, [3, 4])  # carol and dave, not bob (no operator)

    def test_invite_list(self):
        run(self.hub, self.alice, "INVITE carol #c")
        lines = replies(run(self.hub, self.carol, "INVITE"))
        self.assertEqual([(m.command, m.params[1:2]) for m in lines],
                         [(N.RPL_INVITELIST, ("#c",)),
                          (N.RPL_ENDOFINVITELIST, ("End of /INVITE list",))])


class SecretTest(ChannelTest):
    def test_secret_channel_is_hidden_from_non_members(self):
        self.mode("MODE #c +s")
        listed = lambda who: [m.params[1] for m in replies(run(self.hub, who, "LIST"))
                              if m.command == N.RPL_LIST]
        self.assertEqual(listed(self.bob), ["#c"])
        self.assertEqual(listed(self.carol), [])
        self.assertEqual(codes(run(self.hub, self.carol, "NAMES #c")), [N.RPL_ENDOFNAMES])
        self.assertEqual(replies(run(self.hub, self.bob, "NAMES #c"))[0].params[1], "@")
        self.assertEqual(codes(run(self.hub, self.carol, "WHO #c")), [N.RPL_ENDOFWHO])
        whois = lambda who: [m for m in replies(run(self.hub, who, "WHOIS alice"))
                             if m.command == N.RPL_WHOISCHANNELS]
        self.assertEqual(whois(self.carol), [])
        self.assertEqual(whois(self.bob)[0].params[-1], "@#c")


class ConfigTest(unittest.TestCase):
    def test_default_modes(self):
        hub = make_hub(default_modes="imn")
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #c")
        self.assertEqual(hub.registry.channel("#c").modes.flags, {"i", "m", "n"})

    def test_configured_operators_own_the_autojoin_channels(self):
        hub = make_hub(autojoin=("#lobby",), channel_operators=("Boss",))
        first = add_client(hub, 1, "first")
        lobby = hub.registry.channel("#lobby")
        self.assertEqual(lobby.ranks, {})  # the first one in is not its operator
        boss = add_client(hub, 2, "boss", register=False)
        boss.account = "boss"
        hub.registered(boss, "u2", "Boss")
        self.assertEqual(lobby.ranks, {2: "o"})
        joins = [e for e in hub.take_effects() if isinstance(e, Emit)]
        self.assertIn("@boss", joins[0].extra)
        run(hub, boss, "MODE #lobby +bik boss key")
        run(hub, boss, "PART #lobby")
        self.assertEqual(codes(run(hub, boss, "JOIN #lobby")), [])  # nothing stops it there
        self.assertEqual(lobby.ranks, {2: "o"})
        run(hub, first, "JOIN #other")  # any other channel: the usual rule
        self.assertEqual(hub.registry.channel("#other").ranks, {1: "o"})
        run(hub, boss, "JOIN #other")
        self.assertEqual(hub.registry.channel("#other").ranks, {1: "o"})


if __name__ == "__main__":
    unittest.main()
