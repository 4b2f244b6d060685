"""The table of the commands the master answers (those that need the global tables: channels,
nicks) and the one way to run them: `run_command`, the boundary where a handler's IrcError
becomes the client's reply (chatd/hub/error_replies.py). The handlers live by concern in
membership.py, moderation.py, messages.py, queries.py, presence.py, about.py, opers.py,
klines.py and read_markers.py; chatd/commandset.py says which commands are the master's and
how many parameters each needs (the worker answers 461 before forwarding). Pure."""

from __future__ import annotations

from typing import Callable

from chatd.hub import (about, klines, membership, messages, moderation, opers, presence,
                       queries, read_markers)
from chatd.hub.error_replies import answer_errors
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord

Handler = Callable[[Hub, ClientRecord, tuple[str, ...]], None]

GLOBAL_COMMANDS: dict[str, Handler] = {
    "JOIN": membership.handle_join,
    "PART": membership.handle_part,
    "TOPIC": membership.handle_topic,
    "NAMES": membership.handle_names,
    "KICK": moderation.handle_kick,
    "INVITE": moderation.handle_invite,
    "MODE": membership.handle_mode,
    "PRIVMSG": messages.handle_privmsg,
    "NOTICE": messages.handle_notice,
    "TAGMSG": messages.handle_tagmsg,
    "WHO": queries.handle_who,
    "WHOIS": queries.handle_whois,
    "LIST": queries.handle_list,
    "ISON": queries.handle_ison,
    "USERHOST": queries.handle_userhost,
    "LUSERS": queries.handle_lusers,
    "AWAY": queries.handle_away,
    "MARKREAD": read_markers.handle_markread,
    "INFO": about.handle_info,
    "ADMIN": about.handle_admin,
    # server operators
    "KILL": opers.handle_kill,
    "WALLOPS": opers.handle_wallops,
    "REHASH": opers.handle_rehash,
    "KLINE": klines.handle_kline,
    "UNKLINE": klines.handle_unkline,
    "STATS": klines.handle_stats,
    "MONITOR": presence.handle_monitor,
    "WHOWAS": presence.handle_whowas,
    "SETNAME": presence.handle_setname,
}


def run_command(hub: Hub, client: ClientRecord, command: str, params: tuple[str, ...]) -> None:
    """Run a command the worker forwarded; its IrcError is answered here (or, for a NOTICE,
    not at all)."""
    answer_errors(hub, client, command, GLOBAL_COMMANDS[command], hub, client, params)
