"""Which nicks and channel names are acceptable (RFC 2812 section 2.3.1, with modern limits).
The limits are parameters: a server decides its own (and advertises them in ISUPPORT), a client
takes them from the server it talks to."""

import re

# RFC 2812: nickname = ( letter / special ) *( letter / digit / special / "-" ).
_SPECIAL = re.escape("[]\\`_^{|}")
_NICK_RE = re.compile(rf"[A-Za-z{_SPECIAL}][A-Za-z0-9{_SPECIAL}\-]*\Z")
# RFC 2812: chanstring excludes NUL, BEL, CR, LF, space, comma and colon.
_CHANNEL_FORBIDDEN = set("\x00\x07\r\n ,:")


def is_valid_nick(nick: str, max_len: int) -> bool:
    """True if `nick` may be used as a nickname of at most `max_len` characters."""
    return 0 < len(nick) <= max_len and _NICK_RE.match(nick) is not None


def is_channel_name(name: str, chantypes: str) -> bool:
    """True if `name` looks like a channel (starts with one of `chantypes`), valid or not."""
    return bool(name) and name[0] in chantypes


def is_valid_channel(name: str, max_len: int, chantypes: str) -> bool:
    """True if `name` may be used as a channel name."""
    return (
        is_channel_name(name, chantypes)
        and 1 < len(name) <= max_len
        and not any(ch in _CHANNEL_FORBIDDEN for ch in name)
    )
