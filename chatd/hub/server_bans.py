"""Server-wide bans (K-lines): their masks, whether a client matches one, expiry, and the
table the master keeps — learned from the writer's Ready at start, then changed by the KLINE
and UNKLINE writes the master orders (chatd/hub/klines.py). Pure: time comes in as an
argument (wall-clock milliseconds, as stored).

A mask is one of
- `user@host`: `user` a glob (`*`, `?`) on the name the client gave in USER; `host` an IP
  address or CIDR network, matched against the client's real address, or a glob, matched
  against the real address and against the cloak others see (chatd/hub/cloak.py), so a mask
  copied from a message prefix works as well as one written from WHOIS;
- `$a:account`: whoever logs in to that account (SASL or REGISTER): Solanum's extban form
  for accounts.
Masks are kept normalized (lower case, a network as `ipaddress` writes it): that text is the
K-line's key, which UNKLINE names and STATS k shows.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, NamedTuple

from chatd.config import Network
from chatd.limits import is_nick
from chatd.netaddr import client_address
from ircproto.casemap import casefold, glob_match

ACCOUNT_PREFIX = "$a:"
MAX_BANS = 10_000  # an oper's typo in a script cannot grow the table (or the file) forever
MAX_MASK_CHARS = 100
MAX_REASON_BYTES = 250  # fits in 465, 216 and the ERROR line with room to spare
_USER_GLOB = re.compile(r"[a-z0-9_.~*?-]{1,20}\Z")
_HOST_GLOB = re.compile(r"[a-z0-9_.:*?-]{1,90}\Z")

# Durations as KLINE takes them: a bare number is minutes (as in Solanum and Hybrid), or a
# number with a unit s, m, h, d or w (as in Ergo, one unit); 0 is permanent.
_DURATION = re.compile(r"(\d{1,7})([smhdw]?)\Z")
_UNIT_S = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_DURATION_S = 366 * 86400


class BanMask(NamedTuple):
    text: str  # normalized: the key
    account: str  # folded account name of a `$a:` mask, else ""
    user: str  # folded user glob of a user@host mask
    network: Network | None  # the host part when it is an address or a network
    host: str  # the folded host glob otherwise


class ServerBan(NamedTuple):
    mask: str  # BanMask.text
    reason: str
    setter: str  # the [opers] name of whoever set it
    set_ms: int
    expires_ms: int  # 0: never

    def active(self, now_ms: int) -> bool:
        return not self.expires_ms or now_ms < self.expires_ms


def parse_mask(text: str) -> BanMask:
    """The mask `text` normalized; ValueError says why it is not one."""
    if (not text or len(text) > MAX_MASK_CHARS
            or any(ch.isspace() or ord(ch) < 33 for ch in text)):
        raise ValueError(f"a mask is 1-{MAX_MASK_CHARS} characters without spaces")
    if text[:len(ACCOUNT_PREFIX)].lower() == ACCOUNT_PREFIX:
        name = text[len(ACCOUNT_PREFIX):]
        if not is_nick(name):
            raise ValueError("$a: is followed by an account name")
        folded = casefold(name)
        return BanMask(ACCOUNT_PREFIX + folded, folded, "", None, "")
    if "!" in text:
        raise ValueError("a K-line mask is user@host (or $a:account), without a nick")
    user, at, host = text.lower().rpartition("@")
    if not at:
        user = "*"
    if not _USER_GLOB.match(user):
        raise ValueError("the user part is letters, digits, '_', '.', '~', '-' and * ?")
    network = _network(host)
    if network is not None:
        whole = network.prefixlen == network.max_prefixlen
        shown = str(network.network_address) if whole else str(network)
        return BanMask(f"{user}@{shown}", "", casefold(user), network, "")
    if not _HOST_GLOB.match(host):
        raise ValueError("the host part is an address, a network (CIDR) or a host glob")
    return BanMask(f"{user}@{host}", "", casefold(user), None, casefold(host))


def _network(host: str) -> Network | None:
    """The host part as a network, when it is an address or a CIDR network."""
    try:
        return ipaddress.ip_network(host, strict=False)
    except ValueError:
        if "/" in host:
            raise ValueError(f"{host} is not a network (CIDR)") from None
        return None


def matches_address(mask: BanMask, user: str | None, address: str, shown_host: str) -> bool:
    """Whether a client at the real `address`, shown to others as `shown_host`, whose USER
    name is `user` (None: not known yet, before registration), matches a user@host mask.
    Before the user is known only masks whose user part matches anyone can match."""
    if mask.account:
        return False
    if user is None:
        if mask.user.strip("*"):
            return False
    elif not glob_match(mask.user, casefold(user)):
        return False
    if mask.network is not None:
        ip = client_address(address)
        return ip is not None and ip.version == mask.network.version and ip in mask.network
    return glob_match(mask.host, casefold(address)) or glob_match(mask.host,
                                                                  casefold(shown_host))


def parse_duration(text: str) -> int | None:
    """Seconds for a KLINE duration (0: permanent), or None when `text` is not one."""
    match = _DURATION.match(text.lower())
    if match is None:
        return None
    return min(int(match.group(1)) * _UNIT_S[match.group(2)], MAX_DURATION_S)


def describe_duration(seconds: int) -> str:
    """A duration for people: 90 -> '1m30s'."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


class ServerBans:
    """The K-lines in force, by mask; an address ban on one whole address is also found by
    that address in one look (the common case), the others by a scan of at most MAX_BANS."""

    def __init__(self) -> None:
        self._bans: dict[str, tuple[ServerBan, BanMask]] = {}
        self._by_address: dict[str, str] = {}  # an address -> the key of its `*@address` ban
        self._by_account: dict[str, str] = {}  # folded account -> the key of its `$a:` ban

    def load(self, rows: Iterable[tuple]) -> None:
        """Rows from the writer's Ready: (mask, reason, setter, set_ms, expires_ms). A row
        whose mask this version cannot read is skipped rather than stop the server."""
        for row in rows:
            try:
                self.add(ServerBan(*row))
            except ValueError:
                continue

    def __len__(self) -> int:
        return len(self._bans)

    def get(self, mask: str) -> ServerBan | None:
        entry = self._bans.get(mask)
        return entry[0] if entry else None

    def add(self, ban: ServerBan) -> None:
        """Add (or replace) a ban; its mask must be normalized (parse_mask(...).text)."""
        mask = parse_mask(ban.mask)
        self.remove(mask.text)
        self._bans[mask.text] = (ban, mask)
        if mask.account:
            self._by_account[mask.account] = mask.text
        elif not mask.user.strip("*") and _whole_address(mask.network):
            self._by_address[str(mask.network.network_address)] = mask.text

    def remove(self, key: str) -> ServerBan | None:
        entry = self._bans.pop(key, None)
        if entry is None:
            return None
        ban, mask = entry
        if mask.account:
            self._by_account.pop(mask.account, None)
        elif mask.network is not None:
            address = str(mask.network.network_address)
            if self._by_address.get(address) == key:
                del self._by_address[address]
        return ban

    def address_ban(self, user: str | None, address: str, shown_host: str,
                    now_ms: int) -> ServerBan | None:
        """The ban in force on a client at `address` (see matches_address), or None."""
        ip = client_address(address)
        key = self._by_address.get(str(ip)) if ip is not None else None
        if key is not None and self._bans[key][0].active(now_ms):
            return self._bans[key][0]
        for ban, mask in self._bans.values():
            if ban.active(now_ms) and matches_address(mask, user, address, shown_host):
                return ban
        return None

    def account_ban(self, account: str, now_ms: int) -> ServerBan | None:
        key = self._by_account.get(casefold(account))
        ban = self._bans[key][0] if key is not None else None
        return ban if ban is not None and ban.active(now_ms) else None

    def in_force(self, now_ms: int) -> list[ServerBan]:
        """The bans in force, by mask; the expired ones are forgotten (the writer deletes
        them from the file at the next start)."""
        for key in [key for key, (ban, _) in self._bans.items() if not ban.active(now_ms)]:
            self.remove(key)
        return sorted(ban for ban, _mask in self._bans.values())

    def mask_of(self, key: str) -> BanMask | None:
        entry = self._bans.get(key)
        return entry[1] if entry else None


def _whole_address(network: Network | None) -> bool:
    return network is not None and network.prefixlen == network.max_prefixlen
