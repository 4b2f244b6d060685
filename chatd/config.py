"""chatd.conf (INI) -> a frozen Config. Every problem in a file is collected and reported at
once; nothing here starts anything or touches the network."""

from __future__ import annotations

import configparser
import ipaddress
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from chatd.credentials import parse_password_hash
from chatd.limits import FLAG_MODES, is_nick, is_valid_channel


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Config:
    """Every setting with its default; the shipped chatd.conf documents each key."""

    server_name: str = "chat.example"
    network: str = "chatd"
    admin_email: str = ""  # shown by ADMIN (259)
    listen_host: str = "127.0.0.1"
    listen_port: int = 6667
    workers: int = 2
    password: str = ""
    motd_path: Path | None = None
    log_level: str = "info"
    ping_interval_s: float = 90.0
    ping_timeout_s: float = 120.0
    registration_timeout_s: float = 60.0
    history_path: Path = Path("chatd.db")
    history_replay: int = 50
    history_synchronous: str = "full"
    history_retention_days: int = 0  # 0: keep everything
    # the size quota (MiB of data; oldest events deleted past it), the free space below which
    # clients' messages are refused (MiB), the stored bytes per second per client; 0: none
    history_max_size_mb: int = 1024
    history_min_free_mb: int = 100
    history_client_bytes_per_s: int = 2048
    autojoin: tuple[str, ...] = ("#lobby",)
    default_modes: str = "nt"  # flags a new channel gets (letters of limits.FLAG_MODES)
    # Accounts opped whenever they join an autojoin channel (chatd/hub/channel_access.py)
    channel_operators: tuple[str, ...] = ()
    sendq_bytes: int = 1 << 20
    channels_per_client: int = 50
    monitor_limit: int = 100  # nicks on one client's MONITOR list (ISUPPORT MONITOR=)
    whowas_entries: int = 1000  # departed nicks the master remembers for WHOWAS; 0: none
    max_clients: int = 0  # 0: as many as the file descriptor limit allows
    # Per address (an IPv4 address or an IPv6 /64; chatd/hub/addresses.py); 0: no limit.
    clients_per_ip: int = 10  # connections at once, unregistered ones included
    unregistered_per_ip: int = 3  # connections at once that have not registered yet
    connects_per_minute_per_ip: int = 30  # connection attempts in the last 60 s
    tls_listen: tuple[tuple[str, int], ...] = ()  # (host, port) of each TLS listener
    tls_cert: Path | None = None  # PEM certificate (chain) for the TLS listeners
    tls_key: Path | None = None  # its PEM private key
    sts_duration_s: int = 0  # IRCv3 STS policy duration; 0: no STS
    metrics_listen: tuple[str, int] | None = None  # (host, port) of GET /metrics; None: off
    accounts_registration: str = "open"  # open: anyone may REGISTER; closed: the admin command
    registrations_per_hour_per_ip: int = 10  # new accounts REGISTERed from one address; 0: any
    cloak: bool = True  # others see a keyed hash of a client's address, not the address
    # fakelag (chatd/session/fakelag.py): a burst of lines, then lines per second (0: off),
    # and the unprocessed input past which a client is dropped ("Excess Flood")
    flood_burst: int = 5
    flood_rate: float = 2.0
    recvq_bytes: int = 8192
    # networks exempt from the per-address limits and from fakelag
    exempt: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),
                                   ipaddress.ip_network("::1"))
    # [opers]: (name, scrypt record) pairs (chatd --hash-password); kept out of repr so that
    # no traceback or debug print shows a hash
    opers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    source_path: Path | None = field(default=None, compare=False)

    def oper_password_hash(self, name: str) -> str | None:
        """The scrypt record of the [opers] entry `name` (names compare ignoring case)."""
        folded = name.lower()
        return next((record for oper, record in self.opers if oper.lower() == folded), None)

    def oper_name(self, name: str) -> str | None:
        """The [opers] entry's name as configured, or None if there is none such."""
        folded = name.lower()
        return next((oper for oper, _record in self.opers if oper.lower() == folded), None)


# section -> key -> parser; each parser takes (raw value, config dir) and returns the field
# value or raises ValueError with a message that says what is acceptable.
def _nonempty(raw: str, _: Path) -> str:
    if not raw or any(c.isspace() for c in raw):
        raise ValueError("must be a single word")
    return raw


def _listen(raw: str, _: Path) -> tuple[str, int]:
    if raw.startswith("["):
        host, sep, port = raw[1:].partition("]:")
    else:
        host, sep, port = raw.rpartition(":")
        if ":" in host:  # a bare IPv6 address: "::1" would otherwise read as host ":" port 1
            raise ValueError("an IPv6 address must be in brackets, as [::1]:6667")
    if (not sep or not host or not (port.isascii() and port.isdigit())
            or not 0 <= int(port) <= 65535):
        raise ValueError("must be HOST:PORT (IPv6 as [::1]:6667), port 0-65535")
    return host, int(port)


def _listen_list(raw: str, base: Path) -> tuple[tuple[str, int], ...]:
    addresses = tuple(_listen(part.strip(), base) for part in raw.split(",") if part.strip())
    if not addresses:
        raise ValueError("must be HOST:PORT, or several separated by commas")
    return addresses


def _int_range(lo: int, hi: int):
    def parse(raw: str, _: Path) -> int:
        if not (raw.isascii() and raw.isdigit()):  # int() would also take "1_000" or " 5"
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        return value
    return parse


def _seconds(raw: str, _: Path) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds") from None
    if not 1 <= value <= 86400:
        raise ValueError("must be between 1 and 86400 seconds")
    return value


def _workers(raw: str, _: Path) -> int:
    if raw == "auto":
        return os.cpu_count() or 1
    return _int_range(1, 64)(raw, _)


def _path(raw: str, base: Path) -> Path:
    if not raw:
        raise ValueError("must name a file")
    return (base / raw).resolve()


def _optional_path(raw: str, base: Path) -> Path | None:
    return _path(raw, base) if raw else None


def _choice(*choices: str):
    def parse(raw: str, _: Path) -> str:
        if raw.lower() not in choices:
            raise ValueError("must be one of " + ", ".join(choices))
        return raw.lower()
    return parse


def _channels(raw: str, _: Path) -> tuple[str, ...]:
    if raw in ('""', "''"):  # an explicitly empty list
        return ()
    names = tuple(n for n in raw.replace(",", " ").split() if n)
    bad = [n for n in names if not is_valid_channel(n)]
    if bad:
        raise ValueError(f"not a valid channel name: {', '.join(bad)}")
    return names


def _channel_flags(raw: str, _: Path) -> str:
    """'+nt' (or 'nt'); '+' or "" for none."""
    letters = raw.strip("\"'")
    letters = letters[1:] if letters.startswith("+") else letters
    if any(letter not in FLAG_MODES for letter in letters):
        raise ValueError(f"must be + and channel modes from {FLAG_MODES}, e.g. +nt")
    return "".join(sorted(set(letters)))


def _accounts(raw: str, _: Path) -> tuple[str, ...]:
    names = tuple(n for n in raw.replace(",", " ").split() if n not in ('""', "''"))
    bad = [n for n in names if not is_nick(n)]
    if bad:
        raise ValueError(f"not a valid account name: {', '.join(bad)}")
    return names


def _rate(raw: str, _: Path) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of lines per second (0 = off)") from None
    if not 0 <= value <= 10000:  # (also refuses nan and inf)
        raise ValueError("must be between 0 (off) and 10000 lines per second")
    return value


def _networks(raw: str, _: Path) -> tuple[Network, ...]:
    """Comma-separated CIDRs (a bare address is a /32 or /128); "" for none."""
    networks = []
    for part in (p.strip() for p in raw.split(",")):
        if part in ("", '""', "''"):
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ValueError(f"must be networks such as 10.0.0.0/8, ::1 ({exc})") from None
    return tuple(networks)


def _text(raw: str, _: Path) -> str:
    return raw


def _on_off(raw: str, _: Path) -> bool:
    if raw not in ("on", "off"):
        raise ValueError("must be on or off")
    return raw == "on"


LOG_LEVELS = ("debug", "info", "warning", "error")
STS_MAX_DURATION_S = 10 * 365 * 86400

SCHEMA = {
    "server": {
        "name": ("server_name", _nonempty),
        "network": ("network", _nonempty),
        "admin_email": ("admin_email", _nonempty),
        "listen": (("listen_host", "listen_port"), _listen),
        "workers": ("workers", _workers),
        "password": ("password", _text),
        "motd": ("motd_path", _optional_path),
        "log_level": ("log_level", _choice(*LOG_LEVELS)),
        "ping_interval": ("ping_interval_s", _seconds),
        "ping_timeout": ("ping_timeout_s", _seconds),
        "registration_timeout": ("registration_timeout_s", _seconds),
        "cloak": ("cloak", _on_off),
    },
    "history": {
        "path": ("history_path", _path),  # relative to state_folder (see from_parser)
        "replay": ("history_replay", _int_range(0, 1000)),
        "synchronous": ("history_synchronous", _choice("normal", "full")),
        "retention_days": ("history_retention_days", _int_range(0, 100000)),
        "max_size_mb": ("history_max_size_mb", _int_range(0, 1 << 30)),
        "min_free_mb": ("history_min_free_mb", _int_range(0, 1 << 30)),
        "client_bytes_per_s": ("history_client_bytes_per_s", _int_range(0, 1 << 30)),
    },
    "channels": {
        "autojoin": ("autojoin", _channels),
        "default_modes": ("default_modes", _channel_flags),
        "operators": ("channel_operators", _accounts),
    },
    "limits": {
        "sendq": ("sendq_bytes", _int_range(4096, 1 << 30)),
        "channels_per_client": ("channels_per_client", _int_range(1, 1000)),
        "monitor": ("monitor_limit", _int_range(1, 10_000)),
        "whowas": ("whowas_entries", _int_range(0, 1_000_000)),
        "max_clients": ("max_clients", _int_range(0, 10_000_000)),
        "flood_burst": ("flood_burst", _int_range(1, 1000)),
        "flood_rate": ("flood_rate", _rate),
        "recvq": ("recvq_bytes", _int_range(1024, 1 << 24)),
        "clients_per_ip": ("clients_per_ip", _int_range(0, 10_000_000)),
        "unregistered_per_ip": ("unregistered_per_ip", _int_range(0, 10_000_000)),
        "connects_per_minute_per_ip": ("connects_per_minute_per_ip", _int_range(0, 10_000_000)),
        "exempt": ("exempt", _networks),
    },
    "tls": {
        "listen": ("tls_listen", _listen_list),
        "cert": ("tls_cert", _path),
        "key": ("tls_key", _path),
        "sts_duration": ("sts_duration_s", _int_range(0, STS_MAX_DURATION_S)),
    },
    "accounts": {
        "registration": ("accounts_registration", _choice("open", "closed")),
        "registrations_per_hour_per_ip": ("registrations_per_hour_per_ip",
                                          _int_range(0, 1_000_000)),
    },
    "metrics": {
        "listen": ("metrics_listen", _listen),
    },
}


OPERS_SECTION = "opers"
OPER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}\Z")


def _opers(items: list[tuple[str, str]], path: Path,
           problems: list[str]) -> tuple[tuple[str, str], ...]:
    """[opers] NAME = HASH lines, each hash an scrypt record (chatd --hash-password). A bad
    line is a problem that names the entry but never shows its value (a hash, or a password
    pasted by mistake)."""
    opers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, raw in items:
        where = f"{path}: [{OPERS_SECTION}] {name}"
        if not OPER_NAME.match(name):
            problems.append(f"{where}: an operator name is 1-32 letters, digits, '-', '_', '.'")
        elif name.lower() in seen:
            problems.append(f"{where}: named twice (names compare ignoring case)")
        elif parse_password_hash(raw.strip()) is None:
            problems.append(f"{where}: the value is not a password hash; make one with "
                            "chatd --hash-password")
        else:
            seen.add(name.lower())
            opers.append((name, raw.strip()))
    return tuple(opers)




def state_folder(environ: dict[str, str] | os._Environ) -> Path | None:
    """systemd's state directory for chatd (StateDirectory=: $STATE_DIRECTORY, the first of
    a list), where a relative history path then goes: under ProtectSystem=strict it is the
    one place chatd may write."""
    state = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state) if state else None


def defaults(environ: dict[str, str] | os._Environ = os.environ) -> Config:
    """The built-in configuration (`chatd` without -c): the history in systemd's state
    directory when there is one, otherwise in the working directory."""
    folder = state_folder(environ) or Path.cwd()
    config = Config(history_path=(folder / "chatd.db").resolve())
    problems = _cross_checks(config, Path("built-in defaults"))
    if problems:
        raise ConfigError(problems)
    return config


def load(path: str | os.PathLike[str], environ: dict[str, str] | os._Environ = os.environ
         ) -> Config:
    """Read and validate a config file. Raise ConfigError listing every problem found."""
    path = Path(path)
    parser = configparser.ConfigParser(
        interpolation=None,
        comment_prefixes=("#", ";"),
        # Only ';' starts an inline comment: '#' starts channel names (autojoin = #lobby).
        inline_comment_prefixes=(";",),
        empty_lines_in_values=False,
        # No implicit [DEFAULT]: its keys would be copied into every section unnoticed.
        # With this name it is an ordinary section, reported as unknown like any other.
        default_section="\x00no default section",
    )
    parser.optionxform = str  # keys are case-sensitive, as documented
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0]
        raise ConfigError([f"{path}: not a valid INI file: {first_line}"]) from None
    return from_parser(parser, path, state_folder(environ))


def from_parser(parser: configparser.ConfigParser, path: Path,
                state: Path | None = None) -> Config:
    """Validate parsed INI sections against SCHEMA and build the Config. Relative paths are
    the config file's folder's, but a relative history path is `state`'s when given."""
    base = path.resolve().parent
    history_base = state.resolve() if state is not None else base
    values: dict[str, object] = {"source_path": path.resolve()}
    problems = []
    for section in parser.sections():
        if section == OPERS_SECTION:  # names are the keys: not in SCHEMA
            values["opers"] = _opers(parser.items(section), path, problems)
            continue
        if section not in SCHEMA:
            problems.append(f"{path}: unknown section [{section}]")
            continue
        for key, raw in parser.items(section):
            spec = SCHEMA[section].get(key)
            if spec is None:
                problems.append(f"{path}: [{section}] unknown key '{key}'")
                continue
            target, convert = spec
            try:
                value = convert(raw.strip(), history_base if spec[0] == "history_path" else base)
            except ValueError as exc:
                problems.append(f"{path}: [{section}] {key} = {raw.strip()!r}: {exc}")
                continue
            if isinstance(target, tuple):
                values.update(zip(target, value))
            else:
                values[target] = value
    if "history_path" not in values:
        values["history_path"] = (history_base / "chatd.db").resolve()
    config = Config(**values)  # type: ignore[arg-type]
    problems += _cross_checks(config, path)
    if problems:
        raise ConfigError(problems)
    return config


def _cross_checks(config: Config, path: Path) -> list[str]:
    problems = []
    folder = config.history_path.parent
    if not folder.is_dir():
        problems.append(f"{path}: [history] path: folder {folder} does not exist")
    elif not os.access(folder, os.W_OK | os.X_OK):
        problems.append(f"{path}: [history] path: folder {folder} is not writable")
    elif config.history_path.exists() and not config.history_path.is_file():
        problems.append(f"{path}: [history] path: {config.history_path} is not a file")
    elif config.history_path.exists() and not os.access(config.history_path, os.R_OK | os.W_OK):
        problems.append(f"{path}: [history] path: {config.history_path} is not writable")
    if config.motd_path is not None and not config.motd_path.is_file():
        problems.append(f"{path}: [server] motd: {config.motd_path} is not a readable file")
    return problems + _tls_checks(config, path)


def _tls_checks(config: Config, path: Path) -> list[str]:
    """The [tls] keys that only make sense together, and files that must be readable. (That
    they hold a matching PEM certificate and key is checked by chatd/tls.py, at start and by
    --check: loading them is not this pure module's business.)"""
    problems = []
    if config.tls_listen and (config.tls_cert is None or config.tls_key is None):
        problems.append(f"{path}: [tls] listen needs both cert and key")
    if config.sts_duration_s and not config.tls_listen:
        problems.append(f"{path}: [tls] sts_duration needs a TLS listen address")
    for key, file in (("cert", config.tls_cert), ("key", config.tls_key)):
        if file is not None and not (file.is_file() and os.access(file, os.R_OK)):
            problems.append(f"{path}: [tls] {key}: {file} is not a readable file")
    return problems


def log_level_number(config: Config) -> int:
    return getattr(logging, config.log_level.upper())
