"""Lines for the fuzz test (tests/integration/test_fuzz.py), drawn from a seeded
random.Random: every command chatd knows (chatd/commandset.py) and some it does not, with
random parameters — names, channels, history references, numbers, huge words, long texts,
controls, bad UTF-8 — and plain garbage: random bytes, NUL, a CR without LF, lines over the
length limits, tags (valid, malformed, huge), CTCP, source prefixes, empty lines.

Costly requests that are legal (an scrypt hash for REGISTER, PASSWORD and SASL) are kept
rare, and most of their passwords are too short to be hashed: the test is about input, not
about waiting for scrypt. QUIT is rare too (it ends the fuzzing connection)."""

from __future__ import annotations

import base64
import random

from chatd.commandset import COMMANDS

CHANNELS = tuple(f"#f{n}" for n in range(12))
SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS", "latest", "X")
CAP_WORDS = ("LS", "LS 302", "REQ", "LIST", "END", "ACK", "NAK", "ls", "302")
CAPS = ("message-tags", "server-time", "echo-message", "batch", "labeled-response",
        "draft/chathistory", "draft/event-playback", "extended-join", "account-tag",
        "account-notify", "userhost-in-names", "multi-prefix", "sasl", "cap-notify",
        "unknown-cap", "-message-tags")
UNKNOWN = ("KNOCK", "INVITE", "OPER", "KILL", "WALLOPS", "STATS", "ADMIN", "INFO", "SQUIT",
           "CONNECT", "links", "privmsg", "Who", "SETNAME", "BATCH", "ACK", "FAIL", "001")
RARE = {"REGISTER": 0.2, "PASSWORD": 0.2, "AUTHENTICATE": 0.5, "QUIT": 0.05}
CONTROLS = "\x00\x01\x02\x03\x07\x0f\x16\x1b\x1d\x1f\x7f\u202e\u200b\ufeff"
TEXT_CHARS = "abc xyz ABC 012 :;,.!?*@#&+-_[]{}\\|^`~'\" \u00e9\u65e5\U0001f600" + CONTROLS


class FuzzLines:
    """One fuzzer's stream of lines (bytes with their line ending), reproducible from a seed."""

    def __init__(self, rng: random.Random, nicks: tuple[str, ...]):
        self.rng = rng
        self.nicks = nicks
        names = list(COMMANDS) + list(UNKNOWN)
        self.commands = names
        self.weights = [RARE.get(name, 1.0) for name in names]

    def line(self) -> bytes:
        """One line of a random kind."""
        roll = self.rng.random()
        if roll < 0.55:
            return self._terminated(self.command_line())
        if roll < 0.65:
            return self._terminated(self.tags() + " " + self.command_line())
        if roll < 0.72:
            return self._terminated(self.ctcp())
        if roll < 0.78:
            return self._terminated(f":{self.word()}!{self.word()}@{self.word()} "
                                    + self.command_line())
        if roll < 0.84:
            return self.random_bytes()
        if roll < 0.88:
            return self.bad_utf8()
        if roll < 0.92:
            return self.too_long()
        if roll < 0.96:
            return self.split_by_cr()
        return self.rng.choice((b"\r\n", b"\n", b" \r\n", b"\x00\r\n", b":\r\n", b"@\r\n",
                                b"@ \r\n", b": PRIVMSG\r\n", b"\r\r\n", b"   PING   x  \r\n"))

    # whole lines
    def command_line(self) -> str:
        command = self.rng.choices(self.commands, self.weights)[0]
        special = SPECIAL_PARAMS.get(command.upper())
        params = special(self) if special is not None and self.rng.random() < 0.7 else \
            [self.param() for _ in range(self.rng.randrange(0, 7))]
        if params and self.rng.random() < 0.6:
            params[-1] = ":" + params[-1]
        if command == "QUIT" and self.rng.random() < 0.5:
            params = []
        return " ".join([self.case(command), *params])

    def ctcp(self) -> str:
        body = self.rng.choice(("ACTION waves", "VERSION", "PING 123", "TIME", "DCC SEND x",
                                "ACTION", "", "\x01\x01", "CLIENTINFO " + self.text(40)))
        end = self.rng.choice(("\x01", "", "\x01 trailing", "\x01\x01"))
        return f"{self.rng.choice(('PRIVMSG', 'NOTICE'))} {self.target()} :\x01{body}{end}"

    def random_bytes(self) -> bytes:
        data = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 300)))
        return data.replace(b"\n", b"") + b"\r\n"

    def bad_utf8(self) -> bytes:
        junk = self.rng.choice((b"\xff\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
                                b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80\x80\x80"))
        return (f"PRIVMSG {self.target()} :caf".encode() + junk + b"\x00 end\r\n")

    def too_long(self) -> bytes:
        size = self.rng.choice((511, 512, 600, 4000, 9000, 20000))
        if self.rng.random() < 0.5:  # the tag section over its limit
            return b"@+k=" + b"v" * size + b" PRIVMSG " + CHANNELS[0].encode() + b" :x\r\n"
        return f"PRIVMSG {self.target()} :".encode() + b"y" * size + b"\r\n"

    def split_by_cr(self) -> bytes:
        """A CR without LF inside a line (chatd ends the line there: RFC 1459 8.2)."""
        return (self.command_line().encode("utf-8", "replace") + b"\r"
                + self.command_line().encode("utf-8", "replace") + b"\r\n")

    def _terminated(self, text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass") + self.rng.choice((b"\r\n", b"\n"))

    # parts
    def tags(self) -> str:
        items = []
        for _ in range(self.rng.randrange(1, 5)):
            key = self.rng.choice(("+typing", "label", "+draft/react", "msgid", "time",
                                   "batch", "+a/b", "+\x1b[31m", "+", "=", "+k;", "a b",
                                   "+" + "k" * 300, "account", "+reply"))
            value = self.rng.choice(("", "active", "x\\sy\\:z\\\\", "\\", "\x07", "1",
                                     "v" * self.rng.choice((10, 1000, 3000))))
            items.append(f"{key}={value}" if value or self.rng.random() < 0.5 else key)
        return "@" + ";".join(items)

    def param(self) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return self.target()
        if roll < 0.4:
            return self.word()
        if roll < 0.5:
            return self.rng.choice(("*", "0", "-1", "999999999999999999999", "+i", "-i",
                                    "+b", "o", "100", "msgid=1", "timestamp=x", "#", "&x"))
        if roll < 0.6:
            return ",".join(self.target() for _ in range(self.rng.randrange(1, 30)))
        if roll < 0.7:
            return self.reference()
        if roll < 0.8:
            return "w" * self.rng.choice((50, 200, 400))
        return self.text(self.rng.randrange(0, 120)).replace(" ", "_") or "x"

    def target(self) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.choice(CHANNELS)
        if roll < 0.8:
            return self.rng.choice(self.nicks)
        return self.rng.choice(("#", "#" + "c" * 60, "#\x1bred", "#a,#b", "*", "$*", "0",
                                "#f1\u202e", "nick!user@host", self.word()))

    def word(self) -> str:
        return "".join(self.rng.choice("abcXYZ019[]\\`_^{|}-") for _ in range(
            self.rng.randrange(1, 35)))

    def text(self, length: int) -> str:
        return "".join(self.rng.choice(TEXT_CHARS) for _ in range(length))

    def reference(self) -> str:
        return self.rng.choice(("*", f"msgid={self.rng.randrange(-5, 10 ** 6)}",
                                f"timestamp=2026-{self.rng.randrange(0, 14):02d}-01T00:00:00.000Z",
                                "timestamp=", "msgid=", "msgid=abc", "x=y", "9" * 40))

    def case(self, command: str) -> str:
        return command.lower() if self.rng.random() < 0.1 else command


# Parameters shaped like the command's own (with the same randomness inside), so that the
# handlers get past their first checks.
SPECIAL_PARAMS = {
    "CHATHISTORY": lambda f: [f.rng.choice(SUBCOMMANDS), f.target(), f.reference(),
                              f.reference(), str(f.rng.randrange(-1, 200))][:f.rng.randrange(1, 6)],
    "CAP": lambda f: [f.rng.choice(CAP_WORDS), " ".join(f.rng.choices(CAPS, k=f.rng.randrange(
        1, 6)))],
    "JOIN": lambda f: [",".join(f.rng.choices(CHANNELS, k=f.rng.randrange(1, 4)))],
    "PART": lambda f: [f.rng.choice(CHANNELS), f.text(f.rng.randrange(0, 300))],
    "TOPIC": lambda f: [f.rng.choice(CHANNELS), f.text(f.rng.randrange(0, 450))],
    "PRIVMSG": lambda f: [f.target(), f.text(f.rng.randrange(1, 450))],
    "NOTICE": lambda f: [f.target(), f.text(f.rng.randrange(1, 450))],
    "TAGMSG": lambda f: [f.target()],
    "NICK": lambda f: [f.rng.choice(f.nicks) if f.rng.random() < 0.5 else f.word()],
    "USER": lambda f: [f.word(), "0", "*", f.text(f.rng.randrange(0, 300))],
    "WHO": lambda f: [f.rng.choice(("*", "*a*", "f*", "#f1", "0", f.word() + "*"))],
    "MODE": lambda f: [f.target(), f.rng.choice(("+i", "-i", "+b", "b", "+o x", "+n", "+z"))],
    "AUTHENTICATE": lambda f: [f.rng.choice((
        "PLAIN", "SCRAM-SHA-256", "EXTERNAL", "*", "+", "X",
        base64.b64encode(f"\0{f.word()}\0{f.word()}".encode()).decode(),
        base64.b64encode(b"n,,n=" + f.word().encode() + b",r=abc").decode()))],
    "REGISTER": lambda f: [f.rng.choice(("*", f.word())), "*",
                           f.rng.choice(("short", "x", "", f.word()[:7]))],
    "PASSWORD": lambda f: [f.word()[:7], f.word()[:7]],
    "PING": lambda f: [f.text(f.rng.randrange(0, 500)).replace(" ", "_") or "x"],
}
