"""Server operators and K-lines in the master's pure core (chatd/hub/opers.py, klines.py,
user_modes.py): becoming an oper from the worker's OperAttempt (throttled), user modes
+o/+w, KILL, WALLOPS, REHASH, WHOIS for opers, KLINE/UNKLINE/STATS and where a K-line bites
(accept, registration, login). Clients connect from real addresses, as the master sees them."""

from __future__ import annotations

import dataclasses
import json
import unittest

from chatd import events
from chatd.config import Config
from chatd.credentials import make_credentials
from chatd.hub import klines
from chatd.hub.commands import run_command
from chatd.hub.hub import Emit, Hub, ReplyLines, ToWorker
from chatd.hub.server_bans import ServerBan
from chatd.hub.throttle import FREE_FAILURES
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from ircproto import numerics as N
from ircproto.message import Message, parse

NOW_MS = 1_700_000_000_000
OPERS = (("operuser", "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="),)


def make_hub(**settings) -> Hub:
    settings.setdefault("opers", OPERS)
    hub = Hub(dataclasses.replace(Config(), autojoin=(), server_name="srv", **settings))
    hub.now_ms = NOW_MS
    return hub


def connect(hub: Hub, conn_id: int, nick: str, address: str = "", user: str = "",
            register: bool = True, worker: int = 0):
    hub.connection_opened(conn_id, worker, address or f"10.0.0.{conn_id}", 1)
    client = hub.registry.clients[conn_id]
    apply_worker_frame(hub, client, ipc.ClaimNick(conn_id, nick, None))
    if register:
        apply_worker_frame(hub, client, ipc.Registered(conn_id, user or nick, "r", client.host))
    hub.take_effects()
    return client


def oper_up(hub: Hub, client) -> list:
    apply_worker_frame(hub, client, ipc.OperAttempt(client.conn_id, "operuser", True))
    return hub.take_effects()


def run(hub: Hub, client, line: str) -> list:
    msg = parse(line)
    run_command(hub, client, msg.command, msg.params)
    return hub.take_effects()


def lines_for(effects: list, client) -> list[Message]:
    return [parse(line) for e in effects if isinstance(e, ReplyLines)
            and e.conn_id == client.conn_id for line in e.lines]


def codes_for(effects: list, client) -> list[str]:
    return [m.command for m in lines_for(effects, client)]


def frames_for(effects: list, client) -> list:
    return [e.frame for e in effects if isinstance(e, ToWorker)
            and getattr(e.frame, "conn_id", None) == client.conn_id]


class OperTest(unittest.TestCase):
    def test_a_matching_password_makes_an_oper(self):
        hub = make_hub()
        alice, bob = connect(hub, 1, "alice"), connect(hub, 2, "bob")
        effects = oper_up(hub, alice)
        self.assertEqual(alice.oper, "operuser")
        self.assertEqual(codes_for(effects, alice), [N.RPL_YOUREOPER, "MODE"])
        self.assertEqual(lines_for(effects, alice)[1].params, ("alice", "+o"))
        self.assertIn(ipc.OperStatus(1, True), frames_for(effects, alice))
        self.assertEqual(lines_for(effects, bob), [])  # not an oper: no notice

    def test_a_wrong_password_or_name_is_464_and_counted(self):
        hub = make_hub()
        alice = connect(hub, 1, "alice")
        for name, ok in (("operuser", False), ("nobody", True)):
            with self.subTest(name=name):
                apply_worker_frame(hub, alice, ipc.OperAttempt(1, name, ok))
                effects = hub.take_effects()
                self.assertEqual(codes_for(effects, alice), [N.ERR_PASSWDMISMATCH])
                self.assertIsNone(alice.oper)
                self.assertEqual(frames_for(effects, alice), [])

    def test_failures_are_throttled_then_even_the_right_password_waits(self):
        hub = make_hub()
        alice = connect(hub, 1, "alice")
        for _ in range(FREE_FAILURES):
            apply_worker_frame(hub, alice, ipc.OperAttempt(1, "operuser", False))
        hub.take_effects()
        effects = oper_up(hub, alice)
        self.assertIsNone(alice.oper)
        self.assertRegex(lines_for(effects, alice)[0].params[-1],
                         r"^Too many failed OPER attempts; try again in \d+ s$")
        hub.now_ms += 60_000  # the block has passed
        self.assertEqual(codes_for(oper_up(hub, alice), alice)[0], N.RPL_YOUREOPER)

    def test_other_opers_are_told(self):
        hub = make_hub()
        alice, bob = connect(hub, 1, "alice"), connect(hub, 2, "bob")
        oper_up(hub, alice)
        effects = oper_up(hub, bob)
        notices = lines_for(effects, alice)
        self.assertEqual([m.command for m in notices], ["NOTICE"])
        self.assertIn("bob!bob@10.0.0.2 is now an operator (operuser)", notices[0].params[1])
        apply_worker_frame(hub, connect(hub, 3, "carol"), ipc.OperAttempt(3, "x", False))
        self.assertIn("Failed OPER attempt by carol", lines_for(hub.take_effects(),
                                                                alice)[0].params[1])


class UserModeTest(unittest.TestCase):
    def test_modes_shown_set_and_dropped(self):
        hub = make_hub()
        alice = connect(hub, 1, "alice")
        self.assertEqual(lines_for(run(hub, alice, "MODE alice"), alice)[0].params[1], "+")
        oper_up(hub, alice)
        mode = lines_for(run(hub, alice, "MODE alice +iw"), alice)[0]
        self.assertEqual((mode.command, mode.params), ("MODE", ("alice", "+i+w")))
        self.assertEqual(lines_for(run(hub, alice, "MODE alice"), alice)[0].params[1], "+iow")
        effects = run(hub, alice, "MODE alice -o")
        self.assertEqual(lines_for(effects, alice)[0].params, ("alice", "-o"))
        self.assertEqual(frames_for(effects, alice), [ipc.OperStatus(1, False)])
        self.assertIsNone(alice.oper)

    def test_nobody_gives_itself_o(self):
        hub = make_hub()
        alice = connect(hub, 1, "alice")
        self.assertEqual(run(hub, alice, "MODE alice +o"), [])  # ignored, as RFC 2812 says
        self.assertIsNone(alice.oper)
        self.assertEqual(codes_for(run(hub, alice, "MODE alice +x"), alice),
                         [N.ERR_UMODEUNKNOWNFLAG])


class OperCommandsTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.op = connect(self.hub, 1, "op")
        self.bob = connect(self.hub, 2, "bob", worker=1)
        self.carol = connect(self.hub, 3, "carol")

    def test_only_opers(self):
        for line in ("KILL carol :x", "WALLOPS :hi", "REHASH", "KLINE 10.0.0.3 :x",
                     "UNKLINE 10.0.0.3", "STATS k"):
            with self.subTest(line=line):
                self.assertEqual(codes_for(run(self.hub, self.bob, line), self.bob),
                                 [N.ERR_NOPRIVILEGES])
        self.assertFalse(self.carol.closing)
        self.assertEqual(codes_for(run(self.hub, self.bob, "STATS u"), self.bob),
                         [N.RPL_ENDOFSTATS])

    def test_kill(self):
        oper_up(self.hub, self.op)
        effects = run(self.hub, self.op, "KILL bob :spamming")
        kill = lines_for(effects, self.bob)[0]
        self.assertEqual((kill.command, kill.params), ("KILL", ("bob", "spamming")))
        self.assertTrue(kill.source.startswith("op!"))
        self.assertEqual(frames_for(effects, self.bob),
                         [ipc.CloseConn(2, "Killed (op (spamming))")])
        self.assertTrue(self.bob.closing)
        self.assertIn("Received KILL message for bob!bob@10.0.0.2. From op (spamming)",
                      lines_for(effects, self.op)[0].params[1])
        # What the victim still had in flight is ignored; its QUIT comes from its worker.
        apply_worker_frame(self.hub, self.bob, ipc.Command(2, "JOIN", ("#x",), None, ""))
        self.assertEqual(self.hub.take_effects(), [])
        apply_worker_frame(self.hub, self.bob, ipc.ConnClosed(2, "Killed (op (spamming))"))
        self.assertIsNone(self.hub.registry.find_nick("bob"))
        self.assertEqual(codes_for(run(self.hub, self.op, "KILL nobody"), self.op),
                         [N.ERR_NOSUCHNICK])

    def test_wallops_goes_to_w_users_and_opers(self):
        oper_up(self.hub, self.op)
        run(self.hub, self.carol, "MODE carol +w")
        effects = run(self.hub, self.op, "WALLOPS :hello all")
        expected = Message("WALLOPS", ("hello all",), self.op.source).format()
        for client, lines in ((self.op, [expected]), (self.carol, [expected]), (self.bob, [])):
            with self.subTest(nick=client.nick):
                self.assertEqual([m.format() for m in lines_for(effects, client)], lines)

    def test_lines_stay_within_512_bytes(self):
        oper_up(self.hub, self.op)
        too_long = "x" * (510 - len("WALLOPS :"))  # legal from the client, not relayed
        self.assertEqual(codes_for(run(self.hub, self.op, f"WALLOPS :{too_long}"), self.op),
                         [N.ERR_INPUTTOOLONG])
        effects = run(self.hub, self.op, "KILL bob :" + "é" * 400)
        for client in (self.op, self.bob):
            for line in lines_for(effects, client):
                with self.subTest(line=line.command):
                    self.assertLessEqual(len(line.format().encode()) + 2, 512)

    def test_rehash_is_left_to_the_master(self):
        oper_up(self.hub, self.op)
        reply = lines_for(run(self.hub, self.op, "REHASH"), self.op)[0]
        self.assertEqual(reply.command, N.RPL_REHASHING)
        self.assertEqual(self.op.nick, self.hub.reload_requested_by)

    def test_whois_for_opers(self):
        hub = make_hub(cloak=True)
        hub.cloak_secret = "00" * 32
        op, bob = connect(hub, 1, "op"), connect(hub, 2, "bob", address="192.0.2.9")

        def whois(asker, nick):
            return {m.command: m for m in lines_for(run(hub, asker, f"WHOIS {nick}"), asker)}

        self.assertNotIn(N.RPL_WHOISHOST, whois(op, "bob"))  # not an oper yet: the cloak only
        oper_up(hub, op)
        self.assertIn("192.0.2.9", whois(op, "bob")[N.RPL_WHOISHOST].params[-1])
        self.assertEqual(whois(bob, "op")[N.RPL_WHOISOPERATOR].params[1:],
                         ("op", "is an IRC operator"))
        self.assertNotIn(N.RPL_WHOISHOST, whois(bob, "op"))


    def test_who_and_lusers_count_opers(self):
        hub, op, bob = self.hub, self.op, self.bob

        def who_flags(nick):
            return lines_for(run(hub, bob, f"WHO {nick}"), bob)[0].params[6]

        def luserop():
            found = [m for m in lines_for(run(hub, bob, "LUSERS"), bob)
                     if m.command == N.RPL_LUSEROP]
            return found[0].params[1] if found else None

        self.assertEqual((who_flags("op"), luserop()), ("H", None))  # none: not sent
        oper_up(hub, op)
        run(hub, op, "AWAY :lunch")
        self.assertEqual((who_flags("op"), luserop()), ("G*", "1"))


class KlineTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub()
        self.op = connect(self.hub, 1, "op", address="127.0.0.1")
        oper_up(self.hub, self.op)
        self.bob = connect(self.hub, 2, "bob", address="127.0.0.2")

    def test_kline_stores_disconnects_and_answers(self):
        effects = run(self.hub, self.op, "KLINE 10 127.0.0.2 :go away")
        write = [e for e in effects if isinstance(e, Emit)]
        self.assertEqual([(e.kind, e.source, e.target) for e in write],
                         [(events.BAN_KIND, "add", "*@127.0.0.2")])
        self.assertEqual(json.loads(write[0].text), {
            "reason": "go away", "setter": "operuser", "set_ms": NOW_MS,
            "expires_ms": NOW_MS + 600_000})
        self.assertEqual(effects.index(write[0]), 0)  # answers wait for the write (ordered)
        self.assertEqual([(m.command, m.params[-1]) for m in lines_for(effects, self.bob)],
                         [(N.ERR_YOUREBANNEDCREEP, "You are banned from this server: go away")])
        self.assertEqual(frames_for(effects, self.bob), [ipc.CloseConn(2, "K-lined: go away")])
        self.assertEqual(lines_for(effects, self.op)[0].params[1],
                         "Added K-line for *@127.0.0.2 for 10m: go away")
        stats = lines_for(run(self.hub, self.op, "STATS k"), self.op)
        self.assertEqual([m.command for m in stats], [N.RPL_STATSKLINE, N.RPL_ENDOFSTATS])
        self.assertEqual(stats[0].params[1:5], ("K", "127.0.0.2", "*", "*"))
        self.assertRegex(stats[0].params[5], r"^go away \(set by operuser on .*; expires in 10m\)")

    def test_stats_k_is_bounded(self):
        for n in range(klines.MAX_STATS_LINES + 5):
            self.hub.server_bans.add(ServerBan(f"*@10.1.{n // 256}.{n % 256}", "r", "op",
                                               NOW_MS, 0))
        stats = lines_for(run(self.hub, self.op, "STATS k"), self.op)
        self.assertEqual(len(stats), klines.MAX_STATS_LINES + 2)
        self.assertEqual(stats[-2].params[1], "5 more K-lines not shown")
        self.assertEqual(stats[-1].command, N.RPL_ENDOFSTATS)

    def test_a_nick_stands_for_its_address_and_a_mask_must_not_match_the_oper(self):
        effects = run(self.hub, self.op, "KLINE bob")
        self.assertEqual([e.target for e in effects if isinstance(e, Emit)], ["*@127.0.0.2"])
        for line in ("KLINE 127.0.0.1 :oops", "KLINE *@127.0.0.* :oops", "KLINE nick!u@h",
                     "KLINE ghost :x"):
            with self.subTest(line=line):
                effects = run(self.hub, self.op, line)
                self.assertIn(codes_for(effects, self.op), ([N.ERR_UNKNOWNERROR],
                                                            [N.ERR_NOSUCHNICK]))
                self.assertEqual([e for e in effects if isinstance(e, Emit)], [])
                self.assertFalse(self.op.closing)

    def test_unkline(self):
        run(self.hub, self.op, "KLINE 127.0.0.9 :x")
        effects = run(self.hub, self.op, "UNKLINE 127.0.0.9")
        self.assertEqual([(e.source, e.target) for e in effects if isinstance(e, Emit)],
                         [("del", "*@127.0.0.9")])
        self.assertEqual(lines_for(effects, self.op)[0].params[1], "Removed K-line for *@127.0.0.9")
        again = run(self.hub, self.op, "UNKLINE 127.0.0.9")
        self.assertEqual(lines_for(again, self.op)[0].params[1], "No K-line for *@127.0.0.9")
        self.assertEqual([e for e in again if isinstance(e, Emit)], [])

    def test_new_connections_are_refused_before_registration(self):
        run(self.hub, self.op, "KLINE 5s 127.0.0.7 :flood")
        self.assertEqual(klines.connection_refusal(self.hub, "127.0.0.7", 0.0, NOW_MS),
                         "K-lined: flood")
        self.assertIsNone(klines.connection_refusal(self.hub, "127.0.0.8", 0.0, NOW_MS))
        self.assertIsNone(klines.connection_refusal(self.hub, "127.0.0.7", 0.0, NOW_MS + 5000))

    def test_a_user_at_host_ban_bites_at_registration(self):
        run(self.hub, self.op, "KLINE spam*@127.0.0.5 :no bots")
        good = connect(self.hub, 5, "good", address="127.0.0.5", user="alice")
        self.assertTrue(good.registered)
        self.hub.connection_opened(6, 0, "127.0.0.5", 1)
        bot = self.hub.registry.clients[6]
        apply_worker_frame(self.hub, bot, ipc.ClaimNick(6, "bot", None))
        apply_worker_frame(self.hub, bot, ipc.Registered(6, "spambot", "r", bot.host))
        effects = self.hub.take_effects()
        self.assertFalse(bot.registered)
        self.assertEqual(codes_for(effects, bot), [N.ERR_YOUREBANNEDCREEP])
        self.assertEqual(frames_for(effects, bot)[-1], ipc.CloseConn(6, "K-lined: no bots"))

    def test_an_account_ban_bites_at_login_and_at_once(self):
        creds = make_credentials("pencil-and-paper")
        self.hub.accounts.add("eve", creds.password_hash, creds.scram)
        eve = connect(self.hub, 4, "eve")
        eve.account = "eve"
        effects = run(self.hub, self.op, "KLINE $a:Eve :bad account")
        self.assertEqual(frames_for(effects, eve), [ipc.CloseConn(4, "K-lined: bad account")])
        self.assertFalse(self.bob.closing)
        again = connect(self.hub, 8, "eve2")
        apply_worker_frame(self.hub, again, ipc.AuthRequest(8, "PLAIN", "eve", ""))
        self.hub.take_effects()
        apply_worker_frame(self.hub, again, ipc.AuthResult(8, "PLAIN", "eve", True, "", ""))
        effects = self.hub.take_effects()
        self.assertIsNone(again.account)
        self.assertEqual([type(f) for f in frames_for(effects, again)],
                         [ipc.AuthFailed, ipc.CloseConn])
        self.assertEqual(codes_for(effects, again), [N.ERR_YOUREBANNEDCREEP])
        newcomer = connect(self.hub, 9, "newbie")
        self.hub.server_bans.add(ServerBan("$a:mallory", "r", "op", NOW_MS, 0))
        apply_worker_frame(self.hub, newcomer, ipc.RegisterAccount(9, "mallory", "", "h", "s"))
        failed = frames_for(self.hub.take_effects(), newcomer)
        self.assertEqual([(f.code, f.reason) for f in failed],
                         [("BAD_ACCOUNT_NAME", "The account name mallory is banned")])
        self.assertIsNone(self.hub.accounts.get("mallory"))


if __name__ == "__main__":
    unittest.main()
