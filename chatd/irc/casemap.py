"""RFC 1459 case mapping: the rule that decides when two nicks or channels are the same.

RFC 1459 section 2.2: because of IRC's Scandinavian origin, {}|^ are the lower-case forms of
[]\\~. The server advertises this as CASEMAPPING=rfc1459 in ISUPPORT (005).
"""

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
