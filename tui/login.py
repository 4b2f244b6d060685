"""Logging in to an account: SASL during registration when credentials are known (CAP END
waits for it), SASL after a reserved nick was refused (on the same connection, or by
reconnecting when the server will not do it there), and `/register` with IRCv3
`draft/account-registration`.

Pure. It reads the `ClientContext`, shares the connection's `CapNegotiation` (to hold and
release CAP END) and returns effects. The password lives only in `credentials` (memory) and in
the SASL attempt; no line it adds to a buffer and no effect but the AUTHENTICATE/REGISTER
lines carries it. It does not save anything: `LoggedIn` lets the app offer that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ircproto import numerics as N
from ircproto.casemap import irc_equal
from ircproto.message import Message
from tui import sasl
from tui.caps import CapNegotiation
from tui.context import ClientContext
from tui.effects import AskNick, AskPassword, Effect, LoggedIn, Reconnect, Send, send
from tui.sasl import Credentials, SaslAttempt, SaslError
from tui.state import Kind, Line

SASL_WAIT = timedelta(seconds=20)  # a server that stops answering AUTHENTICATE
REGISTRATION_CAP = "draft/account-registration"
# FAIL REGISTER codes of draft/account-registration, as the user should read them.
REGISTER_FAILURES = {
    "ACCOUNT_EXISTS": "the name {account} is already registered",
    "BAD_ACCOUNT_NAME": "{account} cannot be an account name",
    "ACCOUNT_NAME_MUST_BE_NICK": "the account name must be your current nick",
    "NEED_NICK": "choose a nick first",
    "ALREADY_AUTHENTICATED": "you are already logged in",
    "WEAK_PASSWORD": "the password is too weak; choose a longer one",
    "UNACCEPTABLE_PASSWORD": "the server does not accept this password",
    "INVALID_EMAIL": "the email address is not valid",
    "UNACCEPTABLE_EMAIL": "the server does not accept this email address",
    "COMPLETE_CONNECTION_REQUIRED": "wait until you are connected",
    "TEMPORARILY_UNAVAILABLE": "registration is not available right now",
}


def is_reserved_text(text: str) -> bool:
    """A 433 whose reason says the nick belongs to an account (not merely in use)."""
    lowered = text.lower()
    return "reserved" in lowered or "registered" in lowered


class Login:
    def __init__(self, ctx: ClientContext, cap: CapNegotiation,
                 new_nonce: Callable[[], str | None] = lambda: None):
        self.ctx = ctx
        self.state = ctx.state
        self.cap = cap
        self.new_nonce = new_nonce
        self.credentials: Credentials | None = None  # what to log in with (memory only)
        self.account: str | None = None  # logged in as, on this connection
        self.deadline: datetime | None = None
        self._attempt: SaslAttempt | None = None
        self._mechanisms: list[str] = []  # still to try, preferred first
        self._server_mechanisms: set[str] | None = None  # from 908
        self._typed = False  # the password was typed (not saved): a failure asks again
        self._nick_after: str | None = None  # the reserved nick to take once logged in
        self._asked: str | None = None  # the account a password prompt is open for
        self._registering: Credentials | None = None
        self._before_end = False  # this exchange happens before CAP END (registration)

    def handlers(self) -> dict[str, Callable[[Message, datetime], list[Effect]]]:
        return {
            "AUTHENTICATE": self.handle_authenticate, "REGISTER": self.handle_register,
            N.RPL_LOGGEDIN: self.handle_loggedin, N.RPL_LOGGEDOUT: self.handle_loggedout,
            N.RPL_SASLSUCCESS: self.handle_success, N.ERR_SASLFAIL: self.handle_failure,
            N.ERR_SASLTOOLONG: self.handle_failure, N.ERR_SASLABORTED: self.handle_failure,
            N.ERR_NICKLOCKED: self.handle_failure, N.ERR_SASLALREADY: self.handle_already,
            N.RPL_SASLMECHS: self.handle_mechanisms,
        }

    # -- the connection's lifecycle --------------------------------------------------------------
    def connection_started(self) -> None:
        """A new connection: with credentials, CAP END waits for SASL (IRCv3 SASL 3.2)."""
        self.account = None
        self._attempt, self.deadline, self._registering = None, None, None
        self.cap.hold_end_for = frozenset({"sasl"}) if self.credentials else frozenset()

    def stop(self) -> None:
        """The connection is gone: an exchange in progress is over."""
        self._attempt, self.deadline, self._registering = None, None, None

    def caps_changed(self, before: frozenset[str]) -> list[Effect]:
        """`sasl` was just acknowledged during negotiation and CAP END waits: log in."""
        if "sasl" in before or not self.cap.holding or self.credentials is None:
            return []
        return self._begin()

    def tick(self, now: datetime) -> list[Effect]:
        if self.deadline is None or now < self.deadline:
            return []
        self.deadline = None
        self._attempt = None
        self._note("The server did not answer the login; going on without it.", Kind.ERROR)
        return [send("AUTHENTICATE", "*")] + self._release()

    # -- starting a login --------------------------------------------------------------------
    def nick_reserved(self, nick: str, reason: str) -> list[Effect]:
        """The server refused `nick` because it is an account (433 with a reason that says
        so, or FAIL NICK NICKNAME_RESERVED; both may come: one prompt)."""
        if self._asked is not None and irc_equal(self._asked, nick):
            return []
        if self._attempt is not None or (self.account and irc_equal(self.account, nick)):
            return []  # logging in now / logged in: the NICK after success will do
        if not self._sasl_possible():
            text = f"The name {nick} is registered to an account, and this server offers no " \
                   "way for tui to log in."
            self._note(text, Kind.ERROR)
            return [] if self.ctx.registered else [AskNick(text, nick + "_")]
        self._asked = nick
        text = f"The name {nick} is registered. Password for {nick} (empty: choose another " \
               "name):"
        self._note(f"The name {nick} is registered: {reason}" if reason else text, Kind.INFO)
        return [AskPassword(nick, text, "login")]

    def login_with(self, account: str, password: str) -> list[Effect]:
        """The user typed the password for `account`."""
        self._asked = None
        self.credentials = Credentials(account, password)
        self._nick_after = account
        self._typed = True
        if not self.ctx.registered:
            self.ctx.nick = account  # what a new connection registers with
        if not self.ctx.connected:
            return []  # the next connection logs in during registration
        if "sasl" not in self.ctx.caps:
            return [Reconnect(f"logging in as {account}")]
        return self._begin()

    def cancel_prompt(self) -> None:
        self._asked = None

    def _sasl_possible(self) -> bool:
        offered = self.cap.offered.get("sasl")
        return offered is not None and bool(sasl.usable_mechanisms(offered))

    def _begin(self) -> list[Effect]:
        self._before_end = self.cap.holding
        self._server_mechanisms = None
        self._mechanisms = sasl.usable_mechanisms(self.cap.offered.get("sasl", ""))
        return self._next_mechanism()

    def _next_mechanism(self) -> list[Effect]:
        if self._server_mechanisms is not None:
            self._mechanisms = [m for m in self._mechanisms if m in self._server_mechanisms]
        if not self._mechanisms or self.credentials is None:
            self._attempt = None
            self._note("The server offers no login method tui speaks.", Kind.ERROR)
            return self._release()
        mechanism = self._mechanisms.pop(0)
        self._attempt = SaslAttempt(mechanism, self.credentials, self.new_nonce())
        self.deadline = self.ctx.now + SASL_WAIT
        return [send("AUTHENTICATE", mechanism)]

    def _release(self) -> list[Effect]:
        self.deadline = None
        return [Send(line) for line in self.cap.release_end()]

    # -- the SASL exchange -------------------------------------------------------------------
    def handle_authenticate(self, msg: Message, when: datetime) -> list[Effect]:
        attempt = self._attempt
        if attempt is None:
            return []
        try:
            payload = attempt.reader.feed(msg.param(0) or "+")
            if payload is None:
                return []
            return [send("AUTHENTICATE", param) for param in attempt.respond(payload)]
        except SaslError as exc:
            self._attempt = None
            self._note(f"Login stopped: {exc}.", Kind.ERROR)
            return [send("AUTHENTICATE", "*")] + self._release()

    def handle_loggedin(self, msg: Message, when: datetime) -> list[Effect]:
        self.account = msg.param(2) or (self.credentials.account if self.credentials else None)
        self._note(f"You are logged in as {self.account}.", Kind.INFO, when)
        return []

    def handle_loggedout(self, msg: Message, when: datetime) -> list[Effect]:
        self.account = None
        self._note("You are logged out.", Kind.INFO, when)
        return []

    def handle_success(self, msg: Message, when: datetime) -> list[Effect]:
        if self._attempt is None:
            return []
        self._attempt = None
        if self.account is None and self.credentials is not None:
            self.account = self.credentials.account
            self._note(f"You are logged in as {self.account}.", Kind.INFO, when)
        out = self._release()
        nick, self._nick_after = self._nick_after, None
        # The reserved nick is ours now. Logged in before CAP END, the NICK sent at the start
        # of registration is checked only now (after CAP END): nothing more to send.
        if nick and not self._before_end and (not self.ctx.registered
                                              or not irc_equal(nick, self.ctx.nick)):
            if not self.ctx.registered:
                self.ctx.nick = nick
            out.append(send("NICK", nick))
        if self._typed and self.account:
            out.append(LoggedIn(self.account))
        self._typed = False
        return out

    def handle_mechanisms(self, msg: Message, when: datetime) -> list[Effect]:
        self._server_mechanisms = {m.upper() for m in (msg.param(1) or "").split(",")}
        return []

    def handle_already(self, msg: Message, when: datetime) -> list[Effect]:
        self._attempt = None
        self._note("You are already logged in.", Kind.INFO, when)
        return self._release()

    def handle_failure(self, msg: Message, when: datetime) -> list[Effect]:
        attempt, self._attempt = self._attempt, None
        if attempt is None and msg.command != N.ERR_NICKLOCKED:
            return []
        if msg.command == N.ERR_SASLFAIL and attempt is not None and \
                self._server_mechanisms is not None and \
                attempt.mechanism not in self._server_mechanisms:
            return self._next_mechanism()  # 908 said which ones it has: try the next
        account = self.credentials.account if self.credentials else "your account"
        reasons = {
            N.ERR_SASLFAIL: f"Login as {account} failed: wrong password (or no such "
                               "account).",
            N.ERR_SASLTOOLONG: "Login failed: the login message was too long.",
            N.ERR_SASLABORTED: "Login aborted.",
            N.ERR_NICKLOCKED: f"Login refused: {msg.params[-1] if msg.params else ''}",
        }
        self._note(reasons[msg.command], Kind.ERROR, when)
        out = self._release()
        typed, self._typed = self._typed, False
        if msg.command == N.ERR_SASLFAIL:
            # A refused password is not tried again on a reconnect.
            self.credentials = None
            if typed:
                self._asked = account
                out.append(AskPassword(account, f"Wrong password. Password for {account} "
                                       "(empty: choose another name):", "login"))
        return out

    # -- the server refused something ------------------------------------------------------
    def unknown_command(self, command: str) -> list[Effect] | None:
        """421 for AUTHENTICATE after registration: log in by reconnecting; for REGISTER:
        say so. None when it is not ours."""
        if command == "AUTHENTICATE" and self._attempt is not None:
            return self._refused_here()
        if command == "REGISTER" and self._registering is not None:
            self._registering = None
            self._note("This server does not offer account registration.", Kind.ERROR)
            return []
        return None

    def other_numeric(self, msg: Message) -> list[Effect] | None:
        """451 (not registered) during our AUTHENTICATE: same as 421. None otherwise."""
        if msg.command == N.ERR_NOTREGISTERED and self._attempt is not None:
            return self._refused_here()
        return None

    def _refused_here(self) -> list[Effect]:
        self._attempt, self.deadline = None, None
        account = self.credentials.account if self.credentials else "?"
        return [Reconnect(f"logging in as {account}")]

    def standard_reply(self, msg: Message, when: datetime) -> list[Effect] | None:
        """FAIL NICK NICKNAME_RESERVED, FAIL REGISTER, FAIL AUTHENTICATE; None otherwise."""
        command, code = (msg.param(0) or "").upper(), (msg.param(1) or "").upper()
        if msg.command != "FAIL":
            return None
        if command == "NICK" and code == "NICKNAME_RESERVED":
            return self.nick_reserved(msg.param(2) or self.ctx.nick, msg.params[-1])
        if command == "REGISTER":
            account = msg.param(2) or self.ctx.nick
            self._registering = None
            reason = REGISTER_FAILURES.get(code, "").format(account=account) or msg.params[-1]
            self._note(f"Could not register {account}: {reason}.", Kind.ERROR, when)
            return []
        if command == "AUTHENTICATE" and self._attempt is not None:
            return self._refused_here()
        return None

    # -- /register ---------------------------------------------------------------------------
    def cannot_register(self) -> str | None:
        """Why /register cannot work now, or None."""
        offered = self.cap.offered.get(REGISTRATION_CAP)
        if not self.ctx.registered:
            return "Connect first."
        if self.account:
            return f"You are already logged in as {self.account}."
        if offered is None:
            return "This server does not offer account registration."
        if "email-required" in offered.split(","):
            return "This server asks for an email address to register, which tui does not " \
                   "support yet."
        return None

    def register(self, password: str) -> list[Effect]:
        """Claim the current nick as an account (draft/account-registration)."""
        nick = self.ctx.nick
        problem = self.cannot_register()
        if problem is None and not password:
            problem = "Usage: /register PASSWORD (or /register alone to type it hidden)"
        if problem:
            self._note(problem, Kind.ERROR)
            return []
        self._registering = Credentials(nick, password)
        self._note(f"Registering the name {nick}...", Kind.INFO)
        return [send("REGISTER", nick, "*", password)]

    def handle_register(self, msg: Message, when: datetime) -> list[Effect]:
        """`REGISTER SUCCESS <account> :msg` (logged in) or `VERIFICATION_REQUIRED`."""
        result, account = (msg.param(0) or "").upper(), msg.param(1) or self.ctx.nick
        creds, self._registering = self._registering, None
        text = msg.params[-1] if len(msg.params) > 2 else ""
        if result == "SUCCESS":
            self.account = account
            if creds is not None:
                self.credentials = Credentials(account, creds.password)
            self._note(f"The name {account} is registered to you; you are logged in.",
                       Kind.INFO, when)
            return [LoggedIn(account)] if creds is not None else []
        if result == "VERIFICATION_REQUIRED":
            self._note(f"Registered {account}, to be verified: {text}", Kind.INFO, when)
        return []

    def _note(self, text: str, kind: Kind, when: datetime | None = None) -> None:
        buf = self.state.current if self.ctx.registered else self.state.server
        self.state.add(buf, Line(when or self.ctx.now, kind, text))
