"""chatd's own limits on names and texts, advertised in ISUPPORT (chatd/serverinfo.py), and
the name checks that apply them. Shared by every role; pure."""

from ircproto import validate

NICKLEN = 30
CHANNELLEN = 50
TOPICLEN = 390
REALNAMELEN = 128  # bytes of a realname (USER, SETNAME), advertised as NAMELEN (IRCv3 setname)
CHANTYPES = "#"


def is_nick(nick: str) -> bool:
    """A nick chatd accepts."""
    return validate.is_valid_nick(nick, NICKLEN)


def is_channel(name: str) -> bool:
    """Whether a target names a channel (valid or not), by chatd's channel types."""
    return validate.is_channel_name(name, CHANTYPES)


def is_valid_channel(name: str) -> bool:
    """A channel name chatd accepts."""
    return validate.is_valid_channel(name, CHANNELLEN, CHANTYPES)


def is_illegal_channel(name: str) -> bool:
    """A channel-looking name that holds characters no channel name may hold (answered with
    479 ERR_BADCHANNAME rather than 403)."""
    return is_channel(name) and validate.has_illegal_channel_chars(name)
