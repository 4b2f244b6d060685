"""Turning a byte stream into IRC lines, with the protocol's length limits enforced.

Limits (modern.ircdocs.horse "Message format", IRCv3 message-tags): the part of a line after
the tags may be at most 512 bytes including CRLF; the tag section at most 8191 bytes. A line
over a limit is reported as `LineTooLong` (the server answers 417 ERR_INPUTTOOLONG) and its
bytes are discarded up to the next LF, so a peer can never make the buffer grow without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 512  # including CRLF
MAX_BODY_NO_CRLF_BYTES = MAX_BODY_BYTES - 2  # what a line may hold besides its tags and CRLF
MAX_TAGS_BYTES = 8191  # including the '@' and the trailing space
# Longest a well-formed line can be before we know it is too long.
MAX_LINE_BYTES = MAX_BODY_BYTES + MAX_TAGS_BYTES


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """Marker returned in place of a line that broke a length limit."""

    length: int


class LineReader:
    """Accumulates received bytes and yields complete lines (without CR/LF).

    With `cr_ends_line` (the server's side), a bare CR also ends a line, as RFC 1459 section
    8.2 has servers do: otherwise a CR inside a client's line would be relayed to other
    clients, and those that split on CR would read the rest as a separate, forged line."""

    def __init__(self, max_body_bytes: int = MAX_BODY_BYTES, max_tags_bytes: int = MAX_TAGS_BYTES,
                 cr_ends_line: bool = False):
        self._cr_ends_line = cr_ends_line
        self._buf = bytearray()
        self._discarding = False  # inside a too-long line, waiting for its LF
        self._discarded = 0
        self._max_body = max_body_bytes - 2  # without CRLF
        self._max_tags = max_tags_bytes
        self._max_line = max_body_bytes + max_tags_bytes

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete line held so far (bounded by the line limit)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        """Add received bytes; return the complete lines now available, in order."""
        out: list[bytes | LineTooLong] = []
        if self._cr_ends_line:
            data = data.replace(b"\r", b"\n")  # CRLF becomes an empty line, which is skipped
        self._buf += data
        start = 0
        buf = self._buf
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            if self._discarding:
                out.append(LineTooLong(self._discarded + nl - start))
                self._discarding = False
                self._discarded = 0
            else:
                line = bytes(buf[start:nl])
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line:
                    out.append(self._check(line))
            start = nl + 1
        del buf[:start]
        if len(buf) > self._max_line:
            # No LF within the largest legal line: drop what we have and skip to the next LF.
            self._discarding = True
            self._discarded += len(buf)
            buf.clear()
        elif self._discarding:
            self._discarded += len(buf)
            buf.clear()
        return out

    def _check(self, line: bytes) -> bytes | LineTooLong:
        if line.startswith(b"@"):
            space = line.find(b" ")
            tags_len = space + 1 if space >= 0 else len(line)
            if tags_len > self._max_tags or len(line) - tags_len > self._max_body:
                return LineTooLong(len(line))
        elif len(line) > self._max_body:
            return LineTooLong(len(line))
        return line


def decode_line(line: bytes) -> str:
    """Decode a received line. UTF-8 is the protocol's encoding; a line that is not valid
    UTF-8 is taken as Latin-1 (what legacy clients send), so no byte is lost or crashes us.
    NUL is never legal in IRC and is dropped."""
    if b"\x00" in line:
        line = line.replace(b"\x00", b"")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def encode_line(line: str) -> bytes:
    """Encode an outgoing line (without CRLF) and terminate it."""
    return line.encode("utf-8", "replace") + b"\r\n"


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that fits in `max_bytes` of UTF-8, never splitting a
    character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """Split `text` into pieces of at most `max_bytes` UTF-8 bytes each, preferring to break
    after a space, never inside a character. Used to send long input as several messages."""
    pieces = []
    while len(text.encode("utf-8")) > max_bytes:
        head = truncate_utf8(text, max_bytes)
        if not head:  # the next character alone is over the budget: no progress is possible
            raise ValueError(f"max_bytes={max_bytes} is too small for {text[0]!r}")
        cut = head.rfind(" ")
        if cut > len(head) // 2:
            head = head[: cut + 1]
        pieces.append(head)
        text = text[len(head):]
    if text or not pieces:
        pieces.append(text)
    return pieces


def pack_words(words: str, max_bytes: int) -> list[str]:
    """Pack space-separated words into as few pieces of at most `max_bytes` UTF-8 bytes as
    they fit in, keeping their order and breaking only between words (a word over the
    budget gets a piece of its own). Used for NAMES, where a channel of thousands of members
    is packed on every JOIN: the ASCII case cuts at spaces found by str.rfind, without a
    Python step per word."""
    if not words:
        return []
    if not words.isascii():
        return _pack_words_slowly(words.split(" "), max_bytes)
    pieces = []
    pos, end = 0, len(words)
    while end - pos > max_bytes:
        cut = words.rfind(" ", pos, pos + max_bytes + 1)
        if cut <= pos:  # the next word alone is over the budget
            cut = words.find(" ", pos + 1)
            if cut < 0:
                break
        pieces.append(words[pos:cut])
        pos = cut + 1
    pieces.append(words[pos:])
    return pieces


def _pack_words_slowly(words: list[str], max_bytes: int) -> list[str]:
    pieces, piece, used = [], [], -1  # -1: the first word needs no separating space
    for word in words:
        size = len(word.encode("utf-8")) + 1
        if piece and used + size > max_bytes:
            pieces.append(" ".join(piece))
            piece, used = [], -1
        piece.append(word)
        used += size
    if piece:
        pieces.append(" ".join(piece))
    return pieces
