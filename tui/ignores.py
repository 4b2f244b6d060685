"""Whom the user does not want to hear from (/ignore): a list of masks, matched against the
source of what arrives. Client side only: the server still sends it, tui drops it (messages,
notices, CTCP, invites, typing notifications, and lines of fetched history).

A bare nick is kept as `nick!*@*`; a mask (`*!*@spam.example`, `bob*!*@*`) as typed, matched
with IRC case folding, `*` and `?` as wildcards (and `[`/`]` as the nick characters they are,
not character classes). Pure; `ignore_file` keeps the list on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ircproto.casemap import casefold
from ircproto.validate import is_valid_nick

MAX_IGNORES = 500
ANY_NICK_LEN = 1000  # a bare nick is recognised by its characters; its length is the server's


@dataclass(frozen=True, slots=True)
class SaveIgnores:
    """Write the ignore list of this server to the file (the event loop does it)."""

    masks: tuple[str, ...]


def ignore_mask(word: str) -> str:
    """What /ignore keeps for what the user typed: a nick becomes `nick!*@*`."""
    return f"{word}!*@*" if is_valid_nick(word, ANY_NICK_LEN) else word


@lru_cache(maxsize=1024)
def _pattern(mask: str) -> re.Pattern[str]:
    glob = re.escape(casefold(mask)).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(glob + r"\Z", re.DOTALL)


class IgnoreList:
    def __init__(self, masks: tuple[str, ...] | list[str] = ()):
        self.masks: list[str] = []
        for mask in masks:
            self.add(mask)

    def add(self, word: str) -> str | None:
        """Ignore `word` (a nick or a mask); the mask kept, or None if already there or the
        list is full."""
        mask = ignore_mask(word)
        if self._index(mask) is not None or len(self.masks) >= MAX_IGNORES or not mask:
            return None
        self.masks.append(mask)
        return mask

    def remove(self, word: str) -> str | None:
        """Stop ignoring `word` (typed as it was added, or as a bare nick); the mask removed."""
        index = self._index(ignore_mask(word))
        if index is None:
            index = self._index(word)
        return self.masks.pop(index) if index is not None else None

    def _index(self, mask: str) -> int | None:
        folded = casefold(mask)
        return next((i for i, m in enumerate(self.masks) if casefold(m) == folded), None)

    def matches(self, source: str | None) -> bool:
        """Is `source` (`nick!user@host`, or a bare nick or server name) ignored? A bare
        source is matched with an empty user and host, so only by its nick part."""
        if not source or not self.masks:
            return False
        full = casefold(source if "!" in source else source + "!@")
        return any(_pattern(mask).match(full) for mask in self.masks)
