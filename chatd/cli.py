"""Command line: argv -> config -> logging -> master.run(), and the exit status. The
composition root: the one module that imports every process role, so that it can hand the
master its children's entry functions (the master imports neither the worker nor the writer)."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from importlib import resources

from chatd import config as config_module
from chatd import admin, backup, logsetup, master, password_hash, proctitle, tls
from chatd.serverinfo import VERSION
from chatd.exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME
from chatd.store import schema
from chatd.worker import run_worker
from chatd.writer import run_writer


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chatd", description="chatd: an IRC chat server that keeps every message.")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="configuration file (INI), e.g. chatd.conf (default: the built-in "
                             "defaults, history in $STATE_DIRECTORY or the working directory)")
    parser.add_argument("--check", action="store_true",
                        help="only validate the configuration and the history file, then exit")
    parser.add_argument("--print-config", action="store_true",
                        help="print the documented example configuration, then exit")
    parser.add_argument("--version", action="version", version=VERSION)
    parser.add_argument("--hash-password", action="store_true",
                        help="read a password on stdin (hidden when typed) and print its "
                             "hash for an [opers] line (NAME = HASH), then exit")
    commands = parser.add_subparsers(dest="command", metavar="account|backup ...")
    account = commands.add_parser(
        "account", help="add, change or delete an account (password on stdin)",
        description="Manage accounts, through the running server or, when it is stopped, in "
                    "the history file. add and passwd read the password from stdin.")
    account.add_argument("op", choices=admin.OPERATIONS)
    account.add_argument("name")
    account.add_argument("fingerprint", nargs="?",
                         help="cert-add/cert-del: the client certificate's SHA-256 (hex)")
    copy = commands.add_parser(
        "backup", help="write a consistent copy of the history, while the server runs",
        description="Copy the history file (SQLite's online backup: one snapshot) to FILE, "
                    "atomically and private (mode 0600); restore by stopping chatd, putting "
                    "the copy in the history's place and starting it.")
    copy.add_argument("file", metavar="FILE")
    return parser.parse_args(argv)  # argparse exits with status 2 and a usage line on errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_config:
        sys.stdout.write(example_config())
        return EXIT_OK
    if args.hash_password:
        return password_hash.run(sys.stdin)
    try:
        config = (config_module.load(args.config) if args.config is not None
                  else config_module.defaults())
    except config_module.ConfigError as exc:
        for problem in exc.problems:
            print(f"chatd: config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    server_tls = None
    if config.tls_listen:
        # Built here, once, before any fork: a certificate that cannot be used is a
        # configuration error (--check finds it too), and every worker inherits the context.
        try:
            server_tls = tls.server_context(config.tls_cert, config.tls_key)
        except tls.TlsSetupError as exc:
            print(f"chatd: config error: {config.source_path}: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if args.check:
        return check_history(config, args.config or "built-in defaults")
    if args.command == "account":
        return admin.run_account_command(config, args.op, args.name, args.fingerprint,
                                         sys.stdin)
    if args.command == "backup":
        return backup.run_backup_command(config, args.file)
    logsetup.configure(config_module.log_level_number(config), "master")
    proctitle.set_title("chatd: master", sys.argv[1:] if argv is None else argv)
    worker = run_worker
    if server_tls is not None:
        if server_tls.client_certs_problem:
            logging.getLogger(__name__).warning(
                "TLS client certificates are not requested: %s", server_tls.client_certs_problem)
        worker = functools.partial(run_worker, tls_context=server_tls.context)
    return master.run(config, master.ChildEntries(writer=run_writer, worker=worker))


def example_config() -> str:
    """The shipped chatd.conf, every key documented (package data: chatd/example.conf)."""
    return resources.files("chatd").joinpath("example.conf").read_text(encoding="utf-8")


def check_history(config: config_module.Config, source: str) -> int:
    """--check's last step: the history file, as the writer would open it at start (a file
    that is not chatd's, or is damaged, fails here rather than at the next start)."""
    history = config.history_path
    if history.exists():
        try:
            schema.check_existing(history)
        except schema.HistoryError as exc:
            print(schema.problem_line(history, exc), file=sys.stderr)
            return EXIT_RUNTIME
    state = "checked" if history.exists() else "created at start"
    print(f"chatd: {source}: configuration is valid; history {history} ({state})")
    return EXIT_OK
