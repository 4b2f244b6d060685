"""Polling with a deadline: the only way tests wait for something (never a bare sleep)."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.02,
               message: str = "condition") -> T:
    """Call `predicate` until it returns something truthy; return that. Raise AssertionError
    naming `message` if the deadline passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {message}")
        time.sleep(interval_s)  # poll interval, not synchronization: the deadline decides
