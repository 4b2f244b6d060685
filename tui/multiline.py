"""Multi-line messages, IRCv3 `draft/multiline` (ircv3.net/specs/extensions/multiline): one
message of several lines travels as a batch, `BATCH +ref draft/multiline <target>`, its lines
as PRIVMSGs tagged `batch=ref`, `BATCH -ref`.

Sending: each line of the text is one PRIVMSG; a line too long for one IRC line is split at a
space, keeping the space at the end of the first piece, and the pieces after the first carry
`draft/multiline-concat` (joined without a line break). Client-only tags (our nonce) and the
label go on the opening BATCH line, never on the lines inside (the spec). The server's
`max-bytes` (REQUIRED in its capability value) and `max-lines` bound one message.

Receiving: a finished batch becomes one message whose text holds `\\n` between its lines,
with the tags of its opening line (msgid, time, label): shown, echoed and fetched from history
as one message.

Pure: text and batches in, lines and messages out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ircproto.framing import split_utf8
from ircproto.message import Message, format_message
from tui.batch import Batch

CAP = "draft/multiline"
BATCH_TYPE = "draft/multiline"
CONCAT_TAG = "draft/multiline-concat"


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_lines: int | None


def limits(value: str | None) -> Limits | None:
    """The capability's value (`max-bytes=4096,max-lines=100`); None without a usable
    max-bytes (the spec requires it: without it we cannot know what fits)."""
    tokens = dict(item.partition("=")[::2] for item in (value or "").split(",") if item)
    max_bytes, max_lines = tokens.get("max-bytes", ""), tokens.get("max-lines", "")
    if not (max_bytes.isascii() and max_bytes.isdigit()) or int(max_bytes) <= 0:
        return None
    lines = int(max_lines) if max_lines.isascii() and max_lines.isdigit() else None
    return Limits(int(max_bytes), lines or None)


def can_send(caps: set[str], offered: str | None, text: str, budget: int) -> bool:
    """Can `text` go as one multi-line message, with these capabilities enabled and this
    value offered for draft/multiline?"""
    bounds = limits(offered)
    return {CAP, "batch"} <= caps and bounds is not None and fits(text, budget, bounds)


def pieces(text: str, budget: int) -> list[tuple[str, bool]]:
    """The lines to send for `text`, as (piece, concat with the previous)."""
    out: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        for i, piece in enumerate(split_utf8(line, budget) if line else [""]):
            out.append((piece, i > 0))
    return out


def fits(text: str, budget: int, bounds: Limits) -> bool:
    """Can `text` go as one multi-line message within the server's limits? (Each line
    break counts one byte toward max-bytes; blank lines only are no message.)"""
    if not text.strip():
        return False
    if len(text.encode("utf-8")) > bounds.max_bytes:
        return False
    return bounds.max_lines is None or len(pieces(text, budget)) <= bounds.max_lines


def batch_lines(ref: str, command: str, target: str, text: str, budget: int,
                tags: dict[str, str]) -> list[str]:
    """The lines that send `text` as one multi-line message (`tags`: label, nonce)."""
    out = [format_message(Message("BATCH", (f"+{ref}", BATCH_TYPE, target), tags=tags))]
    for piece, concat in pieces(text, budget):
        line_tags = {"batch": ref, **({CONCAT_TAG: ""} if concat else {})}
        out.append(format_message(Message(command, (target, piece), tags=line_tags)))
    out.append(format_message(Message("BATCH", (f"-{ref}",))))
    return out


def combine(batch: Batch) -> Message | None:
    """A received multi-line batch as one PRIVMSG/NOTICE (None if it holds none)."""
    lines = [m for m in batch.messages() if m.command in ("PRIVMSG", "NOTICE")]
    if not lines:
        return None
    text = ""
    for i, msg in enumerate(lines):
        if i and CONCAT_TAG not in msg.tags:
            text += "\n"
        text += msg.param(1) or ""
    first = lines[0]
    tags = {**first.tags, **batch.tags}  # the opening line's msgid, time, label win
    tags.pop("batch", None)
    target = batch.params[0] if batch.params else first.param(0) or ""
    return Message(first.command, (target, text), first.source, tags)


def messages_of(batch: Batch) -> list[Message]:
    """The messages of a batch (a history page) in order, a nested multi-line batch as one
    message; other nested batches are left out."""
    out: list[Message] = []
    for item in batch.items:
        if isinstance(item, Message):
            out.append(item)
        elif item.type == BATCH_TYPE:
            combined = combine(item)
            if combined is not None:
                out.append(combined)
    return out
