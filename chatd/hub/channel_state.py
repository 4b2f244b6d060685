"""A channel's state beyond who is in it: its modes (flags, key, user limit), its mask lists
(bans, ban exceptions, invite exceptions) with who set each entry and when, and the ranks
(operator, voice) of its members. Plain data with small consistent operations: no IRC
formatting, no I/O. The master's registry keeps one per channel (ChannelRecord). Every field
is a plain value (strings, ints, lists of ListEntry): a registered channel's are stored
(chatd/hub/founders.py, chatd/stored_channel.py).

The mode letters and their CHANMODES types are in chatd/limits.py (shared: ISUPPORT and the
config's default modes name them too)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatd.limits import (FOUNDER_MODE, KEY_MODE, LIMIT_MODE, LIST_MODES, PREFIX_MODES,
                          PREFIX_SYMBOLS)
from ircproto.casemap import casefold

MAX_LIMIT = 1_000_000  # the largest +l accepted


@dataclass(slots=True)
class ListEntry:
    """One mask on a channel list, with RPL_BANLIST's <who> and <set-ts>."""
    mask: str
    setter: str  # nick!user@host of whoever set it
    set_s: int  # when, in unix seconds


@dataclass(slots=True)
class ChannelModes:
    """A channel's modes. `flags` holds the type D letters that are set."""
    flags: set[str] = field(default_factory=set)
    key: str | None = None
    limit: int | None = None
    lists: dict[str, list[ListEntry]] = field(
        default_factory=lambda: {letter: [] for letter in LIST_MODES})

    def list_size(self) -> int:
        return sum(len(entries) for entries in self.lists.values())

    def find_entry(self, letter: str, mask: str) -> ListEntry | None:
        """The entry of list `letter` equal to `mask` under the case mapping."""
        folded = casefold(mask)
        for entry in self.lists[letter]:
            if casefold(entry.mask) == folded:
                return entry
        return None

    def add_entry(self, letter: str, entry: ListEntry) -> None:
        self.lists[letter].append(entry)

    def remove_entry(self, letter: str, entry: ListEntry) -> None:
        self.lists[letter].remove(entry)

    def summary(self, show_key: bool, founder: str | None = None) -> tuple[str, ...]:
        """RPL_CHANNELMODEIS's mode string and its parameters ('+' alone when none is set);
        the key is '*' unless `show_key`; `founder`: a registered channel's founder (+r)."""
        letters = set(self.flags)
        if self.key is not None:
            letters.add(KEY_MODE)
        if self.limit is not None:
            letters.add(LIMIT_MODE)
        if founder:
            letters.add(FOUNDER_MODE)
        ordered = sorted(letters)
        params = []
        for letter in ordered:
            if letter == KEY_MODE:
                params.append(self.key if show_key else "*")
            elif letter == LIMIT_MODE:
                params.append(str(self.limit))
            elif letter == FOUNDER_MODE:
                params.append(founder or "")
        return ("+" + "".join(ordered), *params)


def rank_prefix(rank: str, multi: bool) -> str:
    """The NAMES/WHO/WHOIS prefix of a member with rank letters `rank` ("o", "v", "ov"): the
    highest one, or with multi-prefix all of them, highest first (ircv3.net multi-prefix)."""
    symbols = "".join(symbol for letter, symbol in zip(PREFIX_MODES, PREFIX_SYMBOLS)
                      if letter in rank)
    return symbols if multi else symbols[:1]


def with_rank(rank: str, letter: str, adding: bool) -> str:
    """`rank` with the prefix mode `letter` given or taken, in PREFIX order."""
    letters = set(rank) | {letter} if adding else set(rank) - {letter}
    return "".join(m for m in PREFIX_MODES if m in letters)
