"""Reading and writing the state file, `$XDG_STATE_HOME/tui/state.json` (`tui.saved_state`
says what is in it): private (mode 0600, directory 0700, replaced atomically), one entry per
server, the other servers' entries kept when one is written. I/O only: the command line
loads, the event loop saves."""

from __future__ import annotations

import os
from pathlib import Path

from tui.private_file import read_text, write_private
from tui.saved_state import SavedServer, decode, encode
from tui.xdg import state_dir

FILE_NAME = "state.json"
MAX_BYTES = 8 << 20  # far beyond what the bounds of saved_state let it hold


def default_path() -> Path:
    return Path(state_dir(os.environ, str(Path.home()))) / FILE_NAME


def load(path: Path) -> tuple[dict[str, SavedServer], str | None]:
    """Every server remembered, and a warning for the user when the file cannot be used (it
    is then replaced at the next save)."""
    try:
        if path.exists() and path.stat().st_size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
        text = read_text(path)
        return (decode(text) if text is not None else {}), None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"cannot read {path} ({exc}): starting without what tui remembered"


def save(path: Path, key: str, saved: SavedServer) -> str | None:
    """Remember `saved` for the server `key`; the reason it failed, or None."""
    servers, _ = load(path)
    servers.pop(key, None)
    servers[key] = saved  # the latest last: the oldest are the ones cut beyond the bound
    try:
        write_private(path, encode(servers))
    except OSError as exc:
        return str(exc)
    return None
