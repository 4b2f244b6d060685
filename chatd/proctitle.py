"""Names chatd's processes `chatd: master`, `chatd: worker N`, `chatd: writer`, with the
standard library only, in the two places tools read:

- the kernel's thread name (`prctl(PR_SET_NAME)`, 15 bytes): `top`, `ps -e`/`ps -o comm`,
  `pgrep`, `htop` (tree view);
- the command line (/proc/PID/cmdline): `ps aux`, `ps -f`, `systemctl status`, `htop`. The
  kernel reads it from the process's original argv block, whose address /proc/self/stat
  gives (arg_start, arg_end); the title, then chatd's own arguments (`-c chatd.conf`, as
  nginx keeps its `-c`: which instance is which), is written over that block as NUL-separated
  arguments, NUL-padded. It is never longer than the command line chatd was started with,
  which named python3 or the chatd script besides (it is cut to fit if it ever is). Python
  keeps its own copy of argv, so sys.argv is unchanged.

Either step that the system refuses is skipped: a name is a convenience, never a reason to
fail."""

from __future__ import annotations

import ctypes
import ctypes.util

_PR_SET_NAME = 15
_COMM_BYTES = 15  # TASK_COMM_LEN (16) less the terminating NUL
# /proc/PID/stat fields (1-based, man 5 proc) of the argv block's bounds.
_ARG_START_FIELD, _ARG_END_FIELD = 48, 49


def set_title(title: str, args: list[str]) -> None:
    """Name the calling process `title` in ps, top and systemctl status, followed by `args`
    on its command line (best effort)."""
    libc = _libc()
    if libc is None:
        return
    _set_comm(libc, comm_name(title))
    _set_cmdline(b"\0".join(word.encode("utf-8", "replace") for word in [title, *args]))


def comm_name(title: str) -> bytes:
    """The kernel's 15 bytes: `chatd: worker 12` loses its space rather than its digit."""
    data = title.encode("utf-8", "replace")
    if len(data) > _COMM_BYTES:
        data = data.replace(b": ", b":", 1)
    return data[:_COMM_BYTES]


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def _set_comm(libc: ctypes.CDLL, name: bytes) -> None:
    try:
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)
    except (AttributeError, OSError):
        pass


def argv_block() -> tuple[int, int] | None:
    """Start and end address of this process's original argv strings, from /proc/self/stat."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rindex(b")") + 2:].split()
    try:
        start = int(fields[_ARG_START_FIELD - 3])
        end = int(fields[_ARG_END_FIELD - 3])
    except (IndexError, ValueError):
        return None
    return (start, end) if 0 < start < end else None


def _set_cmdline(title: bytes) -> None:
    block = argv_block()
    if block is None:
        return
    start, end = block
    size = end - start
    # Cut to the block, keep a final NUL, pad the rest with NULs: the kernel then reads the
    # words as the arguments, and nothing after them.
    text = title[:size - 1]
    ctypes.memmove(start, text + b"\0" * (size - len(text)), size)
