"""The buffer list: a side column (left of the chat) naming every buffer with its number, and
how many lines in it are unread and how many of those name you (`12 3!`; `2!` when all of them
do, as in a private conversation). The buffer shown is drawn reversed, buffers with mentions
bold and red, with unread lines bold, channels you are out of dimmed.

Toggled with a key (the app's `show_buffer_list`), and left out on a terminal narrower than
`MIN_TERMINAL_WIDTH` (or where the chat would get too narrow, see `tui.frame`). Pure.
"""

from __future__ import annotations

from tui.frame import LEFT, Column
from tui.layout import Row, clip, text_width
from tui.sanitize import Style, clean
from tui.state import Buffer, State

MIN_TERMINAL_WIDTH = 80  # narrower: the chat needs every column
MIN_WIDTH = 12
MAX_WIDTH = 22
COUNTS_ROOM = 5  # "12 3!"
CURRENT_STYLE = Style(reverse=True)
MENTION_STYLE = Style(bold=True, fg=4)
UNREAD_STYLE = Style(bold=True)
PARTED_STYLE = Style(dim=True)
PLAIN = Style()


def counts_text(buf: Buffer) -> str:
    if buf.mentions and buf.mentions == buf.unread:
        return f"{buf.mentions}!"
    if buf.mentions:
        return f"{buf.unread} {buf.mentions}!"
    return str(buf.unread) if buf.unread else ""


def entry_style(buf: Buffer, current: bool) -> Style:
    if current:
        return CURRENT_STYLE
    if buf.mentions:
        return MENTION_STYLE
    if buf.unread:
        return UNREAD_STYLE
    return PARTED_STYLE if buf.parted else PLAIN


def entry(number: int, buf: Buffer, width: int, current: bool) -> Row:
    """` 2 #lobby   12 3!`: the number, the name (clipped), the counts right-aligned."""
    counts = counts_text(buf)
    head = f"{number:>2} "
    room = max(width - len(head) - (len(counts) + 1 if counts else 0), 1)
    name = clip(clean(buf.name), room)
    text = head + name
    gap = width - text_width(text) - len(counts)
    return [(text + " " * max(gap, 0) + counts if gap >= 0 else clip(text, width),
             entry_style(buf, current))]


def width_for(state: State) -> int:
    """Wide enough for the longest name and room for counts, within MIN_WIDTH..MAX_WIDTH.
    Counts do not change it: a column that widens re-wraps the whole chat."""
    longest = max((3 + text_width(clean(b.name)) + 1 + COUNTS_ROOM for b in state.buffers),
                  default=MIN_WIDTH)
    return min(max(longest, MIN_WIDTH), MAX_WIDTH)


class BufferList:
    """The column for one client's buffers; it keeps the rows it built last, since they are
    drawn at every frame and change seldom."""

    def __init__(self, state: State):
        self.state = state
        self._built: tuple[tuple, list[Row]] = ((), [])

    def column(self, terminal_width: int) -> Column | None:
        if terminal_width < MIN_TERMINAL_WIDTH:
            return None
        width = width_for(self.state)
        return Column("buffers", LEFT, width, lambda height: self.rows(width, height))

    def rows(self, width: int, height: int) -> list[Row]:
        state = self.state
        key = (width, height, state.current_index,
               tuple((b.name, b.unread, b.mentions, b.parted) for b in state.buffers))
        if self._built[0] != key:
            self._built = (key, rows(state, width, height))
        return self._built[1]


def rows(state: State, width: int, height: int) -> list[Row]:
    """One row per buffer; when they do not all fit, the window of them that shows the
    current buffer."""
    first = 0
    if len(state.buffers) > height > 0:
        first = min(max(state.current_index - height // 2, 0), len(state.buffers) - height)
    return [entry(i + 1, buf, width, i == state.current_index)
            for i, buf in enumerate(state.buffers[first:first + height], first)]
