"""What reaches this worker's clients' output buffers: committed events fanned out to their
local recipients, the joiner's read marker and history replay (for a logged-in client, only
what its account has not seen: chatd/session/seen.py), the session's own output — all under
each client's send-queue limit. It keeps the local channel membership, changed only by committed
JOIN/PART/QUIT/KICK events, so it follows the history's order exactly.

Pure: it appends to buffers and never touches a socket; the worker flushes the buffers marked
dirty. The history read for join replay and what to do with a client over its send queue are
the worker's, injected here (so no sqlite3 and no socket on this side).

A channel message is formatted once per distinct line some recipient needs (the variants of
chatd/events.py that change nothing for this event share one), then appended to
every member's buffer in one inlined loop, with no call and no new object per recipient
(bench/hotpath.py measures it; tests/unit/test_worker_fanout.py counts the formatting)."""

from __future__ import annotations

from typing import Callable, Iterable

from chatd import events, multiline
from chatd.config import Config
from chatd.ipc import frames
from chatd.session import seen
from chatd.session.context import AccountHistoryReading
from chatd.session.labels import LabelCapture
from chatd.session.read_markers import ReadMarkers
from chatd.session.session import Session
from ircproto.framing import encode_line

# (folded channel, before_id, limit) -> the channel's last messages before that id, oldest
# first; [] when the history cannot be read (the worker logs why).
ReplayReader = Callable[[str, int, int], list[tuple]]


class Recipient:
    """A local client as delivery sees it: its session and its output buffer. The worker's
    Connection extends it with the socket."""

    __slots__ = ("session", "outbuf", "closed", "master_answer")

    def __init__(self, session: Session):
        self.session = session
        self.outbuf = bytearray()
        self.closed = False
        # The master's answer to a labeled command, collected between LABEL_START and
        # LABEL_END and then labeled as a whole.
        self.master_answer = LabelCapture()


class Delivery:
    """Output buffers of one worker's clients, and the fan-out that fills them."""

    def __init__(self, conns: dict[int, Recipient], config: Config, read_replay: ReplayReader,
                 drop_slow_reader: Callable[[Recipient], None],
                 account_history: AccountHistoryReading | None = None):
        self.conns = conns  # conn_id -> client, owned by the worker
        self.config = config
        self.read_replay = read_replay
        self.account_history = account_history  # read markers, what accounts were shown
        self.seen = seen.SeenTracker()
        self.markers = ReadMarkers(conns, account_history, self.respond, self.queue)
        self.drop_slow_reader = drop_slow_reader  # must empty the buffer and close the client
        # Local members of each channel: folded name -> conn_id -> client.
        self.members: dict[str, dict[int, Recipient]] = {}
        self.dirty: set[Recipient] = set()  # clients with output to flush

    # one client's output
    def queue(self, conn: Recipient, data: bytes) -> None:
        if conn.closed:
            return
        conn.outbuf += data
        if len(conn.outbuf) > self.config.sendq_bytes:
            self.drop_slow_reader(conn)
            return
        self.dirty.add(conn)

    def respond(self, conn: Recipient, data: bytes) -> None:
        """Output that answers the client's own command: collected while a labeled command
        is being answered (LABEL_START..LABEL_END), else sent."""
        if conn.master_answer.capturing:
            conn.master_answer.add(data)
        else:
            self.queue(conn, data)

    def to_each(self, conn_ids: tuple[int, ...], line: str) -> None:
        """One line, not stored, for some of this worker's clients (frames.Notify)."""
        data = encode_line(line)
        for conn_id in conn_ids:
            conn = self.conns.get(conn_id)
            if conn is not None:
                self.queue(conn, data)

    # fan-out
    def on_event(self, frame: frames.Event) -> None:
        """Deliver one committed event to its local recipients and apply its membership
        change. The line is formatted once per tag variant that some recipient needs."""
        kind, origin, channels = frame.kind, frame.origin, frame.channels
        self.seen.note_event(channels, frame.event_id)
        row = (frame.event_id, frame.ts_ms, kind, frame.source, frame.target, frame.text,
               frame.tags, frame.account)
        variants: list[bytes | None] = [None] * events.VARIANTS
        relevant = events.relevant_bits(kind, frame.account, frame.tags)

        def line_for(variant: int) -> bytes:
            # Variants that differ only in bits that change nothing here share one line
            # (formatted once, then cached under each variant seen).
            line = variants[variant]
            if line is None:
                key = variant & relevant
                line = variants[key]
                if line is None:
                    line = variants[key] = multiline.encoded_event(row, key)
                variants[variant] = line
            return line

        origin_conn = self.conns.get(origin)
        if kind == "JOIN" and origin_conn is not None:
            self.members.setdefault(channels[0], {})[origin] = origin_conn
            origin_conn.session.channels.add(channels[0])
        sent_by_origin = kind in events.SENT_KINDS
        filtered = kind in ONLY_FOR_SOME  # not every client is sent it (_is_sent)
        # The hot loop (one pass per delivery): what queue() does, inlined, with no call and
        # no new object per recipient.
        sendq = self.config.sendq_bytes
        mark_dirty = self.dirty.add
        for conn in self._recipients(channels, frame.to_conns):
            variant = conn.session.tag_variant
            if filtered and not _is_sent(kind, conn.session):
                continue
            if conn is origin_conn:
                if sent_by_origin and channels:
                    continue  # a channel message is not sent back, except as an echo below
                if not sent_by_origin:
                    self.respond(conn, line_for(variant))  # its own JOIN, PART, NICK, TOPIC
                    continue
            if conn.closed:
                continue
            line = variants[variant]
            if line is None:
                line = line_for(variant)
            outbuf = conn.outbuf
            outbuf += line
            if len(outbuf) > sendq:
                self.drop_slow_reader(conn)
            else:
                mark_dirty(conn)
        if origin_conn is not None:
            self._after_own_event(origin_conn, frame, row, line_for)
        if kind == "PART" or kind == "QUIT":
            self._leave(origin, origin_conn, channels)
        elif kind == "KICK":  # to_conns: the kicked client, who leaves once it has seen it
            for conn_id in frame.to_conns:
                self._leave(conn_id, self.conns.get(conn_id), channels)

    def _after_own_event(self, conn: Recipient, frame: frames.Event, row: tuple,
                         line_for: Callable[[int], bytes]) -> None:
        """What the event's own sender gets: its echo, its new nick, its join burst."""
        session, kind = conn.session, frame.kind
        if kind in events.SENT_KINDS:
            variant = session.tag_variant
            if "echo-message" in session.caps and (kind != "TAGMSG" or variant & events.WANTS_TAGS):
                # The echo is sent only now that the message is committed: it means "stored".
                self.respond(conn, line_for(variant))
        elif kind == "NICK":
            session.on_nick_changed(frame.target)
        elif kind == "JOIN":
            self.markers.after_join(conn, frame.channels[0], frame.target)
            if frame.extra:
                self.respond(conn, frame.extra.encode() + b"\r\n")
            if "draft/chathistory" not in session.caps:  # such clients ask for history
                self._replay(conn, frame.channels[0], frame.target, row[events.ID])

    def _leave(self, conn_id: int, conn: Recipient | None, channels: tuple[str, ...]) -> None:
        for folded in channels:
            local = self.members.get(folded)
            if local is not None:
                local.pop(conn_id, None)
                if not local:
                    del self.members[folded]
                    self.seen.channel_gone(folded)
        if conn is not None:
            conn.session.channels.difference_update(channels)
            self.seen.left(conn_id, channels)

    def _recipients(self, channels: tuple[str, ...],
                    to_conns: tuple[int, ...]) -> Iterable[Recipient]:
        if len(channels) == 1 and not to_conns:
            return list(self.members.get(channels[0], {}).values())
        found: dict[int, Recipient] = {}
        for folded in channels:
            found.update(self.members.get(folded, {}))
        for conn_id in to_conns:
            conn = self.conns.get(conn_id)
            if conn is not None:
                found[conn_id] = conn
        return list(found.values())

    def _replay(self, conn: Recipient, folded: str, channel: str, before_id: int) -> None:
        """Send the channel's last messages from history after a JOIN (docs/history.md): to
        a logged-in client only those its account has not seen (seen.py)."""
        limit = self.config.history_replay
        if limit <= 0:
            return
        session = conn.session
        skipped = 0
        if session.account and self.account_history is not None:
            found = seen.account_replay(self.account_history, session.account, folded,
                                        before_id, limit)
            if found is None:
                return
            rows, skipped = found
            self.seen.joined(session.conn_id, session.account, folded, before_id)
        else:
            rows = self.read_replay(folded, before_id, limit)
        out = [encode_line(seen.skipped_notice(session.server_name, channel, skipped, rows))
               ] if skipped else []
        if rows:
            out += session.batch(replay_lines(rows, session.tag_variant, self.config.sendq_bytes),
                                 f"chathistory {channel}")
        if out:
            self.respond(conn, b"".join(out))


# TAGMSG: only to clients with message-tags; REDACT: only to those with the redaction cap
# (ircv3.net message-redaction: it "MUST not" be forwarded to the others), its sender included.
ONLY_FOR_SOME = ("TAGMSG", events.REDACT_KIND)


def _is_sent(kind: str, session: Session) -> bool:
    if kind == "TAGMSG":
        return bool(session.tag_variant & events.WANTS_TAGS)
    return events.REDACTION_CAP in session.caps


def replay_lines(rows: list[tuple], variant: int, sendq_bytes: int) -> list[bytes]:
    """Stored rows as replayed lines for a client with `variant` (a multi-line message as
    one batch or as its lines), the newest that fit a share of its sendq (chatd/multiline.py)."""
    stamp = not variant & events.WANTS_TIME  # the original time goes in front of the text
    return multiline.history_lines(rows, variant, sendq_bytes // multiline.HISTORY_SHARE,
                                   keep_newest=True, stamp=stamp)[0]
