"""Making text from the network safe to draw, and turning IRC formatting into styles.

Everything a peer sends passes through here before it reaches the terminal. Control characters
(C0, DEL, C1), escape sequences and invisible Unicode that reorders or hides text are shown
visibly (`^[`, `<9b>`, `<U+202E>`), so a hostile message can never move the cursor, change the
terminal's state or disguise itself. IRC formatting codes (mIRC conventions, see
modern.ircdocs.horse/formatting) become `Style`s; they are never printed raw.

This module only transforms strings: no terminal, no curses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

# IRC formatting control codes (modern.ircdocs.horse/formatting).
BOLD = "\x02"
COLOR = "\x03"
HEX_COLOR = "\x04"
RESET = "\x0f"
MONOSPACE = "\x11"
REVERSE = "\x16"
ITALIC = "\x1d"
STRIKE = "\x1e"
UNDERLINE = "\x1f"
_TOGGLES = {BOLD: "bold", REVERSE: "reverse", ITALIC: "italic", STRIKE: "strike",
            UNDERLINE: "underline"}
_FORMAT_CODES = frozenset(_TOGGLES) | {COLOR, HEX_COLOR, RESET, MONOSPACE}

# Invisible characters that reorder or hide text (bidi embeddings, overrides and isolates, the
# "Trojan Source" set) plus line/paragraph separators: shown as <U+XXXX> instead of obeyed.
_SHOW_AS_CODE = frozenset(
    [0x200E, 0x200F, 0x2028, 0x2029, 0x061C]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)


@dataclass(frozen=True, slots=True)
class Style:
    """How a piece of text is drawn. Colours are IRC colour numbers (0-15) or None (default)."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    strike: bool = False
    dim: bool = False
    fg: int | None = None
    bg: int | None = None


PLAIN = Style()
Segment = tuple[str, Style]


@lru_cache(maxsize=1024)
def visible_char(ch: str) -> str:
    """The safe on-screen form of one character: itself if printable, else a visible code.
    TAB becomes a space because pasted code often carries tabs and a caret there is noise."""
    o = ord(ch)
    if ch == "\t":
        return " "
    if o < 0x20:
        return "^" + chr(o + 0x40)  # caret notation: ESC -> ^[, NUL -> ^@
    if o == 0x7F:
        return "^?"
    if 0x80 <= o < 0xA0:
        return f"<{o:02x}>"  # C1 controls (e.g. 0x9b is a one-byte CSI on some terminals)
    if o in _SHOW_AS_CODE:
        return f"<U+{o:04X}>"
    category = unicodedata.category(ch)
    # Unassigned (to this Python's Unicode tables) and surrogates: the terminal's idea of their
    # width is unknowable, and a wrong width corrupts the whole row.
    if category in ("Cn", "Cs"):
        return f"<U+{o:04X}>"
    return ch


def clean(text: str) -> str:
    """Text made safe to draw, with IRC formatting codes removed (for nicks, topics in the
    status bar, anything drawn in a single style)."""
    return "".join(text for text, _ in parse_formatting(text))


def _read_digits(text: str, i: int, limit: int = 2) -> tuple[str, int]:
    j = i
    while j < len(text) and j - i < limit and text[j].isascii() and text[j].isdigit():
        j += 1
    return text[i:j], j


def _read_hex(text: str, i: int) -> int:
    j = i
    while j < len(text) and j - i < 6 and text[j] in "0123456789abcdefABCDEF":
        j += 1
    return j if j - i == 6 else i


def _colour(number: str) -> int | None:
    """IRC colours 0-15 are the classic palette; 99 and the extended 16-98 fall back to the
    terminal default rather than a guess."""
    n = int(number)
    return n if n < 16 else None


def parse_formatting(text: str, base: Style = PLAIN) -> list[Segment]:
    """Split `text` into (safe text, style) segments. Formatting codes change the style;
    \\x0f returns to `base`. Other control characters appear visibly in the text."""
    if text.isprintable():
        # Most text: no control character (formatting codes are ones), nothing invisible,
        # nothing unassigned (not printable either), so nothing to change.
        return [(text, base)] if text else []
    segments: list[Segment] = []
    style = base
    chunk: list[str] = []

    def flush() -> None:
        if chunk:
            segments.append(("".join(chunk), style))
            chunk.clear()

    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch not in _FORMAT_CODES:
            chunk.append(visible_char(ch))
            i += 1
            continue
        flush()
        i += 1
        if ch in _TOGGLES:
            attr = _TOGGLES[ch]
            style = replace(style, **{attr: not getattr(style, attr)})
        elif ch == RESET:
            style = base
        elif ch == COLOR:
            fg, i = _read_digits(text, i)
            if not fg:
                style = replace(style, fg=base.fg, bg=base.bg)  # bare ^C resets colours
                continue
            style = replace(style, fg=_colour(fg))
            if i + 1 < n and text[i] == "," and text[i + 1].isascii() and text[i + 1].isdigit():
                bg, i = _read_digits(text, i + 1)
                style = replace(style, bg=_colour(bg))
        elif ch == HEX_COLOR:
            # RGB colours cannot be shown faithfully on a 16-colour palette: consume and ignore.
            j = _read_hex(text, i)
            if j != i and j + 1 < n and text[j] == ",":
                k = _read_hex(text, j + 1)
                j = k if k != j + 1 else j
            i = j
        # MONOSPACE: a terminal is monospace already.
    flush()
    return segments
