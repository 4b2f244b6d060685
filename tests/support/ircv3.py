"""Helpers for IRCv3 integration tests: registering with capabilities, joining, sending a
message and taking its echo, and reading CHATHISTORY batches (checked for well-formedness)."""

from __future__ import annotations

import re
import time
import unittest
from dataclasses import dataclass

from ircproto.servertime import parse_server_time
from ircproto.message import Message, parse
from tests.support.chatd_process import ChatdProcess
from tests.support.irc_client import IRCClient, open_client
from tests.support.wait import wait_until

SERVER = "chat.test"
# Everything a modern history client asks for (what irctest's chathistory tests request,
# minus sasl).
HISTORY_CAPS = ("message-tags", "server-time", "echo-message", "batch", "labeled-response",
                "draft/chathistory")
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


def connect(testcase: unittest.TestCase | type[unittest.TestCase], server: ChatdProcess,
            nick: str, caps: tuple[str, ...] = ()) -> IRCClient:
    """A registered client (CAP LS 302 + REQ + END when `caps`); the ACK is checked."""
    client = open_client(testcase, server.port)
    lines = client.register(nick, caps=caps)
    if caps:
        acks = [parse(l) for l in lines if " CAP " in l and parse(l).params[1] == "ACK"]
        assert acks and acks[0].params[2].split() == list(caps), lines
    return client


def join(client: IRCClient, channel: str) -> list[str]:
    """JOIN and return what came after the end of NAMES, up to a PING round trip."""
    client.send(f"JOIN {channel}")
    client.expect(rf" 366 \S+ {re.escape(channel)} ")
    return client.sync()


def only(lines: list[str], command: str) -> list[Message]:
    return [m for m in map(parse, lines) if m.command == command]


def send_echoed(client: IRCClient, line: str) -> Message:
    """Send a PRIVMSG/NOTICE/TAGMSG line from a client with echo-message; return its echo.
    The echo must come before the PONG of a PING sent right after (it is the answer)."""
    command = parse(line).command
    client.send(line)
    echoes = [m for m in map(parse, client.sync()) if m.command == command
              and m.source_nick == client_nick(client)]
    assert len(echoes) == 1, (line, client.seen[-10:])
    return echoes[0]


def client_nick(client: IRCClient) -> str:
    """The client's current nick: the one it was welcomed with (001), then its own NICKs."""
    nick = None
    for line in client.seen:
        msg = parse(line)
        own_nick_change = msg.command == "NICK" and nick is not None and msg.source_nick == nick
        if msg.command == "001" or own_nick_change:
            nick = msg.params[0]
    if nick is None:
        raise AssertionError("client is not registered")
    return nick


def ms(server_time: str) -> int:
    value = parse_server_time(server_time)
    assert value is not None, server_time
    return value


def wait_past(server_time: str) -> None:
    """Wait (bounded poll) until the wall clock is past a server time, so the next event the
    server stamps gets a later time (the server and the tests share the machine's clock)."""
    limit = ms(server_time)
    wait_until(lambda: int(time.time() * 1000) > limit, 5.0, 0.001,
               message=f"clock past {server_time}")


def send_spaced(client: IRCClient, target: str, texts: list[str]) -> list[Message]:
    """PRIVMSG each text (client has echo-message, message-tags, server-time), each with a
    later server time than the one before; return the echoes."""
    echoes = []
    for text in texts:
        echo = send_echoed(client, f"PRIVMSG {target} :{text}")
        echoes.append(echo)
        wait_past(echo.tags["time"])
    return echoes


@dataclass
class Batch:
    """A CHATHISTORY answer: the BATCH start params (after +ref), the inner messages."""
    ref: str
    params: tuple[str, ...]
    start: Message
    inner: list[Message]

    @property
    def messages(self) -> list[Message]:
        return [m for m in self.inner if m.command in ("PRIVMSG", "NOTICE")]

    @property
    def msgids(self) -> list[str]:
        return [m.tags["msgid"] for m in self.inner if "msgid" in m.tags]

    @property
    def texts(self) -> list[str]:
        return [m.params[1] for m in self.messages]

    def notes(self) -> list[Message]:
        return [m for m in self.inner if m.command == "NOTE"]


def parse_batch(lines: list[str]) -> Batch:
    """The lines are exactly one well-formed batch: BATCH +ref, lines tagged batch=ref,
    BATCH -ref (and nothing else)."""
    assert len(lines) >= 2, lines
    start, end = parse(lines[0]), parse(lines[-1])
    assert start.command == "BATCH" and start.source == SERVER, lines
    assert start.params[0].startswith("+") and len(start.params[0]) > 1, lines
    ref = start.params[0][1:]
    assert end.command == "BATCH" and end.params == ("-" + ref,), lines
    inner = [parse(l) for l in lines[1:-1]]
    for msg in inner:
        assert msg.tags.get("batch") == ref, (msg, lines)
        assert msg.command != "BATCH", lines
    return Batch(ref, start.params[1:], start, inner)


def find_batch(lines: list[str]) -> Batch:
    """The one batch among lines that may also hold live traffic (other members' messages
    arriving meanwhile): its lines must be contiguous and well formed, and no other line may
    be batch-tagged or a standard reply."""
    starts = [i for i, l in enumerate(lines) if re.match(r"^(@\S+ )?:\S+ BATCH \+", l)]
    assert len(starts) == 1, lines
    ref = parse(lines[starts[0]]).params[0][1:]
    end = lines.index(f":{SERVER} BATCH -{ref}", starts[0])
    for line in lines[:starts[0]] + lines[end + 1:]:
        msg = parse(line)
        assert "batch" not in msg.tags and msg.command not in ("BATCH", "FAIL", "NOTE"), lines
    return parse_batch(lines[starts[0]:end + 1])


def history(client: IRCClient, command: str) -> Batch:
    """Send a CHATHISTORY command; return its answer, which must be one batch."""
    client.send(command)
    return find_batch(client.sync())


def history_fail(client: IRCClient, command: str) -> Message:
    """Send a CHATHISTORY command that must be refused with exactly one FAIL."""
    client.send(command)
    lines = client.sync()
    answers = [m for m in map(parse, lines) if m.source == SERVER]  # not others' traffic
    assert len(answers) == 1, lines
    msg = answers[0]
    assert msg.command == "FAIL" and msg.params[0] == "CHATHISTORY", lines
    return msg
