"""What tui remembers of a server between runs, and how it comes back.

Per server (keyed `host:port`, as saved logins are): the last nick; until when we had seen
everything (the newest server time while in sync, where `CHATHISTORY TARGETS` starts looking
for conversations begun while we were away); the buffer that was shown; and the open buffers
in order — channels we were in and private conversations — each with its newest stored message
(msgid and time: where `CHATHISTORY AFTER` resumes) and the user's read position (where the
`— new —` line goes).

`snapshot` takes it from a running client, `restore` puts it into a new one (buffers created,
channels to re-join, positions to resume from), `encode`/`decode` turn it into the JSON of the
state file (`tui.state_file` reads and writes that). A damaged or tampered entry is skipped,
never trusted: names go into IRC lines. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ircproto.servertime import server_time_datetime
from tui import attention
from tui.buffer import Buffer, BufferKind, Resume
from tui.history import format_time
from tui.state import State

VERSION = 1
MAX_SERVERS = 100
MAX_BUFFERS = 200  # per server
MAX_NAME = 200
MAX_MSGID = 200


@dataclass(frozen=True, slots=True)
class SavedBuffer:
    name: str
    kind: BufferKind  # CHANNEL or QUERY
    msgid: str = ""  # the newest stored message we had
    time: datetime | None = None  # its server time
    read: datetime | None = None  # the user's read position


@dataclass(frozen=True, slots=True)
class SavedServer:
    nick: str
    seen_until: datetime | None = None
    current: str | None = None
    buffers: tuple[SavedBuffer, ...] = ()


def _remembered(buf: Buffer) -> bool:
    """Channels we are in (or re-join after a drop), every private conversation; not a
    channel we were kicked from or left."""
    return buf.kind == BufferKind.QUERY or (buf.kind == BufferKind.CHANNEL and not buf.parted)


def _saved_buffer(buf: Buffer, shown: bool) -> SavedBuffer:
    newest = buf.newest_stored()
    resume = Resume(newest.msgid, newest.time) if newest is not None else buf.resume
    read = buf.read_time
    if shown:  # what the user is looking at is read as far as the view goes
        seen = attention.read_time_of(buf)
        read = seen if read is None or (seen is not None and seen > read) else read
    return SavedBuffer(buf.name, buf.kind, resume.msgid if resume else "",
                       resume.time if resume else None, read)


def snapshot(state: State, nick: str, seen_until: datetime | None) -> SavedServer:
    current = state.current
    buffers = tuple(_saved_buffer(b, b is current) for b in state.buffers if _remembered(b))
    return SavedServer(nick, seen_until,
                       current.name if _remembered(current) else None, buffers[:MAX_BUFFERS])


def restore(saved: SavedServer, state: State) -> list[str]:
    """Open the remembered buffers in `state` (in order, the shown one shown); returns the
    channels to join once connected."""
    channels: list[str] = []
    for entry in saved.buffers:
        buf = state.open(entry.name, entry.kind)
        buf.restored = True
        if entry.msgid or entry.time:
            buf.resume = Resume(entry.msgid, entry.time)
        buf.read_time = entry.read
        if entry.kind == BufferKind.CHANNEL:
            buf.rejoin = True  # not parted: re-joined when the connection is up
            channels.append(entry.name)
    shown = state.get(saved.current) if saved.current else None
    if shown is not None:
        state.focus(shown)
    return channels


# -- the file's JSON ------------------------------------------------------------------------------
def _stamp(when: datetime | None) -> str | None:
    return format_time(when) if when is not None else None


def _safe_name(name: object) -> bool:
    """A name that can go into an IRC line as one parameter."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME and name.isprintable() \
        and not any(c in name for c in " ,:") and not name.startswith(":")


def encode(servers: dict[str, SavedServer]) -> str:
    document = {"version": VERSION, "servers": {
        key: {"nick": saved.nick, "seen_until": _stamp(saved.seen_until),
              "current": saved.current,
              "buffers": [{"name": b.name, "kind": b.kind.value, "msgid": b.msgid,
                           "time": _stamp(b.time), "read": _stamp(b.read)}
                          for b in saved.buffers]}
        for key, saved in list(servers.items())[-MAX_SERVERS:]}}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _decode_buffer(item: object) -> SavedBuffer | None:
    if not isinstance(item, dict) or not _safe_name(item.get("name")):
        return None
    kinds = {"channel": BufferKind.CHANNEL, "query": BufferKind.QUERY}
    kind = kinds.get(item.get("kind"))  # type: ignore[arg-type]
    msgid = item.get("msgid") or ""
    if kind is None or not isinstance(msgid, str) or len(msgid) > MAX_MSGID \
            or not msgid.isprintable() or " " in msgid:
        return None
    return SavedBuffer(item["name"], kind, msgid, _time(item.get("time")),
                       _time(item.get("read")))


def _time(value: object) -> datetime | None:
    return server_time_datetime(value) if isinstance(value, str) else None


def decode(text: str) -> dict[str, SavedServer]:
    """The servers remembered in the file's text; entries that do not read are left out.
    Raises ValueError when the text is not a state file at all."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("servers"), dict):
        raise ValueError("not a tui state file")
    servers: dict[str, SavedServer] = {}
    for key, entry in list(document["servers"].items())[:MAX_SERVERS]:
        if not isinstance(entry, dict) or not _safe_name(entry.get("nick")):
            continue
        items = entry.get("buffers") if isinstance(entry.get("buffers"), list) else []
        buffers = tuple(b for b in map(_decode_buffer, items[:MAX_BUFFERS]) if b is not None)
        current = entry.get("current")
        servers[key] = SavedServer(entry["nick"], _time(entry.get("seen_until")),
                                   current if _safe_name(current) else None, buffers)
    return servers
