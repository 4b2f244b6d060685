"""Failed-attempt counters that slow guessing: per account and per address, for SASL logins,
PASSWORD and the server PASS. The master keeps them (it sees every worker's connections; a
worker sees only its own). Pure: time comes in as an argument.

A key (e.g. "account:alice", "ip:192.0.2.1", "pass:192.0.2.1") may fail FREE_FAILURES times;
each further failure blocks it for a delay that doubles from BASE_DELAY_S up to MAX_DELAY_S.
A success clears an account's counter (never an address's: logging in to one's own account
must not reset the count of guesses at others'). A key quiet for FORGET_S is forgotten, and
the table holds at most MAX_KEYS keys (the oldest go first), so it cannot grow without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

FREE_FAILURES = 5
BASE_DELAY_S = 2.0
MAX_DELAY_S = 300.0
FORGET_S = 3600.0
MAX_KEYS = 100_000


@dataclass(slots=True)
class _Count:
    failures: int
    last_s: float
    blocked_until_s: float


class Throttle:
    def __init__(self) -> None:
        self._keys: dict[str, _Count] = {}  # insertion order = order of last failure

    def retry_after(self, key: str, now_s: float) -> int:
        """Seconds until `key` may try again (0: now)."""
        count = self._keys.get(key)
        if count is None or count.blocked_until_s <= now_s:
            return 0
        return max(1, int(count.blocked_until_s - now_s + 0.999))

    def failed(self, key: str, now_s: float) -> None:
        count = self._keys.pop(key, None)
        if count is None or now_s - count.last_s >= FORGET_S:
            count = _Count(0, now_s, 0.0)
        count.failures += 1
        count.last_s = now_s
        extra = count.failures - FREE_FAILURES
        if extra >= 0:
            count.blocked_until_s = now_s + min(MAX_DELAY_S, BASE_DELAY_S * 2 ** min(extra, 16))
        self._keys[key] = count  # re-inserted: now the newest
        self._prune(now_s)

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)

    def _prune(self, now_s: float) -> None:
        while self._keys:
            oldest_key = next(iter(self._keys))
            oldest = self._keys[oldest_key]
            if len(self._keys) <= MAX_KEYS and now_s - oldest.last_s < FORGET_S:
                return
            del self._keys[oldest_key]

    def __len__(self) -> int:
        return len(self._keys)
