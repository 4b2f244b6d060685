"""Command line: `tui [NAME | HOST [PORT]] [--nick NAME] [--channel #chan] [--tls |
--tls-insecure] [--password | --password-file FILE] [--config FILE]`.

Finds the server (a `[server NAME]` of the settings file, `tui.config`; with no argument its
default one), reads what tui remembers of it (`tui.state_file`) and the server password (hidden
prompt or file) before the terminal UI starts, connects first when the nick is known (given,
configured or remembered: so an unreachable server, or a certificate that does not verify, is
reported before the terminal UI starts), then hands over to the curses client. Exit status: 0
after quitting, 1 when the server cannot be reached, 2 for bad usage or a bad settings file.
"""

from __future__ import annotations

import argparse
import getpass
import locale
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tui import config as settings_file
from tui import credentials_file, ignore_file, state_file
from tui.app import App
from tui.config import Config, ConfigError, channel_name
from tui.connection import Connection, ConnectionClosed, client_tls_context
from tui.credentials import server_key
from tui.private_file import read_text
from tui.ignores import IgnoreList
from tui.sasl import Credentials
from tui.xdg import config_dir

EXIT_CONNECT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """The command line (with the settings file) does not name a server to connect to."""


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    tls: str  # off, on, insecure
    nick: str | None
    autojoin: tuple[str, ...]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tui", description="Terminal chat client for chatd "
                                     "(an IRC client).", usage="tui [NAME | HOST [PORT]] "
                                     "[options]")
    parser.add_argument("server", nargs="*", metavar="NAME | HOST [PORT]",
                        help="a server of the settings file, or a host name or address and a "
                        "port (default 6667, 6697 with --tls); none: the settings file's "
                        "default server")
    parser.add_argument("--nick", help="nick to use (default: the configured one, else the "
                        "last one used on that server, else asked)")
    parser.add_argument("--channel", help="channel to join (default: what the server "
                        "joins you to, else #lobby)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--tls", action="store_true", help="connect with TLS, verifying the "
                     "server's certificate (system trust store, host name)")
    tls.add_argument("--tls-insecure", action="store_true", help="connect with TLS without "
                     "verifying the certificate: encrypted, but anyone on the way can pose as "
                     "the server (self-signed certificates on a network you trust)")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password", action="store_true", help="ask for the server "
                          "password (PASS) before connecting; input is hidden")
    password.add_argument("--password-file", metavar="FILE", help="read the server password "
                          "from the first line of FILE")
    parser.add_argument("--config", metavar="FILE", type=Path, help="the settings file "
                        f"(default: {default_config_path()})")
    args = parser.parse_args(argv)
    if len(args.server) > 2:
        parser.error("give a server NAME, or HOST and PORT")
    if len(args.server) == 2:
        port = args.server[1]
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            parser.error(f"port must be 1-65535, not {port}")
    if args.channel:
        args.channel = channel_name(args.channel)
    return args


def now_utc() -> datetime:
    return datetime.now(UTC)


def default_config_path() -> Path:
    return Path(config_dir(os.environ, str(Path.home()))) / settings_file.FILE_NAME


def load_config(path: Path) -> Config:
    """The settings file (none: the defaults). Raises ConfigError (or OSError)."""
    text = read_text(path)
    return settings_file.parse(text) if text is not None else Config()


def choose_target(args: argparse.Namespace, config: Config, config_path: Path) -> Target:
    """Where to connect, with what: the command line over the settings file."""
    entry = config.server(args.server[0] if len(args.server) == 1 else None) \
        if len(args.server) < 2 else None
    if not args.server and entry is None:
        raise UsageError(f"which server? tui HOST PORT, or tui NAME with a [server NAME] "
                         f"section in {config_path}")
    tls = "on" if args.tls else "insecure" if args.tls_insecure else \
        (entry.tls if entry is not None else "off")
    if entry is not None:
        port = entry.port if not (args.tls or args.tls_insecure) or entry.tls != "off" \
            else settings_file.DEFAULT_TLS_PORT
        return Target(entry.host, port, tls, args.nick or entry.nick, entry.autojoin)
    default_port = settings_file.DEFAULT_PORT if tls == "off" else settings_file.DEFAULT_TLS_PORT
    port = int(args.server[1]) if len(args.server) == 2 else default_port
    return Target(args.server[0], port, tls, args.nick, ())


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no USER in a container
        return "guest"


def read_password_file(path: str) -> str:
    """The first line of the file, without its line end (OSError if unreadable)."""
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\r\n")


def saved_login(host: str, port: int) -> tuple[Credentials | None, str | None]:
    """The login kept for this server (see `tui.credentials`), and a warning or None."""
    return credentials_file.load(credentials_file.default_path(), server_key(host, port))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config_path = args.config or default_config_path()
    try:
        config = load_config(config_path)
        target = choose_target(args, config, config_path)
    except (ConfigError, OSError, UnicodeDecodeError) as exc:
        print(f"tui: {config_path}: {exc}".replace("\n", f"\ntui: {config_path}: "),
              file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("tui: needs a terminal (stdin and stdout must be a tty)", file=sys.stderr)
        return EXIT_USAGE
    password = None
    if args.password_file:
        try:
            password = read_password_file(args.password_file)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"tui: cannot read the password file {args.password_file}: "
                  f"{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return EXIT_USAGE
    elif args.password:
        try:
            password = getpass.getpass("Server password: ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return EXIT_USAGE
    key = server_key(target.host, target.port)
    state_path = state_file.default_path()
    remembered_servers, state_notice = state_file.load(state_path)
    remembered = remembered_servers.get(key)
    nick = target.nick or (remembered.nick if remembered is not None else None)
    tls = client_tls_context(verify=target.tls == "on") if target.tls != "off" else None
    locale.setlocale(locale.LC_ALL, "")  # curses needs it to draw UTF-8 and wide characters
    connection = None
    if nick:
        connection = Connection(target.host, target.port, tls)
        try:
            connection.connect_now()
        except ConnectionClosed as exc:
            print(f"tui: {exc}", file=sys.stderr)
            return EXIT_CONNECT_FAILED
    saved, notice = saved_login(target.host, target.port)
    app = App(target.host, target.port, nick=nick, channel=args.channel or "#lobby",
              channel_explicit=bool(args.channel), login=login_name(), password=password,
              saved=saved, notice=notice, settings=config.settings,
              autojoin=target.autojoin, remembered=remembered)
    if state_notice:
        app.note_error(state_notice, now_utc())
    masks, warning = ignore_file.load(ignore_file.default_path(), key)
    app.session.ctx.ignores = IgnoreList(masks)  # /ignore's list, kept per server
    if warning:
        app.note_error(warning, now_utc())
    from tui.curses_client import (
        run,  # imported late: curses is not needed to print usage
    )
    return run(app, connection, tls, state_path)


if __name__ == "__main__":
    sys.exit(main())
