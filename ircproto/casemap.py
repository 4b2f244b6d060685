"""RFC 1459 case mapping: the rule that decides when two nicks or channels are the same.

RFC 1459 section 2.2: because of IRC's Scandinavian origin, {}|^ are the lower-case forms of
[]\\~. The server advertises this as CASEMAPPING=rfc1459 in ISUPPORT (005).
"""

from __future__ import annotations

from collections.abc import Callable

CASEMAPPING = "rfc1459"

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~"
_LOWER = "abcdefghijklmnopqrstuvwxyz{}|^"
_FOLD = str.maketrans(_UPPER, _LOWER)


def casefold(name: str) -> str:
    """Return the canonical (lower-case, rfc1459) form of a nick or channel name."""
    return name.translate(_FOLD)


def irc_equal(a: str, b: str) -> bool:
    """True when two names are the same under rfc1459 case mapping."""
    return casefold(a) == casefold(b)


def mask_matcher(mask: str) -> Callable[[str], bool]:
    """A test of names against an IRC mask: `*` matches any run of characters, `?` any one,
    everything else itself, compared case-insensitively under this casemapping. (No
    character classes: `[` and `]` are ordinary nick characters.)"""
    folded_mask = casefold(mask)
    return lambda name: glob_match(folded_mask, casefold(name))


def glob_match(mask: str, text: str) -> bool:
    """`*`/`?` matching in O(len(mask) * len(text)) at worst: after a mismatch only the last
    `*` is retried (a backtracking regex can take seconds on masks like `*a*a*a...b`)."""
    m = t = 0
    star = -1  # position in mask just after the last `*` seen
    star_t = 0  # where in text that `*` currently ends
    while t < len(text):
        if m < len(mask) and mask[m] == "*":
            star, star_t = m + 1, t
            m += 1
        elif m < len(mask) and (mask[m] == "?" or mask[m] == text[t]):
            m += 1
            t += 1
        elif star >= 0:
            star_t += 1  # let the last `*` take one more character
            m, t = star, star_t
        else:
            return False
    while m < len(mask) and mask[m] == "*":
        m += 1
    return m == len(mask)
