"""chatd.session.session + local_commands: one connection's state machine, driven without sockets.

Lines go in as bytes through Session.on_line; what comes out is checked on .out (encoded
lines for the client, and SYNC_POINT markers), .to_master (frames, opcodes from chatd.ipc)
and .close_reason. The master's answers are given by calling the Session directly, in the
order the master would send them (on_nick_granted, on_welcome, on_synced); `serve` does that
for whatever the session forwarded.
"""

import dataclasses
import unittest

from chatd import events
from chatd.ipc import frames as ipc
from chatd.session.capabilities import CAP_VALUES, SUPPORTED_CAPS
from chatd.config import Config
from chatd.commandset import COMMANDS, MASTER, commands_answered_by
from ircproto import numerics as N
from ircproto.framing import LineTooLong
from ircproto.message import Message, parse
from chatd.serverinfo import build_server_info
from chatd.session.raw_lines import MAX_CLIENT_TAG_BYTES
from chatd.session.session import (
    MAX_HELD_LINES,
    SYNC_POINT,
    Session,
)
from tests.unit.fake_history import FakeHistory

CONN = 7
HOST = "host.example"
T0 = 1000.0
SYNC = "<sync point>"  # how take_items shows a SYNC_POINT marker


def make_session(motd: str | None = None, **settings) -> Session:
    settings.setdefault("flood_rate", 0)  # fakelag has its own tests (test_fakelag.py)
    config = dataclasses.replace(Config(), **settings)
    return Session(CONN, HOST, build_server_info(config, motd, 0), T0)


def feed(session: Session, *lines: str | bytes, now: float = T0) -> None:
    for line in lines:
        session.on_line(line if isinstance(line, bytes) else line.encode(), now)


def command(name: str, params: tuple[str, ...], label: str | None = None,
            client_tags: str = "") -> ipc.Command:
    """The COMMAND frame a forwarded command makes."""
    return ipc.Command(CONN, name, params, label, client_tags)


def claim(nick: str, label: str | None = None) -> ipc.ClaimNick:
    """The CLAIM_NICK frame a NICK command makes."""
    return ipc.ClaimNick(CONN, nick, label)


def take_items(session: Session) -> list[Message | str]:
    """What was sent to the client since the last call, in order: lines parsed (and checked
    for framing), SYNC_POINT markers as SYNC."""
    items: list[Message | str] = []
    for raw in session.out:
        if raw == SYNC_POINT:
            items.append(SYNC)
            continue
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == 1, raw
        assert len(raw) <= 512, raw
        items.append(parse(raw[:-2].decode("utf-8")))
    session.out.clear()
    return items


def take_out(session: Session) -> list[Message]:
    """The lines sent to the client since the last call, without the SYNC_POINT markers (for
    tests about what is said rather than when; OrderTest checks the markers)."""
    return [m for m in take_items(session) if m != SYNC]


def take_master(session: Session, drop_syncs: bool = False) -> list[tuple]:
    frames = list(session.to_master)
    session.to_master.clear()
    if drop_syncs:
        frames = [f for f in frames if f != ipc.Sync(CONN)]
    return frames


def commands(messages: list[Message | str]) -> list[str]:
    return [m if m == SYNC else m.command for m in messages]


def serve(session: Session, now: float = T0) -> list[tuple]:
    """Answer what the session forwarded as the master would, in order, until it forwards
    nothing more: a nick claim is granted, a registration welcomed, a SYNC answered. Return
    the frames answered."""
    answered = []
    while session.to_master:
        frames = take_master(session)
        answered += frames
        for frame in frames:
            if type(frame) is ipc.ClaimNick:
                session.on_nick_granted(frame.nick)
            elif type(frame) is ipc.Registered:
                session.on_welcome()
            elif type(frame) is ipc.Sync:
                session.on_synced(now)
    return answered


def register(session: Session, nick: str = "alice", now: float = T0) -> list[Message]:
    """NICK, granted and synced; USER, welcomed and synced. Returns the lines sent."""
    feed(session, f"NICK {nick}", now=now)
    serve(session, now)  # on_nick_granted, on_synced
    feed(session, "USER al 0 * :Alice Liddell", now=now)
    serve(session, now)  # on_welcome, on_synced
    return take_out(session)


class RegistrationTest(unittest.TestCase):
    def test_nick_is_claimed_from_the_master(self):
        session = make_session()
        feed(session, "NICK alice")
        self.assertEqual(take_master(session), [claim("alice"), ipc.Sync(CONN)])
        self.assertEqual(take_items(session), [SYNC])
        self.assertIsNone(session.nick)
        session.on_nick_granted("alice")
        self.assertEqual(session.nick, "alice")
        self.assertEqual((take_items(session), take_master(session)), ([], []))

    def test_completes_only_with_granted_nick_and_user_and_the_welcome(self):
        # steps: a line, or the master's answer; REGISTERED must be forwarded by the end of
        # them, but the client is registered (and greeted) only by the master's welcome.
        orders = [
            ("NICK, USER, grant, synced",
             ["NICK alice", "USER al 0 * :Alice", "grant", "synced"], 1),
            ("NICK, grant, synced, USER",
             ["NICK alice", "grant", "synced", "USER al 0 * :Alice"], 1),
            ("USER, NICK, grant", ["USER al 0 * :Alice", "NICK alice", "grant"], 2),
        ]
        for name, steps, syncs_outstanding in orders:
            with self.subTest(name):
                session = make_session()
                frames = []
                for step in steps:
                    if step == "grant":
                        session.on_nick_granted("alice")
                    elif step == "synced":
                        session.on_synced(T0)
                    else:
                        feed(session, step)
                    frames += take_master(session)
                    self.assertFalse(session.registered)
                    self.assertNotIn(N.RPL_WELCOME, commands(take_items(session)))
                registered = [f for f in frames if type(f) is ipc.Registered]
                self.assertEqual(registered, [ipc.Registered(CONN, "al", "Alice", HOST)])
                self.assertEqual(frames[-2:], [registered[0], ipc.Sync(CONN)])
                self.assertEqual(session.syncs_outstanding, syncs_outstanding)
                session.on_welcome()
                self.assertTrue(session.registered)
                out = take_items(session)
                self.assertEqual(out[0].command, N.RPL_WELCOME)
                self.assertEqual(out[0].params[0], "alice")
                self.assertNotIn(SYNC, out)
                self.assertEqual(take_master(session), [])

    def test_a_second_nick_before_registration_waits_for_the_first(self):
        # NICK a, NICK b, USER in one go: NICK b is handled once the claim of a is answered,
        # so the welcome already goes out as b.
        session = make_session()
        feed(session, "NICK a", "NICK b", "USER u 0 * :R")
        frames = serve(session)
        self.assertEqual(frames, [claim("a"), ipc.Sync(CONN),
                                  claim("b"), ipc.Sync(CONN),
                                  ipc.Registered(CONN, "u", "R", HOST), ipc.Sync(CONN)])
        out = take_out(session)
        self.assertEqual((out[0].command, out[0].params[0]), (N.RPL_WELCOME, "b"))
        self.assertNotIn("NICK", commands(out))
        self.assertEqual(session.nick, "b")

    def test_nick_granted_after_the_welcome_is_announced(self):
        # Should the master grant a nick after the welcome went out under another one, the
        # client is told about the change.
        session = make_session()
        feed(session, "NICK a")
        serve(session)
        feed(session, "USER u 0 * :R")
        serve(session)
        take_out(session)
        session.on_nick_granted("b")
        nick_lines = take_out(session)
        self.assertEqual([(m.command, m.source, m.params) for m in nick_lines],
                         [("NICK", "a!u@host.example", ("b",))])
        self.assertEqual(session.nick, "b")
        session.on_nick_granted("b")  # the same nick again: nothing to say
        self.assertEqual(take_items(session), [])

    def test_nick_alone_or_user_alone_does_not_register(self):
        cases = [
            ("USER only", ["USER al 0 * :Alice"], False),
            ("NICK only, granted", ["NICK alice"], True),
            ("NICK and USER, not granted", ["NICK alice", "USER al 0 * :Alice"], False),
        ]
        for name, lines, grant in cases:
            with self.subTest(name):
                session = make_session()
                feed(session, *lines)
                frames = take_master(session)
                if grant:
                    session.on_nick_granted("alice")
                    session.on_synced(T0)
                    frames += take_master(session)
                self.assertFalse(session.registered)
                self.assertNotIn(N.RPL_WELCOME, commands(take_out(session)))
                self.assertNotIn(ipc.Registered, [type(f) for f in frames])

    def test_welcome_burst(self):
        session = make_session(network="TestNet", server_name="irc.test")
        out = register(session)
        self.assertEqual(commands(out)[:4], [N.RPL_WELCOME, N.RPL_YOURHOST, N.RPL_CREATED,
                                             N.RPL_MYINFO])
        self.assertIn("alice!al@host.example", out[0].params[-1])
        self.assertIn("TestNet", out[0].params[-1])
        self.assertTrue(all(m.source == "irc.test" for m in out))
        isupport = [m for m in out if m.command == N.RPL_ISUPPORT]
        self.assertGreaterEqual(len(isupport), 1)
        tokens = {t.split("=")[0]: t for m in isupport for t in m.params[1:-1]}
        for name in ("CASEMAPPING", "CHANTYPES", "NICKLEN", "CHANNELLEN", "TOPICLEN", "PREFIX",
                     "NETWORK"):
            with self.subTest(token=name):
                self.assertIn(name, tokens)
        self.assertEqual(tokens["CASEMAPPING"], "CASEMAPPING=rfc1459")
        self.assertEqual(tokens["NETWORK"], "NETWORK=TestNet")
        for m in isupport:
            # client + at most 13 tokens + the trailing text (modern.ircdocs.horse RPL_ISUPPORT)
            self.assertLessEqual(len(m.params), 15)
            self.assertEqual(m.params[-1], "are supported by this server")
        self.assertEqual(out[-1].command, N.ERR_NOMOTD)

    def test_motd(self):
        session = make_session(motd="first line\nsecond line")
        out = register(session)
        motd = [m for m in out if m.command in (N.RPL_MOTDSTART, N.RPL_MOTD, N.RPL_ENDOFMOTD)]
        self.assertEqual(commands(motd), [N.RPL_MOTDSTART, N.RPL_MOTD, N.RPL_MOTD,
                                          N.RPL_ENDOFMOTD])
        self.assertEqual([m.params[-1] for m in motd[1:3]], ["- first line", "- second line"])
        self.assertNotIn(N.ERR_NOMOTD, commands(out))
        feed(session, "MOTD")
        self.assertEqual(commands(take_items(session)), commands(motd))

    def test_user_fields(self):
        cases = [
            ("USER al 0 * :Alice Liddell", "al", "Alice Liddell"),
            ("USER ~al!ce 0 * :x", "alce", "x"),
            ("USER !!! 0 * :x", "user", "x"),
            ("USER " + "u" * 40 + " 0 * :x", "u" * 16, "x"),
            ("USER a.b-c_d 0 * :_", "a.b-c_d", "_"),
        ]
        for line, user, realname in cases:
            with self.subTest(line=line):
                session = make_session()
                feed(session, "NICK alice", line)
                frames = serve(session)
                self.assertTrue(session.registered)
                self.assertEqual((session.user, session.realname), (user, realname))
                self.assertIn(ipc.Registered(CONN, user, realname, HOST), frames)

    def test_empty_username_or_realname_gets_461(self):
        for line in ("USER al 0 * :", "USER :", "USER  0 * :x"):
            with self.subTest(line=line):
                session = make_session()
                feed(session, "NICK alice", line)
                serve(session)
                self.assertFalse(session.registered)
                [reply] = [m for m in take_out(session) if m.command == N.ERR_NEEDMOREPARAMS]
                self.assertEqual(reply.params[1], "USER")

    def test_user_twice(self):
        cases = [
            ("before registration", ["USER al 0 * :Alice"], False),
            ("after registration", ["NICK alice", "USER al 0 * :Alice"], True),
        ]
        for name, lines, registered in cases:
            with self.subTest(name):
                session = make_session()
                feed(session, *lines)
                serve(session)
                self.assertEqual(session.registered, registered)
                take_out(session)
                feed(session, "USER bo 0 * :Bob")
                self.assertEqual(commands(take_items(session)), [N.ERR_ALREADYREGISTERED])
                self.assertEqual(session.user, "al")

    def test_user_twice_in_one_go_is_answered_after_the_welcome(self):
        session = make_session()
        feed(session, "NICK alice", "USER al 0 * :Alice", "USER bo 0 * :Bob")
        serve(session)
        out = take_out(session)
        self.assertEqual(out[0].command, N.RPL_WELCOME)
        self.assertEqual(commands(out)[-2:], [N.ERR_NOMOTD, N.ERR_ALREADYREGISTERED])
        self.assertEqual(session.user, "al")

    def test_commands_before_registration_get_451(self):
        for line in ("JOIN #a", "PRIVMSG #a :hi", "NAMES", "WHOIS bob", "MOTD", "VERSION", "TIME",
                     "LIST", "FOOBAR x"):
            with self.subTest(line=line):
                session = make_session()
                feed(session, line)
                out = take_items(session)
                self.assertEqual(commands(out), [N.ERR_NOTREGISTERED])
                self.assertEqual(out[0].params[0], "*")
                self.assertEqual(take_master(session), [])
                self.assertIsNone(session.close_reason)

    def test_registration_commands_allowed_before_registration(self):
        for line, expect in [("PING tok", "PONG"), ("PONG tok", None), ("CAP LS", "CAP")]:
            with self.subTest(line=line):
                session = make_session()
                feed(session, line)
                self.assertEqual(commands(take_items(session)), [expect] if expect else [])
                self.assertEqual(take_master(session), [])


class ParamsTest(unittest.TestCase):
    def test_461_for_missing_parameters(self):
        # (line, registered first?)
        cases = [
            ("USER a b c", False), ("USER", False), ("PASS", False), ("PING", False),
            ("CAP", False),
        ]
        cases += [(f"{cmd} " + " ".join(["x"] * (n - 1)), True)
                  for cmd, n in ((c, s.min_params) for c, s in COMMANDS.items() if s.answered_by == MASTER)
                  if n > 0]
        for line, registered in cases:
            with self.subTest(line=line):
                session = make_session()
                if registered:
                    register(session)
                    take_master(session)
                feed(session, line)
                out = take_out(session)
                self.assertEqual(commands(out), [N.ERR_NEEDMOREPARAMS])
                self.assertEqual(out[0].params[1], line.split()[0])
                self.assertEqual(take_master(session), [])

    def test_421_after_registration(self):
        for line in ("FOOBAR", "foobar x y", "SQUIT srv :bye", "DIE"):
            with self.subTest(line=line):
                session = make_session()
                register(session)
                take_master(session)
                feed(session, line)
                out = take_out(session)
                self.assertEqual(commands(out), [N.ERR_UNKNOWNCOMMAND])
                self.assertEqual(out[0].params[:2], ("alice", line.split()[0].upper()))
                self.assertEqual(take_master(session), [])

    def test_global_commands_go_to_the_master(self):
        cases = [
            ("JOIN #a,#b", "JOIN", ("#a,#b",)),
            ("privmsg #a :hello there", "PRIVMSG", ("#a", "hello there")),
            ("PRIVMSG", "PRIVMSG", ()),            # 411 is the hub's to answer
            ("NAMES", "NAMES", ()),
            ("TOPIC #a :new topic", "TOPIC", ("#a", "new topic")),
            ("MODE alice +i", "MODE", ("alice", "+i")),
        ]
        for line, name, params in cases:
            with self.subTest(line=line):
                session = make_session()
                register(session)
                take_master(session)
                feed(session, line)
                self.assertEqual(take_out(session), [])
                self.assertEqual(take_master(session), [command(name, params)])

    def test_nick_errors(self):
        cases = [
            ("NICK", N.ERR_NONICKNAMEGIVEN),
            ("NICK :", N.ERR_NONICKNAMEGIVEN),
            ("NICK 1abc", N.ERR_ERRONEUSNICKNAME),
            ("NICK a,b", N.ERR_ERRONEUSNICKNAME),
            ("NICK #chan", N.ERR_ERRONEUSNICKNAME),
            ("NICK " + "n" * 31, N.ERR_ERRONEUSNICKNAME),
        ]
        for line, code in cases:
            for registered in (False, True):
                with self.subTest(line=line, registered=registered):
                    session = make_session()
                    if registered:
                        register(session)
                        take_master(session)
                    feed(session, line)
                    self.assertEqual(commands(take_out(session)), [code])
                    self.assertEqual(take_master(session), [])

    def test_nick_change_after_registration_is_claimed(self):
        session = make_session()
        register(session)
        take_master(session)
        feed(session, "NICK bob")
        # registered: no SYNC, input goes on (the answer is a NICK event or a 433 reply)
        self.assertEqual(take_master(session), [claim("bob")])
        self.assertEqual(take_items(session), [])
        session.on_nick_changed("bob")
        feed(session, "FOOBAR")
        self.assertEqual(take_master(session), [ipc.Sync(CONN)])
        [sync, unknown] = take_items(session)
        self.assertEqual((sync, unknown.command, unknown.params[0]),
                         (SYNC, N.ERR_UNKNOWNCOMMAND, "bob"))


class PassTest(unittest.TestCase):
    def test_password(self):
        # (lines before NICK/USER, registers?)
        cases = [
            ("right password", ["PASS s3cret"], True),
            ("wrong password", ["PASS nope"], False),
            ("no PASS", [], False),
            ("last PASS counts", ["PASS nope", "PASS s3cret"], True),
        ]
        for name, lines, ok in cases:
            with self.subTest(name):
                session = make_session(password="s3cret")
                feed(session, *lines, "NICK alice")
                serve(session)
                feed(session, "USER al 0 * :Alice")
                frames = take_master(session)
                if ok:
                    self.assertEqual(frames, [ipc.Registered(CONN, "al", "Alice", HOST),
                                              ipc.Sync(CONN)])
                    session.on_welcome()
                    session.on_synced(T0)
                    self.assertTrue(session.registered)
                    self.assertEqual(take_out(session)[0].command, N.RPL_WELCOME)
                    self.assertIsNone(session.close_reason)
                else:
                    # The master judges (and throttles wrong guesses per address): it is
                    # told that the PASS did not match, never the password.
                    self.assertEqual(frames, [ipc.Registered(CONN, "al", "Alice", HOST,
                                                             pass_ok=False), ipc.Sync(CONN)])
                    self.assertFalse(session.registered)

    def test_pass_ignored_without_configured_password(self):
        session = make_session()
        feed(session, "PASS anything")
        self.assertEqual(register(session)[0].command, N.RPL_WELCOME)

    def test_pass_after_registration(self):
        session = make_session()
        register(session)
        feed(session, "PASS again")
        self.assertEqual(commands(take_out(session)), [N.ERR_ALREADYREGISTERED])


class CapTest(unittest.TestCase):
    def test_cap_ls_holds_registration_until_end(self):
        for first in ("CAP LS", "CAP LS 302", "CAP REQ :server-time"):
            with self.subTest(first=first):
                session = make_session()
                feed(session, first)
                take_out(session)
                register(session)
                self.assertFalse(session.registered)
                self.assertEqual(take_master(session), [])
                feed(session, "CAP END")
                self.assertEqual(take_master(session),
                                 [ipc.Registered(CONN, "al", "Alice Liddell", HOST),
                                  ipc.Sync(CONN)])
                self.assertFalse(session.registered)  # until the master's welcome
                session.on_welcome()
                self.assertTrue(session.registered)
                self.assertEqual(take_out(session)[0].command, N.RPL_WELCOME)

    def test_cap_end_without_nick_does_not_register(self):
        session = make_session()
        feed(session, "CAP LS", "USER al 0 * :A", "CAP END")
        self.assertFalse(session.registered)
        self.assertEqual(take_master(session), [])
        feed(session, "NICK alice")
        frames = serve(session)
        self.assertIn(ipc.Registered(CONN, "al", "A", HOST), frames)
        self.assertTrue(session.registered)

    def test_cap_replies(self):
        # (lines, expected CAP reply params after the nick, caps afterwards); the details of
        # negotiation are test_capabilities' business
        every = " ".join(SUPPORTED_CAPS)
        # CAP LS 302 gives values (sasl's mechanisms, account registration's options)
        with_values = " ".join(f"{cap}={CAP_VALUES[cap]}" if cap in CAP_VALUES else cap
                               for cap in SUPPORTED_CAPS)
        cases = [
            (["CAP LS"], ("LS", every), set()),
            (["CAP ls 302"], ("LS", with_values), {"cap-notify"}),  # 302 implies cap-notify
            (["CAP REQ server-time"], ("ACK", "server-time"), {"server-time"}),
            (["CAP REQ :server-time"], ("ACK", "server-time"), {"server-time"}),
            (["CAP REQ :multi-prefix"], ("ACK", "multi-prefix"), {"multi-prefix"}),
            (["CAP REQ :server-time bogus"], ("NAK", "server-time bogus"), set()),
            (["CAP REQ :"], ("NAK", ""), set()),
            (["CAP REQ server-time", "CAP REQ -server-time"], ("ACK", "-server-time"), set()),
            (["CAP REQ server-time", "CAP LIST"], ("LIST", "server-time"), {"server-time"}),
            (["CAP LIST"], ("LIST", ""), set()),
        ]
        for lines, reply, caps in cases:
            with self.subTest(lines=lines):
                session = make_session()
                session.history = FakeHistory()  # it has a search index: SEARCH is offered
                feed(session, *lines)
                out = take_out(session)
                self.assertEqual(out[-1].command, "CAP")
                self.assertEqual(out[-1].params, ("*",) + reply)
                self.assertEqual(session.caps, caps)
                self.assertEqual(bool(session.tag_variant & events.WANTS_TIME),
                                 "server-time" in caps)

    def test_unknown_subcommand(self):
        session = make_session()
        feed(session, "CAP FROB")
        out = take_out(session)
        self.assertEqual(commands(out), [N.ERR_INVALIDCAPCMD])
        self.assertEqual(out[0].params[1], "FROB")

    def test_cap_after_registration(self):
        session = make_session()
        register(session)
        feed(session, "CAP REQ server-time", "CAP END", "CAP LIST")
        out = take_out(session)
        self.assertEqual([m.params for m in out],
                         [("alice", "ACK", "server-time"), ("alice", "LIST", "server-time")])
        self.assertTrue(session.registered)
        self.assertIsNone(session.close_reason)


class TimerTest(unittest.TestCase):
    def test_ping_and_timeout(self):
        session = make_session(ping_interval_s=90, ping_timeout_s=120)
        register(session)
        session.on_timer(T0 + 89)
        self.assertEqual(take_out(session), [])
        session.on_timer(T0 + 90)
        out = take_out(session)
        self.assertEqual(commands(out), ["PING"])
        self.assertEqual(out[0].params, (session.server_name,))
        session.on_timer(T0 + 91)  # only one PING per silence
        self.assertEqual(take_out(session), [])
        session.on_timer(T0 + 90 + 119)
        self.assertIsNone(session.close_reason)
        session.on_timer(T0 + 90 + 120)
        self.assertEqual(commands(take_out(session)), ["ERROR"])
        self.assertIn("Ping timeout", session.close_reason)

    def test_any_line_answers_the_ping(self):
        for line in ("PONG :chat.example", "PRIVMSG #a :still here", "FOOBAR"):
            with self.subTest(line=line):
                session = make_session(ping_interval_s=90, ping_timeout_s=120)
                register(session)
                session.on_timer(T0 + 90)
                take_out(session)
                feed(session, line, now=T0 + 100)
                take_out(session)
                session.on_timer(T0 + 90 + 200)   # 190 s after the answer: a new PING
                self.assertEqual(commands(take_out(session)), ["PING"])
                self.assertIsNone(session.close_reason)

    def test_activity_postpones_the_ping(self):
        session = make_session(ping_interval_s=90)
        register(session)
        feed(session, "PONG x", now=T0 + 60)
        session.on_timer(T0 + 100)
        self.assertEqual(take_out(session), [])
        session.on_timer(T0 + 150)
        self.assertEqual(commands(take_out(session)), ["PING"])

    def test_time_the_server_did_not_read_is_excused(self):
        session = make_session(ping_interval_s=90, ping_timeout_s=120)
        register(session)
        take_items(session)
        session.excuse(200)  # the worker read nothing from anyone for 200 s (backpressure)
        session.on_timer(T0 + 250)  # 50 s of the client's own silence: no PING yet
        self.assertEqual(take_items(session), [])
        session.on_timer(T0 + 291)
        self.assertEqual(commands(take_items(session)), ["PING"])
        session.excuse(500)
        session.on_timer(T0 + 291 + 400)  # the PING's timeout is excused too
        self.assertIsNone(session.close_reason)

    def test_registration_timeout(self):
        cases = [
            ("nothing sent", [], 59, False),
            ("nothing sent", [], 60, True),
            ("only NICK", ["NICK alice"], 60, True),
            ("waiting in CAP", ["CAP LS", "NICK alice", "USER a 0 * :A"], 61, True),
        ]
        for name, lines, after, closed in cases:
            with self.subTest(name, after=after):
                session = make_session(registration_timeout_s=60)
                feed(session, *lines, now=T0 + 1)
                take_out(session)
                session.on_timer(T0 + after)
                self.assertEqual(session.close_reason is not None, closed)
                if closed:
                    self.assertIn("Registration timed out", session.close_reason)
                    self.assertEqual(commands(take_out(session)), ["ERROR"])

    def test_registered_client_has_no_registration_deadline(self):
        session = make_session(registration_timeout_s=60, ping_interval_s=1000)
        register(session)
        session.on_timer(T0 + 500)
        self.assertIsNone(session.close_reason)
        self.assertEqual(take_out(session), [])


class LinesTest(unittest.TestCase):
    def test_line_too_long_gets_417_and_the_client_stays(self):
        for registered in (False, True):
            with self.subTest(registered=registered):
                session = make_session()
                if registered:
                    register(session)
                session.on_line(LineTooLong(9000), T0)
                out = take_out(session)
                self.assertEqual(commands(out), [N.ERR_INPUTTOOLONG])
                self.assertEqual(out[0].params[0], "alice" if registered else "*")
                self.assertIsNone(session.close_reason)

    def test_unparsable_line_is_answered(self):
        for raw in (b":onlysource", b"@tag=1", b"   "):
            with self.subTest(raw=raw):
                session = make_session()
                session.on_line(raw, T0)
                self.assertEqual(commands(take_out(session)), [N.ERR_UNKNOWNERROR])
                self.assertIsNone(session.close_reason)

    def test_encodings(self):
        cases = [
            (b"PRIVMSG #a :caf\xc3\xa9", "caf\u00e9"),
            (b"PRIVMSG #a :caf\xe9", "caf\u00e9"),  # Latin-1 fallback
            (b"PRIVMSG #a :a\x00b", "ab"),          # NUL dropped
        ]
        for raw, text in cases:
            with self.subTest(raw=raw):
                session = make_session()
                register(session)
                take_master(session)
                session.on_line(raw, T0)
                self.assertEqual(take_master(session),
                                 [command("PRIVMSG", ("#a", text))])

    def test_ping_is_answered(self):
        cases = [("PING token", "token"), ("PING :two words", "two words")]
        for line, token in cases:
            with self.subTest(line=line):
                session = make_session(server_name="irc.test")
                feed(session, line)
                out = take_out(session)
                self.assertEqual(out[0].command, "PONG")
                self.assertEqual(out[0].params, ("irc.test", token))

    def test_ping_after_registration_is_answered_behind_a_ping_sync(self):
        # The worker answers, once the master has answered a PING_SYNC: it does so after
        # everything decided before it (other clients' messages too) is committed and out.
        self.assertNotIn("PING", commands_answered_by(MASTER))
        session = make_session(server_name="irc.test")
        register(session)
        feed(session, "PING :tok en")
        self.assertEqual(take_master(session), [ipc.PingSync(CONN)])
        [sync, pong] = take_items(session)
        self.assertEqual(sync, SYNC)
        self.assertEqual((pong.source, pong.command, pong.params),
                         ("irc.test", "PONG", ("irc.test", "tok en")))
        self.assertEqual(session.held_lines, [])  # later input is not held for it

    def test_quit(self):
        cases = [
            ("QUIT", "Client Quit", False),
            ("QUIT :gone fishing", "Quit: gone fishing", False),
            ("QUIT :bye", "Quit: bye", True),
        ]
        for line, reason, registered in cases:
            with self.subTest(line=line, registered=registered):
                session = make_session()
                if registered:
                    register(session)
                feed(session, line)
                out = take_out(session)
                self.assertEqual(commands(out), ["ERROR"])
                self.assertEqual(session.close_reason, reason)

    def test_close_only_once(self):
        session = make_session()
        session.close("first")
        session.close("second")
        self.assertEqual(session.close_reason, "first")
        self.assertEqual(commands(take_out(session)), ["ERROR"])

    def test_version_and_time(self):
        session = make_session()
        register(session)
        feed(session, "VERSION", "TIME")
        self.assertEqual(commands(take_out(session)), [N.RPL_VERSION, N.RPL_TIME])


class OrderTest(unittest.TestCase):
    """Replies keep the client's command order: a reply of the worker's own that follows a
    command forwarded to the master goes behind a SYNC_POINT, with a SYNC to the master."""

    def registered_session(self) -> Session:
        session = make_session(server_name="irc.test")
        register(session)
        self.assertEqual((session.to_master, session.out, session.syncs_outstanding), ([], [], 0))
        return session

    def test_local_reply_after_a_forwarded_command_waits_for_a_sync(self):
        cases = [
            ("TIME", [N.RPL_TIME]),
            ("VERSION", [N.RPL_VERSION]),
            ("MOTD", [N.ERR_NOMOTD]),
            ("FOOBAR", [N.ERR_UNKNOWNCOMMAND]),
            ("KICK #a", [N.ERR_NEEDMOREPARAMS]),
            ("NICK 1bad", [N.ERR_ERRONEUSNICKNAME]),
            ("USER a b c d", [N.ERR_ALREADYREGISTERED]),
            ("QUIT :bye", ["ERROR"]),
        ]
        for forwarded in ("PRIVMSG #a :hi", "NICK bob"):
            for line, reply in cases:
                with self.subTest(forwarded=forwarded, line=line):
                    session = self.registered_session()
                    feed(session, forwarded, line)
                    [frame, sync] = take_master(session)
                    self.assertIn(type(frame), (ipc.Command, ipc.ClaimNick))
                    self.assertEqual(sync, ipc.Sync(CONN))
                    self.assertEqual(commands(take_items(session)), [SYNC] + reply)
                    self.assertEqual(session.syncs_outstanding, 1)

    def test_one_sync_for_the_replies_up_to_the_next_forward(self):
        session = self.registered_session()
        feed(session, "JOIN #a", "TIME", "VERSION", "MOTD", "NAMES #a", "TOPIC #a", "TIME")
        self.assertEqual(take_master(session), [
            command("JOIN", ("#a",)), ipc.Sync(CONN),
            command("NAMES", ("#a",)), command("TOPIC", ("#a",)),
            ipc.Sync(CONN)])
        items = take_items(session)
        self.assertEqual(commands(items), [SYNC, N.RPL_TIME, N.RPL_VERSION, N.ERR_NOMOTD,
                                           SYNC, N.RPL_TIME])
        self.assertEqual(session.syncs_outstanding, 2)
        session.on_synced(T0)
        session.on_synced(T0)
        self.assertEqual(session.syncs_outstanding, 0)
        self.assertEqual((take_items(session), take_master(session)), ([], []))

    def test_local_reply_with_nothing_forwarded_since_the_last_sync_goes_out_at_once(self):
        session = self.registered_session()
        feed(session, "TIME", "VERSION")
        self.assertEqual(take_master(session), [])
        self.assertEqual(commands(take_items(session)), [N.RPL_TIME, N.RPL_VERSION])
        # after a sync has been asked for, the next local reply needs none until a forward
        feed(session, "WHO #a", "VERSION")
        take_master(session)
        take_items(session)
        feed(session, "MOTD", "TIME")
        self.assertEqual(take_master(session), [])
        self.assertEqual(commands(take_items(session)), [N.ERR_NOMOTD, N.RPL_TIME])
        # nor is it held for the SYNCED: once registered, input is never held
        self.assertEqual((session.syncs_outstanding, session.held_lines), (1, []))

    def test_forwarded_commands_alone_need_no_sync(self):
        session = self.registered_session()
        feed(session, "JOIN #a", "PRIVMSG #a :hi", "NICK bob", "PONG x")
        self.assertEqual(take_master(session), [
            command("JOIN", ("#a",)), command("PRIVMSG", ("#a", "hi")),
            claim("bob")])
        self.assertEqual(take_items(session), [])

    def test_timer_ping_goes_behind_a_sync_too(self):
        session = make_session(ping_interval_s=90)
        register(session)
        feed(session, "PRIVMSG #a :hi", now=T0 + 1)
        take_master(session)
        session.on_timer(T0 + 91)
        self.assertEqual(commands(take_items(session)), [SYNC, "PING"])
        self.assertEqual(take_master(session), [ipc.Sync(CONN)])

    def test_lines_sent_in_one_go_before_registration_wait_for_the_master(self):
        # After the welcome, the held lines run when the next line comes in or when the
        # REGISTERED sync is answered, whichever is first; in both cases in the order sent,
        # and their replies go behind the sync point, so the client sees the same order.
        for first in ("a line", "the SYNCED"):
            with self.subTest(first=first):
                self._check_lines_sent_in_one_go(first)

    def _check_lines_sent_in_one_go(self, first: str) -> None:
        session = make_session()
        feed(session, "NICK x", "USER u 0 * :R", "VERSION", "JOIN #a", "TIME")
        self.assertEqual(take_master(session), [claim("x"), ipc.Sync(CONN)])
        self.assertEqual(take_items(session), [SYNC])
        self.assertEqual(session.held_lines,
                         [b"USER u 0 * :R", b"VERSION", b"JOIN #a", b"TIME"])
        session.on_nick_granted("x")
        self.assertEqual((take_items(session), take_master(session)), ([], []))
        session.on_synced(T0)
        # USER completes the registration, and everything after it waits for the welcome
        self.assertEqual(take_master(session), [ipc.Registered(CONN, "u", "R", HOST),
                                                ipc.Sync(CONN)])
        self.assertEqual(take_items(session), [SYNC])
        self.assertEqual(session.held_lines, [b"VERSION", b"JOIN #a", b"TIME"])
        self.assertFalse(session.registered)
        session.on_welcome()
        self.assertTrue(session.registered)
        welcome = take_items(session)
        self.assertEqual(welcome[0].command, N.RPL_WELCOME)
        self.assertEqual(welcome[-1].command, N.ERR_NOMOTD)
        self.assertNotIn(SYNC, welcome)
        self.assertNotIn(N.RPL_VERSION, commands(welcome))
        self.assertEqual(take_master(session), [])
        self.assertEqual(session.held_lines, [b"VERSION", b"JOIN #a", b"TIME"])
        if first == "a line":
            # a line coming in now runs behind the held ones, before the SYNCED
            feed(session, "VERSION")
            self.assertEqual(session.syncs_outstanding, 2)
            session.on_synced(T0)
        else:
            session.on_synced(T0)
            self.assertEqual(session.syncs_outstanding, 1)
            feed(session, "VERSION")
        self.assertEqual(session.held_lines, [])
        self.assertEqual(take_master(session), [command("JOIN", ("#a",)),
                                                ipc.Sync(CONN)])
        self.assertEqual(commands(take_items(session)),
                         [N.RPL_VERSION, SYNC, N.RPL_TIME, N.RPL_VERSION])
        # from now on lines are handled as they come
        feed(session, "PRIVMSG #a :hi")
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi"))])
        self.assertEqual(session.held_lines, [])

    def test_held_lines_after_a_refused_nick(self):
        # The master answers a taken nick with 433 (a reply of its own) and SYNCED, no grant.
        session = make_session()
        feed(session, "NICK taken", "USER u 0 * :R", "NICK free", "TIME")
        take_master(session)
        take_items(session)
        session.on_synced(T0)
        self.assertEqual(take_master(session), [claim("free"), ipc.Sync(CONN)])
        self.assertEqual(take_items(session), [SYNC])
        self.assertEqual(session.held_lines, [b"TIME"])
        session.on_nick_granted("free")  # USER was already in: this completes registration
        self.assertEqual(take_master(session), [ipc.Registered(CONN, "u", "R", HOST),
                                                ipc.Sync(CONN)])
        session.on_synced(T0)
        self.assertEqual(session.held_lines, [b"TIME"])  # still waiting for the welcome
        session.on_welcome()
        session.on_synced(T0)
        self.assertEqual(session.held_lines, [])
        out = take_items(session)
        self.assertEqual(out[0], SYNC)  # the one of REGISTERED; then the welcome, then TIME
        self.assertEqual((out[1].command, out[1].params[0]), (N.RPL_WELCOME, "free"))
        self.assertEqual(commands(out).count(SYNC), 1)
        self.assertEqual(commands(out)[-1], N.RPL_TIME)

    def test_held_line_too_long_is_answered_in_its_turn(self):
        session = make_session()
        feed(session, "NICK x")
        session.on_line(LineTooLong(9000), T0)
        feed(session, "PING t")
        take_items(session)
        session.on_nick_granted("x")
        session.on_synced(T0)
        self.assertEqual(commands(take_items(session)), [N.ERR_INPUTTOOLONG, "PONG"])

    def test_too_many_held_lines_close_the_connection(self):
        session = make_session()
        feed(session, "NICK x")
        take_items(session)
        feed(session, *[f"PRIVMSG #a :{i}" for i in range(MAX_HELD_LINES)])
        self.assertEqual(len(session.held_lines), MAX_HELD_LINES)
        self.assertIsNone(session.close_reason)
        self.assertEqual(take_items(session), [])
        feed(session, "PRIVMSG #a :one too many")
        self.assertEqual(session.close_reason, "Too many lines while waiting for the server")
        [error] = take_items(session)
        self.assertEqual(error.command, "ERROR")
        self.assertIn("Too many lines while waiting for the server", error.params[0])
        # the held lines are not run once the master answers
        session.on_nick_granted("x")
        session.on_synced(T0)
        self.assertEqual((take_items(session), take_master(session)),
                         ([], [claim("x"), ipc.Sync(CONN)]))


class LabelTest(unittest.TestCase):
    """IRCv3 labeled-response: a reply of the worker's own is labeled at once (labels.py has
    the shapes); a forwarded command carries its label to the master, which brackets its
    answer with LABEL_START/LABEL_END for the worker to label."""

    CAPS = ("labeled-response", "batch")

    def labeled_session(self, caps=CAPS) -> Session:
        session = make_session(server_name="irc.test", motd="one\ntwo")
        register(session)
        take_master(session)
        session.caps = set(caps)
        return session

    def test_local_replies_are_labeled(self):
        # (line, [(command or batch param, label tag)] sent back)
        cases = [
            ("@label=a TIME", [(N.RPL_TIME, "a")]),
            ("@label=b PONG tok", [("ACK", "b")]),                  # nothing to say: ACK
            ("@label=c FOOBAR", [(N.ERR_UNKNOWNCOMMAND, "c")]),
            ("@label=d KICK #a", [(N.ERR_NEEDMOREPARAMS, "d")]),
            ("@label=e NICK 1bad", [(N.ERR_ERRONEUSNICKNAME, "e")]),
            ("@label=f MOTD", [("+b1", "f"), (N.RPL_MOTDSTART, None), (N.RPL_MOTD, None),
                                (N.RPL_MOTD, None), (N.RPL_ENDOFMOTD, None), ("-b1", None)]),
            ("@label=g CAP LIST", [("CAP", "g")]),
            ("@label=a\\sb\\:c TIME", [(N.RPL_TIME, "a b;c")]),     # escaped both ways
            ("@label= TIME", [(N.RPL_TIME, None)]),                # an empty label is none
            ("@+other=1 TIME", [(N.RPL_TIME, None)]),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                session = self.labeled_session()
                feed(session, line)
                out = take_items(session)
                self.assertNotIn(SYNC, out)
                got = [(m.params[0] if m.command == "BATCH" else m.command, m.tags.get("label"))
                       for m in out]
                self.assertEqual(got, expected)
                if len(out) > 1:
                    self.assertEqual(out[0].params[1], "labeled-response")
                    self.assertTrue(all(m.tags.get("batch") == "b1" for m in out[1:-1]))
                self.assertEqual(take_master(session), [])

    def test_labeled_ping_is_answered_behind_its_ping_sync(self):
        session = self.labeled_session()
        feed(session, "@label=a PING tok")
        self.assertEqual(take_master(session), [ipc.PingSync(CONN)])
        [sync, pong] = take_items(session)
        self.assertEqual((sync, pong.command, pong.params[1], pong.tags.get("label")),
                         (SYNC, "PONG", "tok", "a"))

    def test_without_batch_only_the_first_line_is_labeled(self):
        session = self.labeled_session({"labeled-response"})
        feed(session, "@label=m MOTD")
        out = take_out(session)
        self.assertEqual([m.command for m in out],
                         [N.RPL_MOTDSTART, N.RPL_MOTD, N.RPL_MOTD, N.RPL_ENDOFMOTD])
        self.assertEqual([m.tags.get("label") for m in out], ["m", None, None, None])

    def test_without_the_cap_the_label_is_ignored(self):
        session = self.labeled_session({"batch"})
        feed(session, "@label=x TIME", "@label=y PRIVMSG #a :hi")
        [time_reply] = take_out(session)
        self.assertEqual((time_reply.command, time_reply.tags), (N.RPL_TIME, {}))
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi"))])

    def test_forwarded_commands_carry_the_label(self):
        session = self.labeled_session()
        feed(session, "@label=j JOIN #a", "@label=n NICK bob", "PRIVMSG #a :plain",
             "@label=p;+x=1 PRIVMSG #a :hi")
        # no ACK and no SYNC from the worker: the master answers (and labels) these
        self.assertEqual(take_master(session), [
            command("JOIN", ("#a",), "j"), claim("bob", "n"), command("PRIVMSG", ("#a", "plain")),
            command("PRIVMSG", ("#a", "hi"), "p")])
        self.assertEqual(take_items(session), [])
        self.assertEqual(session.syncs_outstanding, 0)

    def test_labeled_local_reply_after_a_forward_waits_behind_a_sync(self):
        session = self.labeled_session()
        feed(session, "PRIVMSG #a :hi", "@label=v VERSION")
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi")),
                                                ipc.Sync(CONN)])
        [sync, version] = take_items(session)
        self.assertEqual((sync, version.command, version.tags), (SYNC, N.RPL_VERSION,
                                                                 {"label": "v"}))

    def test_labeled_nick_before_registration(self):
        session = make_session()
        session.caps = set(self.CAPS)
        feed(session, "@label=r NICK alice")
        self.assertEqual(take_master(session), [claim("alice", "r"), ipc.Sync(CONN)])
        self.assertEqual(take_items(session), [SYNC])

    def test_the_next_command_is_not_labeled(self):
        session = self.labeled_session()
        feed(session, "@label=a JOIN #a", "NAMES #a", "@label=b TIME", "TIME")
        self.assertEqual([f.label for f in take_master(session) if type(f) is ipc.Command],
                         ["a", None])
        out = take_out(session)
        self.assertEqual([(m.command, m.tags.get("label")) for m in out],
                         [(N.RPL_TIME, "b"), (N.RPL_TIME, None)])


class ClientTagsTest(unittest.TestCase):
    """IRCv3 message-tags: client-only tags ('+' keys) of PRIVMSG/NOTICE/TAGMSG go to the
    master with the command (to be relayed and stored), only from message-tags clients."""

    def session(self, caps=("message-tags",)) -> Session:
        session = make_session()
        register(session)
        take_master(session)
        session.caps = set(caps)
        return session

    def test_client_tags_are_forwarded(self):
        # (line, COMMAND frame)
        cases = [
            ("@+draft/react=x TAGMSG #a", command("TAGMSG", ("#a",), None, "+draft/react=x")),
            ("@+a=1;time=forged;+b PRIVMSG #a :hi",
             command("PRIVMSG", ("#a", "hi"), None, "+a=1;+b")),     # server tags dropped
            ("@msgid=9;+a=x\\sy NOTICE bob :hi",
             command("NOTICE", ("bob", "hi"), None, "+a=x\\sy")),   # escaped again
            ("@+a=1 JOIN #a", command("JOIN", ("#a",))),           # not a tagged command
            ("@+a=1 TOPIC #a :t", command("TOPIC", ("#a", "t"))),
            ("PRIVMSG #a :hi", command("PRIVMSG", ("#a", "hi"))),
            ("@label=l;+a PRIVMSG #a :hi", command("PRIVMSG", ("#a", "hi"), None, "+a")),
            ("@+a\x1b[31m=1;+b\x07;+ok=\x1b PRIVMSG #a :hi",
             command("PRIVMSG", ("#a", "hi"), None, "+ok=\x1b")),   # bad keys dropped
            ("@+\u202e=1 TAGMSG #a", command("TAGMSG", ("#a",))),
        ]
        for line, frame in cases:
            with self.subTest(line=line):
                session = self.session()
                feed(session, line)
                self.assertEqual(take_master(session), [frame])
                self.assertEqual(take_items(session), [])

    def test_only_with_message_tags(self):
        session = self.session(caps=())
        feed(session, "@+a=1 PRIVMSG #a :hi", "@+a=1 TAGMSG #a")
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi")),
                                                command("TAGMSG", ("#a",))])

    def test_tag_data_over_4094_bytes_is_417(self):
        self.assertEqual(MAX_CLIENT_TAG_BYTES, 4094)
        for size, refused in ((4094, False), (4095, True), (8000, True)):
            with self.subTest(size=size):
                session = self.session()
                tag = b"+k=" + b"v" * (size - 3)
                session.on_line(b"@" + tag + b" TAGMSG #a", T0)
                if refused:
                    self.assertEqual(commands(take_items(session)), [N.ERR_INPUTTOOLONG])
                    self.assertEqual(take_master(session), [])
                    self.assertIsNone(session.close_reason)
                else:
                    self.assertEqual(take_master(session),
                                     [command("TAGMSG", ("#a",), None, tag.decode())])


class HistoryHoldTest(unittest.TestCase):
    """A CHATHISTORY read must see what the client sent before it committed: it waits (with
    every line after it) until the master has answered everything forwarded so far."""

    ROW = (1, 5000, "PRIVMSG", "alice!al@host.example", "#a", "hi", "", ("#a",))

    def session(self, caps=("batch", "message-tags", "draft/chathistory")) -> Session:
        session = make_session(server_name="irc.test")
        register(session)
        take_master(session)
        session.caps = set(caps)
        session.channels = {"#a"}
        session.history = FakeHistory()
        return session

    def history_ids(self, items) -> list[int]:
        return [int(m.tags["msgid"]) for m in items
                if m != SYNC and m.command not in ("BATCH", "NOTE")
                and "msgid" in m.tags]

    def test_nothing_outstanding_reads_at_once(self):
        session = self.session()
        session.history.add(self.ROW)
        feed(session, "CHATHISTORY LATEST #a * 10", "TIME")
        self.assertEqual(take_master(session), [])
        items = take_items(session)
        self.assertEqual(commands(items), ["BATCH", "PRIVMSG", "BATCH", N.RPL_TIME])
        self.assertEqual(self.history_ids(items), [1])

    def test_read_waits_for_the_masters_answer_to_earlier_commands(self):
        for prefix in ("", "@label=q ", ":alice ", "@label=q :alice "):
            with self.subTest(prefix=prefix):
                session = self.session()
                session.caps |= {"labeled-response"}
                read = f"{prefix}chathistory LATEST #a * 10"
                feed(session, "PRIVMSG #a :hi", read, "TIME", "JOIN #b")
                # a SYNC after the PRIVMSG; nothing read, nothing after the read handled
                self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi")),
                                                        ipc.Sync(CONN)])
                self.assertEqual(take_items(session), [SYNC])
                self.assertEqual(session.history.calls, [])
                self.assertEqual(session.held_lines, [read.encode(), b"TIME", b"JOIN #b"])
                session.history.add(self.ROW)   # the PRIVMSG is committed...
                session.on_synced(T0)           # ...before the master answers the SYNC
                items = take_items(session)
                self.assertNotIn(SYNC, items)
                self.assertEqual(commands(items), ["BATCH", "PRIVMSG", "BATCH", N.RPL_TIME])
                self.assertEqual(self.history_ids(items), [1])
                self.assertEqual(items[0].tags.get("label"), "q" if "label" in prefix else None)
                self.assertEqual(take_master(session), [command("JOIN", ("#b",))])
                self.assertEqual(session.held_lines, [])

    def test_read_waits_for_a_sync_already_outstanding(self):
        session = self.session()
        feed(session, "PRIVMSG #a :hi", "PING x", "CHATHISTORY LATEST #a * 10")
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "hi")),
                                                ipc.PingSync(CONN)])   # no second SYNC
        self.assertEqual(commands(take_items(session)), [SYNC, "PONG"])
        self.assertEqual(session.history.calls, [])
        session.on_synced(T0)
        self.assertEqual(commands(take_items(session)), ["BATCH", "BATCH"])
        self.assertEqual(take_master(session), [])

    def test_read_waits_for_every_outstanding_sync(self):
        session = self.session()
        feed(session, "PRIVMSG #a :1", "PING a", "PRIVMSG #a :2", "CHATHISTORY LATEST #a * 10")
        self.assertEqual(session.syncs_outstanding, 2)
        take_items(session)
        session.on_synced(T0)
        self.assertEqual((take_items(session), session.history.calls), ([], []))
        session.on_synced(T0)
        self.assertEqual(commands(take_items(session)), ["BATCH", "BATCH"])
        self.assertEqual(session.syncs_outstanding, 0)

    def test_local_commands_alone_do_not_hold_it(self):
        session = self.session()
        feed(session, "TIME", "VERSION", "CHATHISTORY LATEST #a * 10")
        self.assertEqual(take_master(session), [])
        self.assertEqual(commands(take_items(session)),
                         [N.RPL_TIME, N.RPL_VERSION, "BATCH", "BATCH"])

    def test_lines_after_the_read_are_not_held_once_it_ran(self):
        session = self.session()
        feed(session, "PRIVMSG #a :hi", "CHATHISTORY LATEST #a * 10")
        take_master(session)
        session.on_synced(T0)
        take_items(session)
        feed(session, "TIME", "PRIVMSG #a :again")
        self.assertEqual(commands(take_items(session)), [N.RPL_TIME])
        self.assertEqual(take_master(session), [command("PRIVMSG", ("#a", "again"))])
        self.assertEqual(session.held_lines, [])

    def test_too_many_lines_while_waiting_close_the_connection(self):
        session = self.session()
        feed(session, "PRIVMSG #a :hi", "CHATHISTORY LATEST #a * 10")
        take_master(session)
        take_items(session)
        feed(session, *[f"PING {i}" for i in range(MAX_HELD_LINES - 1)])
        self.assertEqual(len(session.held_lines), MAX_HELD_LINES)
        self.assertIsNone(session.close_reason)
        feed(session, "PING one too many")
        self.assertEqual(session.close_reason, "Too many lines while waiting for the server")
        [error] = take_items(session)
        self.assertEqual(error.command, "ERROR")
        session.on_synced(T0)   # the held lines are not run once the master answers
        self.assertEqual((take_items(session), session.history.calls), ([], []))


if __name__ == "__main__":
    unittest.main()
