"""What the master does with each frame a worker sends about one client: a table from opcode
to the Hub call that carries it out. Pure (the Hub records effects; the master moves bytes)."""

from __future__ import annotations

import logging
from typing import Any, Callable

from chatd.ipc import frames
from chatd.hub import account_requests as accounts
from chatd.hub import klines, multiline_messages, opers, read_markers, redaction
from chatd.hub.commands import run_command
from chatd.hub.error_replies import answer_errors
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from ircproto import numerics as N

log = logging.getLogger(__name__)


def _command(hub: Hub, client: ClientRecord, frame: frames.Command) -> None:
    # The worker forwards nothing before registration; be safe. A client told to leave
    # (KILL, K-line) gets nothing more done for it.
    if not client.registered or client.closing:
        return
    with _LabeledAnswer(hub, client, frame.label):
        hub.command_tags = frame.client_tags
        try:
            run_command(hub, client, frame.command, tuple(frame.params))
        finally:
            hub.command_tags = ""


def _multiline(hub: Hub, client: ClientRecord, frame: frames.Multiline) -> None:
    if not client.registered or client.closing:
        return
    with _LabeledAnswer(hub, client, frame.label):
        answer_errors(hub, client, frame.kind, multiline_messages.send_multiline, hub, client,
                      frame)


def _redaction(hub: Hub, client: ClientRecord, frame: frames.Redaction) -> None:
    if not client.registered or client.closing:
        return
    with _LabeledAnswer(hub, client, frame.label):
        redaction.redact(hub, client, frame)


def _claim_nick(hub: Hub, client: ClientRecord, frame: frames.ClaimNick) -> None:
    with _LabeledAnswer(hub, client, frame.label):
        answer_errors(hub, client, "NICK", _checked_claim, hub, client, frame.nick)


def _checked_claim(hub: Hub, client: ClientRecord, nick: str) -> None:
    """Names people own: service names are nobody's; an account's name is its owner's once
    registered. Before registration any free nick is granted (a SASL client sends NICK
    before AUTHENTICATE): the check is repeated when registration completes."""
    accounts.check_service_name(hub, nick)
    if client.registered and client.nick != nick:
        reason = accounts.nick_reservation(hub, client, nick)
        if reason is not None:
            accounts.refuse_reserved(hub, client, nick, reason)
    hub.claim_nick(client, nick)


def _registered(hub: Hub, client: ClientRecord, frame: frames.Registered) -> None:
    if client.registered:
        return
    if hub.config.password:  # the server PASS: wrong guesses are throttled per address
        key = f"pass:{client.address}"
        wait = hub.throttle.retry_after(key, hub.now_ms / 1000)
        if wait or not frame.pass_ok:
            if not wait:
                hub.throttle.failed(key, hub.now_ms / 1000)
            text = (f"Too many wrong passwords; try again in {wait} s" if wait
                    else "Password incorrect")
            hub.send_numeric(client, N.ERR_PASSWDMISMATCH, text)
            log.info("connection %d from %s refused: %s", client.conn_id, client.address,
                     "too many wrong server passwords" if wait else "wrong server password")
            hub.to_worker(client, frames.CloseConn(conn_id=client.conn_id, reason="Bad password"))
            return
    if klines.refuse_banned(hub, client, frame.user):  # a K-line naming its user@host
        return
    reason = accounts.nick_reservation(hub, client, client.nick or "")
    if reason is not None:
        # Stays unregistered until it picks another nick or logs in (clients try another).
        answer_errors(hub, client, "NICK", accounts.refuse_reserved, hub, client,
                      client.nick or "", reason)
        return
    hub.registered(client, frame.user, frame.realname, frame.secure, frame.certfp)


def _caps(hub: Hub, client: ClientRecord, frame: frames.Caps) -> None:
    client.caps = frozenset(frame.caps)


class _LabeledAnswer:
    """Brackets the effects of a labeled command with LabelStart/LabelEnd."""

    def __init__(self, hub: Hub, client: ClientRecord, label: str | None) -> None:
        self.hub, self.client, self.label = hub, client, label

    def __enter__(self) -> None:
        if self.label:
            self.hub.label_start(self.client, self.label)

    def __exit__(self, *exc_info: object) -> None:
        if self.label:
            self.hub.label_end(self.client)


WORKER_FRAME_ACTIONS: dict[type, Callable[[Hub, ClientRecord, Any], None]] = {
    frames.Command: _command,
    frames.Multiline: _multiline,
    frames.ClaimNick: _claim_nick,
    frames.Sync: lambda hub, client, frame: hub.sync(client),
    frames.PingSync: lambda hub, client, frame: hub.sync(client),
    frames.Caps: _caps,
    frames.Registered: _registered,
    frames.AuthRequest: accounts.auth_request,
    frames.AuthResult: accounts.auth_result,
    frames.RegisterAccount: accounts.register_account,
    frames.OperAttempt: opers.oper_attempt,
    frames.Redaction: _redaction,
    frames.SeenUpTo: read_markers.seen_up_to,
    frames.ConnClosed: lambda hub, client, frame: hub.connection_closed(client, frame.reason),
}


def apply_worker_frame(hub: Hub, client: ClientRecord, frame: Any) -> None:
    WORKER_FRAME_ACTIONS[type(frame)](hub, client, frame)
