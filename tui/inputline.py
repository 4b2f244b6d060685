"""The input line: text, cursor, editing operations, sent-line history and nick completion.

Modelled on prompt_toolkit's Document/Buffer split: the text lives here as plain data and every
key is a pure method, so the editor is tested without a terminal. The cursor is an index in
code points that never rests between a character and its combining marks. A pre-filled,
*selected* text (the name prompt's default) is replaced by the first typed character. A
*masked* line (a password) shows `*` for each character, and neither recalls nor completes.
The text may hold line breaks (a paste of several lines, Alt-Enter): they are shown as `↵`
and make one multi-line message.
"""

from __future__ import annotations

from ircproto.casemap import casefold
from tui.layout import char_width

MAX_HISTORY = 500
MASK = "*"
NEWLINE = "\n"
NEWLINE_SHOWN = "↵"  # one column, like the line break it stands for in `view`


def _is_typeable(ch: str, lines: bool = False) -> bool:
    o = ord(ch)
    # Control characters (CR/LF especially) must never reach a protocol line; a line break
    # enters only where a multi-line message is meant (paste, Alt-Enter, recalled lines).
    return (lines and ch == NEWLINE) or not (o < 0x20 or 0x7F <= o < 0xA0)


class InputLine:
    def __init__(self, max_history: int = MAX_HISTORY):
        self.text = ""
        self.cursor = 0
        self.selected = False  # the whole text is a default that typing replaces
        self.masked = False  # a password: shown as MASK, never remembered
        self.history: list[str] = []
        self.max_history = max_history
        self._history_pos: int | None = None  # index into history while browsing it
        self._draft = ""  # what was being typed before browsing history
        self._completion: tuple[int, list[str], int, str] | None = None
        self._scroll = 0  # first visible character for the horizontal view

    # -- whole-line operations -------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return self.text.count(NEWLINE) + 1

    def set(self, text: str, selected: bool = False) -> None:
        self.text = "".join(ch for ch in text if _is_typeable(ch, lines=True))
        self.cursor = len(self.text)
        self.selected = selected and bool(self.text)
        self._completion = None

    def submit(self, remember: bool = True) -> str:
        """Take the line (Enter): it is returned, remembered in history (unless masked or
        `remember` is false: a line with a password), and cleared."""
        line = self.text
        remember = remember and not self.masked
        if remember and line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-self.max_history]
        self._history_pos = None
        self._draft = ""
        self.set("")
        return line

    def _edit(self, text: str, cursor: int) -> None:
        self.text, self.cursor = text, cursor
        self.selected = False
        self._completion = None

    # -- typing and deleting ----------------------------------------------------------------
    def insert(self, s: str, lines: bool = False) -> None:
        """Type `s` at the cursor (with `lines`, its line breaks are kept: a paste)."""
        s = "".join(ch for ch in s if _is_typeable(ch, lines and not self.masked))
        if not s:
            return
        if self.selected:
            self._edit("", 0)
        self._edit(self.text[: self.cursor] + s + self.text[self.cursor:], self.cursor + len(s))

    def backspace(self) -> None:
        if self.selected:
            self._edit("", 0)
            return
        if self.cursor == 0:
            return
        start = self._prev_stop(self.cursor)
        self._edit(self.text[:start] + self.text[self.cursor:], start)

    def delete(self) -> None:
        if self.selected:
            self._edit("", 0)
            return
        if self.cursor >= len(self.text):
            return
        end = self._next_stop(self.cursor)
        self._edit(self.text[: self.cursor] + self.text[end:], self.cursor)

    def kill_word(self) -> None:
        """Ctrl-W: delete the word before the cursor (and the spaces after it)."""
        i = self.cursor
        while i > 0 and self.text[i - 1] == " ":
            i -= 1
        while i > 0 and self.text[i - 1] != " ":
            i -= 1
        self._edit(self.text[:i] + self.text[self.cursor:], i)

    def kill_to_start(self) -> None:
        """Ctrl-U."""
        self._edit(self.text[self.cursor:], 0)

    def kill_to_end(self) -> None:
        """Ctrl-K."""
        self._edit(self.text[: self.cursor], self.cursor)

    # -- moving ------------------------------------------------------------------------------
    def _prev_stop(self, i: int) -> int:
        i -= 1
        while i > 0 and char_width(self.text[i]) == 0:
            i -= 1  # step over combining marks to their base character
        return max(i, 0)

    def _next_stop(self, i: int) -> int:
        i += 1
        while i < len(self.text) and char_width(self.text[i]) == 0:
            i += 1
        return i

    def _move(self, cursor: int) -> None:
        self.cursor = max(0, min(cursor, len(self.text)))
        self.selected = False
        self._completion = None

    def left(self) -> None:
        self._move(self._prev_stop(self.cursor) if self.cursor else 0)

    def right(self) -> None:
        self._move(self._next_stop(self.cursor) if self.cursor < len(self.text) else self.cursor)

    def home(self) -> None:
        self._move(0)

    def end(self) -> None:
        self._move(len(self.text))

    def word_left(self) -> None:
        i = self.cursor
        while i > 0 and self.text[i - 1] == " ":
            i -= 1
        while i > 0 and self.text[i - 1] != " ":
            i -= 1
        self._move(i)

    def word_right(self) -> None:
        i = self.cursor
        n = len(self.text)
        while i < n and self.text[i] == " ":
            i += 1
        while i < n and self.text[i] != " ":
            i += 1
        self._move(i)

    # -- history -----------------------------------------------------------------------------
    def history_prev(self) -> None:
        """Up: the previous sent line (the line being typed is kept as a draft)."""
        if not self.history or self.masked:
            return
        if self._history_pos is None:
            self._draft = self.text
            self._history_pos = len(self.history)
        if self._history_pos == 0:
            return
        self._history_pos -= 1
        self.set(self.history[self._history_pos])

    def history_next(self) -> None:
        """Down: the next sent line, and finally the draft again."""
        if self._history_pos is None or self.masked:
            return
        self._history_pos += 1
        if self._history_pos >= len(self.history):
            self._history_pos = None
            self.set(self._draft)
        else:
            self.set(self.history[self._history_pos])

    # -- completion --------------------------------------------------------------------------
    def complete(self, nicks: list[str]) -> None:
        """Tab: complete the word before the cursor to a nick; `nick: ` at line start.
        Pressing Tab again cycles through the other matches."""
        if self.masked:
            return
        if self._completion is not None:
            start, candidates, index, tail = self._completion
            index = (index + 1) % len(candidates)
        else:
            start = self.text.rfind(" ", 0, self.cursor) + 1
            prefix = casefold(self.text[start: self.cursor])
            candidates = sorted((n for n in nicks if casefold(n).startswith(prefix)),
                                key=casefold)
            if not candidates:
                return
            index = 0
            tail = self.text[self.cursor:]
        suffix = ": " if start == 0 else " "
        if tail.startswith(" "):
            suffix = suffix.rstrip(" ")  # the space is already there
        word = candidates[index] + suffix
        self.text = self.text[:start] + word + tail
        self.cursor = start + len(word)
        self.selected = False
        self._completion = (start, candidates, index, tail)

    # -- display -----------------------------------------------------------------------------
    def view(self, width: int) -> tuple[str, int]:
        """The part of the text to show in `width` columns and the cursor's column in it,
        scrolling horizontally so the cursor is always visible."""
        width = max(width, 2)
        if self.masked:  # one MASK per character, whatever its width: nothing leaks
            start = max(0, self.cursor - (width - 1))
            return MASK * min(len(self.text) - start, width), self.cursor - start
        self._scroll = min(self._scroll, self.cursor)
        while self._scroll < self.cursor and sum(
                char_width(c) for c in self.text[self._scroll: self.cursor]) > width - 1:
            self._scroll += 1
        if self._scroll > 0 and sum(char_width(c) for c in self.text) <= width - 1:
            self._scroll = 0
        col = sum(char_width(c) for c in self.text[self._scroll: self.cursor])
        shown = []
        used = 0
        for ch in self.text[self._scroll:]:
            w = char_width(ch)
            if used + w > width:
                break
            shown.append(NEWLINE_SHOWN if ch == NEWLINE else ch)
            used += w
        return "".join(shown), col
