"""How much the master may do in answer to one client's queries — bytes of reply built, names
searched — charged to that client (issue 12: "work per command is bounded and charged to the
one who asked"). Pure.

The lines of a NAMES, WHO, LIST or WHOIS reply (and the NAMES burst after a JOIN) are added
one by one only while they fit the command's budget, which is the smaller of:

- a share of the requester's send queue: 1/REPLY_SHARE of `[limits] sendq` (256 KiB by
  default), so one answer never fills the queue it is going into;
- what is left of the client's allowance: a bucket of 1/ALLOWANCE_SHARE of `sendq` (512 KiB
  by default) that fills again over ALLOWANCE_REFILL_S seconds. A client that pipelines
  thousands of queries in one write gets full answers until its bucket is empty, then only
  their end numerics: the master builds at most half a send queue of lines for it at once,
  so such a burst, with its end numerics and the channel traffic meanwhile, fits the
  queue it arrives in (the worker appends a batch of answers before it flushes any).

A cut reply is cut at one place (no line after the first that did not fit) and still ends
with its end numeric, which the handlers add outside the budget: a few lines per target, and
the targets of one command are bounded (MAX_QUERY_TARGETS in chatd/serverinfo.py).

A search that may find nothing costs the master time too — a WHO mask tried against every
nick, a LIST walking every channel — so each client also has a search allowance, in names
looked at: SEARCH_NAMES (~10 ms of the master's time), refilled over ALLOWANCE_REFILL_S like
the bytes. A search it cannot pay for in full looks at fewer names. One search is not limited
otherwise: looking through every user is a WHO's normal work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

REPLY_SHARE = 4  # one reply may take at most this fraction (1/4) of the requester's sendq
ALLOWANCE_SHARE = 2  # a client's replies may take this fraction (1/2) of its sendq at once
ALLOWANCE_REFILL_S = 4.0  # an empty allowance is full again after this long
# Names a client's searches may look at at once: a WHO mask takes ~1 us a nick, so ~10 ms of
# the master's time. A full WHO mask of 10,000 users at once (a larger server's WHO masks
# look at its first 10,000 nicks); then 2,500 names a second (a WHO mask every 0.8 s on a
# server of 2,000 users).
SEARCH_NAMES = 10_000


@dataclass(slots=True)
class Allowance:
    """One client's bytes of replies and names of searches left, as of `at_ms`."""
    bytes_left: float
    at_ms: int
    names_left: float = SEARCH_NAMES


class ReplyBudget:
    """The bytes one command's reply may still take. `take` charges each line it lets in to
    the client's allowance too (none for an unmetered budget)."""

    __slots__ = ("left", "cut", "_allowance")

    def __init__(self, limit_bytes: int, allowance: Allowance | None = None) -> None:
        available = limit_bytes if allowance is None else min(limit_bytes,
                                                              allowance.bytes_left)
        self.left = max(0, int(available))
        self.cut = False  # a line did not fit: none after it does either
        self._allowance = allowance

    def search(self, names: int) -> int:
        """How many of `names` a search may look at (charged now)."""
        if self._allowance is None:
            return names
        allowed = min(names, max(0, int(self._allowance.names_left)))
        self._allowance.names_left -= allowed
        return allowed

    def take(self, lines: Iterable[str]) -> list[str]:
        """The lines of `lines` that fit (each counted with its CRLF), in order, up to the
        first that does not; nothing once a reply was cut. Lines are taken one by one from
        `lines`, so a generator builds none past the cut."""
        taken: list[str] = []
        if self.cut:
            return taken
        left = self.left
        for line in lines:
            size = len(line.encode("utf-8")) + 2
            if size > left:
                self.cut = True
                break
            left -= size
            taken.append(line)
        if self._allowance is not None:
            self._allowance.bytes_left -= self.left - left
        self.left = left
        return taken


class ReplyAllowances:
    """Every client's allowance, by connection id. A client's first query finds it full."""

    def __init__(self, sendq_bytes: int) -> None:
        self._by_conn: dict[int, Allowance] = {}
        self.set_sendq(sendq_bytes)

    def set_sendq(self, sendq_bytes: int) -> None:
        """[limits] sendq, at start or from a reload (allowances over the new capacity are
        brought down to it at their next refill)."""
        self.capacity = sendq_bytes // ALLOWANCE_SHARE
        self.reply_limit = sendq_bytes // REPLY_SHARE

    def budget(self, conn_id: int, now_ms: int) -> ReplyBudget:
        """The budget of one command of `conn_id`'s, its allowance refilled up to now."""
        allowance = self._by_conn.get(conn_id)
        if allowance is None:
            allowance = self._by_conn[conn_id] = Allowance(self.capacity, now_ms)
        # A share of each capacity per second; a clock stepping back adds none.
        refill = max(0, now_ms - allowance.at_ms) / 1000 / ALLOWANCE_REFILL_S
        allowance.bytes_left = min(self.capacity, allowance.bytes_left + refill * self.capacity)
        allowance.names_left = min(SEARCH_NAMES, allowance.names_left + refill * SEARCH_NAMES)
        allowance.at_ms = max(allowance.at_ms, now_ms)
        return ReplyBudget(self.reply_limit, allowance)

    def forget(self, conn_id: int) -> None:
        self._by_conn.pop(conn_id, None)
