"""A client's address as the limits see it: parsed from the host the master recorded (an IPv6
zone dropped, an IPv4-mapped IPv6 address seen as IPv4), and whether it lies in the exempt
networks of `[limits] exempt`. Shared by the master's per-address limits and the workers'
fakelag, so both exempt exactly the same clients. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from chatd.config import Network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(host: str) -> IPAddress | None:
    """The IP address of a client's host, or None if it is not one (e.g. a Unix socket)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_exempt(host: str, networks: Iterable[Network]) -> bool:
    """Whether the client at `host` is in one of `networks`. Something that is not an address
    is not exempt."""
    address = client_address(host)
    return address is not None and any(address in network for network in networks)
