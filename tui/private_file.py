"""Writing a file only its owner may read: created mode 0600 (whatever the umask) in a
directory created mode 0700, replaced atomically (a crash leaves the old file or the new one,
never half of one), and never written through a link someone planted where the temporary file
goes. For the saved logins, the ignore list and what tui remembers. I/O."""

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
