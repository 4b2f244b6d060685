"""How buffer lines and the status bar look: `HH:MM nick: text`, nick colours, event dimming,
dividers. Produces styled rows (via `layout.wrap`); curses turns styles into attributes.

Every piece of network text goes through `sanitize` here, at the last step before the screen.
Pure: no terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import tzinfo

from ircproto.casemap import casefold
from tui.layout import Row, clip, text_width, wrap
from tui.sanitize import PLAIN, Segment, Style, clean, parse_formatting
from tui.state import CHAT_KINDS, Delivery, Kind, Line

DEFAULT_TIME_FORMAT = "%H:%M"
# IRC colours that read well on dark and light backgrounds (no white/black/greys).
NICK_COLOURS = (2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13)
TIME_STYLE = Style(dim=True)
EVENT_STYLE = Style(dim=True)
ERROR_STYLE = Style(bold=True, fg=4)
OWN_NICK_STYLE = Style(bold=True)
STATUS_STYLE = Style(reverse=True)
DIVIDER_LABELS = {"live": "— live —", "new": "— new —", "start": "— start of history —",
                  "truncated": "— older messages were deleted —",
                  "gap": "— messages in between not loaded —"}
# The mark after one of our own messages: waiting (queued or written, no echo yet), not known
# to be stored (/resend), refused. A stored (echoed) message has no mark.
DELIVERY_MARKS = {
    Delivery.QUEUED: (" ⋯", Style(dim=True)),
    Delivery.PENDING: (" ⋯", Style(dim=True)),
    Delivery.UNCONFIRMED: (" ?", Style(bold=True, fg=7)),
    Delivery.FAILED: (" ✗ not sent", Style(bold=True, fg=4)),
}
PENDING_TEXT = Style(dim=True)


def nick_colour(nick: str) -> int:
    """A stable colour per nick (the same in every run, so not Python's salted hash)."""
    h = 5381
    for ch in casefold(nick):
        h = (h * 33 + ord(ch)) & 0xFFFFFFFF
    return NICK_COLOURS[h % len(NICK_COLOURS)]


def nick_style(line: Line) -> Style:
    if line.own:
        return OWN_NICK_STYLE
    style = Style(fg=nick_colour(line.nick))
    return replace(style, reverse=True) if line.mention else style


def line_segments(line: Line, tz: tzinfo | None = None,
                  time_format: str = DEFAULT_TIME_FORMAT) -> tuple[list[Segment], int]:
    """The styled text of one line and the hanging indent for its continuation rows."""
    if line.kind == Kind.RESULT:
        return parse_formatting(line.text), 0
    stamp = line.time.astimezone(tz).strftime(time_format) + " "
    head: list[Segment] = [(stamp, TIME_STYLE)]
    nick = clean(line.nick)
    waiting = line.delivery in (Delivery.QUEUED, Delivery.PENDING)
    if line.kind == Kind.MESSAGE:
        if line.prefix:  # the author's rank in the channel (`@`, `+`)
            head.append((clean(line.prefix), PLAIN))
        head += [(nick, nick_style(line)), (": ", PLAIN)]
        body = parse_formatting(line.text, PENDING_TEXT if waiting else PLAIN)
    elif line.kind == Kind.ACTION:
        head += [("* ", PLAIN), (nick, nick_style(line)), (" ", PLAIN)]
        body = parse_formatting(line.text, PENDING_TEXT if waiting else PLAIN)
    elif line.kind == Kind.NOTICE:
        head += [("-", PLAIN), (nick, nick_style(line)), ("- ", PLAIN)]
        body = parse_formatting(line.text)
    elif line.kind == Kind.EVENT:
        body = parse_formatting(line.text, EVENT_STYLE)
    elif line.kind == Kind.ERROR:
        head += [("!! ", ERROR_STYLE)]
        body = parse_formatting(line.text)
    else:
        head += [("-- ", EVENT_STYLE)]
        body = parse_formatting(line.text)
    mark = DELIVERY_MARKS.get(line.delivery) if line.delivery is not None else None
    if mark is not None:
        body = [*body, mark]
    indent = sum(text_width(t) for t, _ in head)
    return head + body, indent


def divider_row(label: str, width: int) -> Row:
    label = clean(DIVIDER_LABELS.get(label, label))
    text = f" {label} "
    room = max(width - text_width(text), 0)
    left = room // 2
    return [(clip("-" * left + text + "-" * (room - left), width), EVENT_STYLE)]


def line_rows(line: Line, width: int, tz: tzinfo | None = None,
              time_format: str = DEFAULT_TIME_FORMAT) -> tuple[Row, ...]:
    """The rows one line occupies at `width` columns."""
    if line.kind == Kind.DIVIDER:
        return (divider_row(line.text, width),)
    if "\n" in line.text and line.kind in CHAT_KINDS:
        return paragraph_rows(line, width, tz, time_format)
    segments, indent = line_segments(line, tz, time_format)
    return tuple(wrap(segments, width, indent))


def paragraph_rows(line: Line, width: int, tz: tzinfo | None = None,
                   time_format: str = DEFAULT_TIME_FORMAT) -> tuple[Row, ...]:
    """A message of several lines (IRCv3 multiline): its first line after the author as
    usual, each next one on rows of its own at the same indent, the delivery mark last."""
    first, *rest = line.text.split("\n")
    mark = DELIVERY_MARKS.get(line.delivery) if line.delivery is not None else None
    segments, indent = line_segments(replace(line, text=first), tz, time_format)
    rows = wrap(segments[:-1] if mark is not None else segments, width, indent)  # mark: last
    pad = min(indent, max(width, 2) // 2)  # wrap caps a hanging indent the same way
    waiting = line.delivery in (Delivery.QUEUED, Delivery.PENDING)
    base = PENDING_TEXT if waiting and line.kind != Kind.NOTICE else PLAIN
    for i, paragraph in enumerate(rest):
        body = parse_formatting(paragraph, base)
        if mark is not None and i == len(rest) - 1:
            body.append(mark)
        rows += [[(" " * pad, PLAIN), *row] for row in wrap(body, width - pad)]
    return tuple(rows)


class RowCache:
    """The rows of the lines drawn lately, at one width and time format: a redraw of an
    unchanged line costs a dict lookup. Lines are immutable, so a line is its own key — by
    identity, which is cheap, where hashing a dataclass of eleven fields is not."""

    def __init__(self, tz: tzinfo | None = None, time_format: str = DEFAULT_TIME_FORMAT,
                 max_lines: int = 20_000):
        self.tz, self.time_format, self.max_lines = tz, time_format, max_lines
        self._width = 0
        self._rows: dict[int, tuple[Line, tuple[Row, ...]]] = {}

    def rows(self, line: Line, width: int) -> tuple[Row, ...]:
        if width != self._width:
            self._rows.clear()
            self._width = width
        hit = self._rows.get(id(line))
        if hit is not None and hit[0] is line:  # the entry holds the line: its id is its own
            return hit[1]
        rows = line_rows(line, width, self.tz, self.time_format)
        if len(self._rows) >= self.max_lines:
            self._rows.clear()
        self._rows[id(line)] = (line, rows)
        return rows


def status_row(width: int, *, connection: str, nick: str, buffer_number: int,
               buffer_name: str, users: int | None,
               activity: Sequence[tuple[int, str, bool]],
               more_below: int | None, unsent: int = 0, loading: bool = False,
               parted: bool = False, notes: tuple[str, ...] = ()) -> Row:
    """The status bar: connection, nick, current buffer and its user count (or `parted`: a
    channel we were kicked from, still readable), messages of ours
    not yet confirmed stored, history being fetched, activity in the other buffers (`!` marks
    a mention or private message), a scrolled-up notice, and `notes` (away, who is typing)."""
    parts: list[Segment] = [(f" {connection} ", STATUS_STYLE), ("|", STATUS_STYLE),
                            (f" {clean(nick)} ", replace(STATUS_STYLE, bold=True)),
                            ("|", STATUS_STYLE)]
    where = f" {buffer_number}:{clean(buffer_name)}"
    if users is not None:
        where += f" ({users} user{'s' if users != 1 else ''})"
    elif parted:
        where += " (parted)"
    parts.append((where + " ", STATUS_STYLE))
    parts += [(f"| {clean(note)} ", STATUS_STYLE) for note in notes]
    if unsent:
        parts.append((f"| ⋯{unsent} pending ", replace(STATUS_STYLE, bold=True)))
    if loading:
        parts.append(("| loading history ", STATUS_STYLE))
    if more_below is not None:
        more = f"| -- more below ({more_below} new) -- " if more_below else "| -- more below -- "
        parts.append((more, replace(STATUS_STYLE, bold=True)))
    if activity:
        parts.append(("| act:", STATUS_STYLE))
        for number, name, mention in activity:
            label = f" {number}:{clean(name)}" + ("!" if mention else "")
            parts.append((label, replace(STATUS_STYLE, bold=mention)))
        parts.append((" ", STATUS_STYLE))
    # Clip to the width, then pad so the bar spans the whole row.
    row: Row = []
    used = 0
    for text, style in parts:
        piece = clip(text, width - used)
        if piece:
            row.append((piece, style))
            used += text_width(piece)
        if used >= width:
            break
    if used < width:
        row.append((" " * (width - used), STATUS_STYLE))
    return row
