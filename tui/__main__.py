"""Command line: `tui HOST PORT [--nick NAME] [--channel #chan] [--tls | --tls-insecure]
[--password | --password-file FILE]`.

Parses arguments, reads the server password (hidden prompt or file) before the terminal UI
starts, connects first when the nick is known (so an unreachable server, or a certificate
that does not verify, is reported before the terminal UI starts), then hands over to the
curses client. Exit status: 0 after quitting, 1 when the server cannot be reached, 2 for bad
usage.
"""

from __future__ import annotations

import argparse
import getpass
import locale
import sys
from datetime import datetime

from tui import credentials_file, ignore_file
from tui.app import App
from tui.connection import Connection, ConnectionClosed, client_tls_context
from tui.credentials import server_key
from tui.ignores import IgnoreList
from tui.sasl import Credentials

EXIT_CONNECT_FAILED = 1
EXIT_USAGE = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tui", description="Terminal chat client for chatd "
                                     "(an IRC client).")
    parser.add_argument("host", help="server host name or address")
    parser.add_argument("port", type=int, help="server port")
    parser.add_argument("--nick", help="nick to use (asked for when absent)")
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
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"port must be 1-65535, not {args.port}")
    if args.channel and args.channel[0] not in "#&":
        args.channel = "#" + args.channel
    return args


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
    tls = (client_tls_context(verify=not args.tls_insecure)
           if args.tls or args.tls_insecure else None)
    locale.setlocale(locale.LC_ALL, "")  # curses needs it to draw UTF-8 and wide characters
    connection = None
    if args.nick:
        connection = Connection(args.host, args.port, tls)
        try:
            connection.connect_now()
        except ConnectionClosed as exc:
            print(f"tui: {exc}", file=sys.stderr)
            return EXIT_CONNECT_FAILED
    saved, notice = saved_login(args.host, args.port)
    app = App(args.host, args.port, nick=args.nick, channel=args.channel or "#lobby",
              channel_explicit=bool(args.channel), login=login_name(), password=password,
              saved=saved, notice=notice)
    masks, warning = ignore_file.load(ignore_file.default_path(), server_key(args.host, args.port))
    app.session.ctx.ignores = IgnoreList(masks)  # /ignore's list, kept per server
    if warning:
        app.note_error(warning, datetime.now().astimezone())
    from tui.curses_client import (
        run,  # imported late: curses is not needed to print usage
    )
    return run(app, connection, tls)


if __name__ == "__main__":
    sys.exit(main())
