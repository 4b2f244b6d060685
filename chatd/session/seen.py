"""JOIN replay without repeats (issue 15, point 5): what each logged-in client without
draft/chathistory — irssi, WeeChat: clients that cannot ask for history — was shown of its
channels, reported to the master when it leaves them so that its account's next JOIN replays
only what the account has not seen, and that replay. Pure: lines for the client and frames
for the master are returned; the switchboard (chatd/session/switchboard.py) sends them.

"Shown" means acknowledged, never merely written: a connection that dies takes with it what
sat in its buffers and in the network, so a message is counted as shown only once the client
answered a PING sent after it (TCP keeps the order; irssi and WeeChat answer every PING). While
such a client has unacknowledged channel events, the worker sends it `PING :seen-<n>` at most
every ACK_INTERVAL_S; the answer acknowledges every event this worker had handled when that
PING went out. When the client leaves a channel (PART, KICK, QUIT, a lost connection, the
server stopping) the worker reports (frames.SeenUpTo), for each channel it joined while logged
in, the last acknowledged id — if that acknowledgement came after its JOIN, so after the
replay it was given. Every message of the channel up to that id was then either delivered
live and acknowledged, or offered by that replay (the replay's skipped-count notice says how
to fetch what it left out). Whatever is lost — a crash of the server, a report never sent —
makes the next replay repeat messages, never skip one the account was not shown.

The replay (`account_replay`): the account's bound is the highest of what it was shown and its
read marker (chatd/store/read_markers.py); the messages after the bound, at most `[history]
replay` of them, and a NOTICE first when there were more. An account's first JOIN of a channel
(nothing known) gets the usual replay; so does every client that is not logged in.
"""

from __future__ import annotations

import logging

from chatd.events import ID, HistoryUnavailable
from chatd.ipc import frames
from chatd.session.context import AccountHistoryReading
from chatd.session.raw_lines import command_of
from ircproto.casemap import casefold
from ircproto.message import Message, fitted_line

log = logging.getLogger(__name__)

ACK_INTERVAL_S = 5.0  # at most one acknowledgement PING per client this often
SKIPPED_COUNT_CAP = 10_000  # the notice counts up to this ("more than ...")
TOKEN_PREFIX = "seen-"


class _Acks:
    """One tracked client: the channels it joined while logged in to `account` (with the id
    of that JOIN), its PING in flight and what the last answered one acknowledged."""

    __slots__ = ("account", "joined_at", "token", "asked_for", "asked_at", "acked_id")

    def __init__(self, account: str) -> None:
        self.account = account
        self.joined_at: dict[str, int] = {}  # folded channel -> id of its JOIN
        self.token: bytes | None = None  # of the PING in flight
        self.asked_for = 0  # the worker's last event id when that PING was queued
        self.asked_at = float("-inf")
        self.acked_id = 0  # every event up to this one reached the client


class SeenTracker:
    """The tracked clients of one worker and what their acknowledgements cover."""

    def __init__(self) -> None:
        self.conns: dict[int, _Acks] = {}
        self.last_ids: dict[str, int] = {}  # folded channel -> its last event handled here
        self.last_event_id = 0  # the last event handled here (they come in id order)
        self.reports: list[frames.SeenUpTo] = []  # for the master, in order
        self._pings = 0

    def note_event(self, channels: tuple[str, ...], event_id: int) -> None:
        """Every event this worker handles, before it is delivered."""
        self.last_event_id = event_id
        for folded in channels:
            self.last_ids[folded] = event_id

    def channel_gone(self, folded: str) -> None:
        """No client of this worker is in the channel any more."""
        self.last_ids.pop(folded, None)

    def joined(self, conn_id: int, account: str, folded: str, join_id: int) -> None:
        """The client joined while logged in to `account` and was given the replay."""
        acks = self.conns.get(conn_id)
        if acks is None or acks.account != account:
            acks = self.conns[conn_id] = _Acks(account)
        acks.joined_at[folded] = join_id

    def left(self, conn_id: int, channels: tuple[str, ...]) -> None:
        """The client left these channels: report what it was shown of them."""
        acks = self.conns.get(conn_id)
        if acks is None:
            return
        shown = []
        for folded in channels:
            join_id = acks.joined_at.pop(folded, None)
            if join_id is not None and join_id <= acks.acked_id:  # acknowledged its replay
                shown.append(folded)
        if shown:
            self.reports.append(frames.SeenUpTo(conn_id=conn_id, channels=tuple(shown),
                                                ids=(acks.acked_id,) * len(shown)))
        if not acks.joined_at:
            del self.conns[conn_id]

    def departed(self, conn_id: int) -> None:
        """The client is gone (or the server stops): report every channel it was in."""
        acks = self.conns.get(conn_id)
        if acks is not None:
            self.left(conn_id, tuple(acks.joined_at))

    def forget(self, conn_id: int) -> None:
        """Its account changed: what it was shown so far is nobody's."""
        self.conns.pop(conn_id, None)

    def take_reports(self) -> list[frames.SeenUpTo]:
        reports, self.reports = self.reports, []
        return reports

    # acknowledgements
    def pings_due(self, now: float) -> list[int]:
        """Clients to send an acknowledgement PING now: none in flight, the last one
        ACK_INTERVAL_S ago or more, and an event in one of their channels since."""
        last_ids = self.last_ids
        return [conn_id for conn_id, acks in self.conns.items()
                if acks.token is None and now - acks.asked_at >= ACK_INTERVAL_S
                and any(last_ids.get(folded, 0) > acks.asked_for for folded in acks.joined_at)]

    def ping(self, conn_id: int, now: float) -> bytes:
        """The PING line for a client pings_due named (queued right after what it was
        sent: its answer acknowledges everything before it)."""
        acks = self.conns[conn_id]
        self._pings += 1
        acks.token = f"{TOKEN_PREFIX}{self._pings}".encode()
        acks.asked_for, acks.asked_at = self.last_event_id, now
        return b"PING :" + acks.token + b"\r\n"

    def awaiting(self, conn_id: int) -> bool:
        acks = self.conns.get(conn_id)
        return acks is not None and acks.token is not None

    def on_line(self, conn_id: int, raw: bytes) -> bool:
        """A line from a client with a PING in flight: True if it is the answer (PONG with
        our token as its last parameter). Seen on arrival, before fakelag holds it."""
        acks = self.conns.get(conn_id)
        if acks is None or acks.token is None or command_of(raw) != "PONG":
            return False
        line = raw.rstrip()
        if not (line.endswith(b" :" + acks.token) or line.endswith(b" " + acks.token)):
            return False
        acks.acked_id, acks.token = acks.asked_for, None
        log.debug("connection %d acknowledged every event up to %d", conn_id, acks.acked_id)
        return True


def account_replay(history: AccountHistoryReading, account: str, folded: str, before_id: int,
                   limit: int) -> tuple[list[tuple], int] | None:
    """The JOIN replay of a client logged in to `account`: the messages before `before_id`
    that the account has not seen, at most `limit` (oldest first), and how many more were
    left out before them (0 when nothing is known of the account here: the usual replay).
    None if the history cannot be read (no replay; logged)."""
    try:
        bound = history.seen_bound(casefold(account), folded)
        if bound is None:
            return history.replay_after(folded, 0, before_id, limit, 0)[0], 0
        return history.replay_after(folded, bound, before_id, limit, SKIPPED_COUNT_CAP)
    except HistoryUnavailable as exc:
        log.error("history replay for %s failed: %s", folded, exc)
        return None


def skipped_notice(server_name: str, channel: str, skipped: int, rows: list[tuple]) -> str:
    """The line before a replay that leaves out older messages the account has not seen."""
    if skipped > SKIPPED_COUNT_CAP:
        count = f"More than {SKIPPED_COUNT_CAP} earlier messages"
    else:
        count = f"{skipped} earlier message{'s' if skipped != 1 else ''}"
    text = (f"{count} since you were last here are not shown: /quote CHATHISTORY BEFORE "
            f"{channel} msgid={rows[0][ID]} 100 shows the 100 before these")
    return fitted_line(Message("NOTICE", (channel, text), server_name))
