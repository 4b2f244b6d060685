"""What every process knows about this server and tells clients: its version, the limits it
advertises in ISUPPORT (RPL_ISUPPORT 005) and the texts built from the config once at start
(MOTD, creation time). Shared by the master (which answers with it) and the workers (which
send the welcome); pure."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chatd.config import Config
from ircproto.casemap import CASEMAPPING
from chatd.limits import CHANNELLEN, CHANTYPES, NICKLEN, REALNAMELEN, TOPICLEN

VERSION = "chatd-0.1"
BOT_MODE = "B"  # the user mode that marks a bot (IRCv3 bot-mode), advertised as BOT=B
USER_MODES = "Bi"  # RPL_MYINFO: bot, invisible (chatd/hub/membership.py sets them)
MAX_TARGETS = 4  # targets of one PRIVMSG/NOTICE/TAGMSG, advertised as TARGMAX
AWAYLEN = 390
CHATHISTORY_MAX = 100  # messages one CHATHISTORY answers at most, advertised as CHATHISTORY


@dataclass(frozen=True)
class ServerInfo:
    """What every session of a worker shares: the config and the texts built from it once."""

    config: Config
    created: str
    motd_lines: tuple[str, ...] | None  # None: no MOTD configured (422)
    boot_id: int = 0  # when this run started (ms): part of anonymous history keys (events.py)
    isupport: tuple[str, ...] = field(default=())
    tls_ports: tuple[int, ...] = ()  # the TLS listeners' bound ports (IRCv3 STS offers the first)
    generation: int = 0  # reloads so far (chatd/reload.py)


def build_server_info(config: Config, motd_text: str | None, started_at_s: float,
                      tls_ports: tuple[int, ...] = ()) -> ServerInfo:
    tokens = (
        f"CASEMAPPING={CASEMAPPING}", f"CHANTYPES={CHANTYPES}", f"NICKLEN={NICKLEN}",
        f"CHANNELLEN={CHANNELLEN}", f"TOPICLEN={TOPICLEN}", "PREFIX=(ov)@+",
        f"NETWORK={config.network}", "CHANMODES=b,,,n",
        f"CHANLIMIT={CHANTYPES}:{config.channels_per_client}",
        f"TARGMAX=PRIVMSG:{MAX_TARGETS},NOTICE:{MAX_TARGETS},TAGMSG:{MAX_TARGETS}",
        f"AWAYLEN={AWAYLEN}", f"CHATHISTORY={CHATHISTORY_MAX}", "MSGREFTYPES=msgid,timestamp",
        f"BOT={BOT_MODE}", f"MONITOR={config.monitor_limit}", f"NAMELEN={REALNAMELEN}",
    )
    motd = tuple(motd_text.splitlines()) if motd_text is not None else None
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started_at_s))
    return ServerInfo(config, created, motd, isupport=tokens, tls_ports=tls_ports,
                      boot_id=int(started_at_s * 1000))


def read_motd(config: Config) -> str | None:
    """The MOTD file's text (None: none configured)."""
    if config.motd_path is None:
        return None
    with open(config.motd_path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def closing_link(user: str | None, host: str, reason: str) -> str:
    """The ERROR line a connection gets before the server closes it."""
    return f"ERROR :Closing link: ({user or 'unknown'}@{host}) [{reason}]"
