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
    """The read-only history queries CHATHISTORY needs (chatd.store.reader.HistoryReader, or
    an in-memory fake in tests)."""

    def select(self, conv: str, after_id: int, before_id: int, limit: int, newest: bool,
               kinds: tuple[str, ...]) -> list[tuple]: ...

    def last_id_at_or_before(self, ts_ms: int) -> int: ...

    def first_id_at_or_after(self, ts_ms: int) -> int: ...

    def floor_id(self) -> int: ...

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None: ...

    def private_latest(self, owner: str, after_ts: int, before_ts: int, limit: int,
                       newest: bool) -> list[tuple[str, tuple]]: ...


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

    def claim_nick(self, nick: str) -> None:
        """Ask the master for `nick`; it answers with NICK_OK or an error."""

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

    def try_complete_registration(self) -> None:
        """Register once nick, user (and CAP END, if negotiating) are all in."""

    def close(self, reason: str) -> None:
        """Say ERROR to the client and close the connection."""
