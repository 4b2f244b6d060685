"""Command line: argv -> config -> logging -> master.run(), and the exit status. The
composition root: the one module that imports every process role, so that it can hand the
master its children's entry functions (the master imports neither the worker nor the writer)."""

from __future__ import annotations

import argparse
import functools
import logging
import sys

from chatd import config as config_module
from chatd import admin, logsetup, master, password_hash, tls
from chatd.serverinfo import VERSION
from chatd.exitcodes import EXIT_CONFIG, EXIT_OK
from chatd.worker import run_worker
from chatd.writer import run_writer


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chatd", description="chatd: an IRC chat server that keeps every message.")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="configuration file (INI), e.g. chatd.conf (required unless "
                             "--hash-password)")
    parser.add_argument("--check", action="store_true",
                        help="only validate the configuration, then exit")
    parser.add_argument("--version", action="version", version=VERSION)
    parser.add_argument("--hash-password", action="store_true",
                        help="read a password on stdin (hidden when typed) and print its "
                             "hash for an [opers] line (NAME = HASH), then exit")
    commands = parser.add_subparsers(dest="command", metavar="account ...")
    account = commands.add_parser(
        "account", help="add, change or delete an account (password on stdin)",
        description="Manage accounts, through the running server or, when it is stopped, in "
                    "the history file. add and passwd read the password from stdin.")
    account.add_argument("op", choices=admin.OPERATIONS)
    account.add_argument("name")
    account.add_argument("fingerprint", nargs="?",
                         help="cert-add/cert-del: the client certificate's SHA-256 (hex)")
    args = parser.parse_args(argv)  # argparse exits with status 2 and a usage line on errors
    if args.config is None and not args.hash_password:
        parser.error("the following arguments are required: -c/--config")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.hash_password:
        return password_hash.run(sys.stdin)
    try:
        config = config_module.load(args.config)
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
        print(f"chatd: {args.config}: configuration is valid")
        return EXIT_OK
    if args.command == "account":
        return admin.run_account_command(config, args.op, args.name, args.fingerprint,
                                         sys.stdin)
    logsetup.configure(config_module.log_level_number(config), "master")
    worker = run_worker
    if server_tls is not None:
        if server_tls.client_certs_problem:
            logging.getLogger(__name__).warning(
                "TLS client certificates are not requested: %s", server_tls.client_certs_problem)
        worker = functools.partial(run_worker, tls_context=server_tls.context)
    return master.run(config, master.ChildEntries(writer=run_writer, worker=worker))
