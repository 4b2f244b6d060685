"""Keeping the ignore list (`tui.ignores`) on disk: `$XDG_DATA_HOME/tui/ignores.json` (else
`~/.local/share/tui/`), one list of masks per server (`host:port`), written private
(`tui.private_file`: whom one ignores is nobody else's business).
A file that cannot be read is reported, never fatal.

The only I/O of /ignore: the command line loads, the event loop saves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePath

from tui.private_file import write_private

FILE_NAME = "ignores.json"


def data_dir(environ: Mapping[str, str], home: str) -> PurePath:
    """$XDG_DATA_HOME/tui, else ~/.local/share/tui (XDG Base Directory: a relative
    XDG_DATA_HOME is ignored)."""
    base = environ.get("XDG_DATA_HOME", "")
    root = PurePath(base) if base and PurePath(base).is_absolute() \
        else PurePath(home, ".local", "share")
    return root / "tui"


def default_path() -> Path:
    return Path(data_dir(os.environ, str(Path.home()))) / FILE_NAME


def _read(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return {str(key): [str(m) for m in masks] for key, masks in data.items()
            if isinstance(masks, list)}


def load(path: Path, server: str) -> tuple[tuple[str, ...], str | None]:
    """The masks kept for `server`, and a warning for the user (or None)."""
    try:
        return tuple(_read(path).get(server, [])), None
    except FileNotFoundError:
        return (), None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return (), f"cannot read the ignore list {path}: {exc}"


def save(path: Path, server: str, masks: tuple[str, ...]) -> None:
    """Replace the masks of `server` (the other servers' lists kept). Raises OSError."""
    try:
        data = _read(path)
    except FileNotFoundError:
        data = {}
    except (UnicodeDecodeError, ValueError):
        data = {}  # unreadable: replaced by a good one
    if masks:
        data[server] = list(masks)
    else:
        data.pop(server, None)
    write_private(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def save_default(server: str, masks: tuple[str, ...]) -> str | None:
    """Keep `masks` for `server` in the default file; the reason it failed, or None."""
    try:
        save(default_path(), server, masks)
    except OSError as exc:
        return str(exc)
    return None
