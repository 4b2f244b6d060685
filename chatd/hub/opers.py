"""Server operators in the master: becoming one (the outcome of OPER, whose password the worker
checked: chatd/session/oper_login.py), the commands only they may use — KILL, WALLOPS,
REHASH — and what the others build on: the privilege check, server notices to opers and
disconnecting a client with a reason. Pure: the Hub records effects.

Who is an oper is the master's to say: the client's record holds the [opers] entry it used
(user mode +o), and its worker is told with OperStatus so that fakelag leaves it alone.
Failed attempts are counted per address and per [opers] name (chatd/hub/throttle.py), as
logins are; while a key is throttled even the right password is refused.
"""

from __future__ import annotations

import logging

from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.ipc import frames
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import MAX_BODY_BYTES, truncate_utf8
from ircproto.message import Message

log = logging.getLogger(__name__)

MAX_KILL_REASON_BYTES = 300


# the privilege and what opers are told
def require_oper(client: ClientRecord) -> None:
    if client.oper is None:
        raise IrcError(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")


def opers(hub: Hub) -> list[ClientRecord]:
    return [c for c in hub.registry.clients.values() if c.oper is not None and c.registered]


def server_notice(hub: Hub, text: str, skip: ClientRecord | None = None) -> None:
    """A server notice to every oper (but `skip`): what Solanum's snomasks say, kept simple —
    opers get all of them."""
    for oper in opers(hub):
        if oper is not skip:
            hub.reply(oper, notice_line(hub, oper, f"*** Notice -- {text}"))


def notice_line(hub: Hub, client: ClientRecord, text: str) -> str:
    """A server NOTICE, its text cut (at a character boundary) to fit one 512-byte line."""
    head = Message("NOTICE", (client.nick or "*", ""), hub.config.server_name).format()
    budget = MAX_BODY_BYTES - 2 - len(head.encode("utf-8"))  # 2: CRLF; head ends with " :"
    return head + truncate_utf8(text, budget)


def notice(hub: Hub, client: ClientRecord, text: str) -> None:
    """A server NOTICE for one client (what an oper command answers)."""
    hub.reply(client, notice_line(hub, client, text))


def disconnect(hub: Hub, client: ClientRecord, reason: str) -> None:
    """Have the client's worker close it: it is told `ERROR :Closing link: (...) [reason]`,
    and the others see `QUIT :reason` once the worker reports it closed. Its commands in
    flight meanwhile are ignored (client.closing)."""
    client.closing = True
    hub.to_worker(client, frames.CloseConn(conn_id=client.conn_id, reason=reason))


def who_is(client: ClientRecord) -> str:
    """nick!user@address, for opers' notices and the log: the real address."""
    return f"{client.nick}!{client.user}@{client.address}"


# OPER (the worker checked the password)
def oper_attempt(hub: Hub, client: ClientRecord, frame: frames.OperAttempt) -> None:
    if not client.registered or client.closing:
        return
    now_s = hub.now_ms / 1000
    keys = (f"oper-ip:{client.address}", f"oper:{frame.name.lower()}")
    wait = max(hub.throttle.retry_after(key, now_s) for key in keys)
    name = hub.config.oper_name(frame.name)
    if wait:
        hub.send_numeric(client, N.ERR_PASSWDMISMATCH,
                         f"Too many failed OPER attempts; try again in {wait} s")
        return
    if not frame.ok or name is None:
        for key in keys:
            hub.throttle.failed(key, now_s)
        log.info("failed OPER attempt by %s", who_is(client))
        server_notice(hub, f"Failed OPER attempt by {who_is(client)}")
        hub.send_numeric(client, N.ERR_PASSWDMISMATCH, "Password incorrect")
        return
    hub.throttle.succeeded(f"oper:{name.lower()}")
    log.info("%s is now an operator (%s)", who_is(client), name)
    set_oper(hub, client, name)
    hub.send_numeric(client, N.RPL_YOUREOPER, "You are now an IRC operator")
    hub.reply(client, Message("MODE", (client.nick or "*", "+o"), client.nick).format())
    server_notice(hub, f"{who_is(client)} is now an operator ({name})", skip=client)


def set_oper(hub: Hub, client: ClientRecord, name: str | None) -> None:
    """User mode +o (the [opers] entry) or -o (None); its worker learns it (fakelag)."""
    client.oper = name
    hub.to_worker(client, frames.OperStatus(conn_id=client.conn_id, oper=name is not None))


# KILL, WALLOPS, REHASH
def handle_kill(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """KILL nick [reason] (modern.ircdocs): the victim gets KILL and ERROR, the others a
    QUIT `Killed (<killer> (<reason>))`; opers a server notice."""
    require_oper(client)
    victim = hub.registry.find_nick(params[0])
    if victim is None or not victim.registered:
        raise IrcError(N.ERR_NOSUCHNICK, params[0], "No such nick/channel")
    reason = truncate_utf8(params[1] if len(params) > 1 and params[1] else "No reason given",
                           MAX_KILL_REASON_BYTES)
    log.info("KILL of %s by %s: %s", who_is(victim), who_is(client), reason)
    hub.reply_from(client, victim,
                   Message("KILL", (victim.nick or "*", reason), client.source).format())
    disconnect(hub, victim, f"Killed ({client.nick} ({reason}))")
    server_notice(hub, f"Received KILL message for {who_is(victim)}. From {client.nick} "
                       f"({reason})")


def handle_wallops(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """WALLOPS text: to every user with +w, and to every oper (the sender too)."""
    require_oper(client)
    line = Message("WALLOPS", (params[0],), client.source).format()
    if len(line.encode("utf-8")) + 2 > MAX_BODY_BYTES:  # as for PRIVMSG: refused, not cut
        raise IrcError(N.ERR_INPUTTOOLONG,
                       "Message too long once relayed with your nick!user@host; split it")
    for other in hub.registry.clients.values():
        if other.registered and (other.wallops or other.oper is not None):
            hub.reply_from(client, other, line)


def handle_rehash(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    """The same reload as SIGHUP (chatd/processes/reloading.py): the master carries it out
    once this batch of frames is done; the oper is told 382 now and, like every oper, gets
    a server notice of how it went."""
    require_oper(client)
    source = hub.config.source_path
    hub.send_numeric(client, N.RPL_REHASHING, str(source.name if source else "defaults"),
                     "Rehashing")
    hub.reload_requested_by = client.nick or "*"
