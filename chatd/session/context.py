"""What a worker's command handler may know of its connection and do to it: the narrow
interface that local_commands.py, capabilities.py and chathistory.py are written against,
which the Session satisfies. Handlers read state and ask for effects through it; they never
touch the session's own fields, and nothing here imports the session (no import cycle).

Errors are not part of it: a handler raises IrcError or StandardReplyError (ircproto.errors)
and the session's line boundary turns them into the reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, AbstractSet, Any, Callable, NamedTuple, Protocol

from chatd.serverinfo import ServerInfo
from ircproto.message import Message

if TYPE_CHECKING:
    from chatd.session.sasl import AuthState


class HistoryReading(Protocol):
    """The read-only history queries CHATHISTORY, SEARCH and REDACT need
    (chatd.store.reader.HistoryReader, or an in-memory fake in tests)."""

    def select(self, conv: str, after_id: int, before_id: int, limit: int, newest: bool,
               kinds: tuple[str, ...]) -> list[tuple]: ...

    def last_id_at_or_before(self, ts_ms: int) -> int: ...

    def first_id_at_or_after(self, ts_ms: int) -> int: ...

    def floor_id(self, conv: str) -> int: ...

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None: ...

    def private_latest(self, owner: str, after_ts: int, before_ts: int, limit: int,
                       newest: bool) -> list[tuple[str, tuple]]: ...

    # SEARCH (chatd/session/search.py) and REDACT (chatd/session/redaction.py)
    def searchable(self) -> bool: ...

    def unindexed_up_to(self) -> int: ...

    def search(self, match: str, after_id: int, before_id: int, limit: int, newest: bool,
               time_limit_s: float) -> tuple[list[tuple], bool]: ...

    def message_in(self, conv: str, event_id: int) -> tuple | None: ...

    def private_timelines(self, event_id: int) -> tuple[str, ...]: ...


class BatchReceiving(Protocol):
    """A client's multiline batch being received (chatd/session/client_batch.py's
    ClientBatch: it imports this module, so it is named here by what it does)."""

    def take_line(self, ctx: CommandContext, msg: Message) -> bool:
        """Whether a line was part of the batch (then it must not run)."""

    def on_batch(self, ctx: CommandContext, msg: Message) -> None:
        """The BATCH command."""


class AccountHistoryReading(Protocol):
    """What the history keeps per account that a worker reads (chatd.store.read_markers.
    MarkerReader): read markers and what the JOIN replay of an account leaves out. Each
    raises chatd.events.HistoryUnavailable when the history cannot be read."""

    def marker(self, account: str, target: str) -> int: ...

    def seen_bound(self, account: str, channel: str) -> int | None: ...

    def replay_after(self, channel: str, after_id: int, before_id: int, limit: int,
                     count_cap: int) -> tuple[list[tuple], int]: ...


class CommandContext(Protocol):
    """One connection, as its command handlers see it."""

    # what handlers read
    @property
    def conn_id(self) -> int: ...

    @property
    def info(self) -> ServerInfo: ...

    @property
    def server_name(self) -> str: ...

    @property
    def nick(self) -> str | None: ...

    @property
    def user(self) -> str | None: ...

    @property
    def registered(self) -> bool: ...

    @property
    def secure(self) -> bool:
        """Whether the client connected over TLS."""

    @property
    def caps(self) -> frozenset[str]: ...

    @property
    def cap_version(self) -> int: ...

    @property
    def cap_negotiating(self) -> bool: ...

    @property
    def tag_variant(self) -> int: ...

    @property
    def channels(self) -> AbstractSet[str]: ...

    @property
    def history_owner(self) -> str:
        """Whose private history this connection may read (chatd/events.py)."""

    @property
    def history(self) -> HistoryReading | None: ...

    @property
    def host(self) -> str: ...

    @property
    def account(self) -> str | None: ...

    @property
    def certfp(self) -> str | None:
        """SHA-256 hex of the TLS client certificate (None: plain or no certificate)."""

    @property
    def auth(self) -> "AuthState":
        """The account exchange in progress (chatd/session/authentication.py owns it)."""

    @property
    def client_batch(self) -> BatchReceiving:
        """The multiline batch the client has open (chatd/session/client_batch.py owns it)."""

    @property
    def clock_s(self) -> float:
        """The latest time the session was told (its input, the master's answers, timers)."""

    # what handlers may do
    def send(self, line: str) -> None:
        """A line (no CRLF) for the client, in reply order."""

    def send_lines(self, lines: list[bytes]) -> None:
        """Encoded lines for the client, in reply order."""

    def batch(self, lines: list[bytes], batch_type: str) -> list[bytes]:
        """`lines` wrapped in a batch if the client negotiated `batch`."""

    def send_motd(self) -> None: ...

    def forward_command(self, msg: Message) -> None:
        """Have the master answer `msg` (a command that needs global state)."""

    def forward_frame(self, frame: NamedTuple) -> None:
        """Send the master a frame whose answer the client must see before ours."""

    def take_label(self) -> str | None:
        """The label of the line being handled (None if none), which this line will not be
        answered with: no ACK for it (a batch's lines are answered with the batch)."""

    def claim_nick(self, nick: str) -> None:
        """Ask the master for `nick`; it answers with NICK_OK or an error."""

    def forward_request(self, build: Callable[[str | None], NamedTuple]) -> None:
        """Have the master answer a frame built with this command's label (labeled-response:
        the master labels its answer); what this client is sent next waits for it."""

    def request_sync(self, ping: bool = False) -> None:
        """Hold what follows until the master has answered everything forwarded before
        (`ping`: the PING barrier, see handle_ping)."""

    def notify_master(self, frame: NamedTuple) -> None:
        """A frame the master only takes note of (no answer to wait for)."""

    def set_password(self, password: str) -> None: ...

    def set_user(self, user: str, realname: str) -> None: ...

    def set_caps(self, caps: AbstractSet[str], cap_version: int) -> None: ...

    def set_cap_negotiating(self, negotiating: bool) -> None: ...

    def set_account(self, account: str | None) -> None: ...

    def start_work(self, fn: Callable[..., Any], args: tuple,
                   on_done: Callable[[Any], None]) -> None:
        """Run fn(*args) (password hashing) off the loop; on_done(result) after; input waits."""

    def send_later(self, line: str, delay_s: float) -> None:
        """Send `line` after a pause; input waits meanwhile."""

    def charge_extra(self, tokens: float) -> None:
        """A command that turned out dearer than its price pays the rest (fakelag)."""

    def try_complete_registration(self) -> None:
        """Register once nick, user (and CAP END, if negotiating) are all in."""

    def close(self, reason: str) -> None:
        """Say ERROR to the client and close the connection."""
