"""The settings file, `$XDG_CONFIG_HOME/tui/config.ini` (see `tui.xdg`): INI, read into frozen
dataclasses, every problem reported at once. Every key (the README shows the same):

    [tui]                       ; all optional
    server = chatd              ; what `tui` alone connects to (default: the first server)
    time_format = %H:%M         ; strftime format of the time in front of each line
    colours = on                ; off: bold, dim and reverse only
    highlight = deploy, build   ; words that count as mentions of you, besides your nick
    bell = on                   ; ring the terminal's bell on a mention or private message
    notify = off                ; also a desktop notification: off, osc777 or osc9
    buffer_list = on            ; show the buffer list at start (F2 toggles it)

    [server chatd]              ; one section per server: `tui chatd` connects to it
    host = chat.example.org
    port = 6697                 ; default 6667, or 6697 with tls
    tls = on                    ; off, on (the certificate is verified) or insecure
    nick = alice                ; default: the last nick used there, else asked
    autojoin = #lobby, #dev     ; channels joined at every start

Pure: text in, `Config` out (or `ConfigError` listing the problems).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from datetime import datetime

from ircproto.validate import is_valid_nick
from tui.context import CLIENT_NICK_MAX_LEN

FILE_NAME = "config.ini"
DEFAULT_PORT = 6667
DEFAULT_TLS_PORT = 6697
TLS_MODES = ("off", "on", "insecure")
NOTIFY_MODES = ("off", "osc777", "osc9")
MAX_HIGHLIGHTS = 50
MAX_AUTOJOIN = 50
SECTION = "tui"
SERVER_PREFIX = "server "
_BOOLEANS = {"on": True, "yes": True, "true": True, "1": True,
             "off": False, "no": False, "false": False, "0": False}


class ConfigError(ValueError):
    """The file cannot be used; the message lists every problem, one per line."""


@dataclass(frozen=True, slots=True)
class Settings:
    time_format: str = "%H:%M"
    colours: bool = True
    highlights: tuple[str, ...] = ()
    bell: bool = True
    notify: str = "off"
    buffer_list: bool = True


@dataclass(frozen=True, slots=True)
class ServerEntry:
    name: str
    host: str
    port: int
    tls: str = "off"
    nick: str | None = None
    autojoin: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    settings: Settings = field(default_factory=Settings)
    servers: dict[str, ServerEntry] = field(default_factory=dict)  # in the file's order
    default_server: str | None = None

    def server(self, name: str | None) -> ServerEntry | None:
        """The named server, or with no name the default one (else the first)."""
        if name is not None:
            return self.servers.get(name)
        name = self.default_server or next(iter(self.servers), None)
        return self.servers.get(name) if name is not None else None


SETTINGS_KEYS = ("server", "time_format", "colours", "highlight", "bell", "notify",
                 "buffer_list")
SERVER_KEYS = ("host", "port", "tls", "nick", "autojoin")


def _boolean(value: str, where: str, problems: list[str]) -> bool:
    flag = _BOOLEANS.get(value.strip().lower())
    if flag is None:
        problems.append(f"{where}: on or off, not {value!r}")
        return False
    return flag


def _words(value: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in value.replace(",", " ").split() if w.strip())


def _settings(section: configparser.SectionProxy, problems: list[str]) -> Settings:
    where = f"[{SECTION}]"
    values: dict[str, object] = {}
    for key in section:
        if key not in SETTINGS_KEYS:
            problems.append(f"{where} {key}: unknown key (known: {', '.join(SETTINGS_KEYS)})")
    if "time_format" in section:
        fmt = section["time_format"]
        sample = datetime(2026, 1, 2, 3, 4, 5).strftime(fmt) if fmt else ""
        if not fmt or not sample.isprintable() or len(sample) > 40:
            problems.append(f"{where} time_format: a strftime format such as %H:%M, "
                            f"not {fmt!r}")
        values["time_format"] = fmt
    for key in ("colours", "bell", "buffer_list"):
        if key in section:
            values[key] = _boolean(section[key], f"{where} {key}", problems)
    if "highlight" in section:
        words = _words(section["highlight"])
        if len(words) > MAX_HIGHLIGHTS:
            problems.append(f"{where} highlight: at most {MAX_HIGHLIGHTS} words")
        values["highlights"] = words[:MAX_HIGHLIGHTS]
    if "notify" in section:
        notify = section["notify"].strip().lower()
        if notify not in NOTIFY_MODES:
            problems.append(f"{where} notify: one of {', '.join(NOTIFY_MODES)}, "
                            f"not {section['notify']!r}")
        values["notify"] = notify
    return Settings(**values)  # type: ignore[arg-type]


def channel_name(name: str) -> str:
    """`#` in front of a channel name written without one."""
    return name if name[:1] in "#&" else "#" + name


def _server(name: str, section: configparser.SectionProxy,
            problems: list[str]) -> ServerEntry | None:
    where = f"[{SERVER_PREFIX}{name}]"
    for key in section:
        if key not in SERVER_KEYS:
            problems.append(f"{where} {key}: unknown key (known: {', '.join(SERVER_KEYS)})")
    host = section.get("host", "").strip()
    if not host or any(c.isspace() for c in host):
        problems.append(f"{where} host: needed (a name or an address)")
    tls = section.get("tls", "off").strip().lower()
    if tls not in TLS_MODES:
        problems.append(f"{where} tls: one of {', '.join(TLS_MODES)}, not {section['tls']!r}")
    port = DEFAULT_TLS_PORT if tls in ("on", "insecure") else DEFAULT_PORT
    if "port" in section:
        text = section["port"].strip()
        port = int(text) if text.isascii() and text.isdigit() else 0
        if not 0 < port < 65536:
            problems.append(f"{where} port: 1-65535, not {section['port']!r}")
    nick = section.get("nick", "").strip() or None
    if nick is not None and not is_valid_nick(nick, CLIENT_NICK_MAX_LEN):
        problems.append(f"{where} nick: {nick!r} cannot be a nick")
    autojoin = tuple(channel_name(c) for c in _words(section.get("autojoin", "")))
    if len(autojoin) > MAX_AUTOJOIN:
        problems.append(f"{where} autojoin: at most {MAX_AUTOJOIN} channels")
    return ServerEntry(name, host, port, tls, nick, autojoin[:MAX_AUTOJOIN])


def parse(text: str) -> Config:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",),
                                       default_section="\0none")
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    problems: list[str] = []
    settings = Settings()
    servers: dict[str, ServerEntry] = {}
    default_server = None
    for name in parser.sections():
        section = parser[name]
        if name == SECTION:
            settings = _settings(section, problems)
            default_server = section.get("server", "").strip() or None
        elif name.startswith(SERVER_PREFIX) and name[len(SERVER_PREFIX):].strip():
            short = name[len(SERVER_PREFIX):].strip()
            entry = _server(short, section, problems)
            if entry is not None:
                servers[short] = entry
        else:
            problems.append(f"[{name}]: unknown section (known: [{SECTION}], "
                            f"[{SERVER_PREFIX}NAME])")
    if default_server is not None and default_server not in servers:
        problems.append(f"[{SECTION}] server: no [{SERVER_PREFIX}{default_server}] section")
    if problems:
        raise ConfigError("\n".join(problems))
    return Config(settings, servers, default_server)
