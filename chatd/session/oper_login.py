"""OPER <name> <password> as one connection sees it (RFC 2812 3.1.4): the password is checked
here, against the scrypt record of the config's [opers] entry (chatd/credentials.py), on the
worker's verification thread, and never leaves this worker; the master is told only the name
and whether it matched (OperAttempt), and decides: the throttle, 381 and +o, or 464
(chatd/hub/opers.py). An unknown name is checked against dummy credentials, so it costs the
same time and gets the same 464 as a wrong password. Pure; the master's OperStatus frame sets
`oper` on the session (fakelag leaves opers alone)."""

from __future__ import annotations

from chatd.credentials import dummy_credentials, verify_password
from chatd.identity import MAX_PASSWORD_BYTES
from chatd.ipc import frames
from chatd.session.context import CommandContext
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.message import Message


def handle_oper(ctx: CommandContext, msg: Message) -> None:
    name, password = msg.params[:2]
    config = ctx.info.config
    if not config.opers:
        raise IrcError(N.ERR_NOOPERHOST, "No O-lines for your host")
    stored = config.oper_password_hash(name)
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:  # never hashed (the cost)
        _report(ctx, name, False)
        return
    known = stored is not None
    ctx.start_work(verify_password, (stored or dummy_credentials().password_hash, password),
                   lambda ok: _report(ctx, name, bool(ok) and known))


def _report(ctx: CommandContext, name: str, ok: bool) -> None:
    """Tell the master; what this session answers next waits for its reply (381 or 464)."""
    ctx.notify_master(frames.OperAttempt(conn_id=ctx.conn_id, name=name, ok=ok))
    ctx.request_sync()
