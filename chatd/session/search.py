"""SEARCH (IRCv3 work in progress `draft/search`, with the attributes of soju's
`soju.im/search`: in, from, text, before, after, limit), answered by the worker from the
history's full-text index through an injected reader. Pure: the reader does the SQL.

    SEARCH text=deploy\\sfriday;in=#ops;limit=20

The one parameter is a list of attributes written as message tags are (`;` between them,
values escaped the same way). What is searched is what CHATHISTORY may read: `in=#chan`
only while one is in #chan, `in=nick` one's own private conversation with nick, and without
`in` every channel one is in plus every private conversation of one's own (refused targets:
FAIL SEARCH INVALID_TARGET, whether or not they exist). `from=nick`: sent with that nick.
`text`: chatd/search_terms.py's syntax (words, "phrases"; nothing else is special). `after`
and `before` are server times, both inclusive; with `after` the matches nearest after it
come, else the newest ones (before `before`, or now). At most `limit` messages, SEARCH_MAX
(advertised as the capability's value) when absent or larger. Only PRIVMSG and NOTICE, never
a redacted one. The matches are sent oldest first in one batch, as the spec asks.

Bounds: a search walks the index in id order and stops after `limit` matches or after
SEARCH_TIME_LIMIT_S, whichever comes first (the worker serves its other clients meanwhile no
later than that); a search cut short says so (NOTE SEARCH TIMEOUT) with what it found, which
is the nearest part of the answer. While an older history is still being indexed, messages
before the indexed part are not found yet (NOTE SEARCH INDEXING). SEARCH costs fakelag
(chatd/session/fakelag.py) like LIST, and a search cut short costs SEARCH_TIMEOUT_COST more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatd import events
from chatd.events import NO_UPPER_BOUND, HistoryUnavailable
from chatd.limits import is_channel, is_nick
from chatd.search_terms import QueryError, match_expression, phrases
from chatd.session.context import CommandContext, HistoryReading
from chatd.session.fakelag import SEARCH_TIMEOUT_COST
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError, StandardReplyError
from ircproto.framing import encode_line
from ircproto.message import Message, ProtocolError, fitted_line, parse_tags
from ircproto.servertime import parse_server_time

log = logging.getLogger(__name__)

SEARCH_CAPS = ("draft/search", "soju.im/search")
SEARCH_MAX = 100  # messages one SEARCH answers at most
SEARCH_TIME_LIMIT_S = 0.1


class Fail(StandardReplyError):
    def __init__(self, code: str, *context: str, description: str):
        super().__init__("SEARCH", code, *context, description=description)


@dataclass(frozen=True)
class Query:
    """A SEARCH's attributes, checked."""
    target: str | None = None  # `in`
    sender: str | None = None  # `from`
    text: tuple[tuple[str, ...], ...] = ()  # phrases of words
    after_ms: int | None = None
    before_ms: int | None = None
    limit: int = SEARCH_MAX


def parse_query(attributes: str) -> Query:
    """The attributes of a SEARCH, or Fail INVALID_PARAMS naming the one at fault. Unknown
    attributes are ignored (a later version of the spec may add some)."""
    try:
        given = parse_tags(attributes)
    except ProtocolError:
        raise Fail("INVALID_PARAMS", description="Invalid attributes") from None
    fields: dict = {}
    if given.get("in"):
        fields["target"] = given["in"]
    if given.get("from"):
        if not is_nick(given["from"]):
            raise Fail("INVALID_PARAMS", "from", description="Invalid nick")
        fields["sender"] = given["from"]
    if given.get("text"):
        try:
            fields["text"] = tuple(tuple(p) for p in phrases(given["text"]))
        except QueryError as exc:
            raise Fail("INVALID_PARAMS", "text", description=str(exc)) from None
    for name in ("after", "before"):
        if name in given:
            ts = parse_server_time(given[name])
            if ts is None:
                raise Fail("INVALID_PARAMS", name, description="Invalid timestamp")
            fields[f"{name}_ms"] = ts
    if "limit" in given:
        word = given["limit"]
        if not (word.isascii() and word.isdigit()) or int(word) == 0:
            raise Fail("INVALID_PARAMS", "limit", description="Invalid limit")
        fields["limit"] = min(int(word), SEARCH_MAX)
    return Query(**fields)


def search_offered(ctx: CommandContext) -> bool:
    """Whether this server can search (the history has a full-text index)."""
    if ctx.history is None:
        return False
    try:
        return ctx.history.searchable()
    except HistoryUnavailable:
        return False


def handle_search(ctx: CommandContext, msg: Message) -> None:
    if not search_offered(ctx):
        raise IrcError(N.ERR_UNKNOWNCOMMAND, "SEARCH", "Unknown command")
    query = parse_query(msg.params[0])
    timelines, owners = _scope(ctx, query.target)
    match = match_expression([list(p) for p in query.text], timelines, owners, query.sender)
    reader = ctx.history
    assert reader is not None  # search_offered
    try:
        rows, notes = _run(reader, query, match)
    except HistoryUnavailable as exc:
        log.error("SEARCH failed: %s", exc)
        raise Fail("INTERNAL_ERROR", description="The search could not be run") from None
    if "TIMEOUT" in notes:
        ctx.charge_extra(SEARCH_TIMEOUT_COST)
    ctx.send_lines(ctx.batch(_note_lines(ctx, notes) + _result_lines(ctx, rows),
                             _batch_type(ctx)))


def _scope(ctx: CommandContext, target: str | None) -> tuple[list[str], list[str]]:
    """(timelines, owners of private timelines) the search may look in: CHATHISTORY's rules
    (chatd/session/chathistory.py timeline_for)."""
    if target is None:
        return sorted(ctx.channels), [ctx.history_owner]
    if is_channel(target):
        if casefold(target) in ctx.channels:
            return [casefold(target)], []
    elif is_nick(target):
        return [events.private_timeline(ctx.history_owner, target)], []
    raise Fail("INVALID_TARGET", target, description="Messages could not be retrieved")


def _run(reader: HistoryReading, query: Query, match: str) -> tuple[list[tuple], list[str]]:
    """The matching rows, oldest first, and the NOTE codes to send with them."""
    # No floor needed: retention and the quota take what they delete out of the index.
    after_id = 0
    if query.after_ms is not None:
        after_id = max(after_id, reader.first_id_at_or_after(query.after_ms) - 1)
    before_id = NO_UPPER_BOUND
    if query.before_ms is not None:
        before_id = reader.last_id_at_or_before(query.before_ms) + 1
    newest = query.after_ms is None  # the spec: from `after` when given, else back from now
    rows, finished = reader.search(match, after_id, before_id, query.limit, newest,
                                   SEARCH_TIME_LIMIT_S)
    notes = []
    if not finished:
        notes.append("TIMEOUT")
    unindexed = reader.unindexed_up_to()
    reached_unindexed = not newest or len(rows) < query.limit
    if unindexed > after_id and reached_unindexed:
        notes.append("INDEXING")
    return rows, notes


_NOTE_TEXTS = {
    "TIMEOUT": ("The search took too long and stopped early; narrow it (in, from, before,"
                " after) to find more"),
    "INDEXING": "Older messages are still being indexed: not all of them are searched yet",
}


def _note_lines(ctx: CommandContext, codes: list[str]) -> list[bytes]:
    return [encode_line(fitted_line(Message("NOTE", ("SEARCH", code, _NOTE_TEXTS[code]),
                                            ctx.server_name))) for code in codes]


def _result_lines(ctx: CommandContext, rows: list[tuple]) -> list[bytes]:
    variant = ctx.tag_variant
    if variant & events.WANTS_TIME:
        return [encode_line(events.event_line(row, variant)) for row in rows]
    # No server-time: the time goes in front of the text, as in a join replay.
    return [encode_line(events.stamped_replay_line(row, variant)) for row in rows]


def _batch_type(ctx: CommandContext) -> str:
    """draft/search's, unless the client asked only for soju's name of it."""
    if "soju.im/search" in ctx.caps and "draft/search" not in ctx.caps:
        return "soju.im/search"
    return "draft/search"
