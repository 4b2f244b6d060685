"""What the keys mean: control keys (raw mode: Ctrl-W arrives as a key, not as a signal),
and multi-key sequences: ESC then a key is Alt+key (that is what terminals send: Alt-1..9
switch buffers, Alt-B/F move by word, Alt-Backspace deletes a word, Alt-Enter starts a new
line in the input), and ESC [200~ opens a bracketed paste (xterm's mode 2004, which tui turns
on) that ESC [201~ closes; `PasteReader` gathers its text.

A key's meaning is a `Binding`: which object acts (the event loop, the app, the input line)
and the method it calls. Pure: keys as curses' get_wch returns them (str, or int for
function keys) in, meanings out; the curses client dispatches.
"""

from __future__ import annotations

from collections.abc import Callable

# (who acts: "loop"|"app"|"input"|"screen" (tui.curses_screen's Screen), the method, its
# arguments)
Binding = tuple[str, str, tuple[object, ...]]
ESC = "\x1b"
PASTE_MODE_ON, PASTE_MODE_OFF = ESC + "[?2004h", ESC + "[?2004l"  # xterm's mode 2004
PASTE_START = "[200~"  # after ESC
PASTE_END = ESC + "[201~"
MAX_PASTE_CHARS = 100_000  # more is dropped: a chat message is never that long
# A paste arrives in one burst; a key this long after the last one means the end marker was
# lost (a terminal that hung up, a program that sent only the start): the paste ends there,
# so that the keyboard is never swallowed for good.
PASTE_STALL_S = 1.0
TAB_SPACES = "    "  # pasted code keeps its indentation; a TAB cannot be sent or drawn as is
CONTROL_KEYS: dict[str, Binding] = {
    "\n": ("loop", "submit", ()), "\r": ("loop", "submit", ()),
    "\t": ("app", "complete", ()),
    "\x7f": ("input", "backspace", ()), "\x08": ("input", "backspace", ()),
    "\x01": ("input", "home", ()), "\x05": ("input", "end", ()),
    "\x02": ("input", "left", ()), "\x06": ("input", "right", ()),
    "\x04": ("input", "delete", ()), "\x17": ("input", "kill_word", ()),
    "\x15": ("input", "kill_to_start", ()), "\x0b": ("input", "kill_to_end", ()),
    "\x0e": ("app", "cycle", (1,)), "\x10": ("app", "cycle", (-1,)),  # Ctrl-N, Ctrl-P
    "\x03": ("loop", "quit", ("Leaving",)),  # Ctrl-C
    "\x0c": ("screen", "invalidate", ()),  # Ctrl-L: draw everything again
}
# Function keys by their curses name (keyname), which the curses client looks up.
FUNCTION_KEYS: dict[bytes, Binding] = {
    b"KEY_ENTER": ("loop", "submit", ()),
    b"KEY_BACKSPACE": ("input", "backspace", ()), b"KEY_DC": ("input", "delete", ()),
    b"KEY_LEFT": ("input", "left", ()), b"KEY_RIGHT": ("input", "right", ()),
    b"KEY_HOME": ("input", "home", ()), b"KEY_END": ("input", "end", ()),
    b"KEY_UP": ("app", "up", ()), b"KEY_DOWN": ("app", "down", ()),
    b"KEY_F(2)": ("app", "toggle_buffer_list", ()),
    b"kLFT5": ("input", "word_left", ()), b"kRIT5": ("input", "word_right", ()),  # Ctrl-arrows
}
ALT_KEYS: dict[str, Binding] = {
    "b": ("input", "word_left", ()), "f": ("input", "word_right", ()),
    "\x7f": ("input", "kill_word", ()), "\x08": ("input", "kill_word", ()),
    "\r": ("app", "paste", ("\n",)), "\n": ("app", "paste", ("\n",)),  # Alt-Enter
}

Key = str | int


def after_escape(read: Callable[[], Key | None]) -> Binding | None:
    """What ESC followed by the keys `read()` returns (None: no more keys now) means: a
    bracketed paste begins (the loop's `start_paste`), Alt-digit shows that buffer (Alt-0:
    the tenth), an Alt-key edit; None for a lone ESC or a sequence tui does not use (its keys
    are dropped, never typed)."""
    key = read()
    if not isinstance(key, str):
        return None
    if key == "[":
        seq = key
        while seq != PASTE_START and PASTE_START.startswith(seq):
            nxt = read()
            if not isinstance(nxt, str):
                break
            seq += nxt
        return ("loop", "start_paste", ()) if seq == PASTE_START else None
    if key.isascii() and key.isdigit():
        return "app", "switch", (int(key) - 1 if key != "0" else 9,)
    return ALT_KEYS.get(key)


def paste_text(raw: str) -> str:
    """What a paste puts in the input line: line breaks as `\\n` (terminals send CR), tabs
    as spaces, no trailing line break (the user presses Enter), no other control
    characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", TAB_SPACES)
    text = "".join(ch for ch in text
                   if ch == "\n" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0))
    return text.rstrip("\n")


class PasteReader:
    """The keys of one bracketed paste, until its end marker."""

    def __init__(self) -> None:
        self._last_key_s: float | None = None
        self._chars: list[str] = []
        self._tail = ""  # the last keys, to find the end marker even past MAX_PASTE_CHARS
        self.dropped = 0  # characters beyond MAX_PASTE_CHARS

    def feed(self, key: Key, now_s: float) -> str | None:
        """One more key (at monotonic time `now_s`); the pasted text (see `paste_text`) once
        the paste has ended: by its end marker, or by a key after PASTE_STALL_S of none (that
        key is part of the text)."""
        stalled = self._last_key_s is not None and now_s - self._last_key_s > PASTE_STALL_S
        self._last_key_s = now_s
        if not isinstance(key, str):
            return paste_text("".join(self._chars)) if stalled else None
        self._tail = (self._tail + key)[-len(PASTE_END):]
        if len(self._chars) < MAX_PASTE_CHARS:
            self._chars.append(key)
        else:
            self.dropped += 1
        if stalled:
            return paste_text("".join(self._chars))
        if self._tail != PASTE_END:
            return None
        # Cut the end marker (or, from a paste cut short, as much text).
        return paste_text("".join(self._chars)[:-len(PASTE_END)])
