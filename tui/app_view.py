"""What the client shows, as `App` composes it for the terminal (`tui.frame`): the chat pane
of the current buffer, the side columns (the buffer list, the nick list beside a joined
channel: any function in `column_sources`), the status bar and the input line. A part of
`App` (its base class) kept apart for size; pure, no curses.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.buffer_list import BufferList
from tui.commands import Action
from tui.frame import Column, Frame, compose, place_columns
from tui.inputline import InputLine
from tui.layout import Row, at_top, clip, scroll, text_width, view_rows
from tui.nicklist import NickList
from tui.render import RowCache, status_row
from tui.sanitize import Style, clean
from tui.session import Session
from tui.state import BufferKind, State
from tui.typing_notices import typing_text

PROMPT_STYLE = Style(bold=True)


class AppView:
    """The drawing half of `App`: reads its state, session and input line."""

    state: State
    session: Session
    input: InputLine
    rows: RowCache
    prompt: str
    buffer_list: BufferList
    nick_list: NickList
    show_buffer_list: bool
    column_sources: list[Callable[[int], Column | None]]
    _status: tuple[tuple, Row]

    def connection_label(self) -> str:
        raise NotImplementedError

    def _handle(self, effects: list) -> list:
        raise NotImplementedError

    def scroll_page(self, direction: int, width: int, height: int) -> list[Action]:
        """PgUp (-1) / PgDn (+1): move by a page, keeping two rows of context. Reaching the
        top asks the server for the page of history before it."""
        buf = self.state.current
        rows_of = self._rows_of(width)
        buf.anchor = scroll(rows_of, buf.first_index, buf.end_index, height,
                            buf.anchor, direction * max(1, height - 2))
        if buf.anchor is None:
            buf.unseen = 0
        if direction < 0 and at_top(rows_of, buf.first_index, buf.end_index, height,
                                    buf.anchor):
            return self._handle(self.session.load_older(buf))
        return []

    def _nick_list(self, width: int) -> Column | None:
        session = self.session
        return self.nick_list.column(self.state.current, session.ctx.prefix_table, width,
                                     session.people.is_away, session.is_me)

    def _rows_of(self, width: int):
        buf, rows = self.state.current, self.rows
        return lambda index: rows.rows(buf.line_at(index), width)

    def side_columns(self, width: int) -> list[Column]:
        """The side columns wanted on a terminal `width` wide, in order (see `tui.frame`):
        each source is given the width the columns before it leave (the nick list's own
        minimum is the conversation's, not the terminal's)."""
        columns: list[Column] = []
        for source in self.column_sources:
            column = source(width)
            if column is not None:
                columns.append(column)
                width -= column.width + 1
        return columns

    def toggle_buffer_list(self) -> None:
        self.show_buffer_list = not self.show_buffer_list

    def _buffer_list(self, width: int) -> Column | None:
        return self.buffer_list.column(width) if self.show_buffer_list else None

    def pane_size(self, width: int, height: int) -> tuple[int, int]:
        """The chat pane's width and height on a terminal of this size."""
        _, pane_width, _ = place_columns(width, self.side_columns(width))
        return pane_width, max(height - 2, 1)

    def frame(self, width: int, height: int) -> Frame:
        """Everything the terminal shows (`tui.frame`)."""
        return compose(width, height, columns=self.side_columns(width), pane=self.pane,
                       status=self.status, input_line=self.input_row)

    def input_row(self, width: int) -> tuple[Row, int]:
        """The prompt and the visible part of the input line, and the cursor's column."""
        prompt = clip(clean(self.prompt), max(width // 2, width - 10))
        prompt_width = text_width(prompt)
        text, cursor = self.input.view(width - prompt_width)
        if self.input.masked:  # a password: as many stars as characters, nothing else
            text = "*" * min(len(self.input.text), max(0, width - prompt_width - 1))
            cursor = len(text)
        return [(prompt, PROMPT_STYLE), (text, Style(reverse=self.input.selected))], \
            prompt_width + cursor

    def pane(self, width: int, height: int) -> list[Row]:
        buf, session = self.state.current, self.session
        # A results buffer shows its selection; a message jumped to is centred and marked.
        rows_of = session.search.view(buf, session.results.view(buf, self._rows_of(width),
                                                                height), height)
        rows, buf.anchor = view_rows(rows_of, buf.first_index, buf.end_index, height,
                                     buf.anchor)
        if buf.anchor is None:
            buf.unseen = 0
        return rows

    @property
    def input_hidden(self) -> bool:
        """Whether the input line must be drawn masked (a password is being typed)."""
        return self.input.masked

    def status(self, width: int) -> Row:
        buf = self.state.current
        facts = dict(
            connection=self.connection_label(), nick=self.session.nick,
            buffer_number=self.state.current_index + 1, buffer_name=buf.name,
            users=len(buf.users) if buf.kind == BufferKind.CHANNEL and buf.joined else None,
            activity=tuple((n, b.name, b.mention) for n, b in self.state.activity()),
            more_below=buf.unseen if buf.anchor is not None else None,
            unsent=self.session.outbox.waiting(),
            loading=self.session.history.busy, parted=buf.parted, notes=self._notes())
        key = (width, *facts.values())
        if self._status[0] != key:  # drawn every frame, changed seldom: built on a change
            self._status = (key, status_row(width, **facts))  # type: ignore[arg-type]
        return self._status[1]

    def _notes(self) -> tuple[str, ...]:
        """Status bar notes: we are away; who is typing here."""
        people, now = self.session.people, self.session.ctx.now
        typing = typing_text(self.session.typing.typing_in(self.state.current, now))
        return tuple(note for note in ("away" if people.me_away else "", typing) if note)
