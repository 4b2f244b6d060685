"""Which nicks and channel names are acceptable (RFC 2812 section 2.3.1, with modern limits).
The limits are parameters: a server decides its own (and advertises them in ISUPPORT), a client
takes them from the server it talks to."""

import re
import unicodedata

# RFC 2812: nickname = ( letter / special ) *( letter / digit / special / "-" ).
_SPECIAL = re.escape("[]\\`_^{|}")
_NICK_RE = re.compile(rf"[A-Za-z{_SPECIAL}][A-Za-z0-9{_SPECIAL}\-]*\Z")
# RFC 2812: chanstring excludes NUL, BEL, CR, LF, space, comma and colon.
_CHANNEL_FORBIDDEN = set("\x00\x07\r\n ,:")
# Unicode categories never allowed in a channel name: Cc (controls such as ESC, which would
# drive a terminal) and Cf (format characters: bidi overrides and isolates, zero-width
# joiners and spaces), which make one name look like another or reorder the text around it.
_CHANNEL_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})


def is_valid_nick(nick: str, max_len: int) -> bool:
    """True if `nick` may be used as a nickname of at most `max_len` characters."""
    return 0 < len(nick) <= max_len and _NICK_RE.match(nick) is not None


def is_channel_name(name: str, chantypes: str) -> bool:
    """True if `name` looks like a channel (starts with one of `chantypes`), valid or not."""
    return bool(name) and name[0] in chantypes


def has_illegal_channel_chars(name: str) -> bool:
    """True if `name` holds a character no channel name may hold: one RFC 2812 excludes, a
    control character or a format character (bidi overrides, zero-width characters)."""
    return any(ch in _CHANNEL_FORBIDDEN
               or unicodedata.category(ch) in _CHANNEL_FORBIDDEN_CATEGORIES for ch in name)


def is_valid_channel(name: str, max_len: int, chantypes: str) -> bool:
    """True if `name` may be used as a channel name."""
    return (
        is_channel_name(name, chantypes)
        and 1 < len(name) <= max_len
        and not has_illegal_channel_chars(name)
    )
