"""`chatd --hash-password`: read a password and print its scrypt record (chatd/credentials.py,
the same record accounts store) for an `[opers]` line `NAME = HASH` in chatd.conf. From a
terminal the password is asked twice without echo (getpass); from a pipe it is the first
line. Only the hash is printed; the password is never shown or kept."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from chatd.credentials import make_password_hash
from chatd.exitcodes import EXIT_CONFIG, EXIT_OK
from chatd.identity import password_problem


def read_password(stdin: TextIO) -> str:
    """The password: asked twice on a terminal (a typo would lock the operator out), else the
    first line of stdin. ValueError says what is wrong."""
    if stdin.isatty():
        password = getpass.getpass("Operator password: ")
        if getpass.getpass("The same again: ") != password:
            raise ValueError("the two passwords differ")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise ValueError("no password given (type it, or pipe it as one line)")
    refused = password_problem(password)
    if refused is not None:
        raise ValueError(refused[1])
    return password


def run(stdin: TextIO) -> int:
    try:
        password = read_password(stdin)
    except (ValueError, EOFError) as exc:
        print(f"chatd: --hash-password: {exc or 'no password given'}", file=sys.stderr)
        return EXIT_CONFIG
    print(make_password_hash(password))
    return EXIT_OK
