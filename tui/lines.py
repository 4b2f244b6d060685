"""How received messages read as buffer lines: a PRIVMSG/NOTICE (a /me and a CTCP reply
included), a membership/topic/mode event, a line of a history page, an error reply. Pure
functions of the message, our nick and the server's mode rules; they change no buffer and send
nothing (the caller decides where a line goes, live or from history)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from ircproto.casemap import casefold, irc_equal
from ircproto.ctcp import DELIM, split_ctcp
from ircproto.message import Message
from ircproto.servertime import server_time_datetime
from tui.modes import DEFAULT_RULES, ModeRules, describe, parse_changes
from tui.state import Kind, Line

# The client tag that carries a message's idempotency nonce (see `outbox`): stored with the
# message and returned in its echo and in history.
NONCE_TAG = "+chatd/nonce"
# Characters that may be part of a nick (RFC 2812 "special"), so a mention must not touch them.
_NICK_CHARS = r"[\w\[\]\\`^{|}-]"


def with_reason(text: str, reason: str) -> str:
    return text + (f" ({reason})" if reason else "")


def event_text(msg: Message, rules: ModeRules = DEFAULT_RULES) -> str | None:
    """How a membership/topic/mode event reads in a buffer (None for other commands); `rules`
    tell which mode letters take an argument on this server."""
    nick = msg.source_nick or "server"
    command = msg.command
    if command == "JOIN":
        return f"--> {nick} joined {msg.param(0) or ''}"
    if command == "PART":
        return with_reason(f"<-- {nick} left {msg.param(0) or ''}", msg.param(1) or "")
    if command == "QUIT":
        return with_reason(f"<-- {nick} quit", msg.param(0) or "")
    if command == "NICK":
        return f"-- {nick} is now known as {msg.param(0) or ''}"
    if command == "KICK":
        return with_reason(f"<-- {msg.param(1) or ''} was kicked by {nick}", msg.param(2) or "")
    if command == "TOPIC":
        topic = msg.param(1) or ""
        return f"-- {nick} changed the topic to: {topic}" if topic else \
            f"-- {nick} cleared the topic"
    if command == "MODE":
        changes = parse_changes(msg.params[1:], rules)
        if changes is None:  # not a channel's (a user mode), or rules we do not know
            return f"-- {nick} sets mode {' '.join(msg.params[1:])}"
        return "-- " + describe(nick, changes, rules)
    return None


def error_text(params: tuple[str, ...] | list[str]) -> str:
    """An error reply (without our nick) as one line: the words it is about, then the
    server's text (`#c: You're not channel operator`, `bob #c: They aren't on that
    channel`)."""
    if len(params) < 2:
        return " ".join(params)
    return f"{' '.join(params[:-1])}: {params[-1]}"


@lru_cache(maxsize=16)
def _mention_pattern(nick: str, words: tuple[str, ...]) -> re.Pattern[str]:
    """Our nick, or any of the highlight words, as a whole word (compiled once: a busy
    channel asks for every message)."""
    names = "|".join(re.escape(casefold(w)) for w in (nick, *words) if w)
    return re.compile(rf"(?<!{_NICK_CHARS})(?:{names})(?!{_NICK_CHARS})")


def mentions(text: str, nick: str, words: tuple[str, ...] = ()) -> bool:
    """Does `text` name `nick`, or one of the highlight `words`, as a whole word (IRC case
    folding)?"""
    return _mention_pattern(nick, words).search(casefold(text)) is not None


def message_line(msg: Message, when: datetime, history: bool, my_nick: str,
                 highlights: tuple[str, ...] = (), prefix: str = "") -> Line | None:
    """A PRIVMSG/NOTICE (a /me included) as a buffer line; None for CTCP requests."""
    nick = msg.source_nick or "server"
    text = msg.param(1) or ""
    kind = Kind.MESSAGE if msg.command == "PRIVMSG" else Kind.NOTICE
    ctcp = split_ctcp(text)
    if ctcp is not None:
        verb, args = ctcp
        if msg.command == "NOTICE":
            text = "CTCP reply: " + text.strip(DELIM)  # as sent: the verb's case kept
        elif verb == "ACTION":
            kind, text = Kind.ACTION, args
        else:
            return None
    own = irc_equal(nick, my_nick)
    return Line(when, kind, text, nick=nick, prefix=prefix, own=own,
                mention=not own and mentions(text, my_nick, highlights), history=history,
                msgid=msg.tags.get("msgid", ""),
                nonce=msg.tags.get(NONCE_TAG, "") if own else "")


def history_line(msg: Message, fallback_time: datetime, my_nick: str,
                 rules: ModeRules = DEFAULT_RULES, highlights: tuple[str, ...] = ()) \
        -> Line | None:
    """A line of a history page (events only come with draft/event-playback)."""
    when = server_time_datetime(msg.tags.get("time")) or fallback_time
    if msg.command in ("PRIVMSG", "NOTICE"):
        return message_line(msg, when, True, my_nick, highlights)
    text = event_text(msg, rules)
    if text is None:
        return None  # TAGMSG and anything else without a visible form
    return Line(when, Kind.EVENT, text, history=True, msgid=msg.tags.get("msgid", ""))
