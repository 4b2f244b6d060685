"""The nick-list column beside a channel's pane: its members, highest rank first, each with
their highest prefix (`@`, `+`), away ones dimmed, ourselves in bold, the others in their nick
colours. One of the side columns `tui.frame` places (right of the pane, behind its separator);
offered only when the terminal leaves the pane MIN_PANE_WIDTH columns beside it; a list longer
than the pane ends with `+N more`.

Ranking a big channel is the costly part, so it is done once per change of the member list
(`Members.version`), not once per redraw. Pure: rows out, no curses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.frame import RIGHT, Column
from tui.layout import Row, clip, text_width
from tui.members import Member, Members, PrefixTable
from tui.render import nick_colour
from tui.sanitize import PLAIN, Style, clean
from tui.state import Buffer, BufferKind

MIN_PANE_WIDTH = 60  # narrower terminals show no nick list: the conversation comes first
MIN_WIDTH = 8
MAX_WIDTH = 18  # longer nicks are cut in the column (never in the pane)
AWAY_STYLE = Style(dim=True)


@dataclass(frozen=True, slots=True)
class Ranked:
    members: tuple[Member, ...]
    longest: int  # columns of the widest `prefix + nick`


class NickList:
    """The column's geometry and rows, with the ranking of the last list drawn cached."""

    def __init__(self) -> None:
        self._key: tuple[int, int, PrefixTable] | None = None
        self._ranked = Ranked((), 0)

    def _rank(self, members: Members, table: PrefixTable) -> Ranked:
        key = (id(members), members.version, table)
        if key != self._key:
            ranked = tuple(members.ranked(table))
            longest = max((text_width(clean(m.prefixes[:1] + m.nick)) for m in ranked),
                          default=0)
            self._key, self._ranked = key, Ranked(ranked, longest)
        return self._ranked

    def column(self, buf: Buffer, table: PrefixTable, total_width: int,
               is_away: Callable[[str], bool], is_me: Callable[[str], bool]) -> Column | None:
        """The nick list beside `buf` as a side column; None when there is none (not a joined
        channel, or a terminal too narrow)."""
        if buf.kind != BufferKind.CHANNEL or not buf.joined:
            return None
        members = buf.users
        width = self.width(total_width, members, table)
        if not width:
            return None
        return Column("nicks", RIGHT, width,
                      lambda height: self.rows(members, table, width, height, is_away, is_me))

    def width(self, total_width: int, members: Members, table: PrefixTable) -> int:
        """Columns the nick list takes at this terminal width (a leading space included, its
        separator not); 0 when it is hidden."""
        if not len(members):
            return 0
        width = min(max(self._rank(members, table).longest, MIN_WIDTH), MAX_WIDTH) + 1
        return width if total_width - width - 1 >= MIN_PANE_WIDTH else 0

    def rows(self, members: Members, table: PrefixTable, width: int, height: int,
             is_away: Callable[[str], bool], is_me: Callable[[str], bool]) -> list[Row]:
        """At most `height` rows of `width` columns."""
        ranked = self._rank(members, table).members
        shown = ranked if len(ranked) <= height else ranked[:max(height - 1, 0)]
        inner = max(width - 1, 1)
        rows: list[Row] = []
        for member in shown:
            away = is_away(member.nick)
            if is_me(member.nick):
                style = Style(bold=True, dim=away)
            else:
                style = AWAY_STYLE if away else Style(fg=nick_colour(member.nick))
            prefix = clean(member.prefixes[:1])
            nick = clip(clean(member.nick), max(inner - text_width(prefix), 1))
            rows.append([(" " + prefix, style if prefix else PLAIN), (nick, style)])
        if len(shown) < len(ranked):
            rows.append([(clip(f" +{len(ranked) - len(shown)} more", width), AWAY_STYLE)])
        return rows
