"""IRCv3 capability negotiation (ircv3.net/specs/extensions/capability-negotiation) for one
session: CAP LS/LIST/REQ/END, cap-notify. Which capabilities exist is decided here; what each
one changes is implemented where it matters (tags in events.py, labels in labels.py, ...).
Handlers see the connection only through CommandContext."""

from __future__ import annotations

from chatd import multiline
from chatd.ipc import frames
from chatd.session.context import CommandContext
from chatd.session.sasl import MECHANISMS
from chatd.session.search import SEARCH_CAPS, SEARCH_MAX, search_offered
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.framing import MAX_BODY_NO_CRLF_BYTES, pack_words
from ircproto.message import Message, fitted_line

SUPPORTED_CAPS = (
    "account-notify", "account-tag", "away-notify", "batch", "cap-notify",
    "draft/account-registration", "draft/chathistory", "draft/event-playback",
    "draft/message-redaction", multiline.CAP, "draft/read-marker", "draft/search",
    "echo-message", "extended-join", "extended-monitor", "invite-notify", "labeled-response",
    "message-tags", "multi-prefix", "sasl", "server-time", "setname", "soju.im/search",
    "standard-replies", "userhost-in-names",
)
# Not offered: chghost. chatd never changes a user's user name or host after it connected
# (its cloak is fixed then, and accounts bring no virtual hosts), so CHGHOST never happens.
# CAP LS 302 values (ircv3.net capability-negotiation): SASL's mechanisms; REGISTER is
# allowed before connection registration and the account may be named apart from the nick.
CAP_VALUES = {
    "sasl": ",".join(MECHANISMS),
    "draft/account-registration": "before-connect,custom-account-name",
    multiline.CAP: multiline.CAP_VALUE,  # max-bytes, max-lines
    "draft/search": f"max-limit={SEARCH_MAX}",  # chatd/session/search.py
}
# What the master must know of a client's capabilities (it formats NAMES, WHO and WHOIS,
# decides who gets the ACCOUNT, AWAY, SETNAME and INVITE lines of account-notify, away-notify,
# setname, extended-monitor and invite-notify, puts account-tag's tag on the unstored lines
# of logged-in users, and answers a refused message with FAIL or a NOTICE).
MASTER_CAPS = ("account-notify", "account-tag", "userhost-in-names", "multi-prefix",
               "invite-notify", "standard-replies", "away-notify", "setname", "extended-monitor")


def handle_cap(ctx: CommandContext, msg: Message) -> None:
    sub = (msg.param(0) or "").upper()
    handler = _SUBCOMMANDS.get(sub)
    if handler is None:
        raise IrcError(N.ERR_INVALIDCAPCMD, sub or "*", "Invalid CAP command")
    handler(ctx, msg)


def _reply(ctx: CommandContext, sub: str, text: str) -> None:
    ctx.send(fitted_line(_reply_message(ctx, sub, text)))


def _reply_list(ctx: CommandContext, sub: str, words: str) -> None:
    """A CAP LS or LIST answer over as many lines as it needs: every line but the last has
    `*` before its list (ircv3.net capability-negotiation, "Multiline replies"). A list
    that fits one line (every list to a client before 302, which gets no values) is one
    line, as before."""
    head = _reply_message(ctx, sub, "*").format().encode()  # ":server CAP nick LS *"
    room = MAX_BODY_NO_CRLF_BYTES - len(head) - 2  # " :" before the list
    pieces = pack_words(words, room) or [""]
    for piece in pieces[:-1]:
        ctx.send(Message("CAP", (ctx.nick or "*", sub, "*", piece), ctx.server_name).format())
    ctx.send(_reply_message(ctx, sub, pieces[-1]).format())


def _reply_message(ctx: CommandContext, sub: str, text: str) -> Message:
    return Message("CAP", (ctx.nick or "*", sub, text), ctx.server_name)


def _ls(ctx: CommandContext, msg: Message) -> None:
    if not ctx.registered:
        ctx.set_cap_negotiating(True)
    version = msg.param(1) or ""
    if version.isascii() and version.isdigit() and int(version) >= 302:
        # Version 302 implies cap-notify for the rest of the connection.
        ctx.set_caps(ctx.caps | {"cap-notify"}, max(ctx.cap_version, int(version)))
    offered = [cap for cap in SUPPORTED_CAPS if _offered(ctx, cap)]
    if ctx.cap_version >= 302:  # values need CAP LS 302 (older clients: plain names, no sts)
        offered = [f"{cap}={CAP_VALUES[cap]}" if cap in CAP_VALUES else cap for cap in offered]
        sts = sts_value(ctx.info.config.sts_duration_s, ctx.info.tls_ports, ctx.secure)
        if sts:
            offered.append(f"sts={sts}")
    _reply_list(ctx, "LS", " ".join(offered))


def _offered(ctx: CommandContext, cap: str) -> bool:
    """Registration only while it is open; search only where the history has an index (not
    without FTS5)."""
    if cap == "draft/account-registration":
        return ctx.info.config.accounts_registration == "open"
    return cap not in SEARCH_CAPS or search_offered(ctx)


def sts_value(duration_s: int, tls_ports: tuple[int, ...], secure: bool) -> str | None:
    """IRCv3 STS (ircv3.net/specs/extensions/sts): over plain text, only where to upgrade
    (`port=`: a duration there could be forged, and must not be sent); over TLS, the
    persistence policy (`duration=`). None when STS is off."""
    if not duration_s or not tls_ports:
        return None
    return f"duration={duration_s}" if secure else f"port={tls_ports[0]}"


def _list(ctx: CommandContext, msg: Message) -> None:
    _reply_list(ctx, "LIST", " ".join(sorted(ctx.caps)))


def _req(ctx: CommandContext, msg: Message) -> None:
    if not ctx.registered:
        ctx.set_cap_negotiating(True)
    requested = msg.param(1) or ""
    words = requested.split()
    # All or nothing: one unknown cap (or a 302 client dropping cap-notify) NAKs the lot,
    # echoing the request verbatim.
    refused = not words or any(
        w.lstrip("-") not in SUPPORTED_CAPS
        or (w.lstrip("-") in SEARCH_CAPS and not search_offered(ctx))
        or (w == "-cap-notify" and ctx.cap_version >= 302)
        for w in words)
    # An ACK echoes the request: one too long to echo in a line (words repeated) would be
    # cut, and a cut ACK would say the wrong thing; the (cut) NAK changes nothing.
    if refused or not _fits(_reply_message(ctx, "ACK", requested.strip())):
        _reply(ctx, "NAK", requested)
        return
    before = ctx.caps
    caps = set(before)
    for word in words:
        if word.startswith("-"):
            caps.discard(word[1:])
        else:
            caps.add(word)
    ctx.set_caps(caps, ctx.cap_version)
    if {c for c in before if c in MASTER_CAPS} != {c for c in caps if c in MASTER_CAPS}:
        master_caps = tuple(sorted(c for c in caps if c in MASTER_CAPS))
        ctx.notify_master(frames.Caps(ctx.conn_id, master_caps))
    _reply(ctx, "ACK", requested.strip())


def _fits(msg: Message) -> bool:
    return len(msg.format().encode("utf-8")) <= MAX_BODY_NO_CRLF_BYTES


def _end(ctx: CommandContext, msg: Message) -> None:
    if not ctx.registered:
        ctx.set_cap_negotiating(False)
        ctx.try_complete_registration()


_SUBCOMMANDS = {"LS": _ls, "LIST": _list, "REQ": _req, "END": _end}
