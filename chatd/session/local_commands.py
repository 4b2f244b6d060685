"""The commands a worker answers for one connection without asking the master (CAP, PASS,
NICK validation, USER, PING/PONG, QUIT, MOTD, VERSION, TIME, CHATHISTORY), and `dispatch`,
which forwards the commands that need global state (see chatd/commandset.py) to
the master."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from chatd.ipc import frames
from chatd.session.capabilities import handle_cap
from chatd.session.chathistory import handle_chathistory
from chatd.commandset import COMMANDS, WORKER
from chatd.serverinfo import VERSION
from ircproto import numerics as N
from ircproto.message import Message
from ircproto.validate import is_valid_nick

if TYPE_CHECKING:
    from chatd.session.session import Session

LocalHandler = Callable[["Session", Message], None]



def handle_pass(session: Session, msg: Message) -> None:
    if session.registered:
        session.send_numeric(N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    session.password = msg.params[0]


def handle_nick(session: Session, msg: Message) -> None:
    nick = msg.param(0) or ""
    if not nick:
        session.send_numeric(N.ERR_NONICKNAMEGIVEN, "No nickname given")
    elif not is_valid_nick(nick):
        session.send_numeric(N.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
    else:
        session.forward_nick(nick)
        if not session.registered:
            session.request_sync()  # hold further input until the master has answered


def handle_user(session: Session, msg: Message) -> None:
    if session.registered or session.user is not None:
        session.send_numeric(N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    if not msg.params[0] or not msg.params[3]:
        # modern.ircdocs: a username (and a realname) must not be empty; SHOULD be 461.
        session.send_numeric(N.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    user = "".join(ch for ch in msg.params[0] if ch.isalnum() or ch in "-_.")[:16]
    session.user = user or "user"
    session.realname = msg.params[3]
    session.try_complete_registration()


def handle_ping(session: Session, msg: Message) -> None:
    # Answered here, behind a PING_SYNC through the master, which answers it in decision
    # order (so after every event decided before it is committed and sent) once the other
    # workers have had a moment to forward what they read before it. So a PING round trip
    # is a barrier for what the client sent before it and for what others sent before it:
    # clients and test suites (irctest) rely on that. Before registration only the first.
    if session.registered:
        session.request_sync(frames.PingSync)
    session.send(Message("PONG", (session.server_name, msg.params[0]), session.server_name).format())


def handle_pong(session: Session, msg: Message) -> None:
    """Nothing to do: any line from the client already reset the ping timer."""


def handle_quit(session: Session, msg: Message) -> None:
    reason = msg.param(0)
    session.close(f"Quit: {reason}" if reason else "Client Quit")


def handle_motd(session: Session, msg: Message) -> None:
    session.send_motd()


def handle_version(session: Session, msg: Message) -> None:
    session.send_numeric(N.RPL_VERSION, VERSION, session.server_name, "")


def handle_time(session: Session, msg: Message) -> None:
    now = time.strftime("%A %B %d %Y -- %H:%M:%S UTC", time.gmtime())
    session.send_numeric(N.RPL_TIME, session.server_name, now)


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
}


def dispatch(session: Session, msg: Message) -> None:
    """Run a local handler or forward to the master, answering 451/461/421 as the RFCs say."""
    command = msg.command
    spec = COMMANDS.get(command)
    if spec is None:
        if session.registered:
            session.send_numeric(N.ERR_UNKNOWNCOMMAND, command, "Unknown command")
        else:
            session.send_numeric(N.ERR_NOTREGISTERED, "You have not registered")
    elif not (spec.before_registration or session.registered):
        session.send_numeric(N.ERR_NOTREGISTERED, "You have not registered")
    elif len(msg.params) < spec.min_params:
        session.send_numeric(N.ERR_NEEDMOREPARAMS, command, "Not enough parameters")
    elif spec.answered_by == WORKER:
        LOCAL_HANDLERS[command](session, msg)
    else:
        session.forward_command(msg)
