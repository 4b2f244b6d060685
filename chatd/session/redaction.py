"""REDACT <target> <msgid> [:<reason>] (IRCv3 draft/message-redaction,
ircv3.net/specs/extensions/message-redaction), the worker's half: find the message where the
client may read it, through the injected reader, and hand the master what it needs to decide
(frames.Redaction; chatd/hub/redaction.py decides, relays and stores). Pure.

- The target is read as CHATHISTORY reads it (chatd/session/chathistory.py timeline_for): a
  channel one is in, or one's own private conversation with a nick; anything else is
  FAIL REDACT INVALID_TARGET, whether or not it exists.
- The msgid must name a PRIVMSG, NOTICE or TAGMSG of that timeline that is not redacted yet;
  else FAIL REDACT UNKNOWN_MSGID (also for a msgid of another conversation: nothing tells
  whether it exists elsewhere).
- Who sent it: in a channel, the account it was sent from, if any, must be the client's
  (a message sent while not logged in has no lasting author: only operators redact it); in a
  private conversation, the timeline is the client's own, and a message in it addressed to
  the other side is the client's (chatd/events.py private_timeline).
"""

from __future__ import annotations

import logging

from chatd import events
from chatd.events import HistoryUnavailable
from chatd.ipc import frames
from chatd.limits import is_channel, is_nick
from chatd.session.context import CommandContext
from ircproto.casemap import casefold
from ircproto.errors import StandardReplyError
from ircproto.message import Message

log = logging.getLogger(__name__)


class Fail(StandardReplyError):
    def __init__(self, code: str, *context: str, description: str):
        super().__init__("REDACT", code, *context, description=description)


def handle_redact(ctx: CommandContext, msg: Message) -> None:
    target, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    conv = _timeline(ctx, target)
    unknown = Fail("UNKNOWN_MSGID", target, msgid,
                   description="This message does not exist or is too old")
    reader = ctx.history
    if reader is None or not (msgid.isascii() and msgid.isdigit()):
        raise unknown
    event_id = int(msgid)
    try:
        row = reader.message_in(conv, event_id)
        if row is None or row[events.KIND] not in events.SENT_KINDS:
            raise unknown
        convs = (conv,) if is_channel(target) else reader.private_timelines(event_id)
    except HistoryUnavailable as exc:
        log.error("REDACT %s %s failed: %s", target, msgid, exc)
        raise Fail("REDACT_FORBIDDEN", target, msgid,
                   description="Could not delete message") from None
    author = _sent_by_client(ctx, conv, row)
    ctx.forward_request(lambda label: frames.Redaction(
        conn_id=ctx.conn_id, label=label, target=target, msgid=event_id, reason=reason,
        convs=convs or (conv,), author=author))


def _timeline(ctx: CommandContext, target: str) -> str:
    if is_channel(target):
        if casefold(target) in ctx.channels:
            return casefold(target)
    elif is_nick(target):
        return events.private_timeline(ctx.history_owner, target)
    raise Fail("INVALID_TARGET", target, description=f"You cannot delete messages from {target}")


def _sent_by_client(ctx: CommandContext, conv: str, row: tuple) -> bool:
    if is_channel(conv):
        account = row[events.ACCOUNT]
        return bool(account) and ctx.account is not None and casefold(account) == casefold(
            ctx.account)
    # The client's own private timeline with `other`: what it received was addressed to its
    # own nick of the time, which was not `other` (two clients never hold one nick at once).
    other = conv.split(" ", 1)[1]
    return casefold(row[events.TARGET]) == other
