"""Stored events: their tuple layout, the history timelines they belong to, and how one is
written as an IRC line. Pure: used by the master (live delivery), workers (replay) and the
writer (storage), so a replayed message reads exactly like the live one did.

An event is a plain tuple (it crosses processes with marshal, which takes no subclasses):
    (id, ts_ms, kind, source, target, text)
kind is the IRC command (PRIVMSG, NOTICE, JOIN, PART, QUIT, NICK, TOPIC); source is the
sender's nick!user@host; target is the channel or nick addressed (for NICK: the new nick).
"""

from __future__ import annotations

import time

from chatd.irc.casemap import casefold

ID, TS, KIND, SOURCE, TARGET, TEXT = range(6)

MESSAGE_KINDS = ("PRIVMSG", "NOTICE")
STORED_KINDS = ("PRIVMSG", "NOTICE", "JOIN", "PART", "QUIT", "NICK", "TOPIC")


def private_timeline(nick_a: str, nick_b: str) -> str:
    """The timeline key of a private conversation: both nicks, folded and sorted, so either
    participant finds it. Channel timelines are the folded channel name (always starts
    with '#', so the two kinds never collide)."""
    a, b = sorted((casefold(nick_a), casefold(nick_b)))
    return f"{a} {b}"


def format_event(kind: str, source: str, target: str, text: str) -> str:
    """The IRC line (without tags and CRLF) for an event."""
    if kind in ("PRIVMSG", "NOTICE", "TOPIC"):
        return f":{source} {kind} {target} :{text}"
    if kind == "JOIN" or kind == "NICK":
        return f":{source} {kind} {target}"
    if kind == "PART":
        return f":{source} PART {target} :{text}" if text else f":{source} PART {target}"
    if kind == "QUIT":
        return f":{source} QUIT :{text}"
    raise ValueError(f"unknown event kind {kind!r}")


def server_time(ts_ms: int) -> str:
    """IRCv3 server-time format: ISO 8601 UTC with milliseconds, e.g. 2026-11-25T18:57:25.123Z."""
    seconds, millis = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def tag_prefix(event_id: int, ts_ms: int) -> str:
    """The tag section (with '@' and trailing space) carrying an event's time and id."""
    return f"@time={server_time(ts_ms)};msgid={event_id} "


def replay_text(kind: str, text: str, ts_ms: int) -> str:
    """Text of a replayed message for a client without server-time: the original time is
    written in front of the text, as '[2026-11-25 18:57 UTC] ', so a plain client shows it.
    A CTCP ACTION (/me) keeps its framing and gets the time inside it."""
    stamp = time.strftime("[%Y-%m-%d %H:%M UTC] ", time.gmtime(ts_ms // 1000))
    if kind in MESSAGE_KINDS and text.startswith("\x01ACTION "):
        return "\x01ACTION " + stamp + text[len("\x01ACTION "):]
    return stamp + text
