"""IRCv3 capability negotiation (ircv3.net/specs/extensions/capability-negotiation) for one
session: CAP LS/LIST/REQ/END, cap-notify. Which capabilities exist is decided here; what each
one changes is implemented where it matters (tags in events.py, labels in labels.py, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatd.ipc import frames
from ircproto import numerics as N
from ircproto.message import Message

if TYPE_CHECKING:
    from chatd.session.session import Session

SUPPORTED_CAPS = (
    "batch", "cap-notify", "draft/chathistory", "draft/event-playback", "echo-message",
    "labeled-response", "message-tags", "multi-prefix", "server-time", "standard-replies",
    "userhost-in-names",
)
# What the master must know of a client's capabilities (it formats NAMES).
MASTER_CAPS = ("userhost-in-names", "multi-prefix")


def handle_cap(session: Session, msg: Message) -> None:
    sub = (msg.param(0) or "").upper()
    handler = _SUBCOMMANDS.get(sub)
    if handler is None:
        session.send_numeric(N.ERR_INVALIDCAPCMD, sub or "*", "Invalid CAP command")
        return
    handler(session, msg)


def _reply(session: Session, sub: str, text: str) -> None:
    session.send(Message("CAP", (session.nick or "*", sub, text), session.server_name).format())


def _ls(session: Session, msg: Message) -> None:
    if not session.registered:
        session.cap_negotiating = True
    version = msg.param(1) or ""
    if version.isascii() and version.isdigit() and int(version) >= 302:
        # Version 302 implies cap-notify for the rest of the connection.
        session.cap_version = max(session.cap_version, int(version))
        session.caps |= {"cap-notify"}
    _reply(session, "LS", " ".join(SUPPORTED_CAPS))  # short enough for one line


def _list(session: Session, msg: Message) -> None:
    _reply(session, "LIST", " ".join(sorted(session.caps)))


def _req(session: Session, msg: Message) -> None:
    if not session.registered:
        session.cap_negotiating = True
    requested = msg.param(1) or ""
    words = requested.split()
    # All or nothing: one unknown cap (or a 302 client dropping cap-notify) NAKs the lot,
    # echoing the request verbatim.
    refused = not words or any(
        w.lstrip("-") not in SUPPORTED_CAPS
        or (w == "-cap-notify" and session.cap_version >= 302)
        for w in words)
    if refused:
        _reply(session, "NAK", requested)
        return
    before = session.caps
    caps = set(before)
    for word in words:
        if word.startswith("-"):
            caps.discard(word[1:])
        else:
            caps.add(word)
    session.caps = caps
    if {c for c in before if c in MASTER_CAPS} != {c for c in session.caps if c in MASTER_CAPS}:
        master_caps = tuple(sorted(c for c in session.caps if c in MASTER_CAPS))
        session.to_master.append(frames.Caps(session.conn_id, master_caps))
    _reply(session, "ACK", requested.strip())


def _end(session: Session, msg: Message) -> None:
    if not session.registered:
        session.cap_negotiating = False
        session.try_complete_registration()


_SUBCOMMANDS = {"LS": _ls, "LIST": _list, "REQ": _req, "END": _end}
