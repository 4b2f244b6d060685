"""What a client is sent once the master registered it — 001 to 005 and the MOTD — and the
MOTD alone (the MOTD command). Pure: lines out, from the server's info."""

from __future__ import annotations

from chatd.serverinfo import MYINFO_MODES, VERSION, ServerInfo
from ircproto import numerics as N
from ircproto.message import numeric_line

ISUPPORT_TOKENS_PER_LINE = 12  # RPL_ISUPPORT carries at most 13 tokens a line


def welcome_lines(info: ServerInfo, nick: str, user: str, shown_host: str) -> list[str]:
    """001-005 then the MOTD. `shown_host`: the mask others see (the cloak), as in this
    client's own echoed JOINs and messages; the real address is in its WHOIS (378)."""
    cfg = info.config

    def numeric(code: str, *params: str) -> str:
        return numeric_line(cfg.server_name, nick, code, *params)
    lines = [
        numeric(N.RPL_WELCOME,
                f"Welcome to the {cfg.network} IRC Network {nick}!{user}@{shown_host}"),
        numeric(N.RPL_YOURHOST, f"Your host is {cfg.server_name}, running version {VERSION}"),
        numeric(N.RPL_CREATED, f"This server was created {info.created}"),
        numeric(N.RPL_MYINFO, cfg.server_name, VERSION, *MYINFO_MODES),
    ]
    tokens = info.isupport
    for start in range(0, len(tokens), ISUPPORT_TOKENS_PER_LINE):
        lines.append(numeric(N.RPL_ISUPPORT, *tokens[start:start + ISUPPORT_TOKENS_PER_LINE],
                             "are supported by this server"))
    return lines + motd_lines(info, nick)


def motd_lines(info: ServerInfo, nick: str) -> list[str]:
    server = info.config.server_name
    if info.motd_lines is None:
        return [numeric_line(server, nick, N.ERR_NOMOTD, "MOTD File is missing")]
    return ([numeric_line(server, nick, N.RPL_MOTDSTART, f"- {server} Message of the day -")]
            + [numeric_line(server, nick, N.RPL_MOTD, f"- {line}") for line in info.motd_lines]
            + [numeric_line(server, nick, N.RPL_ENDOFMOTD, "End of /MOTD command.")])
