"""Cloaks: the host other users see instead of a client's real address (issue 11).

A cloak is HMAC-SHA256 of the address, keyed by a secret the writer generated into the history
database at first start (chatd/store/meta.py), shown as two groups of 8 hex digits under the
pseudo-domain `.cloak`: `3f9a1c2b.8d4e7f60.cloak`. The same address gets the same cloak across
restarts (the secret is stored), so users can still tell a returning address apart; without the
secret the address cannot be recovered, not even by trying all 2^32 IPv4 addresses. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac

CLOAK_SUFFIX = ".cloak"


def cloak_host(secret: str, address: str) -> str:
    """The cloak of `address` under `secret` (a hex string from the history's meta table)."""
    digest = hmac.new(bytes.fromhex(secret), address.encode(), hashlib.sha256).hexdigest()
    return f"{digest[:8]}.{digest[8:16]}{CLOAK_SUFFIX}"


def shown_host(cloaking: bool, secret: str, address: str) -> str:
    """The host others see: the cloak, or the address itself when cloaks are off (or when the
    writer has not handed over a secret, which only a test's bare Hub lacks)."""
    return cloak_host(secret, address) if cloaking and secret else address
