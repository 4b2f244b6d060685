"""Who may do what in a channel, by its modes and ranks (RFC 2811 4; modern.ircdocs.horse
"Channel Modes"): finding a channel (403) or one the client is in (442); joining it (+b/+e,
+i/+I and invites, +k, +l); the rank a joiner gets; speaking in it (+n, +m, +b); changing
nick while in it; operator-only actions (482); seeing a secret (+s) channel. Pure: it reads
the registry's records and the config and raises IrcError; it changes nothing.

Who is opped on join: the first member of a new channel (RFC 2811 4.2.1), except in an
autojoin channel when `[channels] operators` names accounts: there those accounts are opped
on every join (and pass its +b, +i, +k and +l), and nobody else is, so a fresh server's
lobby does not belong to whoever connects first. A registered channel (chatd/hub/founders.py)
opps its founder and its operator accounts on every join, and they pass its +b, +i, +k and +l
likewise; nobody else is opped there, even joining it empty. A logged-in user who creates a
channel (not an autojoin one) becomes its founder while its account founds fewer than
MAX_FOUNDED_PER_ACCOUNT channels and the server keeps fewer than MAX_REGISTERED_CHANNELS."""

from __future__ import annotations

from chatd.config import Config
from chatd.hub.bans import any_matches
from chatd.hub.registry import ChannelRecord, ClientRecord, Registry
from chatd.limits import MAX_FOUNDED_PER_ACCOUNT, MAX_REGISTERED_CHANNELS
from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.errors import IrcError


def existing_channel(registry: Registry, name: str) -> ChannelRecord:
    channel = registry.channel(name)
    if channel is None:
        raise IrcError(N.ERR_NOSUCHCHANNEL, name, "No such channel")
    return channel


def joined_channel(registry: Registry, client: ClientRecord, name: str) -> ChannelRecord:
    """The channel `name`, which `client` must be a member of."""
    channel = existing_channel(registry, name)
    if client.conn_id not in channel.members:
        raise IrcError(N.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
    return channel


def require_operator(channel: ChannelRecord, client: ClientRecord) -> None:
    if not channel.is_operator(client):
        raise IrcError(N.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")


def is_visible_to(channel: ChannelRecord, client: ClientRecord) -> bool:
    """A secret (+s) channel shows in LIST, NAMES, WHO and WHOIS only to its members."""
    return "s" not in channel.modes.flags or client.conn_id in channel.members


def is_banned(channel: ChannelRecord, client: ClientRecord) -> bool:
    """On the ban list (+b) and not on the exception list (+e)."""
    lists = channel.modes.lists
    return any_matches(lists["b"], client) and not any_matches(lists["e"], client)


def is_config_operator(config: Config, client: ClientRecord, channel: ChannelRecord) -> bool:
    """Whether `[channels] operators` names the client's account and this is an autojoin
    channel."""
    return (client.account is not None and channel.folded in _autojoin_folded(config)
            and casefold(client.account) in {casefold(a) for a in config.channel_operators})


def is_operator_account(client: ClientRecord, channel: ChannelRecord) -> bool:
    """Whether the client is logged in to the founder's account of this registered channel
    or to one of its operator accounts."""
    if client.account is None or channel.founder is None:
        return False
    account = casefold(client.account)
    return account == channel.founder or account in channel.operators


def is_founder(client: ClientRecord, channel: ChannelRecord) -> bool:
    """Whether the client is logged in to the founder's account of this registered channel."""
    return (client.account is not None and channel.founder is not None
            and casefold(client.account) == channel.founder)


def is_autojoin(config: Config, channel: ChannelRecord) -> bool:
    return channel.folded in _autojoin_folded(config)


def founding_refusal(registry: Registry, account: str) -> str | None:
    """Why the account (folded) may not found one more channel, or None."""
    if registry.founded[account] >= MAX_FOUNDED_PER_ACCOUNT:
        return f"That account is the founder of {MAX_FOUNDED_PER_ACCOUNT} channels already"
    if registry.registered_channels() >= MAX_REGISTERED_CHANNELS:
        return f"This server keeps {MAX_REGISTERED_CHANNELS} registered channels already"
    return None


def founds_on_create(config: Config, registry: Registry, client: ClientRecord,
                     channel: ChannelRecord) -> bool:
    """Whether the client creating `channel` becomes its founder (see the docstring)."""
    return (client.account is not None and not is_autojoin(config, channel)
            and founding_refusal(registry, casefold(client.account)) is None)


def check_join(config: Config, channel: ChannelRecord, client: ClientRecord,
               key: str | None) -> None:
    """Raise the numeric that keeps `client` out of the existing `channel`, if any. An
    operator's INVITE lets it past +b, +i and +l (not +k); a configured operator passes."""
    if is_config_operator(config, client, channel) or is_operator_account(client, channel):
        return
    modes = channel.modes
    invited = client.invites.get(channel.folded) is channel
    if not invited and is_banned(channel, client):
        raise IrcError(N.ERR_BANNEDFROMCHAN, channel.name, "Cannot join channel (+b)")
    if not invited and "i" in modes.flags and not any_matches(modes.lists["I"], client):
        raise IrcError(N.ERR_INVITEONLYCHAN, channel.name, "Cannot join channel (+i)")
    if modes.key is not None and key != modes.key:
        raise IrcError(N.ERR_BADCHANNELKEY, channel.name, "Cannot join channel (+k)")
    if not invited and modes.limit is not None and len(channel.members) >= modes.limit:
        raise IrcError(N.ERR_CHANNELISFULL, channel.name, "Cannot join channel (+l)")


def rank_on_join(config: Config, client: ClientRecord, channel: ChannelRecord,
                 created: bool) -> str:
    """The rank letters a joiner gets (see the module's docstring)."""
    if is_config_operator(config, client, channel) or is_operator_account(client, channel):
        return "o"
    owned = bool(config.channel_operators) and channel.folded in _autojoin_folded(config)
    return "o" if created and not owned else ""


def check_can_send(channel: ChannelRecord, client: ClientRecord) -> None:
    """Raise 404 if `client` may not send PRIVMSG, NOTICE or TAGMSG to `channel`."""
    flags = channel.modes.flags
    if "n" in flags and client.conn_id not in channel.members:
        raise IrcError(N.ERR_CANNOTSENDTOCHAN, channel.name,
                       "Cannot send to channel (no external messages, +n)")
    if channel.is_voiced(client):
        return
    if "m" in flags:
        raise IrcError(N.ERR_CANNOTSENDTOCHAN, channel.name,
                       "Cannot send to channel (moderated, +m)")
    if is_banned(channel, client):
        raise IrcError(N.ERR_CANNOTSENDTOCHAN, channel.name,
                       "Cannot send to channel (you are banned)")


def check_nick_change(client: ClientRecord, nick: str) -> None:
    """A member banned in one of its channels, without voice or op there, keeps its nick
    (435, as Solanum does): a new nick would slip past a nick ban and lose the trace."""
    for channel in client.channels.values():
        if not channel.is_voiced(client) and is_banned(channel, client):
            raise IrcError(N.ERR_BANONCHAN, nick, channel.name,
                           "Cannot change nickname while banned on channel")


def _autojoin_folded(config: Config) -> set[str]:
    return {casefold(name) for name in config.autojoin}
