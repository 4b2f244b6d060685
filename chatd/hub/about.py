"""INFO and ADMIN: what this server is and who runs it (RFC 2812 3.4.10, 3.4.9). Both take an
optional target — a server name or mask, or a nick (whose server is this one: chatd is one
server); anything else is 402. Pure."""

from __future__ import annotations

import time

from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.serverinfo import VERSION
from ircproto import numerics as N
from ircproto.casemap import mask_matcher
from ircproto.errors import IrcError

_INFO = (
    f"{VERSION}: an IRC chat server that keeps every message",
    "Python, standard library only; history in SQLite",
    "A preforking master, workers that hold the connections, one history writer",
)


def _check_target(hub: Hub, params: tuple[str, ...]) -> None:
    """Raise 402 unless the target (if any) names this server or one of its users."""
    if not params or not params[0]:
        return
    target = params[0]
    if mask_matcher(target)(hub.config.server_name):
        return
    other = hub.registry.find_nick(target)
    if other is None or not other.registered:
        raise IrcError(N.ERR_NOSUCHSERVER, target, "No such server")


def handle_info(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _check_target(hub, params)
    since = time.strftime("%a %b %d %Y at %H:%M:%S UTC", time.gmtime(hub.boot_id / 1000))
    lines = [hub.numeric(client, N.RPL_INFO, text) for text in (*_INFO, f"On-line since {since}")]
    lines.append(hub.numeric(client, N.RPL_ENDOFINFO, "End of /INFO list"))
    hub.reply(client, *lines)


def handle_admin(hub: Hub, client: ClientRecord, params: tuple[str, ...]) -> None:
    _check_target(hub, params)
    config = hub.config
    hub.reply(client,
              hub.numeric(client, N.RPL_ADMINME, config.server_name, "Administrative info"),
              hub.numeric(client, N.RPL_ADMINLOC1, f"{config.network} chat server"),
              hub.numeric(client, N.RPL_ADMINLOC2, config.server_name),
              hub.numeric(client, N.RPL_ADMINEMAIL, config.admin_email or "(not given)"))
