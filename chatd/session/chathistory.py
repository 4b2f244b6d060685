"""The IRCv3 CHATHISTORY command (draft/chathistory, ircv3.net/specs/extensions/chathistory),
answered by the worker from the history through an injected reader. Planning is pure; the
reader (chatd.store.reader.HistoryReader, or a fake in tests) does the SQL.

Rules that matter (from the spec and the public conformance suite):
- every reference bound is exclusive, and results are always sent oldest first;
- BEFORE/LATEST take the messages nearest the reference/newest, AFTER the nearest after it;
- BETWEEN counts from its first reference, in whichever direction the second one lies;
- AROUND includes the reference message itself;
- only channels one is in, and one's own private conversations, may be read
  (FAIL INVALID_TARGET otherwise);
- without draft/event-playback only PRIVMSG and NOTICE are returned; REDACT events only to
  clients with draft/message-redaction too, and a redacted message never (it is excluded
  entirely, as ircv3.net/specs/extensions/message-redaction allows);
- a multi-line message is one message (a nested draft/multiline batch, or its lines for a
  client without that capability: chatd/multiline.py), and an answer takes at most a share
  of the client's sendq: fewer messages than asked when they are large.

Errors are raised as Fail (a StandardReplyError); the session's line boundary writes the FAIL.
A history that cannot be read (the reader's HistoryUnavailable) fails that one request with
MESSAGE_ERROR, logged once; the connection stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatd import events, multiline
from chatd.events import NO_UPPER_BOUND, HistoryUnavailable
from chatd.serverinfo import CHATHISTORY_MAX
from chatd.session.context import CommandContext, HistoryReading
from ircproto.errors import StandardReplyError
from ircproto.servertime import format_server_time, parse_server_time
from ircproto.casemap import casefold
from ircproto.message import Message, fitted_line
from chatd.limits import is_channel, is_nick

log = logging.getLogger(__name__)

MAX_LIMIT = CHATHISTORY_MAX
SUBCOMMANDS = ("BEFORE", "AFTER", "LATEST", "AROUND", "BETWEEN", "TARGETS")


class Fail(StandardReplyError):
    """A standard reply: FAIL CHATHISTORY <code> <context...> :<description>."""

    def __init__(self, code: str, *context: str, description: str):
        super().__init__("CHATHISTORY", code, *context, description=description)


@dataclass(frozen=True)
class Ref:
    kind: str  # "msgid", "timestamp" or "*"
    value: int = 0


def parse_ref(word: str, subcommand: str, allow_star: bool = False) -> Ref:
    if word == "*" and allow_star:
        return Ref("*")
    key, sep, value = word.partition("=")
    if sep and key == "msgid" and value.isascii() and value.isdigit():
        # Ids are positions in the one history order; one past any id SQLite can hold is
        # still "after everything" (and must not overflow the query).
        return Ref("msgid", min(int(value), NO_UPPER_BOUND))
    if sep and key == "timestamp":
        ts = parse_server_time(value)
        if ts is not None:
            return Ref("timestamp", ts)
        raise Fail("INVALID_PARAMS", subcommand, word, description="Invalid timestamp")
    raise Fail("INVALID_PARAMS", subcommand, word, description="Invalid message reference")


def parse_limit(word: str, subcommand: str) -> int:
    if not (word.isascii() and word.isdigit()):
        raise Fail("INVALID_PARAMS", subcommand, word, description="Invalid limit")
    limit = int(word)
    return MAX_LIMIT if limit == 0 or limit > MAX_LIMIT else limit


def handle_chathistory(ctx: CommandContext, msg: Message) -> None:
    params = msg.params
    subcommand = params[0].upper()
    if subcommand not in SUBCOMMANDS:
        raise Fail("INVALID_PARAMS", params[0], description="Unknown subcommand")
    needed = 5 if subcommand == "BETWEEN" else 4
    if len(params) < needed:
        raise Fail("INVALID_PARAMS", subcommand, description="Insufficient parameters")
    reader = ctx.history
    if reader is None:
        raise Fail("MESSAGE_ERROR", subcommand, params[1], description="History is not available")
    try:
        if subcommand == "TARGETS":
            lines = _targets(ctx, reader, params)
        else:
            lines = _messages(ctx, reader, subcommand, params)
    except HistoryUnavailable as exc:
        # This request fails; the connection and the next request go on (the reader reopens).
        log.error("CHATHISTORY %s %s failed: %s", subcommand, params[1], exc)
        raise Fail("MESSAGE_ERROR", subcommand, params[1],
                   description="Messages could not be retrieved") from None
    ctx.send_lines(lines)


def _visible_kinds(ctx: CommandContext) -> tuple[str, ...]:
    if "draft/event-playback" not in ctx.caps:
        return events.MESSAGE_KINDS
    hidden = set()
    if "message-tags" not in ctx.caps:
        hidden.add("TAGMSG")
    if events.REDACTION_CAP not in ctx.caps:
        hidden.add(events.REDACT_KIND)
    return tuple(k for k in events.STORED_KINDS if k not in hidden)


def timeline_for(ctx: CommandContext, target: str, subcommand: str) -> str:
    """The timeline the client may read for `target`, or FAIL INVALID_TARGET."""
    if is_channel(target):
        folded = casefold(target)
        if folded in ctx.channels:
            return folded
    elif is_nick(target) and ctx.nick is not None:
        # Only the asker's own conversations: keyed by its account or connection, not its
        # nick, so a nick taken over does not come with its former owner's history.
        return events.private_timeline(ctx.history_owner, target)
    raise Fail("INVALID_TARGET", subcommand, target, description="Messages could not be retrieved")


def _messages(ctx: CommandContext, reader: HistoryReading, subcommand: str,
              params: tuple[str, ...]) -> list[bytes]:
    target = params[1]
    conv = timeline_for(ctx, target, subcommand)
    kinds = _visible_kinds(ctx)
    limit = parse_limit(params[-1], subcommand)
    first = parse_ref(params[2], subcommand, allow_star=subcommand == "LATEST")

    def lower(ref: Ref) -> int:  # exclusive lower id bound for "after ref"
        if ref.kind == "msgid":
            return ref.value
        return reader.last_id_at_or_before(ref.value) if ref.kind == "timestamp" else 0

    def upper(ref: Ref) -> int:  # exclusive upper id bound for "before ref"
        if ref.kind == "msgid":
            return ref.value
        return reader.first_id_at_or_after(ref.value)

    floor = reader.floor_id(conv)  # this timeline's own: other timelines lost other rows
    truncated = False

    def page(after_id: int, before_id: int, count: int, newest: bool) -> list[tuple]:
        """One select; notes whether its range reaches below the retention floor with
        nothing nearer the floor cut off by the limit (so history is missing from it)."""
        nonlocal truncated
        rows = reader.select(conv, after_id, before_id, count, newest, kinds)
        if after_id < floor and count > 0 and (not newest or len(rows) < count):
            truncated = True
        return rows

    newest = subcommand in ("BEFORE", "LATEST")  # which end a cut answer keeps
    if subcommand == "BEFORE":
        rows = page(0, upper(first), limit, True)
    elif subcommand == "AFTER":
        rows = page(lower(first), NO_UPPER_BOUND, limit, False)
    elif subcommand == "LATEST":
        rows = page(lower(first), NO_UPPER_BOUND, limit, True)
    elif subcommand == "AROUND":
        center = upper(first)  # the reference itself (or the first message at that time)
        rows = page(0, center, (limit - 1) // 2, True)
        rows += page(center - 1, NO_UPPER_BOUND, limit - len(rows), False)
    else:  # BETWEEN
        second = parse_ref(params[3], subcommand)
        if _position(first, reader) <= _position(second, reader):
            rows = page(lower(first), upper(second), limit, False)
        else:
            rows = page(lower(second), upper(first), limit, True)
            newest = True
    return _history_batch(ctx, target, rows, truncated, newest)


def _position(ref: Ref, reader: HistoryReading) -> tuple[int, int]:
    """Where a reference lies in the history, to tell BETWEEN's direction."""
    if ref.kind == "msgid":
        return (ref.value, 1)
    return (reader.first_id_at_or_after(ref.value), 0)


def _history_batch(ctx: CommandContext, target: str, rows: list[tuple],
                   truncated: bool, keep_newest: bool) -> list[bytes]:
    # At most a share of the client's sendq (chatd/multiline.py, history_lines): a page of
    # multi-line messages is cut at the end away from where the client pages from.
    lines, kept = multiline.history_lines(
        rows, ctx.tag_variant, ctx.info.config.sendq_bytes // multiline.HISTORY_SHARE,
        keep_newest)
    if kept < len(rows) and keep_newest:
        truncated = False  # the oldest rows were cut, not deleted: the client pages on
    if truncated:
        # Retention deleted older history: say so rather than let a short page pass for the
        # beginning of the conversation.
        note = fitted_line(Message("NOTE", ("CHATHISTORY", "HISTORY_TRUNCATED", target,
                                            "Older messages were deleted by the retention "
                                            "policy"), ctx.server_name))
        lines.insert(0, (note + "\r\n").encode())
    return ctx.batch(lines, f"chathistory {target}")


def _targets(ctx: CommandContext, reader: HistoryReading,
             params: tuple[str, ...]) -> list[bytes]:
    first = parse_ref(params[1], "TARGETS")
    second = parse_ref(params[2], "TARGETS")
    if first.kind != "timestamp" or second.kind != "timestamp":
        raise Fail("INVALID_PARAMS", "TARGETS", description="TARGETS takes two timestamps")
    limit = parse_limit(params[3], "TARGETS")
    kinds = _visible_kinds(ctx)
    low, high = sorted((first.value, second.value))
    newest = first.value > second.value
    found = []  # (ts, name)
    for conv in ctx.channels:  # at most [limits] channels_per_client: one index seek each
        row = reader.latest(conv, kinds)
        if row is not None:
            # The channel as its latest event spelled it; a QUIT or NICK (event-playback)
            # targets no channel, so the timeline's own (folded) name stands in.
            name = row[events.TARGET]
            found.append((row[events.TS], name if casefold(name) == conv else conv))
    # Private conversations by the time of their latest message: only the `limit` nearest
    # the first bound can be in the answer, however many conversations the owner has had.
    for conv, row in reader.private_latest(ctx.history_owner, low, high, limit, newest):
        found.append((row[events.TS], _partner(conv, row)))
    inside = sorted(item for item in found if low < item[0] < high)
    inside = inside[-limit:] if newest else inside[:limit]
    lines = [
        (Message("CHATHISTORY", ("TARGETS", name, format_server_time(ts)),
                 ctx.server_name).format() + "\r\n").encode()
        for ts, name in inside
    ]
    return ctx.batch(lines, "draft/chathistory-targets")


def _partner(conv: str, row: tuple) -> str:
    """The other party of a private timeline, spelled as its latest event spelled it (the
    timeline holds its folded nick)."""
    other = conv.split(" ", 1)[1]
    sender = row[events.SOURCE].split("!", 1)[0]
    for name in (row[events.TARGET], sender):
        if casefold(name) == other:
            return name
    return other
