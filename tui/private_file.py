"""Writing a file only its owner may read (saved logins, what tui remembers): created mode
0600 in a directory created mode 0700, whatever the umask, written to a temporary file and
renamed over the old one, so a crash never leaves half a file. I/O only; callers say what goes
in it."""

from __future__ import annotations

import os
from pathlib import Path


def read_text(path: Path) -> str | None:
    """The file's text, or None if there is no such file (other errors raise OSError or
    UnicodeDecodeError)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, atomically, mode 0600. Raises OSError."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # O_EXCL after removing a leftover: never write through a link someone planted there.
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if fd != -1:
            os.close(fd)
        if tmp.exists():
            tmp.unlink()
