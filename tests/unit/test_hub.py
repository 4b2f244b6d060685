"""chatd.hub (Hub, the command handlers, the registry): the master's decisions, driven
directly.

Clients are opened, named and registered on the Hub as the master would do it; commands run
through run_command, the boundary that answers their IrcError; the effects (ReplyLines / Emit /
ToWorker with a NickOk, Welcome, Synced, LabelStart or LabelEnd frame) are checked.
"""

import dataclasses
import unittest

from chatd.config import Config
from chatd.commandset import COMMANDS
from chatd.commandset import MASTER, commands_answered_by
from chatd.hub.commands import GLOBAL_COMMANDS, run_command
from chatd.hub import (about, founders, klines, membership, messages, moderation, opers,
                       presence, queries, read_markers)
from chatd.stored_channel import StoredChannel
from chatd.hub.queries import WHO_MAX_MATCHES
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc.frames import ClaimNick
from chatd.serverinfo import MAX_TARGETS
from chatd.hub.hub import Emit, Hub, ReplyLines, ToWorker
from chatd.ipc import frames as ipc
from ircproto import numerics as N
from ircproto.message import Message, parse
from chatd.limits import TOPICLEN


def kinds(effects: list) -> list[type]:
    """Each effect's type, or for a ToWorker the type of the frame it carries."""
    return [type(e.frame) if isinstance(e, ToWorker) else type(e) for e in effects]


def make_hub(**settings) -> Hub:
    settings.setdefault("autojoin", ())
    hub = Hub(dataclasses.replace(Config(), **settings))
    hub.now_ms = 1_700_000_000_000
    return hub


def add_client(hub: Hub, conn_id: int, nick: str, worker: int = 0, register: bool = True):
    hub.connection_opened(conn_id, worker, f"host{conn_id}", 1_700_000_000)
    client = hub.registry.clients[conn_id]
    claim_nick(hub, client, nick)
    if register:
        hub.registered(client, f"u{conn_id}", f"Real {nick}")
    hub.take_effects()
    return client


def claim_nick(hub: Hub, client, nick: str) -> None:
    """NICK as the master runs it: through the boundary that answers its error."""
    apply_worker_frame(hub, client, ClaimNick(conn_id=client.conn_id, nick=nick, label=None))


def run_line(hub: Hub, client, line: str) -> None:
    """Run one command line as the master would after the worker forwarded it."""
    msg = parse(line)
    assert len(msg.params) >= COMMANDS[msg.command].min_params, "the worker answers 461 first"
    run_command(hub, client, msg.command, msg.params)


def run(hub: Hub, client, line: str) -> list:
    """run_line, then the effects it had."""
    run_line(hub, client, line)
    return hub.take_effects()


def replies(effects: list) -> list[Message]:
    """Every line of every ReplyLines, parsed, in order."""
    out = []
    for effect in effects:
        if isinstance(effect, ReplyLines):
            out += [parse(line) for line in effect.lines]
    return out


def codes(effects: list) -> list[str]:
    return [m.command for m in replies(effects)]


def emits(effects: list) -> list[Emit]:
    return [e for e in effects if isinstance(e, Emit)]


class NickTest(unittest.TestCase):
    def test_unregistered_claim_is_granted(self):
        hub = make_hub()
        hub.connection_opened(1, 3, "h", 0)
        client = hub.registry.clients[1]
        claim_nick(hub, client, "alice")
        self.assertEqual(hub.take_effects(), [ToWorker(3, ipc.NickOk(1, "alice"))])
        self.assertIs(hub.registry.find_nick("ALICE"), client)

    def test_nick_in_use_is_case_insensitive(self):
        taken = ["alice", "Alice", "ALICE", "a[b]", "A{B}", "x\\y", "X|Y", "t~", "T^"]
        pairs = [("alice", n) for n in taken[:3]] + [("a[b]", "A{B}"), ("A{B}", "a[b]"),
                                                      ("x\\y", "X|Y"), ("t~", "T^")]
        for first, second in pairs:
            for registered in (False, True):
                with self.subTest(first=first, second=second, registered=registered):
                    hub = make_hub()
                    add_client(hub, 1, first, register=registered)
                    hub.connection_opened(2, 1, "h2", 0)
                    other = hub.registry.clients[2]
                    claim_nick(hub, other, second)
                    effects = hub.take_effects()
                    self.assertEqual(codes(effects), [N.ERR_NICKNAMEINUSE])
                    self.assertEqual(replies(effects)[0].params[:2], ("*", second))
                    self.assertEqual(effects[0].worker, 1)
                    self.assertIsNone(other.nick)

    def test_nick_is_freed_on_close(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        hub.connection_closed(alice, "Client Quit")
        hub.take_effects()
        hub.connection_opened(2, 0, "h", 0)
        claim_nick(hub, hub.registry.clients[2], "ALICE")
        self.assertEqual(hub.take_effects(), [ToWorker(0, ipc.NickOk(2, "ALICE"))])

    def test_nick_change_is_announced_to_channels(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=0)
        bob = add_client(hub, 2, "bob", worker=1)
        add_client(hub, 3, "carol", worker=2)  # shares nothing with alice
        run(hub, alice, "JOIN #a")
        run(hub, bob, "JOIN #a")
        claim_nick(hub, alice, "alicia")
        [emit] = hub.take_effects()
        self.assertEqual((emit.kind, emit.source, emit.target),
                         ("NICK", "alice!u1@host1", "alicia"))
        self.assertEqual(emit.channels, ("#a",))
        self.assertEqual(emit.to_conns, (1,))
        self.assertEqual(set(emit.workers), {0, 1})
        self.assertIsNone(hub.registry.find_nick("alice"))
        self.assertIs(hub.registry.find_nick("ALICIA"), alice)

    def test_own_nick_case_change_is_allowed(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        claim_nick(hub, alice, "alice")
        self.assertEqual(hub.take_effects(), [])  # same nick: nothing happens
        claim_nick(hub, alice, "Alice")
        [emit] = hub.take_effects()
        self.assertEqual((emit.kind, emit.target), ("NICK", "Alice"))
        self.assertEqual(emit.workers, (0,))


class JoinPartQuitTest(unittest.TestCase):
    def test_join_creates_channel_and_sends_names(self):
        hub = make_hub(server_name="irc.test")
        alice = add_client(hub, 1, "alice", worker=2)
        effects = run(hub, alice, "JOIN #Lobby")
        [emit] = effects
        self.assertEqual((emit.kind, emit.source, emit.target, emit.text),
                         ("JOIN", "alice!u1@host1", "#Lobby", "Real alice"))  # extended-join
        self.assertEqual((emit.convs, emit.channels, emit.workers, emit.origin),
                         (("#lobby",), ("#lobby",), (2,), 1))
        extra = [parse(line) for line in emit.extra.split("\r\n")]
        self.assertEqual([m.command for m in extra], [N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])
        self.assertEqual(extra[0].params, ("alice", "=", "#Lobby", "@alice"))  # its creator
        self.assertEqual(extra[1].params[:2], ("alice", "#Lobby"))
        channel = hub.registry.channel("#LOBBY")
        self.assertEqual(list(channel.members), [1])
        self.assertIn("#lobby", alice.channels)

    def test_join_keeps_the_creators_spelling(self):
        hub = make_hub()
        alice, bob = add_client(hub, 1, "alice"), add_client(hub, 2, "bob", worker=1)
        run(hub, alice, "JOIN #Lobby")
        [emit] = run(hub, bob, "JOIN #LOBBY")
        self.assertEqual(emit.target, "#Lobby")
        self.assertEqual(set(emit.workers), {0, 1})
        names = parse(emit.extra.split("\r\n")[0])
        self.assertEqual(names.params[-1].split(), ["@alice", "bob"])

    def test_join_list_and_errors(self):
        # (line, channels joined, error codes)
        cases = [
            ("JOIN #a,#b", ["#a", "#b"], []),
            ("JOIN #a,,#b", ["#a", "#b"], []),
            ("JOIN #a,#A", ["#a"], []),           # same channel twice: once
            ("JOIN #a,nochan", ["#a"], [N.ERR_NOSUCHCHANNEL]),
            ("JOIN #", [], [N.ERR_NOSUCHCHANNEL]),
            ("JOIN #a:b", [], [N.ERR_BADCHANNAME]),
            ("JOIN #\x1b[31mred,#ok", ["#ok"], [N.ERR_BADCHANNAME]),
            ("JOIN #\u202eder", [], [N.ERR_BADCHANNAME]),
            ("JOIN #a\u200bb", [], [N.ERR_BADCHANNAME]),
            ("JOIN #" + "x" * 60, [], [N.ERR_NOSUCHCHANNEL]),
            ("JOIN #a,#b key1,key2", ["#a", "#b"], []),
        ]
        for line, joined, errors in cases:
            with self.subTest(line=line):
                hub = make_hub()
                alice = add_client(hub, 1, "alice")
                effects = run(hub, alice, line)
                self.assertEqual([e.target for e in emits(effects)], joined)
                self.assertEqual(codes(effects), errors)

    def test_join_twice_is_quiet(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #a")
        self.assertEqual(run(hub, alice, "JOIN #A"), [])

    def test_too_many_channels(self):
        hub = make_hub(channels_per_client=2)
        alice = add_client(hub, 1, "alice")
        effects = run(hub, alice, "JOIN #a,#b,#c")
        self.assertEqual([e.target for e in emits(effects)], ["#a", "#b"])
        self.assertEqual(codes(effects), [N.ERR_TOOMANYCHANNELS])

    def test_join_zero_parts_everything(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #a,#b")
        effects = run(hub, alice, "JOIN 0")
        self.assertEqual([(e.kind, e.target) for e in effects], [("PART", "#a"), ("PART", "#b")])
        self.assertEqual(alice.channels, {})
        self.assertEqual(hub.registry.channels, {})

    def test_autojoin_on_registration(self):
        hub = make_hub(autojoin=("#lobby", "#help"))
        hub.connection_opened(1, 0, "h", 0)
        client = hub.registry.clients[1]
        claim_nick(hub, client, "alice")
        hub.take_effects()
        hub.registered(client, "al", "Alice")
        effects = hub.take_effects()
        # the welcome first: the client must have it before its autojoin JOINs
        self.assertEqual(effects[0], ToWorker(0, ipc.Welcome(1, "h")))
        self.assertEqual([(e.kind, e.target) for e in effects[1:]],
                         [("JOIN", "#lobby"), ("JOIN", "#help")])
        self.assertTrue(client.registered)
        self.assertEqual((client.user, client.realname), ("al", "Alice"))

    def test_part(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=0)
        bob = add_client(hub, 2, "bob", worker=1)
        run(hub, alice, "JOIN #a")
        run(hub, bob, "JOIN #a")
        [emit] = run(hub, bob, "PART #a :see you")
        self.assertEqual((emit.kind, emit.source, emit.target, emit.text),
                         ("PART", "bob!u2@host2", "#a", "see you"))
        self.assertEqual(emit.to_conns, (2,))           # the parter hears its own PART
        self.assertEqual(set(emit.workers), {0, 1})     # decided before bob left
        self.assertEqual(list(hub.registry.channel("#a").members), [1])
        self.assertEqual(hub.registry.channel("#a").workers(), (0,))
        # the last member leaving removes the channel, but its worker still hears the PART
        [emit] = run(hub, alice, "PART #A")
        self.assertEqual((emit.text, emit.workers), ("", (0,)))
        self.assertIsNone(hub.registry.channel("#a"))

    def test_part_errors(self):
        hub = make_hub()
        alice, bob = add_client(hub, 1, "alice"), add_client(hub, 2, "bob")
        run(hub, bob, "JOIN #b")
        cases = [
            ("PART #nowhere", [N.ERR_NOSUCHCHANNEL]),
            ("PART #b", [N.ERR_NOTONCHANNEL]),
            ("PART #nowhere,#b", [N.ERR_NOSUCHCHANNEL, N.ERR_NOTONCHANNEL]),
        ]
        for line, errors in cases:
            with self.subTest(line=line):
                effects = run(hub, alice, line)
                self.assertEqual(emits(effects), [])
                self.assertEqual(codes(effects), errors)

    def test_quit(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=0)
        bob = add_client(hub, 2, "bob", worker=1)
        add_client(hub, 3, "carol", worker=2)
        run(hub, alice, "JOIN #a,#b")
        run(hub, bob, "JOIN #b")
        hub.connection_closed(alice, "Quit: bye")
        [emit] = hub.take_effects()
        self.assertEqual((emit.kind, emit.source, emit.text),
                         ("QUIT", "alice!u1@host1", "Quit: bye"))
        self.assertEqual(set(emit.channels), {"#a", "#b"})
        self.assertEqual(set(emit.convs), {"#a", "#b"})
        self.assertEqual(set(emit.workers), {0, 1})  # carol's worker shares nothing
        self.assertNotIn(1, hub.registry.clients)
        self.assertIsNone(hub.registry.channel("#a"))
        self.assertEqual(list(hub.registry.channel("#b").members), [2])

    def test_unregistered_close_is_silent(self):
        hub = make_hub()
        ghost = add_client(hub, 1, "ghost", register=False)
        hub.connection_closed(ghost, "EOF")
        self.assertEqual(hub.take_effects(), [])
        self.assertNotIn(1, hub.registry.clients)
        self.assertIsNone(hub.registry.find_nick("ghost"))


class RoutingTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.w0 = add_client(self.hub, 1, "w0", worker=0)
        self.w1a = add_client(self.hub, 2, "w1a", worker=1)
        self.w1b = add_client(self.hub, 3, "w1b", worker=1)
        self.w2 = add_client(self.hub, 4, "w2", worker=2)
        for client in (self.w0, self.w1a, self.w1b):
            run(self.hub, client, "JOIN #a")
        run(self.hub, self.w2, "JOIN #other")

    def workers_for_message(self) -> set[int]:
        [emit] = run(self.hub, self.w0, "PRIVMSG #a :hi")
        return set(emit.workers)

    def test_only_workers_with_members(self):
        self.assertEqual(self.workers_for_message(), {0, 1})

    def test_worker_dropped_when_its_last_member_leaves(self):
        run(self.hub, self.w1a, "PART #a")
        self.assertEqual(self.workers_for_message(), {0, 1})
        self.hub.connection_closed(self.w1b, "gone")
        self.hub.take_effects()
        self.assertEqual(self.workers_for_message(), {0})

    def test_worker_added_when_a_member_joins(self):
        run(self.hub, self.w2, "JOIN #a")
        self.assertEqual(self.workers_for_message(), {0, 1, 2})

    def test_private_message_goes_to_both_participants_workers(self):
        # The target's worker delivers it; the sender's worker echoes it (echo-message) once
        # it is stored. It is stored under each participant's own timeline key.
        [emit] = run(self.hub, self.w0, "PRIVMSG W2 :psst")
        self.assertEqual((emit.kind, emit.target, emit.text), ("PRIVMSG", "w2", "psst"))
        self.assertEqual(sorted(emit.workers), [0, 2])
        self.assertEqual(len(set(emit.workers)), len(emit.workers))
        self.assertEqual(emit.to_conns, (4,))
        self.assertEqual(emit.channels, ())
        self.assertEqual(emit.origin, 1)
        # Not logged in: each side's key is its connection (boot id 0 in these tests).
        self.assertEqual(emit.convs, ("!0.1 w2", "!0.4 w0"))

    def test_private_message_is_stored_under_each_accounts_key(self):
        self.w0.account, self.w2.account = "Zed", "w2"
        [emit] = run(self.hub, self.w0, "PRIVMSG W2 :psst")
        self.assertEqual(emit.convs, ("~zed w2", "~w2 w0"))

    def test_private_message_on_one_worker_names_it_once(self):
        [emit] = run(self.hub, self.w1a, "PRIVMSG w1b :same worker")
        self.assertEqual(emit.workers, (1,))
        self.assertEqual(emit.to_conns, (3,))

    def test_private_message_to_oneself_has_one_timeline(self):
        [emit] = run(self.hub, self.w0, "PRIVMSG W0 :note to self")
        self.assertEqual((emit.convs, emit.workers, emit.to_conns), (("!0.1 w0",), (0,), (1,)))


class MessageTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        add_client(self.hub, 3, "pending", register=False)
        run(self.hub, self.bob, "JOIN #bobs")

    def test_errors(self):
        cases = [
            ("PRIVMSG", N.ERR_NORECIPIENT),
            ("PRIVMSG :", N.ERR_NORECIPIENT),
            ("PRIVMSG :hello", N.ERR_NOTEXTTOSEND),   # one param: it is the target
            ("PRIVMSG bob", N.ERR_NOTEXTTOSEND),
            ("PRIVMSG bob :", N.ERR_NOTEXTTOSEND),
            ("PRIVMSG nobody :hi", N.ERR_NOSUCHNICK),
            ("PRIVMSG pending :hi", N.ERR_NOSUCHNICK),  # not registered yet
            ("PRIVMSG #nowhere :hi", N.ERR_NOSUCHCHANNEL),
            ("PRIVMSG #bobs :hi", N.ERR_CANNOTSENDTOCHAN),
        ]
        for line, code in cases:
            with self.subTest(line=line):
                effects = run(self.hub, self.alice, line)
                self.assertEqual(codes(effects), [code])
                self.assertEqual(emits(effects), [])

    def test_notice_never_gets_an_error(self):
        lines = ["NOTICE", "NOTICE :", "NOTICE bob", "NOTICE bob :", "NOTICE nobody :hi",
                 "NOTICE pending :hi", "NOTICE #nowhere :hi", "NOTICE #bobs :hi"]
        for line in lines:
            with self.subTest(line=line):
                self.assertEqual(run(self.hub, self.alice, line), [])

    def test_messages_are_emitted(self):
        for kind in ("PRIVMSG", "NOTICE"):
            with self.subTest(kind=kind):
                [emit] = run(self.hub, self.bob, f"{kind} #BOBS :hello there")
                self.assertEqual((emit.kind, emit.source, emit.target, emit.text),
                                 (kind, "bob!u2@host2", "#bobs", "hello there"))
                self.assertEqual((emit.channels, emit.origin), (("#bobs",), 2))

    def test_several_targets(self):
        effects = run(self.hub, self.bob, "PRIVMSG alice,#bobs,nobody :hi")
        self.assertEqual([e.target for e in emits(effects)], ["alice", "#bobs"])
        self.assertEqual(codes(effects), [N.ERR_NOSUCHNICK])

    def test_targmax(self):
        for i in range(MAX_TARGETS + 1):
            add_client(self.hub, 10 + i, f"t{i}")
        at_most = ",".join(f"t{i}" for i in range(MAX_TARGETS))
        too_many = ",".join(f"t{i}" for i in range(MAX_TARGETS + 1))
        effects = run(self.hub, self.alice, f"PRIVMSG {at_most} :hi")
        self.assertEqual([e.target for e in emits(effects)],
                         [f"t{i}" for i in range(MAX_TARGETS)])
        self.assertEqual(codes(effects), [])
        # the same target spelled twice counts (and is sent to) once
        effects = run(self.hub, self.alice, f"PRIVMSG {at_most},T0,,t1 :hi")
        self.assertEqual(len(emits(effects)), MAX_TARGETS)
        # more than TARGMAX: refused as a whole, with 407 (NOTICE: silently)
        effects = run(self.hub, self.alice, f"PRIVMSG {too_many} :hi")
        self.assertEqual(emits(effects), [])
        self.assertEqual(codes(effects), [N.ERR_TOOMANYTARGETS])
        self.assertEqual(replies(effects)[0].params[:2], ("alice", too_many))
        self.assertEqual(run(self.hub, self.alice, f"NOTICE {too_many} :hi"), [])

    def test_client_tags_of_the_command_go_with_the_message(self):
        # The master sets hub.command_tags from the COMMAND frame while the handler runs.
        for line in ("PRIVMSG #bobs :hi", "NOTICE #bobs :hi", "TAGMSG #bobs", "PRIVMSG alice :hi",
                     "TAGMSG alice"):
            with self.subTest(line=line):
                self.hub.command_tags = "+draft/react=\U0001f44d;+typing=active"
                try:
                    [emit] = run(self.hub, self.bob, line)
                finally:
                    self.hub.command_tags = ""
                self.assertEqual(emit.tags, "+draft/react=\U0001f44d;+typing=active")
                [plain] = run(self.hub, self.bob, line)
                self.assertEqual(plain.tags, "")

    def test_tagmsg(self):
        # TAGMSG needs no text (412 is not for it), but the same recipient rules as PRIVMSG.
        [emit] = run(self.hub, self.bob, "TAGMSG #BOBS")
        self.assertEqual((emit.kind, emit.target, emit.text, emit.channels),
                         ("TAGMSG", "#bobs", "", ("#bobs",)))
        # Only relayed (no timeline: not stored) unless it carries a reaction.
        [emit] = run(self.hub, self.bob, "TAGMSG Alice")
        self.assertEqual((emit.kind, emit.target, emit.to_conns, emit.convs),
                         ("TAGMSG", "alice", (1,), ()))
        self.hub.command_tags = "+draft/react=x"
        try:
            [emit] = run(self.hub, self.bob, "TAGMSG Alice")
        finally:
            self.hub.command_tags = ""
        self.assertEqual((emit.kind, emit.target, emit.to_conns, emit.convs),
                         ("TAGMSG", "alice", (1,),
                          (f"!0.{self.bob.conn_id} alice", "!0.1 bob")))
        cases = [
            ("TAGMSG", N.ERR_NORECIPIENT),
            ("TAGMSG nobody", N.ERR_NOSUCHNICK),
            ("TAGMSG #nowhere", N.ERR_NOSUCHCHANNEL),
            ("TAGMSG #bobs", N.ERR_CANNOTSENDTOCHAN),   # alice is not in it
        ]
        for line, code in cases:
            with self.subTest(line=line):
                effects = run(self.hub, self.alice, line)
                self.assertEqual(codes(effects), [code])
                self.assertEqual(emits(effects), [])

    def test_away_reply_follows_the_message(self):
        run(self.hub, self.bob, "AWAY :lunch")
        effects = run(self.hub, self.alice, "PRIVMSG bob :ping")
        self.assertIsInstance(effects[0], Emit)
        self.assertEqual(codes(effects), [N.RPL_AWAY])
        self.assertEqual(replies(effects)[0].params[1:], ("bob", "lunch"))
        notice = run(self.hub, self.alice, "NOTICE bob :ping")
        self.assertEqual(codes(notice), [])


class TopicTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob")
        run(self.hub, self.alice, "JOIN #a")

    def test_topic_flow(self):
        self.assertEqual(codes(run(self.hub, self.alice, "TOPIC #a")), [N.RPL_NOTOPIC])
        self.hub.now_ms = 1_700_000_123_456
        [emit] = run(self.hub, self.alice, "TOPIC #A :Welcome all")
        self.assertEqual((emit.kind, emit.target, emit.text, emit.channels),
                         ("TOPIC", "#a", "Welcome all", ("#a",)))
        effects = run(self.hub, self.alice, "TOPIC #a")
        self.assertEqual(codes(effects), [N.RPL_TOPIC, N.RPL_TOPICWHOTIME])
        topic, whotime = replies(effects)
        self.assertEqual(topic.params, ("alice", "#a", "Welcome all"))
        self.assertEqual(whotime.params, ("alice", "#a", "alice", "1700000123"))

    def test_setting_the_same_topic_again_announces_nothing(self):
        [emit] = run(self.hub, self.alice, "TOPIC #a :same")
        self.assertEqual(run(self.hub, self.alice, "TOPIC #a :same"), [])
        [emit] = run(self.hub, self.alice, "TOPIC #a :changed")
        self.assertEqual(emit.text, "changed")

    def test_topic_is_sent_on_join_and_vanishes_with_an_unregistered_channel(self):
        run(self.hub, self.alice, "TOPIC #a :shown")
        [emit] = run(self.hub, self.bob, "JOIN #a")
        extra = [parse(line) for line in emit.extra.split("\r\n")]
        self.assertEqual([m.command for m in extra],
                         [N.RPL_TOPIC, N.RPL_TOPICWHOTIME, N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])
        self.assertEqual(extra[0].params[-1], "shown")
        run(self.hub, self.alice, "PART #a")
        run(self.hub, self.bob, "PART #a")
        self.assertIsNone(self.hub.registry.channel("#a"))
        [emit] = run(self.hub, self.bob, "JOIN #a")  # RFC 2811: a new channel, no topic
        self.assertEqual([parse(line).command for line in emit.extra.split("\r\n")],
                         [N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])

    def test_topic_errors(self):
        cases = [("TOPIC #nowhere", N.ERR_NOSUCHCHANNEL),
                 ("TOPIC #nowhere :x", N.ERR_NOSUCHCHANNEL)]
        for line, code in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, self.bob, line)), [code])
        for line in ("TOPIC #a", "TOPIC #a :mine now"):
            with self.subTest(line=line):
                effects = run(self.hub, self.bob, line)
                self.assertEqual(codes(effects), [N.ERR_NOTONCHANNEL])
                self.assertEqual(emits(effects), [])

    def test_topic_is_cut_to_topiclen(self):
        [emit] = run(self.hub, self.alice, "TOPIC #a :" + "t" * (TOPICLEN + 50))
        self.assertEqual(len(emit.text), TOPICLEN)

    def test_empty_topic_clears_it(self):
        run(self.hub, self.alice, "TOPIC #a :something")
        [emit] = run(self.hub, self.alice, "TOPIC #a :")
        self.assertEqual(emit.text, "")
        self.assertEqual(codes(run(self.hub, self.alice, "TOPIC #a")), [N.RPL_NOTOPIC])


class NamesTest(unittest.TestCase):
    def test_many_members_split_under_512_bytes(self):
        hub = make_hub(server_name="irc." + "s" * 40 + ".example")
        nicks = [f"n{i:03d}" + "x" * 26 for i in range(120)]   # 30-character nicks
        clients = [add_client(hub, i + 1, nick, worker=i % 3) for i, nick in enumerate(nicks)]
        for client in clients:
            run(hub, client, "JOIN #" + "c" * 49)
        for how in ("NAMES", "JOIN extra"):
            with self.subTest(how=how):
                if how == "NAMES":
                    lines = run(hub, clients[0], "NAMES #" + "c" * 49)[0].lines
                else:
                    late = add_client(hub, 999, "late" + "y" * 26)
                    lines = run(hub, late, "JOIN #" + "c" * 49)[0].extra.split("\r\n")
                    nicks = nicks + [late.nick]
                nicks[0] = nicks[0].lstrip("@")
                self.assertGreater(len(lines), 3)
                seen = []
                for line in lines:
                    self.assertLessEqual(len(line.encode()) + 2, 512, line)
                    msg = parse(line)
                    if msg.command == N.RPL_NAMREPLY:
                        self.assertEqual(msg.params[1:3], ("=", "#" + "c" * 49))
                        self.assertEqual(len(msg.params), 4)   # the names are one trailing param
                        seen += msg.params[3].split(" ")
                self.assertEqual(parse(lines[-1]).command, N.RPL_ENDOFNAMES)
                self.assertEqual(sorted(seen), sorted(["@" + nicks[0], *nicks[1:]]))  # its op

    def test_names_queries(self):
        hub = make_hub()
        alice, bob = add_client(hub, 1, "alice"), add_client(hub, 2, "bob")
        run(hub, alice, "JOIN #a")
        run(hub, bob, "JOIN #a")
        cases = [
            ("NAMES", [N.RPL_ENDOFNAMES]),
            ("NAMES #nowhere", [N.RPL_ENDOFNAMES]),
            ("NAMES #A", [N.RPL_NAMREPLY, N.RPL_ENDOFNAMES]),
            # several channels: their 353s, then one 366 naming them all (RFC 2812 3.2.5)
            ("NAMES #a,#nowhere", [N.RPL_NAMREPLY, N.RPL_ENDOFNAMES]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                effects = run(hub, alice, line)
                self.assertEqual(codes(effects), expected)
        names = replies(run(hub, alice, "NAMES #a"))[0]
        self.assertEqual(names.params, ("alice", "=", "#a", "@alice bob"))
        end = replies(run(hub, alice, "NAMES #a,#nowhere"))[-1]
        self.assertEqual(end.params[:2], ("alice", "#a,#nowhere"))


    def test_userhost_in_names(self):
        # Only a client that negotiated userhost-in-names (the worker tells the master with
        # a CAPS frame) gets nick!user@host; everyone else plain nicks.
        hub = make_hub()
        alice, bob = add_client(hub, 1, "alice"), add_client(hub, 2, "bob")
        run(hub, alice, "JOIN #a")
        alice.caps = frozenset({"userhost-in-names", "multi-prefix"})
        [emit] = run(hub, bob, "JOIN #a")
        names = [parse(line) for line in emit.extra.split("\r\n")]
        self.assertEqual(names[0].params[-1], "@alice bob")   # bob did not ask for it
        names = replies(run(hub, alice, "NAMES #a"))
        self.assertEqual(names[0].params, ("alice", "=", "#a", "@alice!u1@host1 bob!u2@host2"))
        self.assertEqual(names[-1].command, N.RPL_ENDOFNAMES)

    def test_userhost_in_names_still_fits_512_bytes(self):
        hub = make_hub(server_name="irc." + "s" * 40 + ".example")
        clients = [add_client(hub, i + 1, f"n{i:03d}" + "x" * 26) for i in range(60)]
        for client in clients:
            run(hub, client, "JOIN #c")
        clients[0].caps = frozenset({"userhost-in-names"})
        lines = run(hub, clients[0], "NAMES #c")[0].lines
        seen = []
        for line in lines:
            self.assertLessEqual(len(line.encode()) + 2, 512, line)
            msg = parse(line)
            if msg.command == N.RPL_NAMREPLY:
                seen += msg.params[3].split(" ")
        self.assertGreater(len(lines), 3)
        self.assertEqual(sorted(seen),
                         sorted(["@" + clients[0].source, *(c.source for c in clients[1:])]))


class QueryTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub(server_name="irc.test", network="TestNet")
        self.alice = add_client(self.hub, 1, "alice")
        self.bob = add_client(self.hub, 2, "bob", worker=1)
        run(self.hub, self.alice, "JOIN #a,#b")
        run(self.hub, self.bob, "JOIN #a")

    def test_who(self):
        run(self.hub, self.bob, "AWAY :out")
        effects = run(self.hub, self.alice, "WHO #a")
        self.assertEqual(codes(effects), [N.RPL_WHOREPLY, N.RPL_WHOREPLY, N.RPL_ENDOFWHO])
        rows = {m.params[5]: m.params for m in replies(effects)[:2]}
        self.assertEqual(rows["alice"], ("alice", "#a", "u1", "host1", "irc.test", "alice", "H@",
                                         "0 Real alice"))  # H, and @: the channel's creator
        self.assertEqual(rows["bob"][6], "G")
        cases = [
            ("WHO bob", [N.RPL_WHOREPLY, N.RPL_ENDOFWHO]),
            ("WHO nobody", [N.RPL_ENDOFWHO]),
            ("WHO #nowhere", [N.RPL_ENDOFWHO]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, self.alice, line)), expected)

    def test_who_mask(self):
        add_client(self.hub, 7, "bobby")
        add_client(self.hub, 8, "Bob[x]")
        add_client(self.hub, 9, "notyet", register=False)
        everyone = {"alice", "bob", "bobby", "Bob[x]"}
        cases = [("WHO *", everyone), ("WHO 0", everyone), ("WHO", everyone),
                 ("WHO BOB*", {"bob", "bobby", "Bob[x]"}), ("WHO b?b", {"bob"}),
                 ("WHO bob{X}", {"Bob[x]"}), ("WHO *y", {"bobby"}), ("WHO z*", set())]
        for line, nicks in cases:
            with self.subTest(line=line):
                *rows, end = replies(run(self.hub, self.alice, line))
                self.assertEqual({row.params[5] for row in rows}, nicks)
                # the channel field: "*" (any channel of theirs would do; none is chosen)
                self.assertTrue(all(row.params[1] == "*" for row in rows))
                # the end echoes the mask as sent
                self.assertEqual((end.command, end.params[1]),
                                 (N.RPL_ENDOFWHO, line[4:] or "*"))

    def test_who_mask_hides_invisible_users_without_a_shared_channel(self):
        hidden = add_client(self.hub, 7, "hidden")
        run(self.hub, hidden, "MODE hidden +i")
        rows = lambda asker: {m.params[5] for m in replies(run(self.hub, asker, "WHO h*"))
                              if m.command == N.RPL_WHOREPLY}
        self.assertEqual(rows(self.alice), set())
        self.assertEqual(rows(hidden), {"hidden"})  # themselves
        run(self.hub, hidden, "JOIN #a")
        self.assertEqual(rows(self.alice), {"hidden"})  # now they share #a
        self.assertEqual(codes(run(self.hub, self.alice, "WHO hidden")),  # by exact nick
                         [N.RPL_WHOREPLY, N.RPL_ENDOFWHO])

    def test_who_mask_answers_at_most_a_bounded_number(self):
        for i in range(WHO_MAX_MATCHES + 5):
            add_client(self.hub, 100 + i, f"many{i}")
        self.assertEqual(codes(run(self.hub, self.alice, "WHO many*")).count(N.RPL_WHOREPLY),
                         WHO_MAX_MATCHES)


    def test_whois(self):
        effects = run(self.hub, self.bob, "WHOIS ALICE")
        self.assertEqual(codes(effects), [N.RPL_WHOISUSER, N.RPL_WHOISCHANNELS, N.RPL_WHOISSERVER,
                                          N.RPL_WHOISIDLE, N.RPL_ENDOFWHOIS])
        user, chans, server, idle, end = replies(effects)
        self.assertEqual(user.params, ("bob", "alice", "u1", "host1", "*", "Real alice"))
        self.assertEqual(set(chans.params[2].split()), {"@#a", "@#b"})  # alice made both
        self.assertEqual(server.params[2:], ("irc.test", "TestNet"))
        self.assertEqual(idle.params[2:4], ("0", "1700000000"))
        self.assertEqual(end.params[1], "alice")
        run(self.hub, self.alice, "AWAY :brb")
        self.assertIn(N.RPL_AWAY, codes(run(self.hub, self.bob, "WHOIS alice")))
        self.assertEqual(codes(run(self.hub, self.bob, "WHOIS irc.test alice"))[0],
                         N.RPL_WHOISUSER)
        self.assertEqual(codes(run(self.hub, self.bob, "WHOIS nobody")),
                         [N.ERR_NOSUCHNICK, N.RPL_ENDOFWHOIS])

    def test_list(self):
        run(self.hub, self.alice, "TOPIC #b :bee")
        effects = run(self.hub, self.alice, "LIST")
        self.assertEqual(codes(effects), [N.RPL_LISTSTART, N.RPL_LIST, N.RPL_LIST, N.RPL_LISTEND])
        rows = [m.params[1:] for m in replies(effects)[1:3]]
        self.assertEqual(rows, [("#a", "2", ""), ("#b", "1", "bee")])
        filtered = replies(run(self.hub, self.alice, "LIST #B,#nowhere"))
        self.assertEqual([m.params[1:] for m in filtered if m.command == N.RPL_LIST],
                         [("#b", "1", "bee")])

    def test_mode(self):
        cases = [
            ("MODE #a", [N.RPL_CHANNELMODEIS, N.RPL_CREATIONTIME]),
            ("MODE #a b", [N.RPL_ENDOFBANLIST]),
            ("MODE #a +b", [N.RPL_ENDOFBANLIST]),
            ("MODE #nowhere", [N.ERR_NOSUCHCHANNEL]),
            ("MODE alice", [N.RPL_UMODEIS]),
            ("MODE ALICE", [N.RPL_UMODEIS]),
            ("MODE bob", [N.ERR_USERSDONTMATCH]),
            ("MODE bob +i", [N.ERR_USERSDONTMATCH]),
            ("MODE nobody", [N.ERR_NOSUCHNICK]),
            ("MODE alice +z", [N.ERR_UMODEUNKNOWNFLAG]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, self.alice, line)), expected)
        self.assertEqual(replies(run(self.hub, self.alice, "MODE #a"))[0].params[1:],
                         ("#a", "+nt"))  # the default modes of a new channel
        self.assertEqual(codes(run(self.hub, self.bob, "MODE #a +o bob")),  # not an operator
                         [N.ERR_CHANOPRIVSNEEDED])

    def test_user_mode_i(self):
        self.assertEqual(replies(run(self.hub, self.alice, "MODE alice"))[0].params[1], "+")
        [echo] = replies(run(self.hub, self.alice, "MODE alice +i"))
        self.assertEqual((echo.command, echo.source, echo.params),
                         ("MODE", "alice", ("alice", "+i")))
        self.assertEqual(run(self.hub, self.alice, "MODE alice +i"), [])  # no change, no echo
        self.assertEqual(replies(run(self.hub, self.alice, "MODE alice"))[0].params[1], "+i")
        [echo] = replies(run(self.hub, self.alice, "MODE alice -i"))
        self.assertEqual(echo.params, ("alice", "-i"))

    def test_away(self):
        self.assertEqual(codes(run(self.hub, self.alice, "AWAY :gone")), [N.RPL_NOWAWAY])
        self.assertEqual(self.alice.away, "gone")
        for line in ("AWAY", "AWAY :"):
            with self.subTest(line=line):
                run(self.hub, self.alice, "AWAY :gone")
                self.assertEqual(codes(run(self.hub, self.alice, line)), [N.RPL_UNAWAY])
                self.assertIsNone(self.alice.away)

    def test_ison(self):
        add_client(self.hub, 3, "pending", register=False)
        cases = [
            ("ISON bob", "bob"),
            ("ISON BOB nobody alice", "bob alice"),
            ("ISON :bob alice", "bob alice"),
            ("ISON nobody", ""),
            ("ISON pending", ""),
        ]
        for line, online in cases:
            with self.subTest(line=line):
                [reply] = replies(run(self.hub, self.alice, line))
                self.assertEqual((reply.command, reply.params[1]), (N.RPL_ISON, online))

    def test_userhost(self):
        run(self.hub, self.bob, "AWAY :x")
        cases = [
            ("USERHOST alice", "alice=+u1@host1"),
            ("USERHOST alice BOB nobody", "alice=+u1@host1 bob=-u2@host2"),
            ("USERHOST nobody", ""),
        ]
        for line, text in cases:
            with self.subTest(line=line):
                [reply] = replies(run(self.hub, self.alice, line))
                self.assertEqual((reply.command, reply.params[1]), (N.RPL_USERHOST, text))

    def test_lusers_and_kick(self):
        self.assertEqual(codes(run(self.hub, self.alice, "LUSERS")),
                         [N.RPL_LUSERCLIENT, N.RPL_LUSERCHANNELS, N.RPL_LUSERME,
                          N.RPL_LOCALUSERS, N.RPL_GLOBALUSERS])
        add_client(self.hub, 8, "unregistered", register=False)
        lines = replies(run(self.hub, self.alice, "LUSERS"))
        by_code = {m.command: m.params for m in lines}
        users = self.hub.registry.users
        self.assertEqual(by_code[N.RPL_LUSERUNKNOWN][1], "1")
        self.assertIn(f"There are {users} users", by_code[N.RPL_LUSERCLIENT][1])
        self.assertEqual(by_code[N.RPL_LOCALUSERS][1:3], (str(users), str(users)))
        self.assertEqual(by_code[N.RPL_GLOBALUSERS][1:3], (str(users), str(users)))
        cases = [
            ("KICK #a alice", N.ERR_CHANOPRIVSNEEDED),  # bob is not an operator of #a
            ("KICK #nowhere alice", N.ERR_NOSUCHCHANNEL),
        ]
        for line, code in cases:
            with self.subTest(line=line):
                self.assertEqual(codes(run(self.hub, self.bob, line)), [code])
        self.assertEqual(codes(run(self.hub, add_client(self.hub, 9, "zed"), "KICK #a bob")),
                         [N.ERR_NOTONCHANNEL])

    def test_ping_is_the_workers(self):
        self.assertNotIn("PING", GLOBAL_COMMANDS)  # answered by the worker (commands.py)

    def test_every_reply_line_is_well_formed(self):
        lines = ["WHO #a", "WHOIS alice", "LIST", "MODE #a", "MODE alice", "NAMES #a", "ISON a",
                 "USERHOST alice", "LUSERS", "TOPIC #a", "AWAY :x", "AWAY"]
        for line in lines:
            with self.subTest(line=line):
                for effect in run(self.hub, self.alice, line):
                    for text in effect.lines:
                        self.assertNotIn("\r", text)
                        self.assertNotIn("\n", text)
                        self.assertLessEqual(len(text.encode()) + 2, 512)
                        self.assertIn(parse(text).source, ("irc.test", "alice"))


class SyncTest(unittest.TestCase):
    """hub.sync answers a worker's SYNC for one client after everything decided before it."""

    def test_synced_comes_after_the_effects_of_earlier_commands(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=2)
        bob = add_client(hub, 2, "bob", worker=1)
        run(hub, bob, "JOIN #a")
        for line in ("JOIN #a", "TOPIC #a", "AWAY :x", "PRIVMSG #a :hi"):
            run_line(hub, alice, line)
        hub.sync(alice)
        effects = hub.take_effects()
        self.assertEqual(kinds(effects), [Emit, ReplyLines, ReplyLines, Emit, ipc.Synced])
        self.assertEqual(effects[-1], ToWorker(2, ipc.Synced(1)))

    def test_synced_alone(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=3)
        hub.sync(alice)
        self.assertEqual(hub.take_effects(), [ToWorker(3, ipc.Synced(1))])

    def test_before_registration(self):
        # (nick claimed, the effects before the Synced)
        hub = make_hub()
        add_client(hub, 1, "taken")
        cases = [("alice", [ToWorker(0, ipc.NickOk(2, "alice"))]), ("TAKEN", None)]
        for nick, before in cases:
            with self.subTest(nick=nick):
                hub.connection_opened(2, 0, "h", 0)
                client = hub.registry.clients[2]
                claim_nick(hub, client, nick)
                hub.sync(client)
                effects = hub.take_effects()
                self.assertEqual(effects[-1], ToWorker(0, ipc.Synced(2)))
                if before is None:
                    self.assertEqual(codes(effects), [N.ERR_NICKNAMEINUSE])
                    self.assertEqual(len(effects), 2)
                else:
                    self.assertEqual(effects[:-1], before)
                hub.connection_closed(client, "EOF")

    def test_registration_is_welcomed_then_synced(self):
        hub = make_hub(autojoin=("#lobby",))
        hub.connection_opened(1, 4, "h", 0)
        client = hub.registry.clients[1]
        claim_nick(hub, client, "alice")
        hub.take_effects()
        hub.registered(client, "al", "Alice")
        hub.sync(client)
        effects = hub.take_effects()
        self.assertEqual(effects[0], ToWorker(4, ipc.Welcome(1, "h")))
        self.assertEqual([(e.kind, e.target) for e in effects[1:-1]], [("JOIN", "#lobby")])
        self.assertEqual(effects[-1], ToWorker(4, ipc.Synced(1)))

    def test_registration_without_autojoin(self):
        hub = make_hub()
        hub.connection_opened(1, 0, "h", 0)
        client = hub.registry.clients[1]
        claim_nick(hub, client, "alice")
        hub.take_effects()
        hub.registered(client, "al", "Alice")
        self.assertEqual(hub.take_effects(), [ToWorker(0, ipc.Welcome(1, "h"))])


class LabelTest(unittest.TestCase):
    """The master brackets the answer to a labeled command with label_start/label_end (see
    chatd/hub/worker_frames.py); the effects keep that order, so the worker can label what is
    between."""

    def test_label_effects_bracket_the_answer_in_order(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice", worker=3)
        bob = add_client(hub, 2, "bob", worker=1)
        run(hub, bob, "JOIN #a")
        hub.label_start(alice, "abc")
        for line in ("JOIN #a", "NAMES #a"):
            run_line(hub, alice, line)
        hub.label_end(alice)
        hub.sync(alice)
        effects = hub.take_effects()
        self.assertEqual(effects[0], ToWorker(3, ipc.LabelStart(1, "abc")))
        self.assertEqual(kinds(effects), [ipc.LabelStart, Emit, ReplyLines, ipc.LabelEnd, ipc.Synced])
        self.assertEqual(effects[3], ToWorker(3, ipc.LabelEnd(1)))

    def test_empty_answer_is_only_the_brackets(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        hub.label_start(alice, "x")
        run_command(hub, alice, "NOTICE", ("nobody", "hi"))  # silently dropped
        hub.label_end(alice)
        self.assertEqual(hub.take_effects(), [ToWorker(0, ipc.LabelStart(1, "x")), ToWorker(0, ipc.LabelEnd(1))])


class CommandTableTest(unittest.TestCase):
    def test_every_master_command_has_exactly_one_handler(self):
        # The worker forwards exactly the MASTER commands of chatd/commandset.py.
        self.assertEqual(set(GLOBAL_COMMANDS), commands_answered_by(MASTER))

    def test_every_handler_is_in_the_table_once(self):
        handlers = [getattr(module, name)
                    for module in (about, membership, messages, moderation, queries, opers,
                                   klines, presence, read_markers)
                    for name in dir(module) if name.startswith("handle_")]
        self.assertCountEqual(handlers, list(GLOBAL_COMMANDS.values()))


class ErrorBoundaryTest(unittest.TestCase):
    """Errors of one target do not stop the others; NOTICE never gets an error reply."""

    def test_each_target_is_answered_on_its_own(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        run(hub, alice, "JOIN #a")
        cases = [
            ("JOIN #b,bad,#c", [N.ERR_NOSUCHCHANNEL], ["#b", "#c"]),
            ("PART #nope,#a,#b", [N.ERR_NOSUCHCHANNEL], ["#a", "#b"]),
            ("PRIVMSG #nope,#c,nobody :hi", [N.ERR_NOSUCHCHANNEL, N.ERR_NOSUCHNICK], ["#c"]),
            ("NOTICE #nope,#c,nobody :hi", [], ["#c"]),
        ]
        for line, errors, targets in cases:
            with self.subTest(line=line):
                effects = run(hub, alice, line)
                self.assertEqual([c for c in codes(effects) if c.startswith("4")], errors)
                self.assertEqual([e.target for e in emits(effects)], targets)

    def test_an_autojoin_error_does_not_stop_the_next_channel(self):
        hub = make_hub(autojoin=("#a", "bad", "#b"))
        hub.connection_opened(1, 0, "h", 0)
        client = hub.registry.clients[1]
        claim_nick(hub, client, "alice")
        hub.take_effects()
        hub.registered(client, "al", "Alice")
        effects = hub.take_effects()
        self.assertEqual([e.target for e in emits(effects)], ["#a", "#b"])
        self.assertEqual(codes(effects), [N.ERR_NOSUCHCHANNEL])

    def test_notice_errors_are_never_answered(self):
        hub = make_hub()
        alice = add_client(hub, 1, "alice")
        for line in ("NOTICE", "NOTICE bob", "NOTICE a,b,c,d,e :x", "NOTICE #x :hi"):
            with self.subTest(line=line):
                self.assertEqual(run(hub, alice, line), [])


class RegistryTest(unittest.TestCase):
    def test_worker_counts_and_sharing(self):
        hub = make_hub()
        reg = hub.registry
        a = add_client(hub, 1, "a", worker=0)
        b = add_client(hub, 2, "b", worker=1)
        c = add_client(hub, 3, "c", worker=1)
        for client in (a, b, c):
            reg.join(client, "#x", 0)
        self.assertEqual(dict(reg.channel("#X").worker_counts), {0: 1, 1: 2})
        self.assertEqual(reg.workers_sharing_channels(a), {0, 1})
        reg.part(b, reg.channel("#x"))
        self.assertEqual(dict(reg.channel("#x").worker_counts), {0: 1, 1: 1})
        reg.remove_client(3)
        self.assertEqual(reg.channel("#x").workers(), (0,))
        self.assertEqual(reg.workers_sharing_channels(b), {1})
        self.assertIsNone(reg.remove_client(3))

    def test_a_kept_topic_applies_to_the_channel_made_again(self):
        """A topic the writer kept without a founder (an autojoin channel's, or carried from
        a schema-6 history) comes back when the channel is made again."""
        hub = make_hub()
        founders.load(hub.registry, [StoredChannel(
            name="#Old", founder="", created_s=5, flags="", key=None, limit=None,
            topic="from history", topic_setter="carol", topic_ts_ms=1234, lists={},
            operators=())])
        alice = add_client(hub, 1, "alice")
        [emit] = run(hub, alice, "JOIN #old")
        topic = parse(emit.extra.split("\r\n")[0])
        self.assertEqual((topic.command, topic.params[-1]), (N.RPL_TOPIC, "from history"))

    def test_user_counts(self):
        hub = make_hub()
        add_client(hub, 1, "a")
        add_client(hub, 2, "b", register=False)
        add_client(hub, 3, "c")
        self.assertEqual((hub.registry.users, hub.registry.max_users), (2, 2))
        hub.registry.remove_client(1)
        hub.registry.remove_client(2)  # never registered: not a user
        self.assertEqual((hub.registry.users, hub.registry.max_users), (1, 2))
        hub.registry.mark_registered(hub.registry.clients[3])  # twice counts once
        self.assertEqual(hub.registry.users, 1)


if __name__ == "__main__":
    unittest.main()
