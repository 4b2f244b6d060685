"""The terminal's ways of asking for attention: the bell (BEL), and desktop notifications
through OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`: urxvt, foot, kitty, WezTerm, VTE
terminals) or OSC 9 (`ESC ] 9 ; body BEL`: iTerm2, Windows Terminal, kitty, WezTerm). tmux
passes the bell on (a bell in a window you are not looking at marks it); OSC 9/777 reach the
terminal through tmux only with `allow-passthrough`.

Text from the network goes into the escape sequence: it is made safe (`tui.sanitize`, and no
`;` in the title of OSC 777, where it separates fields) and cut short. Pure: bytes out.
"""

from __future__ import annotations

from tui.sanitize import clean

BEL = b"\x07"
MAX_TEXT = 200  # characters of the title and of the body


def _safe(text: str, separator_free: bool = False) -> str:
    text = clean(text)[:MAX_TEXT]
    return text.replace(";", ",") if separator_free else text


def notification(method: str, title: str, body: str) -> bytes:
    """The escape sequence of a desktop notification ("osc777" or "osc9"; b"" otherwise)."""
    if method == "osc777":
        return f"\x1b]777;notify;{_safe(title, True)};{_safe(body)}\x07".encode()
    if method == "osc9":
        return f"\x1b]9;{_safe(title)}: {_safe(body)}\x07".encode()
    return b""
