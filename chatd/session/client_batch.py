"""Client-initiated batches (ircv3.net/specs/extensions/client-batch) of one connection. The
one type chatd takes is draft/multiline (ircv3.net/specs/extensions/multiline): a multi-line
PRIVMSG or NOTICE, collected here and handed to the master as one frame (frames.Multiline)
when its `BATCH -ref` comes; the master checks it against the target and stores it as one
message (chatd/hub/multiline_messages.py). Pure: the handlers see the connection only as a
CommandContext and raise StandardReplyError for a `FAIL BATCH`.

What is checked, with the spec's codes:
- the batch: draft/multiline and batch negotiated, the type draft/multiline, one target, a
  reference tag of letters, digits and '-', no batch open already (MULTILINE_INVALID);
- each line: a PRIVMSG or NOTICE tagged with the open batch's reference (another reference:
  MULTILINE_INVALID; any other line while a batch is open, but PING, PONG and QUIT, ends it
  the same way and is not run, as in ergo), to the batch's target (MULTILINE_INVALID_TARGET
  <batch target> <line target>), all of one command (MULTILINE_INVALID); a blank line is
  kept (servers MUST NOT reject blank lines), a blank one marked draft/multiline-concat is
  not (MULTILINE_INVALID); the combined bytes and the lines within max-bytes and max-lines
  (MULTILINE_MAX_BYTES <limit>, MULTILINE_MAX_LINES <limit>, at the line that passes them);
- at `BATCH -ref`: at least one line that is not blank (MULTILINE_INVALID).
A NOTICE batch is dropped in silence (RFC 2812 3.3.2: nothing answers a NOTICE
automatically). A failed batch is dropped whole, and the lines of its reference still to
come are ignored up to its `BATCH -`, so that one mistake is answered once.

Bounded and charged to the client (docs/security.md): an open batch holds at most MAX_LINES
lines of at most MAX_BYTES together (and its client tags), and stays open at most TIMEOUT_S
while the client sends nothing more (then FAIL BATCH TIMEOUT <ref>; its lines to come are
ignored). Fakelag counts every line: `BATCH +` waits for the client's allowance like any
line; the lines of the open batch (at most MAX_LINES + 1) then run without waiting and are
each charged, so the message goes out whole at once and the client's next lines wait for
what it spent. Such a client may hold HELD_ALLOWANCE_BYTES more input than [limits] recvq
while it waits (one whole batch behind a line that waits).
"""

from __future__ import annotations

import re
from chatd import multiline
from chatd.ipc import frames
from chatd.session.context import CommandContext
from chatd.session.raw_lines import HELD_LINE_OVERHEAD_BYTES, parse_client_line
from ircproto.casemap import casefold
from ircproto.errors import IrcError, StandardReplyError
from ircproto.framing import LineTooLong
from ircproto.message import Message, client_only_tags, fitted_line, format_tags

TIMEOUT_S = 30.0
# A line of a batch beyond its text: "@batch=<ref>;draft/multiline-concat PRIVMSG <target> :",
# CRLF, counted generously; two more lines for BATCH + and BATCH -.
BATCH_LINE_FRAMING_BYTES = 200
HELD_ALLOWANCE_BYTES = (multiline.MAX_BYTES
                        + (multiline.MAX_LINES + 2) * (HELD_LINE_OVERHEAD_BYTES
                                                       + BATCH_LINE_FRAMING_BYTES))
# Lines a client may send while a batch is open without breaking it (keeping the
# connection alive, or leaving).
CONNECTION_COMMANDS = ("PING", "PONG", "QUIT")
MESSAGE_COMMANDS = ("PRIVMSG", "NOTICE")
_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,64}\Z")


def held_allowance_bytes(caps: frozenset[str]) -> int:
    """Input a client may hold beyond recvq while fakelag delays it (a whole batch)."""
    return HELD_ALLOWANCE_BYTES if multiline.CAP in caps else 0


class ClientBatch:
    """The batch one connection has open (at most one), and the references of failed
    batches whose lines are ignored."""

    __slots__ = ("ref", "target", "kind", "lines", "size", "label", "client_tags",
                 "opened_at", "ignored", "skipped")

    def __init__(self) -> None:
        self.ref: str | None = None  # the open batch's reference tag
        self.target = ""
        self.kind = ""  # PRIVMSG or NOTICE, from its first line
        self.lines: list[multiline.Line] = []
        self.size = 0  # what the lines count against max-bytes
        self.label: str | None = None  # of the BATCH + (labeled-response): the answer's
        self.client_tags = ""  # of the BATCH +: the message's
        self.opened_at = 0.0
        self.ignored: tuple[str, ...] = ()  # failed batches' references
        self.skipped = 0  # lines of this batch that ran without waiting for fakelag

    @property
    def is_open(self) -> bool:
        return self.ref is not None

    def _open(self, ref: str, target: str, label: str | None, client_tags: str,
              now: float) -> None:
        self.ref, self.target, self.kind, self.lines, self.size = ref, target, "", [], 0
        self.label, self.client_tags, self.opened_at = label, client_tags, now
        self.ignored, self.skipped = (), 0

    def _close(self) -> None:
        self.ref, self.lines, self.label, self.client_tags = None, [], None, ""

    def _fail(self, kind: str, code: str, *context: str, description: str,
              ignore: tuple[str, ...] = ()) -> bool:
        """Drop the open batch; its lines to come, and those of `ignore`, are ignored. FAIL
        BATCH answers it, unless it is a NOTICE's (then True: the line is taken, silently)."""
        refs = tuple(ref for ref in (self.ref, *ignore) if ref)
        if refs:  # at most two: the open batch and the one the line named
            self.ignored = refs
        self._close()
        if kind == "NOTICE":
            return True
        raise StandardReplyError("BATCH", code, *context, description=description)

    # fakelag
    def runs_at_once(self, raw: bytes | LineTooLong) -> bool:
        """Whether a line fakelag would hold runs now anyway: a line of the open (or of a
        failed) batch, at most MAX_LINES + 1 per batch (each still charged). A `BATCH +`
        never does: opening a batch waits for the allowance."""
        if (self.ref is None and not self.ignored) or self.skipped > multiline.MAX_LINES:
            return False
        try:
            msg = parse_client_line(raw)
        except IrcError:
            return False
        if "batch" in msg.tags or (msg.command == "BATCH" and msg.param(0, "")[:1] == "-"):
            self.skipped += 1
            return True
        return False

    def on_timer(self, ctx: CommandContext, now: float, input_waiting: bool) -> None:
        """A batch left open TIMEOUT_S with no input of the client waiting is dropped
        (client-batch: FAIL BATCH TIMEOUT; its lines still to come are ignored)."""
        if self.ref is None or input_waiting or now - self.opened_at < TIMEOUT_S:
            return
        ref, kind = self.ref, self.kind
        self.ignored = (ref,)
        self._close()
        if kind != "NOTICE":
            ctx.send(fitted_line(Message(
                "FAIL", ("BATCH", "TIMEOUT", ref, "The multiline batch was left open too long;"
                         " it was dropped"), ctx.server_name)))

    # lines
    def take_line(self, ctx: CommandContext, msg: Message) -> bool:
        """A registered client's line before it is dispatched: True if it was part of a
        batch (collected, ignored, or refused with FAIL BATCH, raised) and must not run."""
        ref = msg.tags.get("batch")
        if (ref is None and self.ref is None) or msg.command == "BATCH":
            return False  # BATCH itself is handle_batch's
        if ref is None:
            if msg.command in CONNECTION_COMMANDS:
                return False
            return self._fail(self.kind, "MULTILINE_INVALID", description=(
                f"{msg.command} may not be sent while a multiline batch is open"))
        if ref == self.ref:
            self._add(ctx, msg)
            return True
        if ref in self.ignored:
            ctx.take_label()  # no ACK for a line that is not answered
            return True
        if self.ref is None and msg.command not in (*MESSAGE_COMMANDS, "TAGMSG"):
            return False  # a batch tag where it means nothing to chatd
        return self._fail(self.kind or msg.command, "MULTILINE_INVALID",
                          description="No multiline batch is open with that reference tag",
                          ignore=(ref,))

    def _add(self, ctx: CommandContext, msg: Message) -> None:
        kind = self.kind or msg.command
        if msg.command not in MESSAGE_COMMANDS or msg.command != kind or len(msg.params) < 2:
            self._fail(kind, "MULTILINE_INVALID", description=(
                "A multiline batch holds PRIVMSG lines, or NOTICE lines, with a text"))
            return
        if casefold(msg.params[0]) != casefold(self.target):
            self._fail(kind, "MULTILINE_INVALID_TARGET", self.target, msg.params[0],
                       description="Invalid multiline target")
            return
        text = msg.params[1]
        concat = multiline.CONCAT_TAG in msg.tags and bool(self.lines)
        if multiline.CONCAT_TAG in msg.tags and not text:
            self._fail(kind, "MULTILINE_INVALID",
                       description="A blank line cannot be marked draft/multiline-concat")
            return
        size = self.size + len(text.encode("utf-8")) + (1 if self.lines and not concat else 0)
        if size > multiline.MAX_BYTES:
            self._fail(kind, "MULTILINE_MAX_BYTES", str(multiline.MAX_BYTES),
                       description="Multiline batch max-bytes exceeded")
            return
        if len(self.lines) >= multiline.MAX_LINES:
            self._fail(kind, "MULTILINE_MAX_LINES", str(multiline.MAX_LINES),
                       description="Multiline batch max-lines exceeded")
            return
        ctx.take_label()  # a line inside a batch is answered with the batch
        self.kind, self.size = kind, size
        self.lines.append((text, concat))

    # BATCH
    def on_batch(self, ctx: CommandContext, msg: Message) -> None:
        word = msg.params[0]
        ref = word[1:]
        if word[:1] == "+":
            self._start(ctx, msg, ref)
        elif word[:1] == "-" and ref == self.ref:
            self._end(ctx)
        elif word[:1] == "-" and ref in self.ignored:
            ctx.take_label()  # the end of a batch that was answered already
            self.ignored = tuple(other for other in self.ignored if other != ref)
        else:
            self._fail(self.kind, "MULTILINE_INVALID",
                       description="No multiline batch is open with that reference tag")

    def _start(self, ctx: CommandContext, msg: Message, ref: str) -> None:
        batch_type, target = msg.param(1, ""), msg.param(2, "")
        if self.is_open:
            self._fail(self.kind, "MULTILINE_INVALID", description=(
                "A multiline batch is already open (batches are not nested)"), ignore=(ref,))
        elif batch_type != multiline.BATCH_TYPE:
            raise StandardReplyError("BATCH", "MULTILINE_INVALID", description=(
                f"chatd takes batches of type {multiline.BATCH_TYPE} only"))
        elif not {multiline.CAP, "batch"} <= ctx.caps:
            raise StandardReplyError("BATCH", "MULTILINE_INVALID", description=(
                f"Negotiate the capabilities {multiline.CAP} and batch first"))
        elif not _REFERENCE.match(ref) or not target or "," in target:
            raise StandardReplyError("BATCH", "MULTILINE_INVALID", description=(
                "A multiline batch needs a reference tag (letters, digits, '-') and one"
                " target"))
        else:
            client_tags = ""
            if "message-tags" in ctx.caps:  # the spec: a message's client tags go on BATCH +
                client_tags = format_tags(client_only_tags(msg.tags))
            self._open(ref, target, ctx.take_label(), client_tags, ctx.clock_s)

    def _end(self, ctx: CommandContext) -> None:
        own_label = ctx.take_label()  # the answer carries BATCH +'s label (labeled-response)
        if not any(text for text, _concat in self.lines):
            kind = self.kind or "PRIVMSG"
            self._close()  # ended: none of its lines are to come
            self._fail(kind, "MULTILINE_INVALID",
                       description="A multiline message needs a line that is not blank")
            return
        ctx.forward_frame(frames.Multiline(
            conn_id=ctx.conn_id, kind=self.kind, target=self.target,
            lines=tuple(text for text, _concat in self.lines),
            concat=tuple(concat for _text, concat in self.lines),
            label=self.label or own_label, client_tags=self.client_tags))
        self._close()


def handle_batch(ctx: CommandContext, msg: Message) -> None:
    """BATCH +ref draft/multiline <target>, and BATCH -ref."""
    ctx.client_batch.on_batch(ctx, msg)
