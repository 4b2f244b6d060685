"""Drawing a `Frame` (tui.frame) with curses, redrawing only what changed.

One curses window per region of the frame. Each window remembers the rows it shows; a new
frame rewrites only the rows that differ, and when the chat pane moved up by some rows (new
lines at the bottom, the view following them) the window is scrolled and only the new rows are
written. `doupdate` then sends the terminal the difference. A busy channel thus costs a few
rows per frame, not the whole screen. This module and `curses_client` are the only ones that
import curses.
"""

from __future__ import annotations

import curses

from tui.frame import Frame, Region
from tui.layout import Row, clip, text_width
from tui.sanitize import Style

# IRC colour number -> curses colour, for 16-colour and 8-colour terminals.
IRC_TO_16 = (15, 0, 4, 2, 9, 1, 5, 3, 11, 10, 6, 14, 12, 13, 8, 7)
IRC_TO_8 = (7, 0, 4, 2, 1, 1, 5, 3, 3, 2, 6, 6, 4, 5, 7, 7)


def shift_of(old: list[Row | None], new: list[Row]) -> int:
    """How many rows `new` is `old` moved up by (new rows came in at the bottom), or 0."""
    height = len(new)
    if len(old) != height or not new:
        return 0
    first = new[0]
    for k in range(1, height):
        if old[k] == first and old[k:] == new[:height - k]:
            return k
    return 0


class Screen:
    """Turns frames into curses calls."""

    def __init__(self, stdscr: curses.window, colours: bool = True):
        self.scr = stdscr
        self._pairs: dict[tuple[int, int], int] = {}
        self._attrs: dict[Style, int] = {}
        self._colours = 0
        self._windows: dict[str, tuple[tuple[int, int, int, int], curses.window]] = {}
        self._shown: dict[str, list[Row | None]] = {}
        # Keys are read from stdscr, and reading refreshes a window changed since its last
        # refresh: stdscr (blank, under every region's window) must never count as changed,
        # or a key press would paint it over the rows that are not redrawn.
        stdscr.noutrefresh()
        if colours and curses.has_colors():
            curses.start_color()
            try:
                curses.use_default_colors()
                self._default = -1
            except curses.error:
                self._default = 0
            self._colours = curses.COLORS

    # -- styles ---------------------------------------------------------------------------------
    def _attr(self, style: Style) -> int:
        attr = self._attrs.get(style)
        if attr is None:
            attr = self._attrs[style] = self._make_attr(style)
        return attr

    def _make_attr(self, style: Style) -> int:
        attr = curses.A_NORMAL
        if style.bold:
            attr |= curses.A_BOLD
        if style.dim:
            attr |= curses.A_DIM
        if style.underline:
            attr |= curses.A_UNDERLINE
        if style.reverse:
            attr |= curses.A_REVERSE
        if style.italic:
            attr |= getattr(curses, "A_ITALIC", 0)
        if (style.fg is not None or style.bg is not None) and self._colours >= 8:
            attr |= curses.color_pair(self._pair(style.fg, style.bg))
        return attr

    def _pair(self, fg: int | None, bg: int | None) -> int:
        table = IRC_TO_16 if self._colours >= 16 else IRC_TO_8
        key = (table[fg] if fg is not None else self._default,
               table[bg] if bg is not None else self._default)
        if key not in self._pairs:
            number = len(self._pairs) + 1
            if number >= curses.COLOR_PAIRS:
                return 0  # out of pairs: default colours rather than failure
            curses.init_pair(number, *key)
            self._pairs[key] = number
        return self._pairs[key]

    # -- drawing --------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget what is on the screen (resize, Ctrl-L): the next frame is drawn whole."""
        self._windows.clear()
        self._shown.clear()
        self.scr.clear()
        self.scr.noutrefresh()

    def draw(self, frame: Frame) -> None:
        cursor_y, cursor_x = frame.cursor
        last = None
        for region in frame.regions:
            window = self._window(region)
            if self._update(window, region):
                window.noutrefresh()
            if region.y <= cursor_y < region.y + region.height:
                last = (window, region)
        for name in set(self._windows) - {region.name for region in frame.regions}:
            del self._windows[name]  # a column that went away: the pane covers its cells
            self._shown.pop(name, None)
        if last is not None:  # the cursor is where the last refreshed window leaves it
            window, region = last
            try:
                window.move(cursor_y - region.y, min(cursor_x - region.x, region.width - 1))
            except curses.error:
                pass
            window.noutrefresh()
        curses.doupdate()

    def _window(self, region: Region) -> curses.window:
        geometry = (region.height, region.width, region.y, region.x)
        known = self._windows.get(region.name)
        if known is not None and known[0] == geometry:
            return known[1]
        window = curses.newwin(*geometry)
        self._windows[region.name] = (geometry, window)
        self._shown.pop(region.name, None)
        return window

    def _update(self, window: curses.window, region: Region) -> bool:
        """Write the rows of `region` that differ from what the window shows; True if any."""
        old = self._shown.get(region.name) or [None] * region.height
        new = region.rows
        shift = shift_of(old, new)
        if shift:
            window.scrollok(True)
            window.scroll(shift)
            window.scrollok(False)
            old = old[shift:] + [None] * shift
        changed = bool(shift)
        for y, row in enumerate(new):
            if old[y] != row:
                self._put_row(window, y, row, region.width)
                changed = True
        self._shown[region.name] = list(new)
        return changed

    def _put_row(self, window: curses.window, y: int, row: Row, width: int) -> None:
        window.move(y, 0)
        x = 0
        for text, style in row:
            if x >= width:
                break
            columns = len(text) if text.isascii() else text_width(text)
            if x + columns > width:
                text = clip(text, width - x)
                columns = text_width(text)
            try:
                window.addstr(text, self._attr(style))
            except curses.error:
                pass  # the window's last cell: the cursor cannot move past it, harmless
            x += columns
        if x < width:
            window.clrtoeol()
