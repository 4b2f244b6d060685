"""Exact history from the client's side, with IRCv3 draft/chathistory
(ircv3.net/specs/extensions/chathistory):

- first join of a channel (or a new private buffer): the latest page (`LATEST * 50`);
- scrolling to the top: older pages (`BEFORE msgid=<oldest>`) until a short page (or the
  server's HISTORY_TRUNCATED note) marks the start;
- after a reconnect: exactly what was missed (`AFTER msgid=<newest we have>`), page after
  page until one is shorter than the limit, and private conversations we were not in are
  discovered with `TARGETS` and caught up the same way;
- a message of ours found in those pages by its nonce is confirmed, not sent again;
- a search result taken: what was said around it (`AROUND msgid=<id>`), placed where it
  belongs, with a divider when newer lines may be missing between it and what follows.

A buffer is "syncing" from its (re)join until its catch-up is complete; our queued messages
for it wait until then. One request per buffer is in flight at a time; replies are matched by
label (labeled-response), else by target, else in order.

Pure. It reads the `ClientContext` (capabilities, the server's CHATHISTORY and MSGREFTYPES,
who we are, the time, a label factory) and works with the `Outbox` it is given (our messages
found in the pages, the ones a finished catch-up lets go); it returns lines to send. It must
not import the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ircproto.casemap import irc_equal
from ircproto.message import Message, format_message
from ircproto.servertime import format_server_time, server_time_datetime
from tui import multiline
from tui.batch import Batch
from tui.context import ClientContext
from tui.effects import Effect, Send
from tui.lines import NONCE_TAG, history_line
from tui.outbox import Outbox
from tui.state import CHAT_KINDS, Buffer, BufferKind, Kind, Line, Resume

PAGE_LIMIT = 50  # LATEST and BEFORE: a screenful or two
AROUND_LIMIT = 40  # a message with what was said before and after it
CATCH_UP_LIMIT = 100  # AFTER: catching up wants big pages
TARGETS_LIMIT = 50
TARGETS_END_MARGIN = timedelta(minutes=1)  # our clock may be behind the server's
# A request not answered in this time is given up (a catch-up ends unverified), so a server
# that never answers cannot hold our queued messages forever.
REQUEST_TIMEOUT = timedelta(seconds=30)
# What chathistory needs besides itself: page boundaries (batch), ids (message-tags) and
# times (server-time). Without all of them the client relies on the server's JOIN replay.
REQUIRED_CAPS = frozenset({"draft/chathistory", "batch", "message-tags", "server-time"})
MESSAGE_QUERIES = ("LATEST", "BEFORE", "AFTER", "AROUND")
DEFAULT_REFTYPES = frozenset({"msgid", "timestamp"})  # when the server announces no MSGREFTYPES
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_time(when: datetime) -> str:
    """IRCv3 server-time format: UTC with milliseconds (the fraction below cut)."""
    return format_server_time((when - _EPOCH) // timedelta(milliseconds=1))


@dataclass(eq=False)
class Request:
    query: str  # LATEST, BEFORE, AFTER or TARGETS
    buffer: Buffer | None
    target: str
    limit: int
    label: str = ""
    sync: bool = False  # part of a (re)join's catch-up: its last page ends the sync
    missed: bool = False  # lines missed while offline: they count as unread
    start: datetime | None = None  # TARGETS: the lower bound (also where new buffers start)
    end: datetime | None = None  # TARGETS: the upper bound
    sent_at: datetime | None = None


class History:
    def __init__(self, ctx: ClientContext, outbox: Outbox):
        self.ctx = ctx
        self.state = ctx.state
        self.outbox = outbox
        self.inflight: list[Request] = []
        self.syncing: set[Buffer] = set()

    @property
    def enabled(self) -> bool:
        return REQUIRED_CAPS <= self.ctx.caps

    @property
    def max_limit(self) -> int:
        """ISUPPORT CHATHISTORY=<n>; 0: not announced / no limit."""
        return self.ctx.isupport.number("CHATHISTORY", 0)

    @property
    def reftypes(self) -> frozenset[str]:
        announced = self.ctx.isupport.get("MSGREFTYPES")
        return frozenset(announced.split(",")) if announced else DEFAULT_REFTYPES

    def reset(self) -> None:
        """The connection ended: its requests will never be answered."""
        self.inflight.clear()
        self.syncing.clear()

    @property
    def busy(self) -> bool:
        return bool(self.inflight)

    def limit(self, wanted: int) -> int:
        return min(wanted, self.max_limit) if self.max_limit > 0 else wanted

    def ref(self, line: Line) -> str:
        if line.msgid and "msgid" in self.reftypes:
            return f"msgid={line.msgid}"
        return f"timestamp={format_time(line.time)}"

    def resume_ref(self, resume: Resume) -> str:
        if resume.msgid and ("msgid" in self.reftypes or resume.time is None):
            return f"msgid={resume.msgid}"
        assert resume.time is not None
        return f"timestamp={format_time(resume.time)}"

    def message_ref(self, msg: Message) -> str:
        """The reference to a received message: its msgid, else its time."""
        msgid = msg.tags.get("msgid", "")
        if msgid and "msgid" in self.reftypes:
            return f"msgid={msgid}"
        return f"timestamp={msg.tags.get('time', '')}"

    def _in_flight_for(self, buf: Buffer) -> bool:
        return any(r.buffer is buf for r in self.inflight)

    # -- requests ------------------------------------------------------------------------------
    def sync(self, buf: Buffer, since: datetime | None = None) -> list[Effect]:
        """Catch a buffer up after our (re)join: from the newest msgid we have, paging to the
        end; with nothing stored shown yet, the latest page (or, with `since`, everything
        after that time). The buffer syncs until the last page is in."""
        if not self.enabled or any(r.buffer is buf and r.sync for r in self.inflight):
            return []
        self.syncing.add(buf)
        start = self._catch_up_from(buf)
        if start is not None:
            return self._ask(Request("AFTER", buf, buf.name, self.limit(CATCH_UP_LIMIT),
                                     sync=True, missed=True), self.ref(start))
        if buf.resume is not None:  # remembered from the last run: what came after it
            return self._ask(Request("AFTER", buf, buf.name, self.limit(CATCH_UP_LIMIT),
                                     sync=True, missed=True), self.resume_ref(buf.resume))
        if since is not None:
            return self._ask(Request("AFTER", buf, buf.name, self.limit(CATCH_UP_LIMIT),
                                     sync=True, missed=True), f"timestamp={format_time(since)}")
        return self._ask(Request("LATEST", buf, buf.name, self.limit(PAGE_LIMIT), sync=True),
                         "*")

    def _catch_up_from(self, buf: Buffer) -> Line | None:
        """The newest stored line we have — or, if a message of ours may have been stored
        without our seeing its echo, the last stored line shown before it (its msgid can be
        lower than lines that arrived after we sent it, so it must be in the pages)."""
        unverified = {e.nonce for e in self.outbox.unverified_in(buf)}
        first = next((i for i, line in enumerate(buf.lines) if line.nonce in unverified), None) \
            if unverified else None
        if first is None:
            return buf.newest_stored()
        return next((line for line in reversed(buf.lines[:first]) if line.msgid), None)

    def load_older(self, buf: Buffer) -> list[Effect]:
        """The user reached the top of the buffer: the page before the oldest line we have."""
        if (not self.enabled or buf.history_start or buf.kind == BufferKind.SERVER
                or self._in_flight_for(buf)):
            return []
        oldest = buf.oldest_stored()
        if oldest is None:  # nothing stored shown yet (e.g. a catch-up found nothing new)
            return self._ask(Request("LATEST", buf, buf.name, self.limit(PAGE_LIMIT)), "*")
        return self._ask(Request("BEFORE", buf, buf.name, self.limit(PAGE_LIMIT)),
                         self.ref(oldest))

    def around(self, buf: Buffer, msgid: str) -> list[Effect]:
        """The page of history centred on the message `msgid` (a search result)."""
        labelled = "labeled-response" in self.ctx.caps  # else pages match by target: one
        if not self.enabled or "msgid" not in self.reftypes or (
                not labelled and self._in_flight_for(buf)):
            return []
        return self._ask(Request("AROUND", buf, buf.name, self.limit(AROUND_LIMIT)),
                         f"msgid={msgid}")

    def discover(self, since: datetime, now: datetime) -> list[Effect]:
        """Private conversations with messages since `since` (we may have none of them)."""
        if not self.enabled:
            return []
        end = now + TARGETS_END_MARGIN
        return self._ask(Request("TARGETS", None, "", self.limit(TARGETS_LIMIT), start=since,
                                 end=end), "")

    def _ask(self, req: Request, ref: str) -> list[Effect]:
        tags = {}
        if "labeled-response" in self.ctx.caps:
            req.label = self.ctx.new_label()
            tags["label"] = req.label
        if req.query == "TARGETS":
            assert req.start is not None and req.end is not None
            params = ("TARGETS", f"timestamp={format_time(req.start)}",
                      f"timestamp={format_time(req.end)}", str(req.limit))
        else:
            params = (req.query, req.target, ref, str(req.limit))
        req.sent_at = self.ctx.now
        self.inflight.append(req)
        return [Send(format_message(Message("CHATHISTORY", params, tags=tags)))]

    def deadline(self) -> datetime | None:
        sent = [r.sent_at for r in self.inflight if r.sent_at is not None]
        return min(sent) + REQUEST_TIMEOUT if sent else None

    def expire(self, now: datetime) -> list[Effect]:
        """Give up the requests not answered in time."""
        out: list[Effect] = []
        for req in [r for r in self.inflight
                    if r.sent_at is not None and now >= r.sent_at + REQUEST_TIMEOUT]:
            self.inflight.remove(req)
            self.state.add(req.buffer or self.state.server,
                           Line(now, Kind.ERROR, "History not available: no answer in time"))
            if req.sync and req.buffer is not None:
                out += self._synced(req.buffer, verified=False)
        return out

    def _take(self, label: str | None, target: str | None, queries: tuple[str, ...]) \
            -> Request | None:
        """The request a reply answers: by label, else the oldest for that target (or of
        that kind), else None."""
        for match in (lambda r: bool(label) and r.label == label,
                      lambda r: r.query in queries and (
                          target is None or irc_equal(r.target, target))):
            for req in self.inflight:
                if match(req):
                    self.inflight.remove(req)
                    return req
        return None

    # -- replies -------------------------------------------------------------------------------
    def on_page(self, batch: Batch, label: str | None) -> list[Effect]:
        """A `chathistory` batch: place its lines, then page on or end the sync."""
        target = batch.params[0] if batch.params else ""
        req = self._take(label, target, MESSAGE_QUERIES)
        buf = req.buffer if req is not None else self.state.get(target)
        if buf is None:
            return []  # a page for a buffer that is gone
        ctx, outbox = self.ctx, self.outbox
        lines: list[Line] = []
        count = batch.dropped
        truncated = False
        last: Message | None = None  # where the next AFTER page starts (any kind of line)
        for msg in multiline.messages_of(batch):
            if msg.command == "NOTE" and msg.param(1) == "HISTORY_TRUNCATED":
                truncated = True  # retention deleted what is older: not a real start
                continue
            count += 1
            last = msg
            line = history_line(msg, ctx.now, ctx.nick, ctx.mode_rules, ctx.highlights)
            if line is None or (line.kind in CHAT_KINDS and not line.own
                                and ctx.ignores.matches(msg.source)):
                continue
            entry = outbox.find(nonce=msg.tags.get(NONCE_TAG)) \
                if msg.tags.get(NONCE_TAG) and ctx.is_me(msg.source_nick) else None
            if entry is not None:
                outbox.confirm(entry, line)  # stored after all: do not send it again
                continue
            lines.append(line)
        missed = req is not None and req.missed
        # Context far from what is loaded: newer lines between it and what follows are not.
        gap = req is not None and req.query == "AROUND" and not any(
            line.msgid in buf.msgids for line in lines if line.msgid)
        self.state.insert_history(buf, lines, live_divider=req is not None and req.sync,
                                  unread=missed, gap=gap)
        if req is None:
            return []
        if req.query == "AFTER" and count >= req.limit and last is not None:
            return self._ask(Request("AFTER", buf, req.target, req.limit, sync=req.sync,
                                     missed=req.missed), self.message_ref(last))
        if req.query in ("LATEST", "BEFORE") and (truncated or count < req.limit):
            self.state.mark_history_start(buf, "truncated" if truncated else "start")
        return self._synced(buf, verified=True) if req.sync else []

    def on_targets(self, batch: Batch, label: str | None) -> list[Effect]:
        """A `draft/chathistory-targets` batch: open and catch up the private conversations
        we did not have."""
        req = self._take(label, None, ("TARGETS",))
        ctx = self.ctx
        out: list[Effect] = []
        found = [m for m in batch.messages()
                 if m.command == "CHATHISTORY" and (m.param(0) or "").upper() == "TARGETS"]
        latest: datetime | None = None
        for msg in found:
            name = msg.param(1) or ""
            when = server_time_datetime(msg.param(2))
            if when is not None and (latest is None or when > latest):
                latest = when
            if not name or ctx.is_channel(name) or ctx.is_me(name) \
                    or self.state.get(name) is not None:
                continue  # channels are re-joined; known conversations are synced already
            buf = self.state.open(name, BufferKind.QUERY)
            out += self.sync(buf, since=req.start if req is not None else None)
        if req is not None and len(found) >= req.limit and latest is not None \
                and req.end is not None and latest < req.end:
            out += self._ask(Request("TARGETS", None, "", req.limit, start=latest,
                                     end=req.end), "")
        return out

    def on_fail(self, msg: Message, label: str | None) -> list[Effect] | None:
        """`FAIL CHATHISTORY <code> <subcommand> [<target>] ...` (or 421 for a server that
        does not know the command): None if it answers no request of ours."""
        words = [p for p in msg.params[1:-1]]
        target = next((w for w in words[1:] if self.state.get(w) is not None), None)
        subcommand = next((w.upper() for w in words if w.upper() in
                           (*MESSAGE_QUERIES, "TARGETS")), None)
        queries = (subcommand,) if subcommand else (*MESSAGE_QUERIES, "TARGETS")
        req = self._take(label, target, queries) or self._take(None, None, queries)
        if req is None:
            return None
        buf = req.buffer or self.state.server
        description = msg.params[-1] if msg.params else "failed"
        self.state.add(buf, Line(self.ctx.now, Kind.ERROR,
                                 f"History not available: {description}"))
        if req.buffer is not None and req.query == "BEFORE":
            req.buffer.history_start = True  # do not ask again on every PgUp
        if req.sync and req.buffer is not None:
            return self._synced(req.buffer, verified=False)
        return []

    def fail_all(self) -> list[Effect]:
        """The server does not answer CHATHISTORY after all: end every sync unverified."""
        requests, self.inflight = self.inflight, []
        out: list[Effect] = []
        for req in requests:
            if req.sync and req.buffer is not None:
                out += self._synced(req.buffer, verified=False)
        return out

    def _synced(self, buf: Buffer, verified: bool) -> list[Effect]:
        """The buffer's catch-up ended. With `verified`, a message of ours still unverified
        was not in the history: it was not stored, so it is sent again; otherwise nobody can
        tell, and it waits for the user (/resend)."""
        self.syncing.discard(buf)
        self.state.divide_live(buf)  # also when nothing was missed: the rejoin is the line
        for entry in self.outbox.unverified_in(buf):
            if verified:
                entry.unverified = False
            else:
                self.outbox.unconfirm(entry)
        out = self.flush_outbox()
        if buf.restored and verified:
            # Reopened from the last run: the page before what was missed, for context (the
            # read marker sits between them).
            buf.restored = False
            out += self.load_older(buf)
        return out

    def flush_outbox(self) -> list[Effect]:
        """Write what waits in the outbox and is no longer held back by a catch-up."""
        return self.outbox.flush(self.syncing, self.enabled)
