"""chatd and tui joined in memory, line for line, with no sockets: the paired endpoints
(as h11's tests pair a client and a server) of tests/unit/test_protocol_pair.py.

`Network` is chatd with its I/O loops replaced by lists: one master (its pure Pipeline:
PING Barriers, Hub, Sequencer — chatd/hub/pipeline.py), one worker (its pure Switchboard: a
chatd Session per connection, the order of replies, Delivery for the fan-out —
chatd/session/switchboard.py) and an instant writer that stores the rows into an in-memory
history (FakeHistory) and commits them at once. Each `Client` is one tui user: a tui Session
with its State, the lines it sent, and what it was asked. `pump()` moves bytes and frames
until nothing moves.

Nothing of chatd's logic is copied here: chatd/worker.py and chatd/master.py call the same
Switchboard and Pipeline and only add the I/O (sockets, selectors, the processes), which this
module does in memory — it hands a client's bytes to the Switchboard, carries out its effects
(frames for the master, connections to close, output to read) and runs the master's steps in
its loop's order ("frames from a worker, barriers due, rows to the writer, committed").
Frames cross between master and worker encoded and decoded (chatd.ipc.frames), as over the
real pipe, so a field that does not survive the codec breaks these tests too. A bug that
chatd would log and survive (it closes that one connection) fails the exchange here: every
record chatd logs at ERROR or above is an assertion error at the end of `pump()`.

Pure: no socket, selector, SQLite, file, thread or sleep; time is a fake clock that only
`advance()` moves.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime

from chatd.config import Config
from chatd.events import StoreRow
from chatd.hub.barriers import Barriers
from chatd.hub.hub import Hub
from chatd.hub.pipeline import Pipeline
from chatd.ipc import frames
from chatd.serverinfo import build_server_info
from chatd.session.session import Session as ServerSession
from chatd.session.switchboard import LocalClient, Switchboard
from ircproto.framing import LineReader, LineTooLong, decode_line, encode_line
from tests.unit.fake_history import FakeHistory
from tui import commands
from tui.effects import Alert, AskNick, Disconnect, Send
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


class ErrorLog(logging.Handler):
    """The records chatd logs at ERROR or above (a bug it survived), kept for `pump()`."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


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
        self.alerts: list[Alert] = []
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
            elif isinstance(effect, Alert):
                self.alerts.append(effect)  # the app would ring the bell
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
        self.pipeline = Pipeline(self.hub, Barriers(grace_s=0.0))  # barriers pass at once
        self.pipeline.writer_ready(frames.Ready(last_id=0, last_ts_ms=0, channels=()))
        self.next_conn_id = 1
        # worker
        self.switchboard = Switchboard(self.config, self.read_replay)
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
        self.switchboard.add(LocalClient(session))
        self.clients[conn_id] = client
        client.conn_id = conn_id
        client.execute(client.session.connect(self.clock.now))

    def drop(self, client: Client, reason: str = "Connection reset by peer") -> None:
        """The connection breaks under the client: the worker reads EOF, the tui loses it."""
        conns = self.switchboard.conns
        conn = conns.get(client.conn_id) if client.conn_id is not None else None
        if conn is not None:
            self.switchboard.close(conn, "Connection closed")
            self._carry_out()
        self._hang_up(client, reason)

    def server_session(self, client: Client) -> ServerSession:
        conns = self.switchboard.conns
        assert client.conn_id in conns, f"{client.name} is not connected"
        return conns[client.conn_id].session

    def advance(self, seconds: float) -> None:
        """Let time pass and run every timer: the tui's ticks and the worker's."""
        self.clock.advance(seconds)
        for client in list(self.clients.values()):
            client.execute(client.session.tick(self.clock.now))
        self.switchboard.on_timer(self.clock.monotonic_s)
        self._carry_out()
        self.pump()

    # -- moving everything -----------------------------------------------------------------
    def pump(self) -> int:
        """Move lines and frames until nothing moves; return the steps taken. Fails loudly
        if the exchange does not settle (a loop between the two sides), or if chatd logged
        an error on the way (a bug it would survive by closing a connection)."""
        errors = ErrorLog()
        chatd_log = logging.getLogger("chatd")
        chatd_log.addHandler(errors)
        try:
            for step in range(MAX_STEPS):
                moved = self._clients_write()
                moved |= self._master_step()
                moved |= self._worker_step()
                moved |= self._clients_read()
                if not moved:
                    break
            else:
                raise AssertionError(f"the network did not settle within {MAX_STEPS} steps")
        finally:
            chatd_log.removeHandler(errors)
        assert not errors.records, [errors.format(r) for r in errors.records]
        return step

    def _clients_write(self) -> bool:
        """Each client's lines reach its worker session (the worker's on_client_readable)."""
        moved = False
        for conn_id, client in list(self.clients.items()):
            if client.hang_up is not None:
                self.drop(client, client.hang_up)
                moved = True
                continue
            lines, client.outgoing = client.outgoing, []
            conn = self.switchboard.conns.get(conn_id)
            if not lines or conn is None:
                continue
            moved = True
            data = b"".join(encode_line(line) for line in lines)
            self.switchboard.on_data(conn, data, self.clock.monotonic_s)
            self._carry_out()
        return moved

    def _clients_read(self) -> bool:
        """What the worker queued for each client reaches its tui (the worker's flush)."""
        moved = False
        for conn_id, conn in list(self.switchboard.conns.items()):  # in a steady order
            if conn.outbuf:
                data, conn.outbuf = bytes(conn.outbuf), bytearray()
                self.clients[conn_id].receive(data)
                moved = True
        self.switchboard.dirty.clear()
        return moved

    # -- the master (chatd/master.py's loop) -----------------------------------------------
    def _master_step(self) -> bool:
        """The master's loop iteration: the worker's frames, the barriers due, the rows to
        the writer; the writer commits them at once, which releases what waited."""
        received = frames.decode_frames(self.to_master)
        if received:
            self._dispatch(self.pipeline.on_worker_frames(
                WORKER, received, self.clock.wall_ms, self.clock.monotonic_s))
        self._dispatch(self.pipeline.release_barriers(self.clock.monotonic_s,
                                                      self.clock.wall_ms))
        self.pipeline.take_departed()  # (the master counts each worker's clients)
        rows = self.pipeline.take_rows()
        if rows:
            self._dispatch(self.pipeline.committed(self._write(rows)))
        return bool(received or rows)

    def _write(self, rows: list[StoreRow]) -> int:
        """The writer: store the rows (sent as a Store frame), answer the last id committed."""
        (store,) = frames.decode_frames(bytearray(frames.encode(frames.store(rows))))
        stored = frames.stored_rows(store)
        for row in stored:
            self.history.add(row)
        return stored[-1].event_id

    def _dispatch(self, outgoing: list[tuple[int, bytes]]) -> None:
        for worker, data in outgoing:
            assert worker == WORKER, worker
            self.to_worker += data

    # -- the worker (chatd/worker.py's loop) -----------------------------------------------
    def _worker_step(self) -> bool:
        received = frames.decode_frames(self.to_worker)
        for frame in received:
            self.switchboard.on_master_frame(frame, self.clock.monotonic_s)
        self._carry_out()
        return bool(received)

    def _carry_out(self) -> None:
        """The worker's carry_out: frames to the master, then the closed connections: what
        their buffer holds reaches the client (the ERROR line), then the line drops."""
        for frame in self.switchboard.take_to_master():
            self.to_master += frames.encode(frame)
        for conn, reason in self.switchboard.take_closing():
            client = self.clients.get(conn.session.conn_id)
            if client is not None:
                client.receive(bytes(conn.outbuf))
                self._hang_up(client, reason)

    def _hang_up(self, client: Client, reason: str) -> None:
        if client.conn_id is not None:
            self.clients.pop(client.conn_id, None)
            client.conn_id = None
            client.hang_up = None
            client.outgoing.clear()
            client.session.disconnected(reason, self.clock.now)

    def read_replay(self, folded: str, before_id: int, limit: int) -> list[tuple]:
        """chatd.store.reader.replay over the in-memory history (join replay, for clients
        without draft/chathistory)."""
        return self.history.select(folded, 0, before_id, limit, True, ("PRIVMSG", "NOTICE"))
