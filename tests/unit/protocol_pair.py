"""chatd and tui joined in memory, line for line, with no sockets: the paired endpoints
(as h11's tests pair a client and a server) of tests/unit/test_protocol_pair.py.

`Network` is a small re-creation of chatd's wiring: one master (Hub, Sequencer, PING
Barriers), one worker (a chatd Session per connection, Delivery for the fan-out) and an
instant writer that stores the sequencer's rows into an in-memory history (FakeHistory) and
commits them at once. Each `Client` is one tui user: a tui Session with its State, the lines
it sent, and what it was asked. `pump()` moves bytes and frames until nothing moves.

What is re-created rather than imported, and why: chatd/worker.py and chatd/master.py are
the processes' I/O loops (they import socket, selectors and sqlite3), so the few steps they
take between the pure parts are copied here in the same order — the worker's handling of
SYNC_POINT (`_apply_session_effects`) and of each master frame, and the master's
"handle, sequence, store, commit, release". Frames cross between master and worker encoded
and decoded (chatd.ipc.frames), as over the real pipe, so a field that does not survive the
codec breaks these tests too.

Pure: no socket, selector, SQLite, file, thread or sleep; time is a fake clock that only
`advance()` moves.
"""

from __future__ import annotations

import collections
import dataclasses
from datetime import UTC, datetime

from chatd.config import Config
from chatd.hub.barriers import Barriers
from chatd.hub.hub import Hub
from chatd.hub.sequencer import Sequencer
from chatd.hub.worker_frames import handle_request
from chatd.ipc import frames
from chatd.serverinfo import build_server_info
from chatd.session.delivery import Delivery, Recipient
from chatd.session.session import SYNC_POINT, Session as ServerSession
from ircproto.framing import LineReader, LineTooLong, decode_line, encode_line
from tests.unit.fake_history import FakeHistory
from tui import commands
from tui.effects import AskNick, Disconnect, Send
from tui.session import Session as ClientSession
from tui.state import CHAT_KINDS, Buffer, Line, State

WORKER = 0  # the one worker's index
START_MS = 1_700_000_000_000
MAX_STEPS = 1000


class Clock:
    """The one time of the whole network: wall-clock ms for the master, seconds for the
    worker's timers, an aware datetime for the tui. Only `advance` moves it."""

    def __init__(self, start_ms: int = START_MS) -> None:
        self.wall_ms = start_ms

    @property
    def monotonic_s(self) -> float:
        return self.wall_ms / 1000

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall_ms / 1000, UTC)

    def advance(self, seconds: float) -> None:
        self.wall_ms += round(seconds * 1000)


class ServerConn(Recipient):
    """The worker's Connection minus its socket: the line reader and the segments held
    behind outstanding SYNCs (chatd/worker.py)."""

    __slots__ = ("reader", "held")

    def __init__(self, session: ServerSession) -> None:
        super().__init__(session)
        self.reader = LineReader(cr_ends_line=True)
        self.held: collections.deque[bytearray] = collections.deque()


class Client:
    """One tui user: its session and buffers, what it sent, and its end of the wire. A nick
    the server refuses is answered with the tui's own suggestion, as a user pressing Enter
    at the nick prompt does (tui/app.py)."""

    def __init__(self, name: str, clock: Clock, channel: str = "#lobby") -> None:
        self.name = name
        self.clock = clock
        self.state = State(server_name="chat.example", tz=UTC)
        nonces = iter(range(1, 1 << 30))
        self.session = ClientSession(self.state, name, user=name, realname=name, channel=channel,
                                     new_nonce=lambda: f"{name}-{next(nonces)}")
        self.conn_id: int | None = None
        self.sent: list[str] = []  # every line sent, on every connection
        self.received: list[str] = []  # every line received, on every connection
        self.asked: list[AskNick] = []
        self.outgoing: list[str] = []  # lines sent, not yet read by the server
        self.incoming = LineReader()
        self.hang_up: str | None = None  # a Disconnect the session asked for

    def execute(self, effects: list) -> None:
        """What tui's event loop does with the session's effects."""
        for effect in effects:
            if isinstance(effect, Send):
                self.sent.append(effect.line)
                self.outgoing.append(effect.line)
            elif isinstance(effect, AskNick):
                self.asked.append(effect)
                self.execute(self.session.choose_nick(effect.suggestion))
            elif isinstance(effect, Disconnect):
                self.hang_up = effect.reason
            else:
                raise AssertionError(f"unexpected effect {effect!r}")

    def receive(self, data: bytes) -> None:
        for raw in self.incoming.feed(data):
            assert not isinstance(raw, LineTooLong), "the server sent an over-long line"
            line = decode_line(raw)
            self.received.append(line)
            self.execute(self.session.receive(line, self.clock.now))

    def type(self, text: str) -> None:
        """The user submits `text` in the current buffer (a message or a /command)."""
        self.execute(commands.run_input(text, self.session, self.state, self.clock.now))

    def focus(self, name: str) -> None:
        self.state.focus(self.buffer(name))

    def buffer(self, name: str) -> Buffer:
        buf = self.state.get(name)
        assert buf is not None, f"{self.name} has no buffer {name}: {self.buffer_names()}"
        return buf

    def buffer_names(self) -> list[str]:
        return [b.name for b in self.state.buffers]

    def chat(self, name: str) -> list[tuple[str, str]]:
        """(nick, text) of the chat lines shown in a buffer, top to bottom."""
        return [(line.nick, line.text) for line in self.chat_lines(name)]

    def chat_lines(self, name: str) -> list[Line]:
        return [line for line in self.buffer(name).lines if line.kind in CHAT_KINDS]

    def texts(self, name: str) -> list[str]:
        """Every line of a buffer as shown (events, dividers, ...), top to bottom."""
        return [line.text for line in self.buffer(name).lines]

    def server_texts(self) -> list[str]:
        return [line.text for line in self.state.server.lines]

    def received_with(self, fragment: str) -> list[str]:
        """Lines received that contain `fragment` (to count deliveries the buffers would
        hide: they never show one msgid twice)."""
        return [line for line in self.received if fragment in line]

    def sent_commands(self, command: str) -> list[str]:
        """Lines sent with this command (tags stripped)."""
        bare = [line.split(" ", 1)[1] if line.startswith("@") else line for line in self.sent]
        return [line for line in bare if line.split(" ", 1)[0] == command]


class Network:
    """One chatd (master, one worker, an instant writer) and the tui clients connected to it."""

    def __init__(self, **settings) -> None:
        self.clock = Clock()
        self.config = dataclasses.replace(Config(), **settings)
        self.info = build_server_info(self.config, "Hello from the test.", 0)
        self.history = FakeHistory()  # the writer's store, read by the worker's sessions
        # master
        self.hub = Hub(self.config)
        self.sequencer = Sequencer(0, 0)  # the writer's Ready: an empty history
        self.barriers = Barriers(grace_s=0.0)  # PING barriers pass at the next release
        self.next_conn_id = 1
        # worker
        self.conns: dict[int, ServerConn] = {}
        self.delivery = Delivery(self.conns, self.config, self.read_replay,
                                 self.drop_slow_reader)
        # the pipes between them, as bytes
        self.to_master = bytearray()
        self.to_worker = bytearray()
        self.clients: dict[int, Client] = {}  # conn_id -> the client at the other end

    # -- clients ---------------------------------------------------------------------------
    def client(self, name: str, **options) -> Client:
        return Client(name, self.clock, **options)

    def connect(self, client: Client) -> None:
        """Accept a connection (the master registers it, the worker takes it) and tell the
        tui it is up. (The real NewConn frame carries a socket; nothing else is in flight
        for a new conn_id, so the worker takes it directly.)"""
        conn_id = self.next_conn_id
        self.next_conn_id += 1
        self.hub.connection_opened(conn_id, WORKER, "host.example", self.clock.wall_ms // 1000)
        session = ServerSession(conn_id, "host.example", self.info, self.clock.monotonic_s,
                                self.history)
        self.conns[conn_id] = ServerConn(session)
        self.clients[conn_id] = client
        client.conn_id = conn_id
        client.execute(client.session.connect(self.clock.now))

    def drop(self, client: Client, reason: str = "Connection reset by peer") -> None:
        """The connection breaks under the client: the worker reads EOF, the tui loses it."""
        conn = self.conns.get(client.conn_id) if client.conn_id is not None else None
        if conn is not None:
            self._close_conn(conn, "Connection closed")
        self._hang_up(client, reason)

    def server_session(self, client: Client) -> ServerSession:
        assert client.conn_id in self.conns, f"{client.name} is not connected"
        return self.conns[client.conn_id].session

    def advance(self, seconds: float) -> None:
        """Let time pass and run every timer: the tui's ticks and the worker's."""
        self.clock.advance(seconds)
        for client in list(self.clients.values()):
            client.execute(client.session.tick(self.clock.now))
        for conn in list(self.conns.values()):
            conn.session.on_timer(self.clock.monotonic_s)
            self._apply_session_effects(conn)
        self.pump()

    # -- moving everything -----------------------------------------------------------------
    def pump(self) -> int:
        """Move lines and frames until nothing moves; return the steps taken. Fails loudly
        if the exchange does not settle (a loop between the two sides)."""
        for step in range(MAX_STEPS):
            moved = self._clients_write()
            moved |= self._master_step()
            moved |= self._worker_step()
            moved |= self._clients_read()
            if not moved:
                return step
        raise AssertionError(f"the network did not settle within {MAX_STEPS} steps")

    def _clients_write(self) -> bool:
        """Each client's lines reach its worker session (the worker's on_client_readable)."""
        moved = False
        for conn_id, client in list(self.clients.items()):
            if client.hang_up is not None:
                self.drop(client, client.hang_up)
                moved = True
                continue
            lines, client.outgoing = client.outgoing, []
            conn = self.conns.get(conn_id)
            if not lines or conn is None:
                continue
            moved = True
            data = b"".join(encode_line(line) for line in lines)
            for raw in conn.reader.feed(data):
                conn.session.on_line(raw, self.clock.monotonic_s)
                if conn.session.close_reason is not None:
                    break
            self._apply_session_effects(conn)
        return moved

    def _clients_read(self) -> bool:
        """What the worker queued for each client reaches its tui."""
        moved = False
        for conn_id, conn in list(self.conns.items()):
            if conn.outbuf:
                data, conn.outbuf = bytes(conn.outbuf), bytearray()
                self.clients[conn_id].receive(data)
                moved = True
        self.delivery.dirty.clear()
        return moved

    # -- the master (chatd/master.py) ------------------------------------------------------
    def _master_step(self) -> bool:
        """Handle the workers' frames, sequence the effects, have the writer store and commit
        the rows, send the workers what that releases."""
        received = frames.decode_frames(self.to_master)
        self.hub.now_ms = self.clock.wall_ms
        for frame in received:
            if not self.barriers.hold(WORKER, frame, self.clock.monotonic_s):
                self._handle_worker_frame(frame)
        for _worker, frame in self.barriers.due(self.clock.monotonic_s):
            self._handle_worker_frame(frame)
        self._dispatch(self.sequencer.add(self.hub.take_effects(), self.hub.now_ms))
        rows = self.sequencer.take_rows()
        if rows:
            self._dispatch(self.sequencer.committed(self._write(rows)))
        return bool(received or rows)

    def _handle_worker_frame(self, frame) -> None:
        client = self.hub.registry.clients.get(frame.conn_id)
        if client is not None:  # (a bug raises here instead of closing the client)
            handle_request(self.hub, client, frame)

    def _write(self, rows: list[tuple]) -> int:
        """The writer: store the rows (sent as a Store frame), answer the last id committed."""
        (store,) = frames.decode_frames(bytearray(frames.encode(frames.Store(rows=rows))))
        for row in store.rows:
            self.history.add(row)
        return store.rows[-1][0]

    def _dispatch(self, outgoing: list[tuple[int, bytes]]) -> None:
        for worker, data in outgoing:
            assert worker == WORKER, worker
            self.to_worker += data

    # -- the worker (chatd/worker.py) ------------------------------------------------------
    def _worker_step(self) -> bool:
        received = frames.decode_frames(self.to_worker)
        for frame in received:
            self._on_master_frame(frame)
        return bool(received)

    def _on_master_frame(self, frame) -> None:
        if isinstance(frame, frames.Event):
            self.delivery.on_event(frame)
            return
        conn = self.conns.get(frame.conn_id)
        if conn is None:
            return
        session = conn.session
        if isinstance(frame, frames.Reply):
            self.delivery.respond(conn, frame.payload)
        elif isinstance(frame, frames.NickOk):
            session.on_nick_granted(frame.nick)
            self._apply_session_effects(conn, caused_by_master=True)
        elif isinstance(frame, frames.Welcome):
            session.on_welcome()
            self._apply_session_effects(conn, caused_by_master=True)
        elif isinstance(frame, frames.Synced):
            if conn.held:
                segment = conn.held.popleft()
                if segment:
                    self.delivery.queue(conn, bytes(segment))
            session.on_synced(self.clock.monotonic_s)
            self._apply_session_effects(conn)
        elif isinstance(frame, frames.LabelStart):
            conn.master_answer.start(frame.label)
        elif isinstance(frame, frames.LabelEnd):
            if conn.master_answer.capturing:
                label, lines = conn.master_answer.finish()
                self.delivery.queue(conn, b"".join(session.label_response(lines, label)))
        elif isinstance(frame, frames.CloseConn):
            session.close(frame.reason)
            self._apply_session_effects(conn)
        else:
            raise AssertionError(f"unexpected frame for the worker: {frame!r}")

    def _apply_session_effects(self, conn: ServerConn, caused_by_master: bool = False) -> None:
        """chatd/worker.py's apply_session_effects: what follows a SYNC_POINT waits for the
        master's SYNCED, except output a master frame caused, which is already in order."""
        session = conn.session
        direct = bytearray()
        for item in session.out:
            if item == SYNC_POINT:
                conn.held.append(bytearray())
                caused_by_master = False
            elif conn.held and not caused_by_master:
                conn.held[-1] += item
            else:
                direct += item
        session.out.clear()
        if direct:
            self.delivery.queue(conn, bytes(direct))
        for frame in session.to_master:
            self.to_master += frames.encode(frame)
        session.to_master.clear()
        if session.close_reason is not None:
            self._close_conn(conn, session.close_reason)

    def _close_conn(self, conn: ServerConn, reason: str) -> None:
        """The worker's close_conn: what is held goes out (the ERROR line), then the socket
        closes and the master is told."""
        if conn.closed:
            return
        conn.closed = True
        for segment in conn.held:
            conn.outbuf += segment
        conn.held.clear()
        conn_id = conn.session.conn_id
        del self.conns[conn_id]
        client = self.clients.get(conn_id)
        if client is not None:
            client.receive(bytes(conn.outbuf))
            self._hang_up(client, reason)
        self.to_master += frames.encode(frames.ConnClosed(conn_id, reason))

    def _hang_up(self, client: Client, reason: str) -> None:
        if client.conn_id is not None:
            self.clients.pop(client.conn_id, None)
            client.conn_id = None
            client.hang_up = None
            client.outgoing.clear()
            client.session.disconnected(reason, self.clock.now)

    def read_replay(self, folded: str, before_id: int, limit: int) -> list[tuple]:
        """chatd.store.history.replay over the in-memory history (join replay, for clients
        without draft/chathistory)."""
        return self.history.select(folded, 0, before_id, limit, True, ("PRIVMSG", "NOTICE"))

    def drop_slow_reader(self, conn: Recipient) -> None:
        conn.outbuf.clear()
        conn.session.close("SendQ exceeded")
        self._apply_session_effects(conn)
