"""User modes: MODE <nick> [changes] for the client itself (RFC 2812 3.1.5). chatd's user modes
are +i (invisible: WHO shows the user only to those sharing a channel), +w (receives WALLOPS),
+B (a bot: IRCv3 bot-mode, ISUPPORT BOT=B, WHOIS 335, WHO's B, the `bot` tag) and +o (server operator: given by OPER only, chatd/hub/opers.py — a user can drop it with -o
but never set it through MODE: RFC 2812 says such an attempt SHOULD be ignored). Pure."""

from __future__ import annotations

from chatd.hub import opers
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.serverinfo import BOT_MODE, USER_MODES
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.message import Message


def user_modes(client: ClientRecord) -> str:
    """The client's modes as RPL_UMODEIS shows them: '+Biow', or '+' for none."""
    return ("+" + "B" * client.bot + "i" * client.invisible + "o" * (client.oper is not None)
            + "w" * client.wallops)


def answer_user_mode(hub: Hub, client: ClientRecord, nick: str,
                     changes: tuple[str, ...]) -> None:
    other = hub.registry.find_nick(nick)
    if other is None:
        raise IrcError(N.ERR_NOSUCHNICK, nick, "No such nick/channel")
    if other is not client:
        raise IrcError(N.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if not changes:
        hub.send_numeric(client, N.RPL_UMODEIS, user_modes(client))
        return
    applied, unknown = _apply(hub, client, changes[0])
    if applied:
        hub.reply(client, Message("MODE", (client.nick or "*", applied), client.nick).format())
    if unknown:  # after the MODE line for the flags that were applied
        raise IrcError(N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


def _apply(hub: Hub, client: ClientRecord, flags: str) -> tuple[str, bool]:
    """Apply +i/-i, +w/-w, +B/-B and -o from `flags`; return (the changes made, as a MODE string;
    whether any flag was unknown)."""
    applied, unknown, adding = "", False, True
    for ch in flags:
        if ch in "+-":
            adding = ch == "+"
        elif ch == "i" and client.invisible != adding:
            client.invisible = adding
            applied += ("+" if adding else "-") + "i"
        elif ch == BOT_MODE and client.bot != adding:
            client.bot = adding
            applied += ("+" if adding else "-") + BOT_MODE
        elif ch == "w" and client.wallops != adding:
            client.wallops = adding
            applied += ("+" if adding else "-") + "w"
        elif ch == "o" and not adding and client.oper is not None:
            opers.set_oper(hub, client, None)
            applied += "-o"
        elif ch not in USER_MODES:
            unknown = True
    return applied, unknown
