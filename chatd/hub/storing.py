"""What the history keeps of what clients send, and who may still add to it (issue 12, points
4 and 5). Pure: the Hub's handlers ask here before they emit a PRIVMSG, NOTICE, TAGMSG or TOPIC.

- A TAGMSG is stored only when it carries a tag worth finding again (KEPT_TAGMSG_TAGS: a
  reaction). Any other (typing notifications, tags chatd does not know) is relayed live and
  not stored, as ergo does by default (`history.tagmsg-storage`): it has no timeline, and the
  writer only records its id (chatd/store/writes.py). IRCv3 leaves the choice to the server.
- Of a message's client-only tags at most STORED_TAGS_MAX_BYTES are stored (whole tags, in
  order; typing tags never): a 4 KiB tag section is relayed but not kept.
- Each client has a budget of stored bytes, `[history] client_bytes_per_s` refilled up to
  BURST_SECONDS of it; a message that does not fit is refused, not stored and not relayed.
- While the writer reports the history's disk below `[history] min_free_mb`, nothing more is
  stored from clients' messages; everything else (PING, registration, JOIN, reads) goes on.

A refused message is answered to its sender, never dropped in silence: `FAIL <command> <code>
<target> :<why>` for clients that negotiated `standard-replies` (IRCv3 standard replies: a
reply no other specification defines needs that capability), a server NOTICE otherwise. It is
answered for a NOTICE too: the refusal is the server's, not an automatic reply to the text
(RFC 2812 3.3.2), and without it the sender would believe it was delivered.
"""

from __future__ import annotations

from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.netaddr import is_exempt
from ircproto.message import Message

KEPT_TAGMSG_TAGS = ("+draft/react", "+react")  # a TAGMSG with one of these is stored
TYPING_TAGS = ("+typing", "+draft/typing")  # never stored, on a TAGMSG or on a message
STORED_TAGS_MAX_BYTES = 512
BURST_SECONDS = 32  # a client may store this many seconds' worth of its rate at once
# Bytes a stored row costs beyond its text: the row and index entries (measured: about 60
# per message row, 30 per timeline row, with keys), rounded up.
ROW_BYTES = 64
TIMELINE_ROW_BYTES = 32

RATE_LIMITED = ("RATE_LIMITED", "You are sending more than the history may keep"
                " ({rate} bytes/s); this message was not sent: wait a little")
DISK_LOW = ("TEMPORARILY_UNAVAILABLE", "The server is almost out of disk space and cannot"
            " store messages now; this message was not sent: try again later")


def _tag_keys(tags: str) -> list[tuple[str, str]]:
    """(key, whole tag) of each tag in a client tag section ("+a=1;+b")."""
    return [(tag.split("=", 1)[0], tag) for tag in tags.split(";") if tag]


def keeps_tagmsg(tags: str) -> bool:
    """Whether a TAGMSG with these client tags is stored (else it is only relayed)."""
    return any(key in KEPT_TAGMSG_TAGS for key, _tag in _tag_keys(tags))


def stored_tags(tags: str) -> str:
    """The client tags stored with a message: whole tags, in order, while they fit in
    STORED_TAGS_MAX_BYTES (one that does not is left out, a later smaller one may still
    fit), typing notifications never. chatd's own entries (no '+': a multi-line message's
    composition, events.MULTILINE_TAG) are not the client's to spend: always kept, last."""
    kept: list[str] = []
    own: list[str] = []
    size = 0
    for key, tag in _tag_keys(tags):
        cost = len(tag.encode("utf-8")) + (1 if kept else 0)
        if not key.startswith("+"):
            own.append(tag)
        elif key not in TYPING_TAGS and size + cost <= STORED_TAGS_MAX_BYTES:
            kept.append(tag)
            size += cost
    return ";".join(kept + own)


def stored_bytes(source: str, target: str, text: str, tags: str, convs: tuple[str, ...]) -> int:
    """About what storing this event adds to the history file."""
    words = (source, target, text, tags, *convs)
    return (sum(len(word.encode("utf-8")) for word in words) + ROW_BYTES
            + TIMELINE_ROW_BYTES * len(convs))


def admit(hub: Hub, client: ClientRecord, command: str, target: str, size: int) -> bool:
    """Whether `client` may store `size` more bytes now (charged if so). If not, it is told
    why (see the module's doc) and the caller sends nothing."""
    if hub.disk_low:
        refuse(hub, client, command, target, *DISK_LOW)
        return False
    rate = hub.config.history_client_bytes_per_s
    if rate == 0 or is_exempt(client.address, hub.config.exempt):
        return True
    burst = rate * BURST_SECONDS
    allowance = burst if client.stored_at_ms < 0 else min(
        burst, client.stored_allowance + rate * (hub.now_ms - client.stored_at_ms) / 1000)
    client.stored_at_ms = hub.now_ms
    if size > allowance:
        client.stored_allowance = allowance
        code, text = RATE_LIMITED
        refuse(hub, client, command, target, code, text.format(rate=rate))
        return False
    client.stored_allowance = allowance - size
    return True


def refuse(hub: Hub, client: ClientRecord, command: str, target: str, code: str,
           text: str) -> None:
    server = hub.config.server_name
    if "standard-replies" in client.caps:
        line = Message("FAIL", (command, code, target, text), server).format()
    else:
        line = Message("NOTICE", (client.nick or "*", f"{command} {target}: {text}"),
                       server).format()
    hub.reply(client, line)
