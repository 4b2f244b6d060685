"""One client connection's protocol state, as seen by its worker: registration (NICK, USER,
PASS, CAP), ping timeouts and the commands a worker answers alone. Pure: lines come in with
the current time, and the session collects effects for the worker to carry out — lines for
the client (`out`), frames for the master (`to_master`) and whether to close (`close_reason`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chatd import ipc
from chatd.commands import VERSION, dispatch
from chatd.config import Config
from chatd.global_commands import MAX_TARGETS
from chatd.irc.casemap import CASEMAPPING
from chatd.irc.validate import CHANNELLEN, CHANTYPES, NICKLEN, TOPICLEN
from chatd.irc import numerics as N
from chatd.irc.framing import LineTooLong, decode_line, encode_line
from chatd.irc.message import Message, ProtocolError, parse



@dataclass(frozen=True)
class ServerInfo:
    """What every session of a worker shares: the config and the texts built from it once."""

    config: Config
    created: str
    motd_lines: tuple[str, ...] | None  # None: no MOTD configured (422)
    isupport: tuple[str, ...] = field(default=())


def build_server_info(config: Config, motd_text: str | None, started_at_s: float) -> ServerInfo:
    tokens = (
        f"CASEMAPPING={CASEMAPPING}", f"CHANTYPES={CHANTYPES}", f"NICKLEN={NICKLEN}",
        f"CHANNELLEN={CHANNELLEN}", f"TOPICLEN={TOPICLEN}", "PREFIX=(ov)@+",
        f"NETWORK={config.network}", "CHANMODES=b,,,n",
        f"CHANLIMIT={CHANTYPES}:{config.channels_per_client}",
        f"TARGMAX=PRIVMSG:{MAX_TARGETS},NOTICE:{MAX_TARGETS}", "AWAYLEN=390",
    )
    motd = tuple(motd_text.splitlines()) if motd_text is not None else None
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started_at_s))
    return ServerInfo(config, created, motd, tokens)


class Session:
    """The state machine of one client connection."""

    def __init__(self, conn_id: int, host: str, info: ServerInfo, now: float):
        self.conn_id = conn_id
        self.host = host
        self.info = info
        self.nick: str | None = None  # granted by the master
        self.user: str | None = None
        self.realname = ""
        self.registered = False
        self.caps: set[str] = set()
        self.cap_negotiating = False
        self.password: str | None = None
        self.connected_at = now
        self.last_recv = now
        self.ping_sent_at: float | None = None
        # effects
        self.out: list[bytes] = []
        self.to_master: list[tuple] = []
        self.close_reason: str | None = None

    @property
    def server_name(self) -> str:
        return self.info.config.server_name

    @property
    def wants_server_time(self) -> bool:
        return "server-time" in self.caps

    # effects
    def send(self, line: str) -> None:
        self.out.append(encode_line(line))

    def send_numeric(self, code: str, *params: str) -> None:
        self.send(Message(code, (self.nick or "*", *params), self.server_name).format())

    def close(self, reason: str, error_text: str | None = None) -> None:
        """Say ERROR to the client and mark the connection for closing."""
        if self.close_reason is None:
            user = self.user or "unknown"
            self.send(f"ERROR :Closing link: ({user}@{self.host}) [{error_text or reason}]")
            self.close_reason = reason

    # input
    def on_line(self, raw: bytes | LineTooLong, now: float) -> None:
        """Handle one line from the client."""
        self.last_recv = now
        self.ping_sent_at = None
        if isinstance(raw, LineTooLong):
            self.send_numeric(N.ERR_INPUTTOOLONG, "Input line was too long")
            return
        try:
            msg = parse(decode_line(raw))
        except ProtocolError as exc:
            self.send_numeric(N.ERR_UNKNOWNERROR, "*", f"Could not parse your line: {exc}")
            return
        dispatch(self, msg)

    def on_nick_granted(self, nick: str) -> None:
        self.nick = nick
        self.try_complete_registration()

    def on_nick_changed(self, nick: str) -> None:
        self.nick = nick

    def on_timer(self, now: float) -> None:
        """Registration and ping timeouts (modern.ircdocs.horse: servers ping idle clients)."""
        config = self.info.config
        if not self.registered:
            if now - self.connected_at >= config.registration_timeout_s:
                self.close("Registration timed out")
            return
        if self.ping_sent_at is not None:
            if now - self.ping_sent_at >= config.ping_timeout_s:
                self.close(f"Ping timeout: {int(now - self.last_recv)} seconds")
        elif now - self.last_recv >= config.ping_interval_s:
            self.send(f"PING :{self.server_name}")
            self.ping_sent_at = now

    # registration
    def try_complete_registration(self) -> None:
        if self.registered or self.nick is None or self.user is None or self.cap_negotiating:
            return
        if self.info.config.password and self.password != self.info.config.password:
            self.send_numeric(N.ERR_PASSWDMISMATCH, "Password incorrect")
            self.close("Bad password")
            return
        self.registered = True
        self._send_welcome()
        self.to_master.append((ipc.REGISTERED, self.conn_id, self.user, self.realname, self.host))

    def _send_welcome(self) -> None:
        info, nick = self.info, self.nick
        cfg = info.config
        self.send_numeric(N.RPL_WELCOME,
                          f"Welcome to the {cfg.network} IRC Network {nick}!{self.user}@{self.host}")
        self.send_numeric(N.RPL_YOURHOST, f"Your host is {cfg.server_name}, running version {VERSION}")
        self.send_numeric(N.RPL_CREATED, f"This server was created {info.created}")
        self.send_numeric(N.RPL_MYINFO, cfg.server_name, VERSION, "i", "bn")
        tokens = info.isupport
        for start in range(0, len(tokens), 12):  # ISUPPORT allows at most 13 tokens a line
            self.send_numeric(N.RPL_ISUPPORT, *tokens[start:start + 12],
                              "are supported by this server")
        self.send_motd()

    def send_motd(self) -> None:
        motd = self.info.motd_lines
        if motd is None:
            self.send_numeric(N.ERR_NOMOTD, "MOTD File is missing")
            return
        self.send_numeric(N.RPL_MOTDSTART, f"- {self.server_name} Message of the day -")
        for line in motd:
            self.send_numeric(N.RPL_MOTD, f"- {line}")
        self.send_numeric(N.RPL_ENDOFMOTD, "End of /MOTD command.")
