"""Measuring and wrapping text in terminal columns, and choosing which rows a pane shows.

Width rules follow what terminals do (wcwidth): East Asian Wide/Fullwidth characters (CJK,
most emoji) take two columns, combining marks and other zero-width characters take none and
stay attached to the character before them, so a cluster is never split across rows.

Scrolling is expressed with an `Anchor` (which row of which line sits at the bottom of the
pane), not a row offset, so lines arriving while the user reads older ones do not move the view,
and a resize keeps the same line in view.

Pure: strings and numbers in, rows out. No curses here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from tui.sanitize import Segment, Style

Row = list[Segment]


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    """Columns one (already sanitized) character occupies."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0  # combining marks, ZWJ, variation selectors ride on the previous character
    if 0x1160 <= ord(ch) <= 0x11FF:
        return 0  # Hangul medial vowels/final consonants join the preceding syllable
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def text_width(text: str) -> int:
    """Columns a string occupies."""
    return sum(char_width(ch) for ch in text)


def clip(text: str, width: int) -> str:
    """The longest prefix of `text` that fits in `width` columns (clusters kept whole)."""
    out = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    # Drop combining marks whose base did not fit (they were appended after it broke).
    return "".join(out)


def _cells(segments: list[Segment]) -> list[tuple[str, int, Style]]:
    """Split segments into grapheme-ish cells: a base character plus its zero-width marks."""
    cells: list[tuple[str, int, Style]] = []
    for text, style in segments:
        for ch in text:
            w = char_width(ch)
            if w == 0 and cells:
                t, cw, st = cells[-1]
                cells[-1] = (t + ch, cw, st)
            elif w == 0:
                continue  # a mark with nothing to sit on: dropping it keeps widths honest
            else:
                cells.append((ch, w, style))
    return cells


def _merge(cells: list[tuple[str, int, Style]]) -> Row:
    """Cells back into segments: neighbours of one style (most often the very same object,
    which is cheaper to check than equal styles) join."""
    row: Row = []
    texts: list[str] = []
    current: Style | None = None
    for text, _, style in cells:
        if current is not None and (style is current or style == current):
            texts.append(text)
            continue
        if current is not None:
            row.append(("".join(texts), current))
        texts, current = [text], style
    if current is not None:
        row.append(("".join(texts), current))
    return row


def _breaks_between(before: tuple[str, int, Style], after: tuple[str, int, Style]) -> bool:
    """A line may break between two cells when one of them is wide: CJK text has no spaces,
    and may break between any two ideographs (Unicode line breaking, UAX #14 class ID)."""
    return (before[1] == 2 or after[1] == 2) and before[0] != " " and after[0] != " "


def wrap(segments: list[Segment], width: int, indent: int = 0) -> list[Row]:
    """Wrap styled text to `width` columns. Continuation rows start with `indent` spaces (a
    hanging indent, capped at half the width so narrow terminals still show text). Breaks
    after a space or next to a wide (CJK) character when the row has one, else mid-word; never
    within the first `indent` columns of the first row (the time and nick a message starts
    with), which would leave that row without text."""
    width = max(width, 2)
    indent = max(0, min(indent, width // 2))
    if sum(len(text) for text, _ in segments) <= width and all(
            text.isascii() and text.isprintable() for text, _ in segments):
        return [[segment for segment in segments if segment[0]]]  # one row, as it is
    cells = _cells(segments)
    rows: list[Row] = []
    avail = width
    start = 0
    keep = indent  # the first row breaks only after this many columns
    while start < len(cells):
        used = 0
        end = start
        best = -1  # the last place the row may end (an index into cells), -1: none yet
        while end < len(cells) and used + cells[end][1] <= avail:
            if end > start and used > keep and _breaks_between(cells[end - 1], cells[end]):
                best = end
            used += cells[end][1]
            end += 1
            if cells[end - 1][0] == " " and used > keep:
                best = end  # keep the space on this row; it is invisible at the end
        if end < len(cells) and used > keep and (
                cells[end][0] == " " or _breaks_between(cells[end - 1], cells[end])):
            best = end  # the row is full exactly where it may end
        if end < len(cells) and best > start:
            end = best
        if end == start:
            end = start + 1  # a wide character wider than the row: place it anyway
        row = _merge(cells[start:end])
        if rows and indent:
            row.insert(0, (" " * indent, Style()))
        rows.append(row)
        start = end
        if start < len(cells) and cells[start][0] == " ":
            start += 1  # the break consumed one space
        avail = width - indent
        keep = 0
    return rows or [[]]


@dataclass(frozen=True, slots=True)
class Anchor:
    """The bottom row of a scrolled pane: row `row` of the line with absolute index `line`."""

    line: int
    row: int


RowsOf = Callable[[int], list[Row]]  # absolute line index -> its rows at the current width


def _step_back(rows_of: RowsOf, first: int, pos: Anchor, n: int) -> Anchor:
    line, row = pos.line, pos.row
    while n > 0:
        if row >= n:
            return Anchor(line, row - n)
        n -= row + 1
        if line - 1 < first:
            return Anchor(line, 0)
        line -= 1
        row = len(rows_of(line)) - 1
    return Anchor(line, row)


def _step_forward(rows_of: RowsOf, end: int, pos: Anchor, n: int) -> Anchor | None:
    line, row = pos.line, pos.row
    while n > 0:
        last = len(rows_of(line)) - 1
        if row + n <= last:
            row += n
            n = 0
            break
        n -= last - row + 1
        if line + 1 >= end:
            return None
        line += 1
        row = 0
    if line == end - 1 and row >= len(rows_of(line)) - 1:
        return None
    return Anchor(line, row)


def _normalize(rows_of: RowsOf, first: int, end: int, height: int,
               anchor: Anchor | None) -> Anchor | None:
    """Clamp an anchor into the buffer and so that the pane is filled from the top."""
    if anchor is None or end <= first:
        return None
    line = min(max(anchor.line, first), end - 1)
    row = min(anchor.row, len(rows_of(line)) - 1) if line == anchor.line else 0
    pos = Anchor(line, row)
    # If fewer than `height` rows lie at or above the anchor, the pane would have a hole on top:
    # move the anchor to the row `height-1` below the very first row instead.
    top = _step_back(rows_of, first, pos, height - 1)
    if top.line == first and top.row == 0:
        counted = _step_forward(rows_of, end, Anchor(first, 0), height - 1)
        if counted is None:
            return None
        if (counted.line, counted.row) > (pos.line, pos.row):
            pos = counted
    if pos.line == end - 1 and pos.row >= len(rows_of(pos.line)) - 1:
        return None
    return pos


def view_rows(rows_of: RowsOf, first: int, end: int, height: int,
              anchor: Anchor | None) -> tuple[list[Row], Anchor | None]:
    """The rows to draw (top to bottom, at most `height`) for lines `first..end-1` and the
    normalized anchor (None means the pane follows the newest line)."""
    if end <= first or height <= 0:
        return [], None
    anchor = _normalize(rows_of, first, end, height, anchor)
    if anchor is None:
        line = end - 1
        row = len(rows_of(line)) - 1
    else:
        line, row = anchor.line, anchor.row
    chunks: list[list[Row] | tuple[Row, ...]] = []  # newest first, joined once at the end
    count = 0
    below: int | None = row  # the anchor line shows rows 0..row; the lines above, all
    while line >= first and count < height:
        rows = rows_of(line)
        take = (rows if below is None else rows[: below + 1])[-(height - count):]
        chunks.append(take)
        count += len(take)
        line -= 1
        below = None
    return [r for chunk in reversed(chunks) for r in chunk], anchor


def at_top(rows_of: RowsOf, first: int, end: int, height: int,
           anchor: Anchor | None) -> bool:
    """True if the pane shows the very first row of the buffer (or the buffer is empty)."""
    if end <= first:
        return True
    anchor = _normalize(rows_of, first, end, height, anchor)
    if anchor is None:
        last = end - 1
        anchor = Anchor(last, len(rows_of(last)) - 1)
    top = _step_back(rows_of, first, anchor, height - 1)
    return top.line == first and top.row == 0


def scroll(rows_of: RowsOf, first: int, end: int, height: int, anchor: Anchor | None,
           delta_rows: int) -> Anchor | None:
    """Move the view by `delta_rows` (negative: towards older lines). Returns the new anchor,
    None when the view reaches the newest line again."""
    if end <= first:
        return None
    if anchor is None:
        last = end - 1
        anchor = Anchor(last, len(rows_of(last)) - 1)
    anchor = _normalize(rows_of, first, end, height, anchor) or Anchor(
        end - 1, len(rows_of(end - 1)) - 1)
    if delta_rows < 0:
        moved: Anchor | None = _step_back(rows_of, first, anchor, -delta_rows)
    else:
        moved = _step_forward(rows_of, end, anchor, delta_rows)
    return _normalize(rows_of, first, end, height, moved)
