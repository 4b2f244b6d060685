"""Accounts in the pure cores: the master's rules for names people own and its account
requests (login, throttle, REGISTER, the admin command's writes through the Sequencer), and
one connection's AUTHENTICATE/REGISTER exchange with the master's answers played by the
test (the verification thread played inline)."""

from __future__ import annotations

import base64
import dataclasses
import json
import unittest
from unittest import mock

from chatd import events
from chatd.config import Config
from chatd.credentials import make_credentials, verify_password
from chatd.hub import account_requests
from chatd.hub.hub import Emit, Hub, ReplyLines, ToWorker
from chatd.hub.sequencer import Sequencer
from chatd.hub.throttle import FREE_FAILURES
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from chatd.limits import MAX_CERTS_PER_ACCOUNT
from chatd.serverinfo import build_server_info
from chatd.session.session import Session
from ircproto import numerics as N
from ircproto.message import parse

CREDS = make_credentials("pencil-and-paper")  # computed once: scrypt costs tens of ms


def make_hub(**settings) -> Hub:
    hub = Hub(dataclasses.replace(Config(), autojoin=(), server_name="srv", **settings))
    hub.now_ms = 1_700_000_000_000
    hub.accounts.add("henry", CREDS.password_hash, CREDS.scram)
    return hub


def open_client(hub: Hub, conn_id: int, nick: str, register: bool = True):
    hub.connection_opened(conn_id, 0, f"10.0.0.{conn_id}", 1)
    client = hub.registry.clients[conn_id]
    apply_worker_frame(hub, client, ipc.ClaimNick(conn_id, nick, None))
    if register:
        apply_worker_frame(hub, client, ipc.Registered(conn_id, "u", "r", client.host))
    return client


def lines(effects) -> list[str]:
    return [line for e in effects if isinstance(e, ReplyLines) for line in e.lines]


def to_worker(effects) -> list:
    return [e.frame for e in effects if isinstance(e, ToWorker)]


class NamesPeopleOwnTest(unittest.TestCase):
    def test_reserved_nick_refused_after_registration(self):
        hub = make_hub()
        client = open_client(hub, 1, "someone")
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.ClaimNick(1, "HENRY", None))
        replies = lines(hub.take_effects())
        self.assertRegex(replies[0], r"^:srv FAIL NICK NICKNAME_RESERVED HENRY :.*reserved")
        self.assertRegex(replies[1], r"^:srv 433 someone HENRY :.*reserved")
        self.assertEqual(client.nick, "someone")

    def test_reserved_nick_held_before_registration_then_refused(self):
        hub = make_hub()
        client = open_client(hub, 1, "henry", register=False)
        self.assertEqual(to_worker(hub.take_effects()), [ipc.NickOk(1, "henry")])
        apply_worker_frame(hub, client, ipc.Registered(1, "u", "r", client.host))
        effects = hub.take_effects()
        self.assertFalse(client.registered)
        self.assertNotIn(ipc.Welcome, [type(f) for f in to_worker(effects)])
        self.assertRegex(lines(effects)[-1], r" 433 henry henry :.*reserved")
        client.account = "henry"  # after SASL, the retry is welcomed
        apply_worker_frame(hub, client, ipc.Registered(1, "u", "r", client.host))
        self.assertIn(ipc.Welcome(1, "10.0.0.1"), to_worker(hub.take_effects()))

    def test_owner_and_earlier_users_keep_the_name(self):
        hub = make_hub()
        squatter = open_client(hub, 1, "ivy")
        hub.accounts.add("ivy", CREDS.password_hash, CREDS.scram)  # registered by another
        hub.take_effects()
        self.assertEqual(squatter.nick, "ivy")  # unaffected until it leaves
        owner = open_client(hub, 2, "ivy2")
        owner.account = "Ivy"
        apply_worker_frame(hub, squatter, ipc.ConnClosed(1, "bye"))
        apply_worker_frame(hub, owner, ipc.ClaimNick(2, "ivy", None))
        self.assertEqual(owner.nick, "ivy")

    def test_service_names_are_nobodys(self):
        hub = make_hub()
        for nick in ("NickServ", "chanserv", "Global", "root", "admin", "SRV"):
            with self.subTest(nick=nick):
                client = open_client(hub, 1, nick, register=False)
                self.assertRegex(lines(hub.take_effects())[0], rf" 432 \* {nick} :.*services")
                self.assertIsNone(client.nick)
                hub.registry.remove_client(1)


class AccountRequestsTest(unittest.TestCase):
    def test_login_flow(self):
        hub = make_hub()
        client = open_client(hub, 1, "x")
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.AuthRequest(1, "PLAIN", "HENRY", ""))
        self.assertEqual(to_worker(hub.take_effects()),
                         [ipc.AuthCreds(1, "henry", CREDS.password_hash, CREDS.scram)])
        apply_worker_frame(hub, client, ipc.AuthResult(1, "PLAIN", "henry", True, "", ""))
        self.assertEqual(to_worker(hub.take_effects()), [ipc.AuthOk(1, "henry")])
        self.assertEqual(client.account, "henry")

    def test_a_result_without_a_request_is_refused(self):
        hub = make_hub()
        client = open_client(hub, 1, "x")
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.AuthResult(1, "PLAIN", "henry", True, "", ""))
        self.assertEqual([type(f) for f in to_worker(hub.take_effects())], [ipc.AuthFailed])
        self.assertIsNone(client.account)

    def test_failures_throttle_account_and_address(self):
        hub = make_hub()
        client = open_client(hub, 1, "x")
        for _ in range(FREE_FAILURES):
            apply_worker_frame(hub, client, ipc.AuthRequest(1, "PLAIN", "henry", ""))
            apply_worker_frame(hub, client, ipc.AuthResult(1, "PLAIN", "henry", False, "", ""))
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.AuthRequest(1, "PLAIN", "henry", ""))
        refused = to_worker(hub.take_effects())[0]
        self.assertEqual(refused.code, "RATE_LIMITED")
        other = open_client(hub, 2, "y")  # another address, same account: refused too
        hub.take_effects()
        apply_worker_frame(hub, other, ipc.AuthRequest(2, "SCRAM-SHA-256", "Henry", ""))
        self.assertEqual(to_worker(hub.take_effects())[0].code, "RATE_LIMITED")

    def test_external(self):
        hub = make_hub()
        hub.accounts.add_cert("henry", "AB" * 32)
        client = open_client(hub, 1, "x")
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.AuthRequest(1, "EXTERNAL", "", "cd" * 32))
        self.assertEqual(to_worker(hub.take_effects())[0].code, "INVALID_CREDENTIALS")
        apply_worker_frame(hub, client, ipc.AuthRequest(1, "EXTERNAL", "", "ab" * 32))
        self.assertEqual(to_worker(hub.take_effects()), [ipc.AuthOk(1, "henry")])

    def test_register_writes_then_answers(self):
        hub = make_hub()
        client = open_client(hub, 1, "jo")
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.RegisterAccount(1, "jo", "", "h", "s"))
        effects = hub.take_effects()
        self.assertIsInstance(effects[0], Emit)
        self.assertEqual((effects[0].kind, effects[0].source, effects[0].target),
                         (events.ACCOUNT_KIND, "create", "jo"))
        self.assertEqual(json.loads(effects[0].text)["password_hash"], "h")
        self.assertEqual(to_worker(effects), [ipc.AuthOk(1, "jo")])
        for name, code in (("jo", "ALREADY_AUTHENTICATED"),):
            apply_worker_frame(hub, client, ipc.RegisterAccount(1, name, "", "h", "s"))
            self.assertEqual(to_worker(hub.take_effects())[0].code, code)
        other = open_client(hub, 2, "kim")
        hub.take_effects()
        for name, code in (("JO", "ACCOUNT_EXISTS"), ("NickServ", "BAD_ACCOUNT_NAME"),
                           ("bad name", "BAD_ACCOUNT_NAME")):
            apply_worker_frame(hub, other, ipc.RegisterAccount(2, name, "", "h", "s"))
            self.assertEqual(to_worker(hub.take_effects())[0].code, code)
        closed = make_hub(accounts_registration="closed")
        c = open_client(closed, 1, "lee")
        closed.take_effects()
        apply_worker_frame(closed, c, ipc.RegisterAccount(1, "lee", "", "h", "s"))
        self.assertEqual(to_worker(closed.take_effects())[0].code, "TEMPORARILY_UNAVAILABLE")

    def test_admin_answers_after_the_write(self):
        hub = make_hub()
        seq = Sequencer(0, 0)
        account_requests.admin(hub, 5, "add", "mo", {"password_hash": "h", "scram": "s"})
        self.assertEqual(seq.add(hub.take_effects(), 1), [])  # held until committed
        rows = seq.take_rows()
        self.assertEqual(rows[0][2:5], (events.ACCOUNT_KIND, "create", "mo"))
        released = seq.committed(rows[0][0])
        self.assertEqual(released[0][0], account_requests.CONTROL_WORKER)
        self.assertEqual(ipc.decode_frames(bytearray(released[0][1]))[0].payload,
                         b"ok account mo created")
        # a writer restart re-sends the uncommitted account write
        account_requests.admin(hub, 6, "delete", "mo", {})
        seq.add(hub.take_effects(), 2)
        seq.take_rows()
        rows, _ = seq.writer_restarted(rows[0][0])
        self.assertEqual([row[3] for row in rows], ["delete"])
        for op, name, expected in (("add", "henry", b"error exists"),
                                   ("passwd", "nobody", b"error no-such-account")):
            account_requests.admin(hub, 7, op, name, {"password_hash": "h", "scram": "s"})
            answer = hub.take_effects()[-1].frame.payload
            self.assertTrue(answer.startswith(expected), answer)


class AccountBoundsTest(unittest.TestCase):
    """What one address, or everyone together, can make the server keep."""

    def register(self, hub: Hub, conn_id: int, address: str) -> str:
        """REGISTER from a new client at `address`: the code of the answer."""
        hub.connection_opened(conn_id, 0, address, 1)
        client = hub.registry.clients[conn_id]
        apply_worker_frame(hub, client, ipc.ClaimNick(conn_id, f"n{conn_id}", None))
        apply_worker_frame(hub, client, ipc.Registered(conn_id, "u", "r", client.host))
        hub.take_effects()
        apply_worker_frame(hub, client, ipc.RegisterAccount(conn_id, f"acct{conn_id}", "",
                                                            "h", "s"))
        [answer] = to_worker(hub.take_effects())
        return "OK" if isinstance(answer, ipc.AuthOk) else answer.code

    def test_accounts_per_address_per_hour(self):
        hub = make_hub(registrations_per_hour_per_ip=2)
        codes = [self.register(hub, i, "10.9.9.9") for i in (1, 2, 3)]
        self.assertEqual(codes, ["OK", "OK", "TEMPORARILY_UNAVAILABLE"])
        self.assertEqual(self.register(hub, 4, "10.9.9.10"), "OK")  # another address
        self.assertEqual(self.register(hub, 5, "2001:db8::1"), "OK")
        self.assertEqual(self.register(hub, 6, "2001:db8::2"), "OK")  # the same /64
        self.assertEqual(self.register(hub, 7, "2001:db8::3"), "TEMPORARILY_UNAVAILABLE")
        self.assertEqual(self.register(hub, 8, "127.0.0.9"), "OK")  # exempt by default
        hub.now_ms += 3_600_000
        self.assertEqual(self.register(hub, 9, "10.9.9.9"), "OK")  # an hour later
        unlimited = make_hub(registrations_per_hour_per_ip=0)
        self.assertEqual([self.register(unlimited, i, "10.9.9.9") for i in range(1, 5)],
                         ["OK"] * 4)

    def test_accounts_on_the_server_and_certificates_per_account(self):
        hub = make_hub()
        with mock.patch.object(account_requests, "MAX_ACCOUNTS", 3):
            self.assertEqual([self.register(hub, i, f"10.0.1.{i}") for i in (1, 2, 3)],
                             ["OK", "OK", "TEMPORARILY_UNAVAILABLE"])  # henry is the first
            account_requests.admin(hub, 9, "add", "mo", {"password_hash": "h", "scram": "s"})
            self.assertTrue(hub.take_effects()[-1].frame.payload.startswith(b"error full"))
        for i in range(MAX_CERTS_PER_ACCOUNT + 1):
            account_requests.admin(hub, 9, "cert-add", "henry", {"fingerprint": f"{i:064x}"})
        answers = [e.frame.payload for e in hub.take_effects() if isinstance(e, ToWorker)]
        self.assertEqual([a.split()[0] for a in answers],
                         [b"ok"] * MAX_CERTS_PER_ACCOUNT + [b"error"])
        self.assertEqual(len(hub.accounts.get("henry").certfps), MAX_CERTS_PER_ACCOUNT)


def make_session(**settings) -> Session:
    config = dataclasses.replace(Config(), **settings)
    return Session(1, "10.0.0.1", build_server_info(config, None, 0), 0.0)


def out(session: Session) -> list[str]:
    sent = [raw.decode().rstrip("\r\n") for raw in session.out if raw]
    session.out.clear()
    return sent


def run_work(session: Session) -> None:
    """Play the worker's verification thread, inline."""
    while session.work:
        work = session.work.pop(0)
        session.on_work_done(work.fn(*work.args))


class SessionExchangeTest(unittest.TestCase):
    def test_plain_login_holds_input_until_the_master_answers(self):
        session = make_session()
        for line in ("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN"):
            session.on_line(line.encode(), 0.0)
        self.assertEqual(out(session)[-1], "AUTHENTICATE +")
        payload = base64.b64encode(b"\0henry\0pencil-and-paper").decode()
        session.on_line(f"AUTHENTICATE {payload}".encode(), 0.0)
        session.on_line(b"PING :after", 0.0)  # held until the exchange is done
        self.assertEqual(session.to_master, [ipc.AuthRequest(1, "PLAIN", "henry", "")])
        session.to_master.clear()
        session.on_account_frame(ipc.AuthCreds(1, "henry", CREDS.password_hash, CREDS.scram))
        run_work(session)
        self.assertEqual(session.to_master, [ipc.AuthResult(1, "PLAIN", "henry", True, "", "")])
        self.assertEqual(out(session), [])
        session.on_account_frame(ipc.AuthOk(1, "henry"))
        sent = [parse(line) for line in out(session)]
        self.assertEqual([m.command for m in sent], [N.RPL_LOGGEDIN, N.RPL_SASLSUCCESS, "PONG"])
        self.assertEqual(session.account, "henry")
        self.assertNotIn("pencil", repr(session.auth.__dict__))

    def test_endless_chunks_fail_with_904_not_905(self):
        # irctest sasl testPlainInfiniteMessages: 1000 full chunks; the first answer is 904.
        session = make_session()
        for line in ("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN"):
            session.on_line(line.encode(), 0.0)
        out(session)
        for _ in range(100):
            session.on_line(b"AUTHENTICATE " + b"A" * 400, 0.0)
        sent = [parse(line) for line in out(session)]
        self.assertEqual(sent[0].command, N.ERR_SASLFAIL)
        self.assertNotIn(N.ERR_SASLTOOLONG, [m.command for m in sent])
        self.assertEqual(session.to_master, [])

    def test_wrong_password_and_pause_after_repeated_failures(self):
        session = make_session()
        payload = base64.b64encode(b"\0henry\0wrong-password").decode()
        for attempt in range(3):
            session.on_line(b"AUTHENTICATE PLAIN", float(attempt))
            session.on_line(f"AUTHENTICATE {payload}".encode(), float(attempt))
            session.on_account_frame(ipc.AuthCreds(1, "henry", CREDS.password_hash, ""))
            run_work(session)
            self.assertFalse(session.to_master[-1].ok)
            session.on_account_frame(ipc.AuthFailed(1, "INVALID_CREDENTIALS", "Invalid"))
        self.assertEqual([parse(l).command for l in out(session) if " 904 " in l],
                         [N.ERR_SASLFAIL] * 2)  # the third waits
        session.on_timer(2.5)  # the pause (1 s from the last line, at 2.0) is not over
        self.assertEqual(out(session), [])
        session.on_timer(3.0)
        self.assertEqual([parse(l).command for l in out(session)], [N.ERR_SASLFAIL])

    def test_register_hashes_off_the_loop(self):
        session = make_session()
        session.on_line(b"NICK nia", 0.0)
        session.on_nick_granted("nia")
        session.on_synced(0.0)
        session.to_master.clear()
        session.on_line(b"REGISTER * * good-password-1", 0.0)
        self.assertEqual(len(session.work), 1)
        run_work(session)
        frame = session.to_master[-1]
        self.assertEqual((type(frame), frame.account, frame.email), (ipc.RegisterAccount, "nia", ""))
        self.assertTrue(verify_password(frame.password_hash, "good-password-1"))
        session.on_account_frame(ipc.AuthOk(1, "nia"))
        self.assertRegex(out(session)[0], r"^:chat\.example REGISTER SUCCESS nia :")


if __name__ == "__main__":
    unittest.main()
