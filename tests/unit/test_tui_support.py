"""A scripted IRC server for the tui unit tests: feeds a `Session` the lines a server with
(or without) the IRCv3 history capabilities would send, and records what the session sends.
No sockets; time is a variable. (Holds no tests itself.)"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from ircproto.message import Message, format_message, parse
from tui.effects import Send
from tui.session import Session
from tui.state import Buffer, State

T0 = datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC)
MASK = "alice!~alice@127.0.0.1"
ALL_CAPS = ("batch cap-notify draft/chathistory draft/event-playback echo-message "
            "labeled-response message-tags server-time")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sent(effects) -> list[str]:
    return [e.line for e in effects if isinstance(e, Send)]


class Harness:
    def __init__(self, caps: str = ALL_CAPS, nick: str = "alice", **kwargs) -> None:
        self.state = State(tz=UTC)
        counter = itertools.count(1)
        self.session = Session(self.state, nick, new_nonce=lambda: f"n{next(counter)}",
                               **kwargs)
        self.caps = caps
        self.now = T0
        self.batches = itertools.count(1)
        self.msgids = itertools.count(1)
        self.lines: list[str] = []  # everything the session sent, in order

    # -- plumbing ----------------------------------------------------------------------------
    def _keep(self, effects) -> list[str]:
        lines = sent(effects)
        self.lines += lines
        return lines

    def recv(self, *lines: str) -> list[str]:
        """Feed server lines; return the lines the session sent in response."""
        out: list[str] = []
        for line in lines:
            out += self._keep(self.session.receive(line, self.now))
        return out

    def advance(self, seconds: float) -> list[str]:
        self.now += timedelta(seconds=seconds)
        return self._keep(self.session.tick(self.now))

    def sent_commands(self, command: str) -> list[Message]:
        return [m for m in map(parse, self.lines) if m.command == command]

    def last(self, command: str) -> Message:
        found = self.sent_commands(command)
        assert found, f"no {command} was sent; sent: {self.lines}"
        return found[-1]

    # -- server behaviour --------------------------------------------------------------------
    def register(self) -> list[str]:
        """Connect; answer CAP LS with `caps` and ACK every REQ; welcome; ISUPPORT; no MOTD."""
        out = self._keep(self.session.connect(self.now))
        if self.caps:
            out += self.recv(f":srv CAP * LS :{self.caps}")
            for req in [m for m in map(parse, out) if m.command == "CAP" and m.param(0) == "REQ"]:
                out += self.recv(f":srv CAP * ACK :{req.params[-1]}")
        else:
            out += self.recv(":srv 421 * CAP :Unknown command")
        out += self.recv(f":srv 001 alice :Welcome to chat {MASK}",
                         ":srv 005 alice CHANTYPES=# CHATHISTORY=100 MSGREFTYPES=msgid,timestamp"
                         " :are supported", ":srv 422 alice :No MOTD")
        return out

    def tag(self, msgid: int | None = None, when: datetime | None = None) -> dict[str, str]:
        """The tags a server with this harness's capabilities puts on a stored message."""
        tags = {"time": stamp(when or self.now)} if "server-time" in self.caps else {}
        if msgid is not None and "message-tags" in self.caps:
            tags["msgid"] = str(msgid)
        return tags

    def line(self, command: str, *params: str, source: str = "bob!b@h",
             msgid: int | None = None, when: datetime | None = None,
             tags: dict[str, str] | None = None) -> str:
        all_tags = self.tag(msgid, when)
        all_tags.update(tags or {})
        return format_message(Message(command, params, source, all_tags))

    def join(self, channel: str = "#lobby", names: str = "alice bob") -> list[str]:
        return self.recv(self.line("JOIN", channel, source=MASK),
                         f":srv 353 alice = {channel} :{names}",
                         f":srv 366 alice {channel} :End")

    def page(self, target: str, lines: list[str], label: str | None = None,
             kind: str = "chathistory") -> list[str]:
        """Answer with a batch of `lines` (each gets the batch tag)."""
        ref = f"b{next(self.batches)}"
        start = Message("BATCH", (f"+{ref}", kind, *((target,) if target else ())), "srv",
                        {"label": label} if label else {})
        inner = []
        for line in lines:
            msg = parse(line)
            inner.append(format_message(Message(msg.command, msg.params, msg.source,
                                                {"batch": ref, **msg.tags})))
        return self.recv(format_message(start), *inner, f":srv BATCH -{ref}")

    def answer(self, lines: list[str], request: Message | None = None) -> list[str]:
        """Answer a CHATHISTORY request (default: the last one sent) with a page, labelled if
        the request was."""
        request = request or self.last("CHATHISTORY")
        target = "" if request.params[0] == "TARGETS" else request.params[1]
        kind = "draft/chathistory-targets" if not target else "chathistory"
        return self.page(target, lines, request.tags.get("label"), kind)

    def echo(self, raw: str, msgid: int, when: datetime | None = None) -> list[str]:
        """Echo a PRIVMSG the session sent, as a server with echo-message does: with its
        label, nonce, msgid and time."""
        msg = parse(raw)
        tags = self.tag(msgid, when)
        if "label" in msg.tags:
            tags["label"] = msg.tags["label"]
        if "+chatd/nonce" in msg.tags:
            tags["+chatd/nonce"] = msg.tags["+chatd/nonce"]
        return self.recv(format_message(Message(msg.command, msg.params, MASK, tags)))

    def buffer(self, name: str) -> Buffer:
        buf = self.state.server if name == "server" else self.state.get(name)
        assert buf is not None, f"no buffer {name}"
        return buf

    def texts(self, name: str) -> list[str]:
        return [line.text for line in self.buffer(name).lines]

    def chat(self, name: str) -> list[str]:
        """The chat lines of a buffer as 'nick: text' plus dividers as '[label]'."""
        out = []
        for line in self.buffer(name).lines:
            if line.kind.value in ("message", "action", "notice"):
                out.append(f"{line.nick}: {line.text}")
            elif line.kind.value == "divider" and line.text in ("live", "start", "truncated"):
                out.append(f"[{line.text}]")
        return out
