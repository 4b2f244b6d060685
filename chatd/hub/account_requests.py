"""What the master does with account requests: SASL logins (the worker checks passwords and
SCRAM proofs; the master hands it the stored records, counts failures and decides), REGISTER,
PASSWORD, the admin command's writes (through the control socket), and the rule that a nick
that is an account's name is only for that account's owner. Pure: the Hub records effects.

Every account write is an Emit of kind ACCOUNT_KIND (chatd/events.py): the Sequencer gives it
an id and the writer commits it with the events, so the answer that follows it (AuthOk, the
admin's "ok") is held until it is durable, and a writer restart re-sends it.
"""

from __future__ import annotations

import json
import logging

from chatd.events import ACCOUNT_KIND
from chatd.hub import founders, klines, presence
from chatd.hub.addresses import address_key
from chatd.hub.hub import Emit, Hub, ToWorker
from chatd.hub.registry import ClientRecord
from chatd.identity import account_name_problem, is_service_name
from chatd.ipc import frames
from chatd.limits import MAX_ACCOUNTS, MAX_CERTS_PER_ACCOUNT
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError
from ircproto.message import Message, fitted_line

log = logging.getLogger(__name__)

CONTROL_WORKER = -1  # "worker index" of answers for the admin control socket (chatd/master.py)
RESERVED_FOR_SERVICES = "This nickname is reserved for services"
NOTIFY_CAP = "account-notify"  # in the master's copy of a client's caps (MASTER_CAPS)


# names people own
def nick_reservation(hub: Hub, client: ClientRecord, nick: str) -> str | None:
    """Why `client` may not use `nick` as its nick once registered, or None."""
    owner = hub.accounts.nick_owner(nick)
    if owner is None:
        return None
    if client.account is not None and casefold(client.account) == casefold(owner.name):
        return None
    return f"Nickname {nick} is reserved for the account {owner.name}: log in (SASL) to use it"


def check_service_name(hub: Hub, nick: str) -> None:
    if is_service_name(nick, hub.config.server_name):
        raise IrcError(N.ERR_ERRONEUSNICKNAME, nick, RESERVED_FOR_SERVICES)


def refuse_reserved(hub: Hub, client: ClientRecord, nick: str, reason: str) -> None:
    """433 with the reason, preceded by the standard reply (FAIL NICK NICKNAME_RESERVED)."""
    hub.reply(client, _fail(hub, "NICK", "NICKNAME_RESERVED", nick, reason))
    raise IrcError(N.ERR_NICKNAMEINUSE, nick, reason)


def _fail(hub: Hub, command: str, code: str, *context_and_text: str) -> str:
    return fitted_line(Message("FAIL", (command, code, *context_and_text),
                               hub.config.server_name))


# SASL and PASSWORD
def _auth_failed(hub: Hub, client: ClientRecord, code: str, reason: str) -> None:
    log.info("connection %d (%s) login refused: %s", client.conn_id,
             client.nick or "unregistered", code)
    client.auth_pending = None
    hub.to_worker(client, frames.AuthFailed(conn_id=client.conn_id, code=code, reason=reason))


def _throttled(hub: Hub, client: ClientRecord, account: str) -> bool:
    now_s = hub.now_ms / 1000
    keys = [f"ip:{client.address}"] + ([f"account:{casefold(account)}"] if account else [])
    wait = max(hub.throttle.retry_after(key, now_s) for key in keys)
    if wait:
        _auth_failed(hub, client, "RATE_LIMITED",
                     f"Too many failed login attempts; try again in {wait} s")
    return bool(wait)


def _count_failure(hub: Hub, client: ClientRecord, account: str) -> None:
    now_s = hub.now_ms / 1000
    hub.throttle.failed(f"ip:{client.address}", now_s)
    if account:
        hub.throttle.failed(f"account:{casefold(account)}", now_s)


def auth_request(hub: Hub, client: ClientRecord, frame: frames.AuthRequest) -> None:
    account = client.account or "" if frame.mechanism == "PASSWORD" else frame.account
    if frame.mechanism == "PASSWORD" and not account:
        _auth_failed(hub, client, "ACCOUNT_REQUIRED", "You are not logged in")
        return
    if _throttled(hub, client, account):
        return
    if frame.mechanism == "EXTERNAL":
        record = hub.accounts.by_cert(frame.certfp) if frame.certfp else None
        if record is None or (account and casefold(account) != casefold(record.name)):
            _count_failure(hub, client, "")
            _auth_failed(hub, client, "INVALID_CREDENTIALS",
                         "No account has this client certificate")
            return
        _log_in(hub, client, record.name)
        return
    record = hub.accounts.get(account) if account else None
    client.auth_pending = casefold(record.name) if record is not None else ""
    hub.to_worker(client, frames.AuthCreds(
        conn_id=client.conn_id, account=record.name if record else "",
        password_hash=record.password_hash if record else "",
        scram=record.scram if record else ""))


def auth_result(hub: Hub, client: ClientRecord, frame: frames.AuthResult) -> None:
    pending, client.auth_pending = client.auth_pending, None
    record = hub.accounts.get(frame.account) if frame.account else None
    if (not frame.ok or record is None or pending is None
            or casefold(record.name) != pending):
        _count_failure(hub, client, frame.account)
        _auth_failed(hub, client, "INVALID_CREDENTIALS", "Invalid account name or password")
        return
    hub.throttle.succeeded(f"account:{casefold(record.name)}")
    if frame.mechanism == "PASSWORD":
        hub.accounts.set_credentials(record.name, frame.password_hash, frame.scram)
        write(hub, "passwd", record.name, {"password_hash": frame.password_hash,
                                          "scram": frame.scram}, client.conn_id)
        hub.to_worker(client, frames.AuthOk(conn_id=client.conn_id, account=record.name))
        return
    _log_in(hub, client, record.name)


def _log_in(hub: Hub, client: ClientRecord, account: str) -> None:
    ban = hub.server_bans.account_ban(account, hub.now_ms)
    if ban is not None:  # a K-line on the account ($a:name): refused and sent away
        _auth_failed(hub, client, "INVALID_CREDENTIALS",
                     f"The account {account} is banned from this server")
        klines.banish(hub, client, ban)
        return
    log.info("connection %d (%s) logged in as %s", client.conn_id,
             client.nick or "unregistered", account)
    client.account = account
    hub.to_worker(client, frames.AuthOk(conn_id=client.conn_id, account=account))
    announce_account(hub, client)


def announce_account(hub: Hub, client: ClientRecord) -> None:
    """IRCv3 account-notify: `:nick!user@host ACCOUNT <account or *>` to the clients that
    share a channel with `client` (or watch it, extended-monitor), and to itself, that
    negotiated the capability. (Before registration a client is in no channel and the 900 it
    gets says it all.)"""
    if not client.registered:
        return
    hub.notify(presence.told_of(hub, client, NOTIFY_CAP, include_self=True),
               f":{client.source} ACCOUNT {client.account or '*'}")


def _log_out(hub: Hub, client: ClientRecord, reason: str) -> None:
    client.account = None
    hub.to_worker(client, frames.LoggedOut(conn_id=client.conn_id, reason=reason))
    announce_account(hub, client)


# REGISTER
def register_account(hub: Hub, client: ClientRecord, frame: frames.RegisterAccount) -> None:
    name = frame.account
    if hub.config.accounts_registration != "open":
        _auth_failed(hub, client, "TEMPORARILY_UNAVAILABLE",
                     "Registration is closed on this server; ask its operator for an account")
    elif client.account is not None:
        _auth_failed(hub, client, "ALREADY_AUTHENTICATED",
                     f"You are already logged in as {client.account}")
    elif (problem := account_name_problem(name, hub.config.server_name)) is not None:
        _auth_failed(hub, client, "BAD_ACCOUNT_NAME", problem)
    elif hub.accounts.get(name) is not None:
        _auth_failed(hub, client, "ACCOUNT_EXISTS", f"The account {name} already exists")
    elif hub.server_bans.account_ban(name, hub.now_ms) is not None:
        _auth_failed(hub, client, "BAD_ACCOUNT_NAME", f"The account name {name} is banned")
    elif len(hub.accounts) >= MAX_ACCOUNTS:
        _auth_failed(hub, client, "TEMPORARILY_UNAVAILABLE",
                     f"This server holds {MAX_ACCOUNTS} accounts, its most; ask its operator")
    elif not _may_register_from(hub, client):
        _auth_failed(hub, client, "TEMPORARILY_UNAVAILABLE",
                     "Too many accounts were registered from your address; try again later")
    else:
        hub.accounts.add(name, frame.password_hash, frame.scram)
        write(hub, "create", name, {"email": frame.email, "password_hash": frame.password_hash,
                                    "scram": frame.scram}, client.conn_id)
        _log_in(hub, client, name)


def _may_register_from(hub: Hub, client: ClientRecord) -> bool:
    """Whether the client's address may create one more account this hour (counting it if
    so). Server operators and [limits] exempt networks are not counted."""
    limit = hub.config.registrations_per_hour_per_ip
    key = address_key(client.address, hub.config.exempt)
    if client.oper is not None or key is None or not limit:
        return True
    now_s = hub.now_ms / 1000
    if hub.registrations.is_full(key, now_s, limit):
        return False
    hub.registrations.add(key, now_s, limit)
    return True


# the admin command (chatd/admin.py, through the control socket)
def admin(hub: Hub, control_id: int, op: str, name: str, payload: dict) -> None:
    """Apply an admin write; the answer ("ok ..." or "error ...") goes to CONTROL_WORKER
    once the write is committed (or at once when refused)."""
    book = hub.accounts
    record = book.get(name)
    answer = None
    if op == "add":
        problem = account_name_problem(name, hub.config.server_name)
        if problem is not None:
            answer = f"error bad-name {problem}"
        elif record is not None:
            answer = f"error exists the account {record.name} already exists"
        elif len(book) >= MAX_ACCOUNTS:
            answer = f"error full the server holds {MAX_ACCOUNTS} accounts, its most"
        else:
            book.add(name, payload["password_hash"], payload["scram"])
            write(hub, "create", name, payload, 0)
            answer = f"ok account {name} created"
    elif record is None:
        answer = f"error no-such-account there is no account {name}"
    elif op == "passwd":
        book.set_credentials(name, payload["password_hash"], payload["scram"])
        write(hub, "passwd", record.name, payload, 0)
        answer = f"ok password of {record.name} changed"
    elif op == "delete":
        book.remove(name)
        write(hub, "delete", record.name, {}, 0)
        founders.forget_account(hub, record.name)
        for client in list(hub.registry.clients.values()):
            if client.account is not None and casefold(client.account) == casefold(name):
                # logged out; its nick stays until it leaves
                _log_out(hub, client, f"You are now logged out: the account {record.name}"
                                      " was deleted")
        answer = f"ok account {record.name} deleted"
    elif op == "cert-add" and len(record.certfps) >= MAX_CERTS_PER_ACCOUNT:
        answer = (f"error full {record.name} has {MAX_CERTS_PER_ACCOUNT} certificates, its"
                  " most: remove one first")
    elif op in ("cert-add", "cert-del"):
        fingerprint = payload["fingerprint"]
        (book.add_cert if op == "cert-add" else book.remove_cert)(name, fingerprint)
        write(hub, op, record.name, payload, 0)
        answer = f"ok certificate {'added to' if op == 'cert-add' else 'removed from'} {record.name}"
    else:
        answer = f"error usage unknown operation {op}"
    hub.effects.append(ToWorker(worker=CONTROL_WORKER, frame=frames.Reply(
        conn_id=control_id, payload=answer.encode())))


def write(hub: Hub, op: str, name: str, payload: dict, origin: int) -> None:
    """An account write into the ordered stream (stored by the writer, delivered to nobody)."""
    hub.emit(Emit(kind=ACCOUNT_KIND, source=op, target=name, text=json.dumps(payload),
                  convs=(), channels=(), to_conns=(), origin=origin, workers=()))
