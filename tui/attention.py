"""What asks for the user's attention in a buffer: which lines count as unread (and which of
those as mentions), where the user stopped reading (`Buffer.read_time`, a server time, synced
with MARKREAD across devices) and the `— new —` line that shows it, and which arriving lines
ring the bell.

Functions of one buffer; `tui.state` calls them as lines arrive and as the user switches
buffers, the read-marker part of the session when the server moves the read position. Pure.
"""

from __future__ import annotations

from datetime import datetime

from tui.buffer import CHAT_KINDS, Buffer, BufferKind, Delivery, Kind, Line

MARKER = "new"  # the label of the divider line, drawn "— new —"


def counts(buf: Buffer, line: Line) -> bool:
    """A line someone else wrote, in a conversation (the server buffer's notices count only
    when they name us)."""
    if line.kind not in CHAT_KINDS or line.own:
        return False
    return buf.kind != BufferKind.SERVER or line.mention


def is_unread(buf: Buffer, line: Line) -> bool:
    return counts(buf, line) and (buf.read_time is None or line.time > buf.read_time)


def alerts(buf: Buffer, line: Line) -> bool:
    """A live line that deserves the bell: it names us, or it is a private message."""
    return counts(buf, line) and not line.history and (
        line.mention or buf.kind == BufferKind.QUERY)


def count(buf: Buffer, line: Line) -> None:
    buf.unread += 1
    if line.mention or buf.kind == BufferKind.QUERY:
        buf.mentions += 1


def recount(buf: Buffer) -> None:
    """Unread and mention counts from the read position (after it moved, or a page came)."""
    if buf.read_time is None:
        return
    buf.unread = buf.mentions = 0
    for line in buf.lines:
        if is_unread(buf, line):
            count(buf, line)


def place_marker(buf: Buffer) -> None:
    """Put the `— new —` line above the first unread line, if the buffer shows anything
    read before it (a marker on top of a buffer says nothing)."""
    buf.remove(buf.marker)
    buf.marker = None
    if buf.read_time is None or buf.kind == BufferKind.SERVER:
        return
    read_before = False
    for pos, line in enumerate(buf.lines):
        if line.kind not in CHAT_KINDS:
            continue
        if is_unread(buf, line):
            if read_before:
                insert_marker(buf, pos)
            return
        read_before = True


def insert_marker(buf: Buffer, pos: int) -> None:
    marker = Line(buf.lines[pos].time, Kind.DIVIDER, MARKER)
    buf.insert(pos, [marker])
    buf.marker = marker


def wants_marker(buf: Buffer) -> bool:
    """Whether a first unread live line arriving now should get a marker above it."""
    return buf.marker is None and buf.kind != BufferKind.SERVER and any(
        line.kind in CHAT_KINDS for line in reversed(buf.lines))


def read_time_of(buf: Buffer) -> datetime | None:
    """The server time of the newest message the user has seen in `buf`: the bottom of the
    view (the newest line when the view follows the end)."""
    end = len(buf.lines)
    if buf.anchor is not None:
        end = min(end, buf.anchor.line - buf.first_index + 1)
    for line in reversed(buf.lines[:max(end, 0)]):
        # Our own lines not yet stored carry our clock, not the server's: not a position.
        if line.kind in CHAT_KINDS and line.delivery in (None, Delivery.SENT):
            return line.time
    return None


def move_read(buf: Buffer, when: datetime | None) -> bool:
    """Move the read position forward (never back); True if it moved."""
    if when is None or (buf.read_time is not None and when <= buf.read_time):
        return False
    buf.read_time = when
    return True


def leave(buf: Buffer) -> None:
    """The user stops looking at `buf`: what the view reached is read, the marker goes."""
    move_read(buf, read_time_of(buf))
    buf.remove(buf.marker)
    buf.marker = None
