"""Raw client lines before parsing: the parse with its limits (417, parse errors as 400),
and what the session needs to know about a line cheaply while it is still held — its command
word, whether it reads the history, what it counts against recvq. Pure."""

from __future__ import annotations

from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import LineTooLong, decode_line
from ircproto.message import Message, ProtocolError, parse

MAX_CLIENT_TAG_BYTES = 4094  # IRCv3 message-tags: a client's tag data, beyond: 417
# Each held line is counted as at least this many bytes against recvq, so recvq also bounds
# how many lines are held (256 at the default 8192) however short they are.
HELD_LINE_OVERHEAD_BYTES = 32


def parse_client_line(raw: bytes | LineTooLong) -> Message:
    if isinstance(raw, LineTooLong) or client_tag_bytes(raw) > MAX_CLIENT_TAG_BYTES:
        raise IrcError(N.ERR_INPUTTOOLONG, "Input line was too long")
    try:
        return parse(decode_line(raw))
    except ProtocolError as exc:
        raise IrcError(N.ERR_UNKNOWNERROR, "*", f"Could not parse your line: {exc}") from None


def client_tag_bytes(raw: bytes) -> int:
    """Length of the tag data a client sent (between '@' and the first space)."""
    if not raw.startswith(b"@"):
        return 0
    space = raw.find(b" ")
    return (space if space >= 0 else len(raw)) - 1


# Commands that read the history: they must see what the client sent before them stored.
HISTORY_READS = ("CHATHISTORY", "SEARCH", "REDACT")


def is_history_read(raw: bytes | LineTooLong) -> bool:
    """Whether a raw line reads the history (checked before parsing, cheaply)."""
    if isinstance(raw, LineTooLong):
        return False
    return command_of(raw) in HISTORY_READS


def held_size(raw: bytes | LineTooLong) -> int:
    """What a held line counts against recvq (fakelag.HELD_LINE_OVERHEAD_BYTES)."""
    length = raw.length if isinstance(raw, LineTooLong) else len(raw)
    return length + HELD_LINE_OVERHEAD_BYTES


def command_of(raw: bytes) -> str:
    """The command word of a raw client line, upper case, without parsing it (tags and a
    source prefix skipped); "" if there is none."""
    if raw.startswith(b"@"):
        space = raw.find(b" ")
        raw = raw[space + 1:] if space >= 0 else b""
    raw = raw.lstrip(b" ")
    if raw.startswith(b":"):  # a source prefix, which a client may send (and we ignore)
        space = raw.find(b" ")
        raw = raw[space + 1:].lstrip(b" ") if space >= 0 else b""
    word = raw.split(b" ", 1)[0][:16]
    return word.decode("ascii", "replace").upper()
