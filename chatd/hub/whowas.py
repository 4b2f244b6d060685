"""The nicks that left, for WHOWAS (modern.ircdocs.horse "WHOWAS message"): who held a nick
before it was given up — by QUIT or by a change of nick — remembered in the master's memory
only (a restart forgets them), newest first, at most `[limits] whowas` entries in all: past
that the oldest is forgotten. Pure data; WHOWAS is answered in chatd/hub/presence.py."""

from __future__ import annotations

import collections
import itertools
from typing import NamedTuple

from ircproto.casemap import casefold


class WhowasEntry(NamedTuple):
    """What WHOWAS shows of a nick's former holder: what WHOIS showed others (the host is
    the cloak when cloaking is on, never the real address)."""
    nick: str
    user: str
    host: str
    realname: str
    left_s: int  # when the nick was given up (wall clock, seconds)


class WhowasTable:
    """A bounded table of WhowasEntry: each nick's entries, oldest first, and the order in
    which all entries came, so that dropping the oldest one is O(1)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_nick: dict[str, collections.deque[WhowasEntry]] = {}
        self._arrivals: collections.deque[str] = collections.deque()  # folded nick per entry

    def __len__(self) -> int:
        return len(self._arrivals)

    def remember(self, entry: WhowasEntry) -> None:
        if self.size <= 0:
            return
        folded = casefold(entry.nick)
        self._by_nick.setdefault(folded, collections.deque()).append(entry)
        self._arrivals.append(folded)
        self._trim()

    def lookup(self, nick: str, count: int) -> list[WhowasEntry]:
        """Up to `count` entries for `nick` (any case), the most recent first."""
        entries = self._by_nick.get(casefold(nick))
        if not entries:
            return []
        return list(itertools.islice(reversed(entries), count))

    def resize(self, size: int) -> None:
        """A reload changed `[limits] whowas`: forget the oldest entries past the new size."""
        self.size = size
        self._trim()

    def _trim(self) -> None:
        # The oldest entry of all is the oldest of its nick: each nick's deque is in arrival
        # order too.
        while len(self._arrivals) > max(self.size, 0):
            folded = self._arrivals.popleft()
            entries = self._by_nick[folded]
            entries.popleft()
            if not entries:
                del self._by_nick[folded]
