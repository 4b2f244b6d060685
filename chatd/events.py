"""Stored events: their tuple layout, the history timelines they belong to, and how one is
written as an IRC line for a given recipient's capabilities. Pure: used by the master (live
delivery), workers (replay, CHATHISTORY) and the writer (storage), so a replayed message reads
exactly like the live one did — same text, same msgid, same time.

A stored event is a plain tuple (it crosses processes with marshal, which takes no subclasses):
    (id, ts_ms, kind, source, target, text, client_tags, account)
kind is the IRC command (PRIVMSG, NOTICE, TAGMSG, JOIN, PART, QUIT, NICK, TOPIC, MODE, KICK,
REDACT);
source is the sender's nick!user@host; target is the channel or nick addressed (for NICK: the
new nick); text is the message, reason or topic (for JOIN: the joiner's realname, for
extended-join; for MODE, KICK and REDACT: the rest of the line after the target, as sent, e.g.
"+o-v alice bob", "bob :flooding" or "123 :spam" — a REDACT's first word is the id of the
message it redacts);
client_tags is the IRCv3 client-only tag section the sender attached ("+a=b;+c"), or "", led
by `bot` when the sender was a bot (user mode +B; IRCv3 bot-mode); a multi-line message ends
it with chatd's own entry MULTILINE_TAG, below;
account is the account the sender was logged in to when it sent it, or "" (IRCv3 account-tag,
extended-join: a replay shows the account of that time, not today's).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from ircproto.casemap import casefold
from ircproto.ctcp import ACTION_PREFIX
from ircproto.framing import MAX_BODY_NO_CRLF_BYTES, truncate_utf8
from ircproto.message import escape_tag_value
from ircproto.servertime import format_server_time

ID, TS, KIND, SOURCE, TARGET, TEXT, TAGS, ACCOUNT = range(8)

MESSAGE_KINDS = ("PRIVMSG", "NOTICE")  # what history shows without draft/event-playback
SENT_KINDS = ("PRIVMSG", "NOTICE", "TAGMSG")  # what a client sends to a target
STORED_KINDS = ("PRIVMSG", "NOTICE", "TAGMSG", "JOIN", "PART", "QUIT", "NICK", "TOPIC", "MODE",
                "KICK", "REDACT")
# IRCv3 draft/message-redaction: a REDACT removes a PRIVMSG, NOTICE or TAGMSG (SENT_KINDS);
# only clients with the capability are sent it, live or from the history.
REDACT_KIND = "REDACT"
REDACTION_CAP = "draft/message-redaction"
# An account write rides the same ordered stream as events (so it is committed before the
# client is told, and re-sent after a writer restart), with its own id but no message row: a
# StoreRow of kind ACCOUNT_KIND whose source is the operation, target the account name and text
# the JSON payload (chatd/store/accounts.py).
ACCOUNT_KIND = "ACCOUNT"
ACCOUNT_OPS = ("create", "passwd", "delete", "cert-add", "cert-del")
# A K-line write (chatd/hub/klines.py) rides the stream the same way: source "add" or "del",
# target the normalized mask, text the JSON payload (chatd/store/bans.py).
BAN_KIND = "KLINE"
# A read-marker write (chatd/hub/read_markers.py) too: source the operation, target the folded
# account, text the JSON payload (chatd/store/read_markers.py). No message row: its id is
# recorded as an unstored one.
READ_KIND = "READ"
MARKER_OP, SEEN_OP = "marker", "seen"  # a read marker set; what a client was shown (on leaving)
# A kept channel's state (chatd/stored_channel.py) rides the stream the same way: source "set"
# (text: the whole state as JSON) or "del", target the folded channel name
# (chatd/store/channels.py).
CHANNEL_KIND = "CHANNEL"
# A multi-line message (IRCv3 draft/multiline, chatd/multiline.py) is one PRIVMSG or NOTICE
# row: its text holds the lines joined by "\n" (or directly, where the sender marked a line
# draft/multiline-concat) and its tags end with this entry of chatd's own ("multiline=13":
# where the concatenated lines begin). Stored client tags all start with '+' (client_only_tags),
# so no client can send one that reads as it.
MULTILINE_TAG = "multiline"


class HistoryUnavailable(Exception):
    """The history could not be read (a damaged file, a failing disk): what the reader
    (chatd.store.reader) raises for any SQLite error, so CHATHISTORY answers FAIL for that one
    request without importing sqlite3."""


class StoreRow(NamedTuple):
    """What the master hands the writer for one event (or account write): the event, the
    timelines it belongs to, in sequence order. The one layout of these rows; on the pipe they
    travel as plain tuples (marshal takes no tuple subclasses: see frames.Store)."""
    event_id: int
    ts_ms: int
    kind: str
    source: str
    target: str
    text: str
    tags: str
    convs: tuple[str, ...]
    account: str = ""


# Which tags a recipient gets, as a bit set (IRCv3: a tag goes only to clients that asked).
WANTS_TIME = 1  # server-time
WANTS_TAGS = 2  # message-tags: msgid and client-only tags
WANTS_ACCOUNT = 4  # account-tag: account=<the sender's account>, when it is logged in
WANTS_EXTENDED_JOIN = 8  # extended-join: JOIN #chan <account or *> :<realname>
WANTS_MULTILINE = 16  # draft/multiline and batch: a multi-line message as one batch
VARIANTS = 32
# The capabilities that set each bit (draft/multiline needs batch: a multiline is a batch).
_VARIANT_CAPS = tuple((bit, frozenset(caps)) for bit, caps in (
    (WANTS_TIME, ("server-time",)), (WANTS_TAGS, ("message-tags",)),
    (WANTS_ACCOUNT, ("account-tag",)), (WANTS_EXTENDED_JOIN, ("extended-join",)),
    (WANTS_MULTILINE, ("draft/multiline", "batch"))))
NO_UPPER_BOUND = 1 << 62  # larger than any event id: "no upper bound" in history queries


def variant_for(caps: frozenset[str]) -> int:
    """The variant (WANTS_* bits) of a client with these capabilities."""
    return sum(bit for bit, needed in _VARIANT_CAPS if needed <= caps)


def history_owner(account: str | None, boot_id: int, conn_id: int) -> str:
    """Whose private history a client writes and reads (docs/history.md): its account once it
    is logged in ("~account", folded), else its connection alone ("!<boot id>.<conn id>", which
    no later connection can have, even after a restart). Never a nick: whoever takes a nick
    after its owner left must not read the owner's private conversations. Neither '~' nor '!'
    may start a nick, and channel timelines start with '#': no key collides with another."""
    if account:
        return "~" + casefold(account)
    return f"!{boot_id}.{conn_id}"


def private_timeline(owner: str, other_nick: str) -> str:
    """The timeline key under which `owner` (history_owner) finds its conversation with the
    nick `other_nick`: so each owner's conversations are one index range ("~alice ...")."""
    return f"{owner} {casefold(other_nick)}"


def owner_of_timeline(conv: str) -> str | None:
    """The owner (history_owner) of a private timeline key, or None for a channel's (or for a
    private key of chatd before accounts, keyed by nick, which is served to nobody)."""
    if conv[:1] in ("~", "!"):
        return conv.split(" ", 1)[0]
    return None


def private_timelines(sender_owner: str, sender_nick: str, recipient_owner: str,
                      recipient_nick: str) -> tuple[str, ...]:
    """Timeline keys of a private message: the sender's and the recipient's (once, when a
    client writes to itself)."""
    mine = private_timeline(sender_owner, recipient_nick)
    theirs = private_timeline(recipient_owner, sender_nick)
    return (mine,) if mine == theirs else (mine, theirs)


def redact_text(event_id: int, reason: str) -> str:
    """A REDACT event's text: the redacted message's id, then the reason if there is one."""
    return f"{event_id} :{reason}" if reason else str(event_id)


def redacted_id(text: str) -> int:
    """The id of the message a REDACT event's text names."""
    return int(text.split(" ", 1)[0])


def relevant_bits(kind: str, account: str, tags: str = "") -> int:
    """The variant bits that change this event's line: a recipient's variant & this picks the
    line it gets, so clients whose caps make no difference here share one formatting (an
    account-tag client gets the plain line from a sender that is not logged in)."""
    bits = WANTS_TIME | WANTS_TAGS
    if account:
        bits |= WANTS_ACCOUNT
    if kind == "JOIN":
        bits |= WANTS_EXTENDED_JOIN
    if MULTILINE_TAG in tags:  # may be a client tag's text: then one formatting too many
        bits |= WANTS_MULTILINE
    return bits


def split_stored_tags(tags: str) -> tuple[str, tuple[int, ...] | None]:
    """(the client tags, the offsets of MULTILINE_TAG) of an event's tag section; offsets
    None: not a multi-line message."""
    if MULTILINE_TAG not in tags:
        return tags, None
    client_tags, _, last = tags.rpartition(";")
    key, _, value = last.partition("=")
    if key != MULTILINE_TAG:
        return tags, None
    return client_tags, tuple(int(word) for word in value.split(",")
                              if word.isascii() and word.isdigit())


def format_event(kind: str, source: str, target: str, text: str, extended_join: bool = False,
                 account: str = "") -> str:
    """The IRC line (without tags and CRLF) for an event. `extended_join`: the JOIN carries
    the account and realname (ircv3.net/specs/extensions/extended-join). The master fits a
    text to its line before storing it (fit_event_text); a text still too long, from a row
    stored before it did, is cut here at a character boundary, so no line passes 512 bytes."""
    line = _event_line_body(kind, source, target, text, extended_join, account)
    excess = len(line.encode("utf-8")) - MAX_BODY_NO_CRLF_BYTES
    if excess > 0:
        line = _event_line_body(kind, source, target, _shortened(text, excess), extended_join,
                                account)
    return line


def fit_event_text(kind: str, source: str, target: str, text: str, account: str = "",
                   mark: str = "") -> str:
    """`text` as long as it may be in this event: so that its longest line (the extended
    JOIN, with the account) fits 512 bytes with CRLF, whoever receives it. Cut at a character
    boundary, with `mark` after the cut. The master stores a JOIN's realname, a PART or QUIT
    reason and a topic fitted this way, so each line the event is ever sent as (live, echoed,
    replayed) holds what is stored; a PRIVMSG or NOTICE that does not fit is refused instead
    (417: cutting it would lose text the sender was told was sent)."""
    line = _event_line_body(kind, source, target, text, True, account)
    excess = len(line.encode("utf-8")) - MAX_BODY_NO_CRLF_BYTES
    if excess <= 0:
        return text
    return _shortened(text, excess + len(mark.encode("utf-8"))) + mark


def _shortened(text: str, excess_bytes: int) -> str:
    return truncate_utf8(text, max(len(text.encode("utf-8")) - excess_bytes, 0))


def _event_line_body(kind: str, source: str, target: str, text: str, extended_join: bool,
                     account: str) -> str:
    if kind in ("PRIVMSG", "NOTICE", "TOPIC"):
        return f":{source} {kind} {target} :{text}"
    if kind == "JOIN" and extended_join:
        return f":{source} JOIN {target} {account or '*'} :{text}"
    if kind in ("JOIN", "NICK", "TAGMSG"):
        return f":{source} {kind} {target}"
    if kind == "PART":
        return f":{source} PART {target} :{text}" if text else f":{source} PART {target}"
    if kind == "QUIT":
        return f":{source} QUIT :{text}"
    if kind in ("MODE", "KICK", "REDACT"):
        return f":{source} {kind} {target} {text}"
    raise ValueError(f"unknown event kind {kind!r}")


def tag_section(variant: int, event_id: int, ts_ms: int, client_tags: str,
                extra: str = "", account: str = "", msgid: bool = True) -> str:
    """The tag section ('@...' and a space, or '') of an event line for a recipient whose
    capabilities give `variant`. `extra` tags (batch=, label=) come first. `msgid`: False on
    the lines after the first of a multi-line message's fallback (chatd/multiline.py)."""
    parts = [extra] if extra else []
    if variant & WANTS_TIME:
        parts.append(f"time={format_server_time(ts_ms)}")
    if account and variant & WANTS_ACCOUNT:
        parts.append(f"account={escape_tag_value(account)}")  # a nick may hold a backslash
    if variant & WANTS_TAGS:
        if msgid:
            parts.append(f"msgid={event_id}")
        if client_tags:
            parts.append(client_tags)
    return "@" + ";".join(parts) + " " if parts else ""



def event_line(row: tuple, variant: int, extra_tags: str = "") -> str:
    """A stored event row as a line for a recipient with `variant` (no CRLF). A row without
    its account (7 fields) is one from a sender that was not logged in. A multi-line message
    is sent as its lines by chatd/multiline.py; here it is one line (its line feeds as
    spaces), so that no caller can ever send a line feed inside a line."""
    account = row[ACCOUNT] if len(row) > ACCOUNT else ""
    tags, text = row[TAGS], row[TEXT]
    if MULTILINE_TAG in tags:
        tags = split_stored_tags(tags)[0]
    if "\n" in text:
        text = text.replace("\n", " ")
    return (tag_section(variant, row[ID], row[TS], tags, extra_tags, account)
            + format_event(row[KIND], row[SOURCE], row[TARGET], text,
                           bool(variant & WANTS_EXTENDED_JOIN), account))


def replay_text(kind: str, text: str, ts_ms: int) -> str:
    """Text of a replayed message for a client without server-time: the original time is
    written in front of the text, as '[2026-11-25 18:57 UTC] ', so a plain client shows it.
    A CTCP ACTION (/me) keeps its framing and gets the time inside it."""
    stamp = time.strftime("[%Y-%m-%d %H:%M UTC] ", time.gmtime(ts_ms // 1000))
    if kind in MESSAGE_KINDS and text.startswith(ACTION_PREFIX):
        return ACTION_PREFIX + stamp + text[len(ACTION_PREFIX):]
    return stamp + text


def stamped_replay_line(row: tuple, variant: int) -> str:
    """A replayed event for a client without server-time: the original time goes in front of
    the text (replay_text). If the stamp would push the line past 512 bytes, the end of the
    text gives way, marked with an ellipsis, so the line stays legal and the cut is visible."""
    account = row[ACCOUNT] if len(row) > ACCOUNT else ""
    text = fit_event_text(row[KIND], row[SOURCE], row[TARGET],
                          replay_text(row[KIND], row[TEXT], row[TS]), account, mark="…")
    return event_line(row[:TEXT] + (text,) + row[TEXT + 1:], variant)
