"""What one screen shows, as regions of styled rows: the chat pane, side columns (the buffer
list, a nick list, ...) to its left and right, each behind a one-cell separator, the status
bar and the input line; and where the cursor goes.

Side columns are generic: whoever wants one hands `compose` a `Column` (a side, a width and a
function that gives its rows for a height). Columns are placed in the order given, as long as
the pane keeps `MIN_PANE_WIDTH` columns; the ones that do not fit are left out (a narrow
terminal shows the chat only). Every region holds exactly its height in rows, each fitting its
width, so the terminal side can compare a region with what it drew last and redraw only the
rows that changed. Pure: no curses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.layout import Row, clip, text_width
from tui.sanitize import Style

LEFT = "left"
RIGHT = "right"
MIN_PANE_WIDTH = 40  # a side column that would leave the chat narrower than this is hidden
SEPARATOR = "│"
SEPARATOR_STYLE = Style(dim=True)


@dataclass(frozen=True, slots=True)
class Column:
    """A side column: `width` cells (the separator not included) on `side`, its rows for a
    given height from `rows` (top to bottom, each fitting `width`)."""

    name: str
    side: str
    width: int
    rows: Callable[[int], list[Row]]


@dataclass(frozen=True, slots=True)
class Region:
    """A rectangle of the screen and its rows: exactly `height` of them, each fitting
    `width` (an empty list is an empty row)."""

    name: str
    y: int
    x: int
    width: int
    height: int
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class Frame:
    regions: list[Region]
    cursor: tuple[int, int]  # (y, x) on the screen


def place_columns(width: int, columns: list[Column]) -> tuple[int, int, list[tuple[int, Column]]]:
    """The pane's x and width, and the x of each column that fits (with its separator)."""
    kept: list[Column] = []
    pane_width = width
    for column in columns:
        if column.width > 0 and pane_width - column.width - 1 >= MIN_PANE_WIDTH:
            kept.append(column)
            pane_width -= column.width + 1
    placed: list[tuple[int, Column]] = []
    left = 0
    for column in (c for c in kept if c.side == LEFT):
        placed.append((left, column))
        left += column.width + 1
    right = left + pane_width
    for column in (c for c in kept if c.side != LEFT):
        placed.append((right + 1, column))
        right += column.width + 1
    return left, pane_width, placed


def fit(rows: list[Row], height: int, bottom: bool = False) -> list[Row]:
    """Exactly `height` rows: cut, or padded with empty rows (above when `bottom`: the chat
    grows upwards from the input line, like a terminal)."""
    rows = list(rows[-height:] if bottom else rows[:height])
    padding: list[Row] = [[] for _ in range(height - len(rows))]
    return padding + rows if bottom else rows + padding


def clip_row(row: Row, width: int) -> Row:
    """The part of a row that fits `width` columns."""
    out: Row = []
    used = 0
    for text, style in row:
        if used >= width:
            break
        piece = text if text.isascii() and used + len(text) <= width else clip(text, width - used)
        if piece:
            out.append((piece, style))
            used += len(piece) if piece.isascii() else text_width(piece)
    return out


def compose(width: int, height: int, *, columns: list[Column],
            pane: Callable[[int, int], list[Row]], status: Callable[[int], Row],
            input_line: Callable[[int], tuple[Row, int]]) -> Frame:
    """The whole screen: the pane above the status bar and the input line (a screen too
    small for the pane shows those two only)."""
    pane_height = max(height - 2, 0)
    regions: list[Region] = []
    pane_x, pane_width, placed = place_columns(width, columns if pane_height else [])
    if pane_height:
        regions.append(Region("pane", 0, pane_x, pane_width, pane_height,
                              fit(pane(pane_width, pane_height), pane_height, bottom=True)))
    for x, column in placed:
        rows = [clip_row(row, column.width) for row in column.rows(pane_height)]
        regions.append(Region(column.name, 0, x, column.width, pane_height,
                              fit(rows, pane_height)))
        separator_x = x + column.width if column.side == LEFT else x - 1
        regions.append(Region(f"{column.name}|", 0, separator_x, 1, pane_height,
                              [[(SEPARATOR, SEPARATOR_STYLE)]] * pane_height))
    if height >= 2:
        regions.append(Region("status", height - 2, 0, width, 1, [status(width)]))
    row, cursor = input_line(width)
    if height >= 1:
        regions.append(Region("input", height - 1, 0, width, 1, [clip_row(row, width)]))
    return Frame(regions, (max(height - 1, 0), min(cursor, max(width - 1, 0))))
