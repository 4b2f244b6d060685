"""IRCv3 labeled-response and batch framing of a response, on encoded lines. Pure.

labeled-response (ircv3.net/specs/extensions/labeled-response): the label a client put on a
command goes on exactly one message of the response — the only line if there is one, an ACK
if there is none, or the start of a `labeled-response` batch wrapping several lines. Without
the batch capability we can only label the first line.
"""

from __future__ import annotations

from ircproto.message import escape_tag_value


def add_tag(line: bytes, tag: bytes) -> bytes:
    """Put `tag` (b"key=value") first in an encoded line's tag section."""
    if line.startswith(b"@"):
        return b"@" + tag + b";" + line[1:]
    return b"@" + tag + b" " + line


def has_batch_tag(line: bytes) -> bool:
    if not line.startswith(b"@"):
        return False
    tags = line[1:line.find(b" ")]
    return any(t.startswith(b"batch=") for t in tags.split(b";"))


def wrap_batch(lines: list[bytes], ref: str, server: str, batch_type: str,
               first_tag: bytes = b"") -> list[bytes]:
    """Lines inside a batch: BATCH +ref, each line tagged batch=ref (lines already in a
    nested batch keep their own tag), BATCH -ref."""
    start = f":{server} BATCH +{ref} {batch_type}\r\n".encode()
    if first_tag:
        start = add_tag(start, first_tag)
    tag = f"batch={ref}".encode()
    inner = [line if has_batch_tag(line) else add_tag(line, tag) for line in lines]
    return [start, *inner, f":{server} BATCH -{ref}\r\n".encode()]


def label_response(lines: list[bytes], label: str, server: str, batch_ref: str | None) -> list[bytes]:
    """Apply a label to a whole response. `batch_ref` is None when the client lacks `batch`."""
    tag = f"label={escape_tag_value(label)}".encode()
    if not lines:
        return [add_tag(f":{server} ACK\r\n".encode(), tag)]
    if len(lines) == 1 or batch_ref is None:
        return [add_tag(lines[0], tag), *lines[1:]]
    if _is_one_batch(lines):
        # The response is already a single batch (CHATHISTORY; a multiline message's echo,
        # whose label the multiline spec puts on its BATCH +): label its start line.
        return [add_tag(lines[0], tag), *lines[1:]]
    return wrap_batch(lines, batch_ref, server, "labeled-response", tag)


def _is_one_batch(lines: list[bytes]) -> bool:
    """Whether the lines are exactly one batch: BATCH +ref (whose tags, a multiline echo's
    time and msgid, may be there, but no batch tag), lines tagged batch=, BATCH -ref."""
    first, last = lines[0], lines[-1]
    start, end = _batch_words(first), _batch_words(last)
    if has_batch_tag(first) or start is None or end is None or start[:1] != b"+":
        return False
    return end == b"-" + start[1:] and all(has_batch_tag(line) for line in lines[1:-1])


def _batch_words(line: bytes) -> bytes | None:
    """The first parameter of a BATCH line (b"+ref", b"-ref"); None for any other line."""
    words = line.rstrip(b"\r\n").split(b" ")
    if words[0].startswith(b"@"):
        words = words[1:]
    if words and words[0].startswith(b":"):
        words = words[1:]
    return words[1] if len(words) >= 2 and words[0] == b"BATCH" else None


class LabelCapture:
    """The response to one labeled command, collected until it is complete and can be
    labeled as a whole. The session captures what it answers itself; the worker captures what
    the master sends between LABEL_START and LABEL_END (each connection has one of each, as
    the two can be open at once)."""

    __slots__ = ("label", "_chunks")

    def __init__(self) -> None:
        self.label: str | None = None  # None: not capturing
        self._chunks: list[bytes] = []

    @property
    def capturing(self) -> bool:
        return self.label is not None

    def start(self, label: str) -> None:
        self.label, self._chunks = label, []

    def add(self, chunk: bytes) -> None:
        """Encoded output: one or more CRLF-terminated lines."""
        self._chunks.append(chunk)

    def finish(self) -> tuple[str, list[bytes]]:
        """Stop capturing; the label and what was captured, one line per item."""
        label, chunks = self.label, self._chunks
        assert label is not None, "finish() without start()"
        self.label, self._chunks = None, []
        return label, _split_lines(chunks)

    def discard(self) -> None:
        self.label, self._chunks = None, []


def _split_lines(chunks: list[bytes]) -> list[bytes]:
    """Encoded chunks (each one or more CRLF-terminated lines) as single lines."""
    lines = []
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            end = chunk.index(b"\r\n", start) + 2
            lines.append(chunk[start:end])
            start = end
    return lines
