"""Per-address connection limits: how many connections each address holds (registered or
not) and how often it connected in the last minute, and whether a new connection from it may
be taken. The master keeps them (it alone sees every worker's connections, and its Hub knows
when one registers and when one is gone, including every client of a worker that died); the
acceptor asks before handing a connection on. Pure: no sockets; time comes in as an argument.

An address is a key: an IPv4 address, or the /64 an IPv6 address is in (one subscriber gets a
whole /64, so counting single IPv6 addresses would count nothing). An IPv4-mapped IPv6 address
(a dual-stack listener) is its IPv4 address. Addresses in an exempt network, and hosts that
are not IP addresses (a Unix socket), are neither limited nor tracked.

Connections per minute count every attempt, refused ones included, in a sliding window of
the last CONNECT_WINDOW_S: an address that keeps hammering stays refused until it has been
quiet long enough for the window to drain.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Iterable

from chatd.config import Config, Network
from chatd.hub.rate_windows import RateWindows
from chatd.netaddr import client_address, is_exempt

IPV6_PREFIX = 64
CONNECT_WINDOW_S = 60.0
# No single address may hold more than this share of the server's places (max_clients, or
# what the workers' descriptor limits leave room for), however clients_per_ip is set: one
# address can then never lock everyone else out.
MAX_SHARE = 0.1
# The connect-rate table forgets an address once its window is empty, and never holds more
# than this many addresses (the oldest go first), so a spray of addresses cannot grow it.
MAX_RATE_KEYS = 100_000
TOO_MANY = "Too many connections from your address"

def address_key(host: str, exempt: Iterable[Network] = ()) -> str | None:
    """The key `host` is counted under, or None when it is not limited (exempt, or not an IP
    address)."""
    address = client_address(host)
    if address is None or is_exempt(host, exempt):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False)
        return str(network)
    return str(address)


@dataclass(frozen=True, slots=True)
class AddressLimits:
    """The limits, 0 meaning no limit (see chatd.conf [limits])."""
    clients_per_ip: int = 10
    unregistered_per_ip: int = 3
    connects_per_minute_per_ip: int = 30
    exempt: tuple[Network, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> AddressLimits:
        return cls(config.clients_per_ip, config.unregistered_per_ip,
                   config.connects_per_minute_per_ip, config.exempt)


@dataclass(slots=True)
class _Held:
    clients: int = 0
    unregistered: int = 0


def share_of(total_places: int) -> int:
    """The most connections one address may hold among `total_places` (0: no limit)."""
    if total_places <= 0:
        return 0
    return max(1, math.ceil(total_places * MAX_SHARE))


class AddressBook:
    """Connections held per address key, and recent connection attempts."""

    def __init__(self, limits: AddressLimits) -> None:
        self.limits = limits
        self.share = 0  # the server-wide share (share_of), set once the places are known
        self._held: dict[str, _Held] = {}
        self._conns: dict[int, tuple[str, bool]] = {}  # conn_id -> (key, registered)
        self._attempts = RateWindows(CONNECT_WINDOW_S, MAX_RATE_KEYS)

    def set_places(self, total_places: int) -> None:
        self.share = share_of(total_places)

    # the acceptor's question
    def refusal(self, host: str, now: float) -> str | None:
        """A connection from `host` is being accepted at `now` (monotonic seconds): None to
        take it, or the reason to refuse it. The attempt is counted either way."""
        key = address_key(host, self.limits.exempt)
        if key is None:
            return None
        too_fast = self._attempts.hit(key, now, self.limits.connects_per_minute_per_ip)
        held = self._held.get(key)
        clients = held.clients if held else 0
        unregistered = held.unregistered if held else 0
        limits = self.limits
        if (too_fast
                or _reached(clients, limits.clients_per_ip)
                or _reached(clients, self.share)
                or _reached(unregistered, limits.unregistered_per_ip)):
            return TOO_MANY
        return None

    # what the Hub tells it
    def opened(self, conn_id: int, host: str) -> None:
        key = address_key(host, self.limits.exempt)
        if key is None:
            return
        held = self._held.setdefault(key, _Held())
        held.clients += 1
        held.unregistered += 1
        self._conns[conn_id] = (key, False)

    def registered(self, conn_id: int) -> None:
        entry = self._conns.get(conn_id)
        if entry is None or entry[1]:
            return
        key = entry[0]
        self._conns[conn_id] = (key, True)
        self._held[key].unregistered -= 1

    def closed(self, conn_id: int) -> None:
        entry = self._conns.pop(conn_id, None)
        if entry is None:
            return
        key, registered = entry
        held = self._held[key]
        held.clients -= 1
        if not registered:
            held.unregistered -= 1
        if not held.clients:
            del self._held[key]

    # for tests and operators
    def held(self, host: str) -> tuple[int, int]:
        """(connections, unregistered ones) held by `host`'s key."""
        key = address_key(host, self.limits.exempt)
        held = self._held.get(key) if key is not None else None
        return (held.clients, held.unregistered) if held else (0, 0)

    def __len__(self) -> int:
        """Addresses holding connections."""
        return len(self._held)


def _reached(count: int, limit: int) -> bool:
    return bool(limit) and count >= limit
