"""RFC 1459 case mapping: the rule that decides when two nicks or channels are the same.

RFC 1459 section 2.2: because of IRC's Scandinavian origin, {}|^ are the lower-case forms of
[]\\~. The server advertises this as CASEMAPPING=rfc1459 in ISUPPORT (005).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

CASEMAPPING = "rfc1459"

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~"
_LOWER = "abcdefghijklmnopqrstuvwxyz{}|^"
_FOLD = str.maketrans(_UPPER, _LOWER)
_FOLD_BYTES = bytes.maketrans(_UPPER.encode(), _LOWER.encode())


def casefold(name: str) -> str:
    """Return the canonical (lower-case, rfc1459) form of a nick or channel name."""
    if name.isascii():  # nearly every name: bytes.translate is several times faster
        return name.encode().translate(_FOLD_BYTES).decode()
    return name.translate(_FOLD)


def irc_equal(a: str, b: str) -> bool:
    """True when two names are the same under rfc1459 case mapping."""
    return casefold(a) == casefold(b)


def mask_matcher(mask: str, names_folded: bool = False) -> Callable[[str], bool]:
    """A test of names against an IRC mask: `*` matches any run of characters, `?` any one,
    everything else itself, compared case-insensitively under this casemapping. (No
    character classes: `[` and `]` are ordinary nick characters.) Each test is one regex
    match in C, linear in the mask (see `glob_match`). With `names_folded`, the names it is
    given are casefold()ed already (a server's nick index): they are not folded again."""
    folded_mask = fold_stars(casefold(mask))
    if folded_mask == "*":
        return lambda name: True
    fullmatch = _glob_regex(folded_mask).fullmatch
    if names_folded:
        return lambda name: fullmatch(name) is not None
    return lambda name: fullmatch(casefold(name)) is not None


def fold_stars(mask: str) -> str:
    """`mask` with each run of `*` made one `*` (they match the same names)."""
    return _STAR_RUNS.sub("*", mask)


def mask_min_length(mask: str) -> int:
    """The length of the shortest name `mask` can match: its characters other than `*`. A
    mask longer than the longest name there can be matches nothing and need not be tried."""
    return len(mask) - mask.count("*")


def glob_match(mask: str, text: str) -> bool:
    """`*`/`?` matching, case-sensitive (mask_matcher folds case first)."""
    return _glob_regex(fold_stars(mask)).fullmatch(text) is not None


_STAR_RUNS = re.compile(r"\*{2,}")


@functools.lru_cache(maxsize=256)  # a client repeating a mask does not rebuild it
def _glob_regex(mask: str) -> re.Pattern[str]:
    """The mask as a regex that cannot backtrack between its `*`s.

    Split on `*`, a mask is fixed-length segments (`?` is any one character): the first must
    start the text, the last must end it, and each one between may take its leftmost place
    after the one before. Leftmost is always right: a segment of fixed length that ends
    soonest leaves the most text for the rest. So each middle segment is an atomic group
    `(?>.*?seg)` (Python 3.11+): found at its first place and never retried elsewhere, and a
    mask like `*a*a*a...*b` costs O(len(mask) * len(text)) instead of the exponential time a
    plain `.*a.*a...b` regex takes to fail."""
    segments = [_segment(seg) for seg in mask.split("*")]
    if len(segments) == 1:  # no `*`: the whole text, character for character
        return re.compile(segments[0], re.DOTALL)
    first, *middle, last = segments
    middles = "".join(f"(?>.*?{seg})" for seg in middle)
    return re.compile(f"{first}{middles}.*{last}", re.DOTALL)


def _segment(text: str) -> str:
    """A mask segment (no `*`) as a regex: `?` is any one character, the rest literal."""
    return ".".join(re.escape(part) for part in text.split("?"))
