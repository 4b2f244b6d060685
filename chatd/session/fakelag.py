"""Fakelag: how fast one registered client's lines are handled (issue 12, point 2). Pure: time
comes in as an argument; this module only answers "may the next line run now, and if not,
when" and keeps the allowances. The session (chatd/session/session.py) holds the lines that
must wait and runs them when the allowance refills; nothing is ever dropped here (the session
drops a client whose held input passes `[limits] recvq`).

The model is a token bucket with penalties, as ergo and InspIRCd do it: a client has
`flood_burst` tokens, refilled at `flood_rate` per second up to the burst. A line may run when
at least one token is left; it then costs its command's penalty (COMMAND_COST, default 1), so
the balance may go below zero and a costly command delays the lines after it rather than
itself — a command is never starved because it costs more than the burst. NICK changes and
JOINs have buckets of their own besides (NICK_LIMIT, JOIN_LIMIT): a line needs every bucket it
draws from. Lines before registration are not charged (ergo does the same): a client's
CAP/NICK/USER/AUTHENTICATE burst must never be slowed, and that phase is bounded by the
registration timeout and the held-input limits already. Server operators are not charged
either (the session skips this once the master's OperStatus says so): they must be able to
act fast against a flood.
"""

from __future__ import annotations

from typing import NamedTuple

from chatd.config import Config
from chatd.netaddr import is_exempt

# Floating-point slack when a wake-up computed as (1 - tokens) / rate comes due: without it
# the refill could land a hair under one token and ask for another wake-up microseconds later.
EPSILON_TOKENS = 1e-9

# Penalties in tokens (flood_rate tokens refill per second). Anything not listed costs 1.
COMMAND_COST: dict[str, float] = {
    "PONG": 0,  # the answer to our PING: never held back by its own cost (it still keeps order)
    "WHO": 3, "NAMES": 3, "CHATHISTORY": 3,  # replies that scale with channels or history
    "LIST": 5,  # a reply that scales with the whole server
    "SEARCH": 5,  # and SEARCH_TIMEOUT_COST more when it used all of its time limit
    "REDACT": 2,  # a history read, then stored and relayed
    "WHOIS": 2,
    "NICK": 2, "JOIN": 2,  # fanned out to channels and stored; also limited on their own
    "REGISTER": 5, "PASSWORD": 5, "OPER": 5,  # an scrypt hash on the verification thread
}

# A SEARCH cut at its time limit (search.SEARCH_TIME_LIMIT_S, 100 ms of the worker) pays this
# on top of its price: at the default 2 tokens/s one such search per 7.5 s, about 1.3%
# of a worker, where a quick one (a few ms) costs what LIST does.
SEARCH_TIMEOUT_COST = 10


class Limit(NamedTuple):
    """A bucket's shape: `burst` tokens, refilled at `rate_per_s`."""
    burst: float
    rate_per_s: float


# The slower limits of their own (always on when fakelag is on for a client):
NICK_LIMIT = Limit(burst=3, rate_per_s=0.1)  # three NICK changes, then one every 10 s
JOIN_LIMIT = Limit(burst=10, rate_per_s=1.0)  # ten JOIN lines, then one a second


class Bucket:
    """One token bucket. `tokens` may go negative (a penalty larger than what was left)."""

    __slots__ = ("limit", "tokens", "updated_at")

    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated_at = now

    def refill(self, now: float) -> None:
        if now > self.updated_at:
            self.tokens = min(self.limit.burst,
                              self.tokens + (now - self.updated_at) * self.limit.rate_per_s)
            self.updated_at = now

    def wait_s(self, now: float) -> float:
        """Seconds until one token is there (0.0: now)."""
        self.refill(now)
        missing = 1.0 - self.tokens
        if missing <= EPSILON_TOKENS:
            return 0.0
        return missing / self.limit.rate_per_s

    def charge(self, cost: float, now: float) -> None:
        self.refill(now)
        self.tokens -= cost


class Fakelag:
    """The allowances of one client."""

    __slots__ = ("lines", "nicks", "joins")

    def __init__(self, burst: int, rate_per_s: float, now: float) -> None:
        self.lines = Bucket(Limit(burst, rate_per_s), now)
        self.nicks = Bucket(NICK_LIMIT, now)
        self.joins = Bucket(JOIN_LIMIT, now)

    def _buckets(self, command: str) -> tuple[Bucket, ...]:
        if command == "NICK":
            return (self.lines, self.nicks)
        if command == "JOIN":
            return (self.lines, self.joins)
        return (self.lines,)

    def wait_s(self, command: str, now: float) -> float:
        """Seconds before a line of `command` (upper case) may run; 0.0: now."""
        if COMMAND_COST.get(command, 1) == 0:
            return 0.0
        return max(bucket.wait_s(now) for bucket in self._buckets(command))

    def charge(self, command: str, now: float) -> None:
        """The line of `command` runs now: take its cost (one token from its own limit)."""
        cost = COMMAND_COST.get(command, 1)
        if cost == 0:
            return
        self.lines.charge(cost, now)
        if command in ("NICK", "JOIN"):
            self._buckets(command)[1].charge(1, now)


def flood_settings(config: Config) -> tuple:
    """What a client's fakelag depends on in the config."""
    return config.flood_burst, config.flood_rate, config.exempt


def fakelag_for(config: Config, host: str, now: float) -> Fakelag | None:
    """A client's fakelag, unless its address is exempt or fakelag is off (flood_rate 0)."""
    if config.flood_rate > 0 and not is_exempt(host, config.exempt):
        return Fakelag(config.flood_burst, config.flood_rate, now)
    return None
