"""Saved logins, as text: where the file lives, what it holds (one INI section per server,
keyed `host:port`, with `account` and `password`), and whether a file mode is private enough.

Pure: strings and numbers in and out; `tui.credentials_file` does the reading and writing.
The password is kept in plain text in a file only its owner can read (mode 0600), as irssi
and WeeChat keep theirs; that is the trade for logging in by itself.
"""

from __future__ import annotations

import configparser
import stat
from collections.abc import Mapping

from tui.sasl import Credentials
from tui.xdg import config_dir

__all__ = ["FILE_NAME", "config_dir", "format_entries", "is_private", "parse", "server_key"]

FILE_NAME = "credentials.ini"
HEADER = "# tui: saved logins (account and password per server). Keep this file mode 0600.\n"


def server_key(host: str, port: int) -> str:
    return f"{host.lower()}:{port}"


def is_private(mode: int) -> bool:
    """Nobody but the owner can read or write it."""
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def _parser() -> configparser.ConfigParser:
    return configparser.ConfigParser(interpolation=None)  # '%' in a password is a '%'


def parse(text: str) -> dict[str, Credentials]:
    """The saved logins by server key; sections without both fields are skipped. Raises
    ValueError when the text is not INI."""
    parser = _parser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    return {name: Credentials(section["account"], section["password"])
            for name, section in parser.items()
            if name != parser.default_section and section.get("account")
            and "password" in section}


def format_entries(entries: Mapping[str, Credentials]) -> str:
    lines = [HEADER]
    for key in sorted(entries):
        creds = entries[key]
        if "\n" in creds.password or "\r" in creds.password:
            raise ValueError("a password with a line break cannot be saved")
        lines.append(f"\n[{key}]\naccount = {creds.account}\npassword = {creds.password}\n")
    return "".join(lines)
