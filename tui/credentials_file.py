"""Reading and writing the saved-logins file (`tui.credentials` says what is in it): written
private (`tui.private_file`: mode 0600, replaced atomically), and refused when other users can
read it.

The only I/O of the login feature: the event loop calls `save`, the command line `load`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.credentials import FILE_NAME, format_entries, is_private, parse
from tui.private_file import read_text, write_private
from tui.xdg import config_dir
from tui.sasl import Credentials


def default_path() -> Path:
    return Path(config_dir(os.environ, str(Path.home()))) / FILE_NAME


def load(path: Path, key: str) -> tuple[Credentials | None, str | None]:
    """The saved login for the server `key`, and a warning for the user (or None)."""
    try:
        info = path.stat()
        if not is_private(info.st_mode) or info.st_uid != os.getuid():
            return None, (f"{path} can be read by other users, so tui does not use it: "
                          f"run chmod 600 {path} (and change the passwords in it).")
        entries = parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"cannot read {path}: {exc}"
    return entries.get(key), None


def save(path: Path, key: str, creds: Credentials) -> None:
    """Add or replace the login for `key`. Raises OSError (or ValueError for a password that
    cannot be written)."""
    try:
        entries = parse(read_text(path) or "")
    except (UnicodeDecodeError, ValueError):
        entries = {}  # unreadable: replaced by a good one
    entries[key] = creds
    write_private(path, format_entries(entries))


def save_default(server: str, credentials: Credentials) -> str | None:
    """Keep `credentials` for `server` in the default file; the reason it failed, or None."""
    try:
        save(default_path(), server, credentials)
    except (OSError, ValueError) as exc:
        return str(exc)
    return None
