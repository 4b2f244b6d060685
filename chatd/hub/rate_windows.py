"""Sliding windows of recent events per key: how many times each key did something in the
last `window_s` seconds. The address book counts connection attempts with one, account
registrations count new accounts per address with another. Pure: time comes in as an
argument.

A key is forgotten once its window is empty, and the table never holds more than `max_keys`
keys (the least recently used go first), so a spray of keys cannot grow it.
"""

from __future__ import annotations

import collections


class RateWindows:
    def __init__(self, window_s: float, max_keys: int) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        # key -> times of its recent events (at most the limit asked for), oldest key first
        self._times: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict())

    def is_full(self, key: str, now: float, limit: int) -> bool:
        """Whether `key` already did `limit` things in the window (never with limit 0)."""
        times = self._times.get(key)
        return bool(limit) and times is not None and self._live(times, now) >= limit

    def add(self, key: str, now: float, limit: int) -> None:
        """Record one event of `key` (keeping at most `limit` times: a full window stays
        full while its key keeps at it). Nothing is kept without a limit."""
        if not limit:
            return
        times = self._times.pop(key, None)
        if times is None or times.maxlen != limit:
            times = collections.deque(times or (), maxlen=limit)
        self._live(times, now)
        times.append(now)
        self._times[key] = times  # re-inserted: now the most recent
        self._forget_quiet(now)

    def hit(self, key: str, now: float, limit: int) -> bool:
        """Record one event of `key`; whether the window already held `limit` of them."""
        if not limit:
            return False
        full = self.is_full(key, now, limit)
        self.add(key, now, limit)
        return full

    def _live(self, times: collections.deque[float], now: float) -> int:
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return len(times)

    def _forget_quiet(self, now: float) -> None:
        table = self._times
        while table:
            oldest_key = next(iter(table))
            if len(table) <= self.max_keys and now - table[oldest_key][-1] < self.window_s:
                return
            del table[oldest_key]

    def __len__(self) -> int:
        return len(self._times)
