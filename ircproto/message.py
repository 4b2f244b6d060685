"""The IRC message: parse a line into a Message and format a Message back into a line.

Grammar from the modern IRC client protocol (modern.ircdocs.horse) and IRCv3 message-tags:
    [@tags SPACE] [:source SPACE] command *(SPACE param) [SPACE :trailing]
Lines here are `str` without the CRLF; bytes and framing live in `ircproto.framing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ircproto.framing import MAX_BODY_NO_CRLF_BYTES, truncate_utf8


class ProtocolError(ValueError):
    """A line that is not a well-formed IRC message."""


# IRCv3 message-tags, "Escaping values": these five characters cannot appear raw in a value.
_TAG_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


# Characters that would change how a line splits if written inside one word.
_BAD_WORD = re.compile("[ \r\n\x00]")
_BAD_TAG_KEY = re.compile("[=; \r\n\x00]")
# IRCv3 message-tags, "Format": <key> ::= ['+'] [<vendor> '/'] <letters, digits, hyphens>,
# <vendor> ::= <host> (a DNS name; non-ASCII ones in punycode, so ASCII only).
_TAG_KEY = re.compile(r"\+?(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*/)?[A-Za-z0-9-]+\Z")


def escape_tag_value(value: str) -> str:
    """Escape a tag value for the wire."""
    if not any(ch in value for ch in _TAG_ESCAPES):
        return value
    return "".join(_TAG_ESCAPES.get(ch, ch) for ch in value)


def unescape_tag_value(raw: str) -> str:
    """Undo `escape_tag_value`; per the spec an unknown escape drops the backslash and a
    trailing lone backslash is dropped."""
    if "\\" not in raw:
        return raw
    out = []
    chars = iter(raw)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, None)
        if nxt is not None:
            out.append(_TAG_UNESCAPES.get(nxt, nxt))
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    """Parse the tag section (without the leading '@'). A key without value maps to ''."""
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key:
            raise ProtocolError("empty tag key")
        tags[key] = unescape_tag_value(value)  # later duplicates win, per spec
    return tags


def is_valid_tag_key(key: str) -> bool:
    """Whether `key` is a tag key the message-tags grammar allows. The parser itself takes
    any key (the spec has receivers treat names as opaque); a server checks the keys it
    relays for clients, so a control character in a key never reaches anyone else."""
    return _TAG_KEY.match(key) is not None


def client_only_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags a server relays for a client: those with the client-only prefix '+' and a
    well-formed key. The spec has servers remove unprefixed tags; a malformed key (ESC, BEL,
    non-ASCII, an empty name) is removed the same way rather than refusing the message."""
    return {k: v for k, v in tags.items() if k.startswith("+") and is_valid_tag_key(k)}


def format_tags(tags: dict[str, str]) -> str:
    """Format tags (without the leading '@'); empty values are written as bare keys.
    Raise ValueError for a key that cannot be written (empty, or with '=', ';', space, CR, LF
    or NUL) or a value with NUL (the one character escaping cannot carry)."""
    for key, value in tags.items():
        if not key or _BAD_TAG_KEY.search(key) or "\x00" in value:
            raise ValueError(f"tag {key!r} cannot be written")
    return ";".join(k if v == "" else f"{k}={escape_tag_value(v)}" for k, v in tags.items())


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC message. `command` is upper-cased on parse; numerics stay three digits."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=True)

    def param(self, index: int, default: str | None = None) -> str | None:
        """The parameter at `index`, or `default` when there are not that many."""
        return self.params[index] if index < len(self.params) else default

    @property
    def source_nick(self) -> str | None:
        """The nick part of a `nick!user@host` source (or the whole source)."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]

    def format(self) -> str:
        return format_message(self)


def parse(line: str) -> Message:
    """Parse one line (no CRLF) into a Message; raise ProtocolError if it has no command."""
    rest = line.lstrip(" ")
    tags: dict[str, str] = {}
    source = None
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not source:
            raise ProtocolError("empty source")
    head, sep, trailing = rest.partition(" :")
    if rest.startswith(":"):  # a message that is only a trailing parameter has no command
        raise ProtocolError("missing command")
    # Only SPACE separates parameters: a tab or any other whitespace is part of a parameter
    # (modern.ircdocs.horse "Parameters"; parser-tests msg-split "tab is not considered SPACE").
    words = [w for w in head.split(" ") if w]
    if not words:
        raise ProtocolError("missing command")
    command = words[0].upper()
    params = words[1:]
    if sep:
        params.append(trailing)
    return Message(command, tuple(params), source, tags)


def as_middle_param(text: str) -> str:
    """`text` as a middle parameter of a reply, or '*' if it cannot be one (empty, starting
    with ':', or holding a space, CR, LF or NUL). Error numerics echo words a client sent
    (e.g. "NICK :a b" -> 432), and such a word must not make formatting the reply fail."""
    if not text or text[0] == ":" or any(ch in text for ch in " \r\n\x00"):
        return "*"
    return text


def format_message(msg: Message) -> str:
    """Format a Message as a line without CRLF. Raise ValueError for a message that cannot be
    written faithfully (a middle parameter with a space, or a line break anywhere)."""
    if not msg.command or _BAD_WORD.search(msg.command):
        raise ValueError(f"command {msg.command!r} cannot be written")
    if msg.source and _BAD_WORD.search(msg.source):
        raise ValueError(f"source {msg.source!r} cannot be written")
    parts = []
    if msg.tags:
        parts.append("@" + format_tags(msg.tags))
    if msg.source:
        parts.append(":" + msg.source)
    parts.append(msg.command)
    params = msg.params
    for i, p in enumerate(params):
        if "\r" in p or "\n" in p or "\x00" in p:
            raise ValueError(f"parameter {i} contains CR, LF or NUL")
        is_last = i == len(params) - 1
        if is_last and (not p or " " in p or p.startswith(":")):
            parts.append(":" + p)
        elif not p or " " in p or p.startswith(":"):
            raise ValueError(f"middle parameter {i} cannot be {p!r}")
        else:
            parts.append(p)
    return " ".join(parts)


def numeric_line(server: str, nick: str | None, code: str, *params: str) -> str:
    """A numeric reply from `server` to `nick` ('*' before it has one). Every parameter but
    the last is made a legal middle parameter (as_middle_param: replies echo words clients
    sent); the line is made to fit the 512-byte limit (fitted_line: a realname, an away text
    or a topic that was legal alone can be too long with the words around it, and so can a
    word a client sent that is echoed back, such as an unknown command)."""
    middle = (nick or "*", *(as_middle_param(p) for p in params[:-1]))
    return fitted_line(Message(code, (*middle, *params[-1:]), server))


def fitted_line(msg: Message) -> str:
    """`msg` (without tags: they have their own limit) formatted as a line that fits 512
    bytes with its CRLF. A line too long has its longest parameter cut at a character
    boundary, again until it fits: that is the trailing text when a text is what is long,
    or a word a client sent that the line echoes back. A middle parameter cut to nothing
    becomes '*' (as_middle_param). For lines the server builds; what a client sends has
    its own limit (ircproto.framing)."""
    line = format_message(msg)
    excess = len(line.encode("utf-8")) - MAX_BODY_NO_CRLF_BYTES
    params = list(msg.params)
    while excess > 0:
        longest = max(range(len(params)), key=lambda i: len(params[i].encode("utf-8")),
                      default=None)
        size = len(params[longest].encode("utf-8")) if longest is not None else 0
        if longest is None or size <= 1:
            break  # nothing left to cut: only a source or command this long (never ours)
        cut = truncate_utf8(params[longest], max(size - excess, 0))
        if longest < len(params) - 1:
            cut = as_middle_param(cut)
        params[longest] = cut
        line = format_message(Message(msg.command, tuple(params), msg.source))
        excess = len(line.encode("utf-8")) - MAX_BODY_NO_CRLF_BYTES
    return line

