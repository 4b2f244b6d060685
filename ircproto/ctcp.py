"""CTCP framing inside PRIVMSG/NOTICE text (modern.ircdocs.horse/ctcp): `\x01VERB args\x01`.
Pure."""

from __future__ import annotations

DELIM = "\x01"
ACTION_PREFIX = DELIM + "ACTION "  # /me: "\x01ACTION waves\x01"



def split_ctcp(text: str) -> tuple[str, str] | None:
    """(VERB, arguments) of a CTCP message, or None if `text` is not one. The closing
    delimiter is optional, as many clients leave it out."""
    if not text.startswith(DELIM):
        return None
    body = text[1:-1] if text.endswith(DELIM) and len(text) > 1 else text[1:]
    verb, _, args = body.partition(" ")
    return verb.upper(), args
