"""RFC 1459 case mapping: the rule that decides when two nicks or channels are the same.

RFC 1459 section 2.2: because of IRC's Scandinavian origin, {}|^ are the lower-case forms of
[]\\~. The server advertises this as CASEMAPPING=rfc1459 in ISUPPORT (005).
"""

from __future__ import annotations

import re
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
    pattern = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                      for ch in casefold(mask))
    regex = re.compile(pattern, re.DOTALL)
    return lambda name: regex.fullmatch(casefold(name)) is not None

