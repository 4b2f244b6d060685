"""A multi-line message (IRCv3 draft/multiline) a worker collected from its client's batch
(frames.Multiline, checked there against the batch rules: chatd/session/client_batch.py):
what the master adds is the check that needs the sender's nick!user@host — every line must
fit 512 bytes once relayed with it — and then it is sent like any PRIVMSG or NOTICE to one
target (chatd/hub/messages.py: the same channel rules, errors and admission of stored bytes,
charged for the whole message), as ONE event whose text and tags chatd/multiline.py makes.
Pure."""

from __future__ import annotations

from chatd import events, multiline
from chatd.hub import messages
from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from chatd.ipc import frames
from ircproto.message import Message, fitted_line


def send_multiline(hub: Hub, client: ClientRecord, frame: frames.Multiline) -> None:
    """Send the message; an IrcError (a target that cannot be sent to) is the caller's
    boundary's to answer, as for a PRIVMSG."""
    lines = list(zip(frame.lines, frame.concat))
    too_long = [number for number, (text, _concat) in enumerate(lines, 1)
                if events.fit_event_text(frame.kind, client.source, frame.target, text) != text]
    if too_long:
        # As for one line (417): relaying it with the sender's prefix would pass 512 bytes,
        # and cutting it would lose text. A NOTICE is not answered (RFC 2812 3.3.2).
        if frame.kind != "NOTICE":
            hub.reply(client, fitted_line(Message("FAIL", (
                "BATCH", "MULTILINE_INVALID",
                f"Line {too_long[0]} is too long once relayed with your nick!user@host;"
                " split it"), hub.config.server_name)))
        return
    messages.send_checked(hub, client, frame.kind, frame.target,
                          multiline.combined_text(lines),
                          multiline.tags_with_composition(frame.client_tags, lines))
