"""Accounts as one connection sees them: AUTHENTICATE (SASL PLAIN, EXTERNAL, SCRAM-SHA-256),
REGISTER (IRCv3 draft/account-registration), VERIFY (not needed: answered as unsupported) and
PASSWORD, plus what the master's answers (AuthCreds, AuthOk, AuthFailed) do to it. Pure: the
password hashing and checking this needs is asked for with `start_work` and runs on the
worker's verification thread (chatd/worker.py), at most one per connection; the password
stays in this worker. While an exchange waits for the master or a check, the session holds
the client's further input, so replies keep their order.

Who decides: the master hands the stored records (AuthCreds), counts failures per account and
address and refuses while a key is throttled; this side also makes a connection that keeps
failing wait FAILURE_PAUSE_S before each 904 from its third failure on.
"""

from __future__ import annotations

import secrets
from typing import Any

from chatd.credentials import (ScramKeys, dummy_credentials, make_credentials, parse_scram,
                               verify_password)
from chatd.identity import (MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, account_name_problem,
                            password_problem)
from chatd.ipc import frames
from chatd.session.context import CommandContext
from chatd.session.sasl import (MECHANISMS, ResponseTooLong, SaslFailed, ScramServer,
                                decode_plain, encode_chunks)
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError, StandardReplyError
from ircproto.message import Message, fitted_line, numeric_line

FAILURE_PAUSE_S = 1.0
PAUSE_AFTER_FAILURES = 3
SHOWN_NAME_CHARS = 32  # an account name echoed in a FAIL is cut to this


# AUTHENTICATE
def handle_authenticate(ctx: CommandContext, msg: Message) -> None:
    auth, param = ctx.auth, msg.params[0]
    if param == "*":
        auth.reset()
        raise IrcError(N.ERR_SASLABORTED, "SASL authentication aborted")
    if auth.mechanism is None:
        _start(ctx, param.upper())
        return
    try:
        data = auth.chunks.feed(param)
        if data is not None:
            _STEPS[auth.mechanism](ctx, data)
    except ResponseTooLong:
        auth.reset()
        raise IrcError(N.ERR_SASLTOOLONG, "SASL message too long") from None
    except SaslFailed as exc:
        auth.reset()
        raise IrcError(N.ERR_SASLFAIL, f"SASL authentication failed: {exc}") from None


def _start(ctx: CommandContext, mechanism: str) -> None:
    if ctx.account is not None:
        raise IrcError(N.ERR_SASLALREADY, "You have already authenticated using SASL")
    if mechanism not in MECHANISMS:
        ctx.send(numeric_line(ctx.server_name, ctx.nick, N.RPL_SASLMECHS, ",".join(MECHANISMS),
                              "are available SASL mechanisms"))
        raise IrcError(N.ERR_SASLFAIL, "SASL authentication failed: unknown mechanism")
    if mechanism == "EXTERNAL" and not ctx.certfp:
        raise IrcError(N.ERR_SASLFAIL, "SASL EXTERNAL needs a client certificate (TLS)")
    ctx.auth.mechanism = mechanism
    if mechanism == "SCRAM-SHA-256":
        ctx.auth.scram = ScramServer()
    ctx.send("AUTHENTICATE +")


def _plain(ctx: CommandContext, data: bytes) -> None:
    authzid, authcid, password = decode_plain(data)
    if authzid and casefold(authzid) != casefold(authcid):
        raise SaslFailed("the authorization identity must be the account itself")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise SaslFailed("password too long")
    ctx.auth.account, ctx.auth.secret = authcid, password
    _ask(ctx, "AUTHENTICATE", "PLAIN", authcid)


def _external(ctx: CommandContext, data: bytes) -> None:
    try:
        authzid = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslFailed("the authorization identity must be UTF-8") from None
    ctx.auth.account = authzid
    _ask(ctx, "AUTHENTICATE", "EXTERNAL", authzid, ctx.certfp or "")


def _scram(ctx: CommandContext, data: bytes) -> None:
    auth = ctx.auth
    assert auth.scram is not None
    if auth.scram_keys is None:  # client-first: ask the master for the account's keys
        auth.account = auth.scram.client_first(data)
        _ask(ctx, "AUTHENTICATE", "SCRAM-SHA-256", auth.account)
    elif not auth.scram_done:  # client-final: check the proof
        try:
            final = auth.scram.client_final(data, auth.scram_keys)
        except SaslFailed:
            _report(ctx, False)
            return
        auth.scram_done = True
        for chunk in encode_chunks(final):
            ctx.send(f"AUTHENTICATE {chunk}")
    else:  # the client's empty answer to the server-final message
        _report(ctx, not data)


_STEPS = {"PLAIN": _plain, "EXTERNAL": _external, "SCRAM-SHA-256": _scram}


def _ask(ctx: CommandContext, purpose: str, mechanism: str, account: str,
         certfp: str = "") -> None:
    ctx.auth.waiting = purpose
    ctx.notify_master(frames.AuthRequest(conn_id=ctx.conn_id, mechanism=mechanism,
                                         account=account, certfp=certfp))


def _report(ctx: CommandContext, ok: bool, password_hash: str = "", scram: str = "") -> None:
    auth = ctx.auth
    auth.waiting = auth.waiting or "AUTHENTICATE"
    mechanism = "PASSWORD" if auth.waiting == "PASSWORD" else (auth.mechanism or "")
    ctx.notify_master(frames.AuthResult(conn_id=ctx.conn_id, mechanism=mechanism,
                                        account=auth.account, ok=ok,
                                        password_hash=password_hash, scram=scram))


# the master's answers
def on_creds(ctx: CommandContext, frame: frames.AuthCreds) -> None:
    auth = ctx.auth
    if frame.account:
        auth.account = frame.account
    if auth.waiting == "PASSWORD":
        current, new = auth.secret
        auth.secret = None
        ctx.start_work(_check_and_make, (frame.password_hash, current, new),
                       lambda creds: _report(ctx, creds is not None, *(creds or ("", ""))))
    elif auth.mechanism == "PLAIN":
        password, auth.secret = auth.secret, None
        stored = frame.password_hash or dummy_credentials().password_hash
        known = bool(frame.account)
        ctx.start_work(verify_password, (stored, password),
                       lambda ok: _report(ctx, bool(ok) and known))
    elif auth.mechanism == "SCRAM-SHA-256" and auth.scram is not None:
        # No such account: keys no proof matches (the exchange looks the same).
        auth.scram_keys = parse_scram(frame.scram) or ScramKeys(
            secrets.token_bytes(16), 4096, secrets.token_bytes(32), secrets.token_bytes(32))
        auth.waiting = None
        for chunk in encode_chunks(auth.scram.server_first(auth.scram_keys)):
            ctx.send(f"AUTHENTICATE {chunk}")


def _check_and_make(password_hash: str, current: str, new: str) -> tuple[str, str] | None:
    """On the verification thread: the new credentials if the current password is right."""
    if not password_hash or not verify_password(password_hash, current):
        return None
    return tuple(make_credentials(new))  # type: ignore[return-value]


def on_ok(ctx: CommandContext, frame: frames.AuthOk) -> None:
    purpose = ctx.auth.waiting
    failures = ctx.auth.failures
    ctx.auth.reset()
    ctx.auth.failures = failures
    server = ctx.server_name
    if purpose == "PASSWORD":
        ctx.send(Message("PASSWORD", ("SUCCESS", frame.account, "Your password was changed"),
                         server).format())
        return
    ctx.set_account(frame.account)
    if purpose == "REGISTER":
        ctx.send(Message("REGISTER", ("SUCCESS", frame.account, "Account created"),
                         server).format())
    mask = f"{ctx.nick or '*'}!{ctx.user or '*'}@{ctx.host}"
    ctx.send(numeric_line(server, ctx.nick, N.RPL_LOGGEDIN, mask, frame.account,
                          f"You are now logged in as {frame.account}"))
    if purpose == "AUTHENTICATE":
        ctx.send(numeric_line(server, ctx.nick, N.RPL_SASLSUCCESS,
                              "SASL authentication successful"))
    if not ctx.registered:
        ctx.try_complete_registration()  # a registration refused for a reserved nick


def on_failed(ctx: CommandContext, frame: frames.AuthFailed) -> None:
    auth = ctx.auth
    purpose, account = auth.waiting, auth.account
    failures = auth.failures
    auth.reset()
    auth.failures = failures
    server = ctx.server_name
    if purpose in ("REGISTER", "PASSWORD"):
        context = (_shown(account),) if purpose == "REGISTER" else ()
        ctx.send(fitted_line(Message("FAIL", (purpose, frame.code, *context, frame.reason),
                                     server)))
        return
    auth.failures += 1
    line = numeric_line(server, ctx.nick, N.ERR_SASLFAIL,
                        f"SASL authentication failed: {frame.reason}")
    if auth.failures >= PAUSE_AFTER_FAILURES:
        ctx.send_later(line, FAILURE_PAUSE_S)
    else:
        ctx.send(line)


def _shown(account: str) -> str:
    return account if len(account) <= SHOWN_NAME_CHARS else account[:SHOWN_NAME_CHARS] + "..."


# REGISTER, VERIFY, PASSWORD
def handle_register(ctx: CommandContext, msg: Message) -> None:
    account, email, password = msg.params[:3]

    def fail(code: str, text: str) -> StandardReplyError:
        return StandardReplyError("REGISTER", code, _shown(account), description=text)

    if ctx.info.config.accounts_registration != "open":
        raise fail("TEMPORARILY_UNAVAILABLE", "Registration is closed on this server; ask "
                   "its operator for an account")
    if ctx.account is not None:
        raise fail("ALREADY_AUTHENTICATED", f"You are already logged in as {ctx.account}")
    if account == "*":
        if not ctx.nick:
            raise fail("NEED_NICK", "Send NICK first, or name the account")
        account = ctx.nick
    problem = account_name_problem(account, ctx.server_name)
    if problem is not None:
        raise fail("BAD_ACCOUNT_NAME", problem)
    if email != "*" and (len(email.encode()) > MAX_EMAIL_BYTES or "@" not in email):
        raise fail("INVALID_EMAIL", "That is not an e-mail address (or send * for none)")
    refused = password_problem(password)
    if refused is not None:
        raise fail(*refused)
    ctx.auth.waiting, ctx.auth.account = "REGISTER", account

    def hashed(creds: Any) -> None:
        if creds is None:
            on_failed(ctx, frames.AuthFailed(ctx.conn_id, "TEMPORARILY_UNAVAILABLE",
                                             "Could not store the password; try again"))
            return
        ctx.notify_master(frames.RegisterAccount(
            conn_id=ctx.conn_id, account=account, email="" if email == "*" else email,
            password_hash=creds.password_hash, scram=creds.scram))

    ctx.start_work(make_credentials, (password,), hashed)


def handle_verify(ctx: CommandContext, msg: Message) -> None:
    raise StandardReplyError("VERIFY", "INVALID_CODE", _shown(msg.params[0]),
                             description="Accounts here need no verification: they work "
                             "as soon as REGISTER succeeds")


def handle_password(ctx: CommandContext, msg: Message) -> None:
    """PASSWORD <current> <new>: change the password of the account logged in to."""
    current, new = msg.params[:2]
    if ctx.account is None:
        raise StandardReplyError("PASSWORD", "ACCOUNT_REQUIRED",
                                 description="Log in to your account first")
    refused = password_problem(new)
    if refused is not None:
        raise StandardReplyError("PASSWORD", refused[0], description=refused[1])
    if len(current.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise StandardReplyError("PASSWORD", "INVALID_CREDENTIALS",
                                 description="Invalid account name or password")
    ctx.auth.secret = (current, new)
    ctx.auth.account = ctx.account
    _ask(ctx, "PASSWORD", "PASSWORD", ctx.account)


def on_logged_out(ctx: CommandContext, frame: frames.LoggedOut) -> None:
    """The master logged the client out (its account was deleted): 901 (IRCv3 SASL 3.1)."""
    ctx.set_account(None)
    mask = f"{ctx.nick or '*'}!{ctx.user or '*'}@{ctx.host}"
    ctx.send(numeric_line(ctx.server_name, ctx.nick, N.RPL_LOGGEDOUT, mask, frame.reason))


MASTER_ANSWERS = {frames.AuthCreds: on_creds, frames.AuthOk: on_ok,
                  frames.AuthFailed: on_failed, frames.LoggedOut: on_logged_out}
