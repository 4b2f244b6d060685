"""tui.login through the session: SASL during registration (SCRAM, PLAIN, failures), a
reserved nick answered with a password, /register, and fatal ERRORs. Scripted server lines,
no sockets."""

import base64
import unittest
from datetime import UTC, datetime, timedelta

from tui.effects import AskNick, AskPassword, LoggedIn, Reconnect, Send, StopReconnecting
from tui.sasl import Credentials
from tui.session import Session
from tui.state import State

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
SASL_ALL = "sasl=PLAIN,EXTERNAL,SCRAM-SHA-256"
# RFC 7677 section 3 (user "user", password "pencil"), as AUTHENTICATE payloads.
RFC_NONCE = "rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
RESERVED = ":s 433 * {nick} :Nickname is reserved by a registered account"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sent(effects) -> list[str]:
    return [e.line for e in effects if isinstance(e, Send)]


def of(kind, effects) -> list:
    return [e for e in effects if isinstance(e, kind)]


class Harness:
    def __init__(self, nick: str = "alice", creds: Credentials | None = None) -> None:
        self.state = State(tz=UTC)
        self.session = Session(self.state, nick)
        self.session.login.new_nonce = lambda: RFC_NONCE
        self.session.login.credentials = creds
        self.now = T0

    def connect(self) -> list:
        return self.session.connect(self.now)

    def recv(self, *lines: str) -> list:
        out = []
        for line in lines:
            out += self.session.receive(line, self.now)
        return out

    def negotiate(self, caps: str = SASL_ALL) -> list:
        """Connect; the server offers `caps` and acknowledges what is asked."""
        self.connect()
        out = self.recv(f":s CAP * LS :{caps}")
        req = sent(out)[0].split(" ", 2)[2].lstrip(":")
        return self.recv(f":s CAP * ACK :{req}")

    def everything_shown(self) -> str:
        return "\n".join(line.text for buf in self.state.buffers for line in buf.lines)


class SaslDuringRegistrationTest(unittest.TestCase):
    def test_scram_success_then_cap_end(self) -> None:
        h = Harness("user", Credentials("user", "pencil"))
        self.assertEqual(sent(h.negotiate()), ["AUTHENTICATE SCRAM-SHA-256"])  # no CAP END
        self.assertEqual(sent(h.recv("AUTHENTICATE +")),
                         [f"AUTHENTICATE {b64(b'n,,n=user,r=' + RFC_NONCE.encode())}"])
        self.assertEqual(sent(h.recv(f"AUTHENTICATE {b64(SERVER_FIRST)}")),
                         [f"AUTHENTICATE {b64(CLIENT_FINAL)}"])
        self.assertEqual(sent(h.recv(f"AUTHENTICATE {b64(SERVER_FINAL)}")), ["AUTHENTICATE +"])
        out = h.recv(":s 900 user user!u@h user :You are now logged in as user",
                     ":s 903 user :SASL authentication successful")
        self.assertEqual(sent(out), ["CAP END"])  # the registration's own NICK stands
        self.assertEqual(of(LoggedIn, out), [])  # saved credentials: nothing to offer
        self.assertIn("You are logged in as user.", h.everything_shown())
        self.assertNotIn("pencil", h.everything_shown())

    def test_plain_when_only_plain_is_offered(self) -> None:
        h = Harness("alice", Credentials("alice", "s3cret"))
        self.assertEqual(sent(h.negotiate("sasl=PLAIN server-time")), ["AUTHENTICATE PLAIN"])
        self.assertEqual(sent(h.recv("AUTHENTICATE +")),
                         [f"AUTHENTICATE {b64(bytes(1).join([b'alice', b'alice', b's3cret']))}"])
        self.assertEqual(sent(h.recv(":s 903 alice :ok")), ["CAP END"])
        self.assertEqual(h.session.login.account, "alice")

    def test_908_lists_the_mechanisms_and_the_next_is_tried(self) -> None:
        h = Harness("alice", Credentials("alice", "s3cret"))
        self.assertEqual(sent(h.negotiate("sasl")), ["AUTHENTICATE SCRAM-SHA-256"])
        out = h.recv(":s 908 alice PLAIN,EXTERNAL :are available SASL mechanisms",
                     ":s 904 alice :SASL authentication failed")
        self.assertEqual(sent(out), ["AUTHENTICATE PLAIN"])

    def test_failures_release_cap_end_with_a_clear_line(self) -> None:
        cases = [(":s 904 alice :SASL authentication failed", "wrong password"),
                 (":s 905 alice :SASL message too long", "too long"),
                 (":s 906 alice :SASL authentication aborted", "Login aborted"),
                 ("AUTHENTICATE not-base64!", "Login stopped"),
                 (f"AUTHENTICATE {b64(b'r=someoneelse,s=c2FsdA==,i=4096')}", "nonce")]
        for line, shown in cases:
            with self.subTest(line=line):
                h = Harness("alice", Credentials("alice", "s3cret"))
                h.negotiate()
                h.recv("AUTHENTICATE +")
                out = sent(h.recv(line))
                self.assertEqual(out[-1], "CAP END")
                if line.startswith("AUTHENTICATE"):
                    self.assertEqual(out, ["AUTHENTICATE *", "CAP END"])  # we abort
                self.assertIn(shown, h.everything_shown())
                self.assertNotIn("s3cret", h.everything_shown())

    def test_a_refused_saved_password_is_not_retried_and_the_nick_asks(self) -> None:
        h = Harness("alice", Credentials("alice", "old"))
        h.negotiate()
        h.recv("AUTHENTICATE +")
        self.assertEqual(of(AskPassword, h.recv(":s 904 alice :failed")), [])
        self.assertIsNone(h.session.login.credentials)
        asks = of(AskPassword, h.recv(RESERVED.format(nick="alice")))
        self.assertEqual([a.account for a in asks], ["alice"])
        h.session.disconnected("gone", h.now)  # a reconnect does not hold CAP END any more
        h.connect()
        self.assertEqual(sent(h.recv(f":s CAP * LS :{SASL_ALL}", ":s CAP * ACK :sasl")),
                         ["CAP REQ sasl", "CAP END"])

    def test_a_silent_server_does_not_block_registration(self) -> None:
        h = Harness("alice", Credentials("alice", "s3cret"))
        h.negotiate()
        self.assertIsNotNone(h.session.next_deadline())
        self.assertEqual(sent(h.session.tick(T0 + timedelta(seconds=4))), [])
        self.assertEqual(sent(h.session.tick(T0 + timedelta(seconds=21))),
                         ["AUTHENTICATE *", "CAP END"])

    def test_reconnect_logs_in_again_before_joining(self) -> None:
        h = Harness("alice", Credentials("alice", "s3cret"))
        h.negotiate("sasl=PLAIN")
        h.recv("AUTHENTICATE +", ":s 903 alice :ok", ":s 001 alice :Welcome",
               ":alice!a@h JOIN #lobby")
        h.session.disconnected("reset", h.now)
        out = h.negotiate("sasl=PLAIN")
        self.assertEqual(sent(out), ["AUTHENTICATE PLAIN"])  # before CAP END, before JOIN
        out = h.recv("AUTHENTICATE +", ":s 903 alice :ok", ":s 001 alice :Welcome",
                     ":s 422 alice :No MOTD")
        out += h.session.tick(h.now + timedelta(seconds=5))
        lines = sent(out)
        self.assertLess(lines.index("CAP END"), lines.index("JOIN #lobby"))


class ReservedNickTest(unittest.TestCase):
    def reserved(self, h: Harness) -> list:
        h.negotiate("sasl=PLAIN server-time")
        return h.recv(RESERVED.format(nick="alice"),
                      ":s FAIL NICK NICKNAME_RESERVED alice :This nick is reserved")

    def test_password_prompt_login_and_the_nick_is_taken(self) -> None:
        h = Harness()
        out = self.reserved(h)
        self.assertEqual(of(AskNick, out), [])
        self.assertEqual([(a.account, a.purpose) for a in of(AskPassword, out)],
                         [("alice", "login")])  # once, though both replies came
        out = h.session.login.login_with("alice", "s3cret")
        self.assertEqual(sent(out), ["AUTHENTICATE PLAIN"])
        h.recv("AUTHENTICATE +")
        out = h.recv(":s 900 * *!a@h alice :You are now logged in", ":s 903 * :ok")
        self.assertEqual(sent(out), ["NICK alice"])
        self.assertEqual(of(LoggedIn, out), [LoggedIn("alice")])  # typed: offer to keep it
        h.recv(":s 001 alice :Welcome")
        self.assertTrue(h.session.registered)
        self.assertNotIn("s3cret", h.everything_shown())

    def test_wrong_password_asks_again(self) -> None:
        h = Harness()
        self.reserved(h)
        h.session.login.login_with("alice", "wrong")
        out = h.recv("AUTHENTICATE +", ":s 904 * :SASL authentication failed")
        self.assertEqual([a.account for a in of(AskPassword, out)], ["alice"])
        self.assertIn("Wrong password", of(AskPassword, out)[0].message)

    def test_login_refused_on_this_connection_reconnects(self) -> None:
        for refusal in (":s 421 * AUTHENTICATE :Unknown command",
                        ":s 451 * :You have not registered",
                        ":s FAIL AUTHENTICATE NOT_NOW :later"):
            with self.subTest(refusal=refusal):
                h = Harness()
                self.reserved(h)
                h.session.login.login_with("alice", "s3cret")
                self.assertEqual(of(Reconnect, h.recv(refusal)),
                                 [Reconnect("logging in as alice")])
                h.session.disconnected("logging in", h.now)
                out = h.negotiate("sasl=PLAIN")
                self.assertEqual(sent(out), ["AUTHENTICATE PLAIN"])
                h.recv("AUTHENTICATE +")
                out = h.recv(":s 903 alice :ok")
                self.assertEqual(sent(out), ["CAP END"])
                self.assertEqual(of(LoggedIn, out), [LoggedIn("alice")])

    def test_after_registration_the_nick_change_follows_the_login(self) -> None:
        h = Harness("guest")
        h.negotiate("sasl=PLAIN")
        h.recv(":s 001 guest :Welcome")
        out = h.recv(RESERVED.format(nick="alice").replace("*", "guest", 1))
        self.assertEqual([a.account for a in of(AskPassword, out)], ["alice"])
        h.session.login.login_with("alice", "s3cret")
        h.recv("AUTHENTICATE +")
        self.assertEqual(sent(h.recv(":s 903 guest :ok")), ["NICK alice"])

    def test_without_sasl_the_nick_prompt_explains(self) -> None:
        h = Harness()
        h.negotiate("server-time")
        asks = of(AskNick, h.recv(RESERVED.format(nick="alice")))
        self.assertEqual([a.suggestion for a in asks], ["alice_"])
        self.assertIn("registered to an account", asks[0].message)

    def test_plain_433_still_suggests_a_nick(self) -> None:
        h = Harness()
        h.negotiate("sasl=PLAIN")
        out = h.recv(":s 433 * alice :Nickname is already in use")
        self.assertEqual([a.suggestion for a in of(AskNick, out)], ["alice_"])
        self.assertEqual(of(AskPassword, out), [])


class RegisterTest(unittest.TestCase):
    def registered(self, caps: str = "draft/account-registration server-time") -> Harness:
        h = Harness()
        h.negotiate(caps)
        h.recv(":s 001 alice :Welcome")
        return h

    def test_success_logs_in(self) -> None:
        h = self.registered()
        self.assertEqual(sent(h.session.login.register("a long secret")),
                         ["REGISTER alice * :a long secret"])
        out = h.recv(":s REGISTER SUCCESS alice :Account created")
        self.assertEqual(out, [LoggedIn("alice")])
        self.assertEqual(h.session.login.account, "alice")
        self.assertEqual(h.session.login.credentials, Credentials("alice", "a long secret"))
        self.assertNotIn("a long secret", h.everything_shown())

    def test_each_fail_is_a_clear_line(self) -> None:
        cases = [("ACCOUNT_EXISTS", "already registered"), ("WEAK_PASSWORD", "too weak"),
                 ("BAD_ACCOUNT_NAME", "cannot be an account name"),
                 ("ACCOUNT_NAME_MUST_BE_NICK", "current nick"), ("NEED_NICK", "nick first"),
                 ("ALREADY_AUTHENTICATED", "already logged in"),
                 ("UNACCEPTABLE_PASSWORD", "does not accept this password"),
                 ("INVALID_EMAIL", "email"), ("UNACCEPTABLE_EMAIL", "email"),
                 ("COMPLETE_CONNECTION_REQUIRED", "wait"),
                 ("TEMPORARILY_UNAVAILABLE", "not available"),
                 ("SOMETHING_NEW", "Registration is closed")]
        for code, shown in cases:
            with self.subTest(code=code):
                h = self.registered()
                h.session.login.register("pw")
                self.assertEqual(h.recv(f":s FAIL REGISTER {code} alice :Registration is "
                                        "closed"), [])
                text = h.everything_shown()
                self.assertIn("Could not register alice:", text)
                self.assertIn(shown, text)
                self.assertIsNone(h.session.login.account)
                self.assertIsNone(h.session.login.credentials)

    def test_refused_before_asking_the_server(self) -> None:
        cases = [("server-time", "does not offer account registration"),
                 ("draft/account-registration=email-required", "email address")]
        for caps, shown in cases:
            with self.subTest(caps=caps):
                h = self.registered(caps)
                self.assertEqual(h.session.login.register("pw"), [])
                self.assertIn(shown, h.everything_shown())


class FatalErrorTest(unittest.TestCase):
    def stop(self, h: Harness, *lines: str) -> list[str]:
        return [e.reason for e in of(StopReconnecting, h.recv(*lines))]

    def test_which_errors_stop_the_reconnect_loop(self) -> None:
        h = Harness()
        h.negotiate("server-time")
        # A wrong server password is asked for again (tui.fatal), not a reason to stop.
        self.assertEqual(self.stop(h, ":s 464 alice :Password incorrect",
                                   "ERROR :Closing link: (Bad password)"), [])
        h = Harness()
        h.negotiate("server-time")
        self.assertEqual(self.stop(h, ":s 465 alice :You are banned",
                                   "ERROR :Closing link"), ["you are banned from this server"])
        h = Harness()
        h.negotiate("server-time")
        h.recv(":s 001 alice :Welcome")
        self.assertEqual(len(self.stop(h, "ERROR :Closing link: K-Lined (spam)")), 1)

    def test_errors_that_are_retried(self) -> None:
        h = Harness()
        h.negotiate("server-time")
        h.recv(":s 001 alice :Welcome")
        self.assertEqual(self.stop(h, "ERROR :Closing link: Ping timeout"), [])
        for text in ("Too many connections from your address", "Throttled: try again later",
                     "Registration timed out"):
            with self.subTest(text=text):
                for _ in range(3):
                    h.session.disconnected("gone", h.now)
                    h.negotiate("server-time")
                    self.assertEqual(self.stop(h, f"ERROR :{text}"), [])

    def test_error_before_registration_twice_in_a_row(self) -> None:
        h = Harness()
        h.negotiate("server-time")
        self.assertEqual(self.stop(h, "ERROR :Closing link: go away"), [])
        h.session.disconnected("gone", h.now)
        h.negotiate("server-time")
        self.assertEqual(len(self.stop(h, "ERROR :Closing link: go away")), 1)

    def test_a_registration_in_between_starts_the_count_over(self) -> None:
        h = Harness()
        for registers in (True, True):
            h.negotiate("server-time")
            self.assertEqual(self.stop(h, "ERROR :Closing link: go away"), [])
            h.session.disconnected("gone", h.now)
            h.negotiate("server-time")
            if registers:
                h.recv(":s 001 alice :Welcome")
            h.session.disconnected("gone", h.now)


if __name__ == "__main__":
    unittest.main()
