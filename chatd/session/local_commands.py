"""The commands a worker answers for one connection without asking the master (CAP, PASS,
NICK validation, USER, PING/PONG, QUIT, MOTD, VERSION, TIME, CHATHISTORY; the account
commands and OPER are authentication.py's and oper_login.py's, BATCH client_batch.py's,
SEARCH search.py's, REDACT redaction.py's, which hands the master its decision), and
`dispatch`,
which checks a command against chatd/commandset.py (451/461/421) and forwards the ones that
need global state to the master. Handlers see the connection only through CommandContext and
raise IrcError for a protocol error; they never format an error reply themselves."""

from __future__ import annotations

import time
from typing import Callable

from chatd.commandset import COMMANDS, WORKER
from chatd.identity import is_service_name
from chatd.serverinfo import VERSION
from chatd.session import authentication, oper_login, redaction, search
from chatd.session.capabilities import handle_cap
from chatd.session.chathistory import handle_chathistory
from chatd.session.client_batch import handle_batch
from chatd.session.context import CommandContext
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import truncate_utf8
from ircproto.message import Message, fitted_line, numeric_line
from chatd.limits import REALNAMELEN, is_nick

LocalHandler = Callable[[CommandContext, Message], None]


def handle_pass(ctx: CommandContext, msg: Message) -> None:
    if ctx.registered:
        raise IrcError(N.ERR_ALREADYREGISTERED, "You may not reregister")
    ctx.set_password(msg.params[0])


def handle_nick(ctx: CommandContext, msg: Message) -> None:
    nick = msg.param(0) or ""
    if not nick:
        raise IrcError(N.ERR_NONICKNAMEGIVEN, "No nickname given")
    if not is_nick(nick):
        raise IrcError(N.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
    if is_service_name(nick, ctx.server_name):
        raise IrcError(N.ERR_ERRONEUSNICKNAME, nick, "This nickname is reserved for services")
    ctx.claim_nick(nick)
    if not ctx.registered:
        ctx.request_sync()  # hold further input until the master has answered


def handle_user(ctx: CommandContext, msg: Message) -> None:
    if ctx.registered or ctx.user is not None:
        raise IrcError(N.ERR_ALREADYREGISTERED, "You may not reregister")
    if not msg.params[0] or not msg.params[3]:
        # modern.ircdocs: a username (and a realname) must not be empty; SHOULD be 461.
        raise IrcError(N.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
    user = "".join(ch for ch in msg.params[0] if ch.isalnum() or ch in "-_.")[:16]
    ctx.set_user(user or "user", truncate_utf8(msg.params[3], REALNAMELEN))  # NAMELEN
    ctx.try_complete_registration()


def handle_ping(ctx: CommandContext, msg: Message) -> None:
    # Answered here, behind a PING_SYNC through the master, which answers it in decision
    # order (so after every event decided before it is committed and sent) once the other
    # workers have had a moment to forward what they read before it. So a PING round trip
    # is a barrier for what the client sent before it and for what others sent before it:
    # clients and test suites (irctest) rely on that. Before registration only the first.
    if ctx.registered:
        ctx.request_sync(ping=True)
    # A token too long to come back whole is cut (fitted_line): the line must fit 512 bytes.
    ctx.send(fitted_line(Message("PONG", (ctx.server_name, msg.params[0]), ctx.server_name)))


def handle_pong(ctx: CommandContext, msg: Message) -> None:
    """Nothing to do: any line from the client already reset the ping timer."""


def handle_quit(ctx: CommandContext, msg: Message) -> None:
    reason = msg.param(0)
    ctx.close(f"Quit: {reason}" if reason else "Client Quit")


def handle_motd(ctx: CommandContext, msg: Message) -> None:
    ctx.send_motd()


def handle_version(ctx: CommandContext, msg: Message) -> None:
    ctx.send(_numeric(ctx, N.RPL_VERSION, VERSION, ctx.server_name, ""))


def handle_time(ctx: CommandContext, msg: Message) -> None:
    now = time.strftime("%A %B %d %Y -- %H:%M:%S UTC", time.gmtime())
    ctx.send(_numeric(ctx, N.RPL_TIME, ctx.server_name, now))


def _numeric(ctx: CommandContext, code: str, *params: str) -> str:
    return numeric_line(ctx.server_name, ctx.nick, code, *params)


# The commands this worker answers (chatd/commandset.py says which those are).
LOCAL_HANDLERS: dict[str, LocalHandler] = {
    "CAP": handle_cap,
    "PASS": handle_pass,
    "NICK": handle_nick,
    "USER": handle_user,
    "PING": handle_ping,
    "PONG": handle_pong,
    "QUIT": handle_quit,
    "MOTD": handle_motd,
    "VERSION": handle_version,
    "TIME": handle_time,
    "CHATHISTORY": handle_chathistory,
    "SEARCH": search.handle_search,
    "REDACT": redaction.handle_redact,
    "AUTHENTICATE": authentication.handle_authenticate,
    "REGISTER": authentication.handle_register,
    "VERIFY": authentication.handle_verify,
    "PASSWORD": authentication.handle_password,
    "OPER": oper_login.handle_oper,
    "BATCH": handle_batch,
}


def dispatch(ctx: CommandContext, msg: Message) -> None:
    """Run a local handler or forward to the master; 451/461/421 as the RFCs say. A line
    of a client's multiline batch is collected instead (chatd/session/client_batch.py)."""
    if ctx.registered and ctx.client_batch.take_line(ctx, msg):
        return
    command = msg.command
    spec = COMMANDS.get(command)
    if spec is None:
        if ctx.registered:
            raise IrcError(N.ERR_UNKNOWNCOMMAND, command, "Unknown command")
        raise IrcError(N.ERR_NOTREGISTERED, "You have not registered")
    if not (spec.before_registration or ctx.registered):
        raise IrcError(N.ERR_NOTREGISTERED, "You have not registered")
    if len(msg.params) < spec.min_params:
        raise IrcError(N.ERR_NEEDMOREPARAMS, command, "Not enough parameters")
    if spec.answered_by == WORKER:
        LOCAL_HANDLERS[command](ctx, msg)
    else:
        ctx.forward_command(msg)
