"""chatd's own limits on names and texts and the channel modes it implements, advertised in
ISUPPORT (chatd/serverinfo.py), and the name checks that apply them. Shared by every role
(the config validates default channel modes with these letters); pure."""

from ircproto import validate

NICKLEN = 30
CHANNELLEN = 50
TOPICLEN = 390
REALNAMELEN = 128  # bytes of a realname (USER, SETNAME), advertised as NAMELEN (IRCv3 setname)
CHANTYPES = "#"
KICKLEN = 255  # a KICK reason is cut to this many bytes

# Channel modes by CHANMODES type (modern.ircdocs.horse, "MODE message"; chatd/hub/channel_state.py)
LIST_MODES = "beI"  # type A: ban, ban exception, invite exception
KEY_MODE = "k"  # type B
LIMIT_MODE = "l"  # type C
FOUNDER_MODE = "r"  # type C: the founder's account of a registered channel (chatd/hub/founders.py)
FLAG_MODES = "imnst"  # type D: invite-only, moderated, no external messages, secret, topic
PREFIX_MODES = "ov"  # member ranks, highest first (PREFIX=(ov)@+)
PREFIX_SYMBOLS = "@+"  # their prefixes, in the same order
CHANMODES = f"{LIST_MODES},{KEY_MODE},{LIMIT_MODE}{FOUNDER_MODE},{FLAG_MODES}"
MAX_LIST_ENTRIES = 100  # bans + exceptions + invite exceptions of one channel (MAXLIST)
MAX_MODE_PARAMS = 4  # mode changes with a parameter in one MODE command (MODES)
KEYLEN = 23  # RFC 2812 2.3.1: key = 1*23 characters
# Registered channels (kept across emptiness and restarts: chatd/hub/founders.py)
MAX_FOUNDED_PER_ACCOUNT = 15  # channels one account may be the founder of (ergo's default)
# registered channels on the server: all of them, full, fit the writer's Ready frame (64 MiB)
MAX_REGISTERED_CHANNELS = 1_000
MAX_OPERATOR_ACCOUNTS = 50  # accounts a registered channel opps on join, its founder apart
# Accounts on the server, and TLS certificates per account: all of them ride in the writer's
# Ready frame beside the registered channels (tests/unit/test_founders.py BoundsTest).
MAX_ACCOUNTS = 30_000
MAX_CERTS_PER_ACCOUNT = 5


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
