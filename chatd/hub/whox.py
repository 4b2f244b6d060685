"""WHOX (IRCv3 extensions/whox.md, advertised as the ISUPPORT token WHOX): `WHO <mask>
%<fields>[,<token>]` answers one RPL_WHOSPCRPL (354) per user holding exactly the fields
asked for, in one fixed order, then RPL_ENDOFWHO as a plain WHO does. Pure.

The fields and their order are those the spec lists plus the two ircu, Solanum and ergo also
answer (and clients such as WeeChat send): t token, c channel, u user name, i IP address, h
host, s server, n nick, f flags, d hop count, l seconds idle, a account, o channel op level,
r real name. Unknown letters are ignored, as the spec asks; whatever comes before the `%`
(other servers' WHO flags) too.

What chatd answers for each: the channel of a channel WHO, else `*`; the real address only
to the user themself and to server operators (`255.255.255.255` to everyone else, the spec's
placeholder); hop count 0 (one server); idle 0 (chatd does not keep it, as in WHOIS); the
account, `0` when logged out; op level `n/a` (ircu's word for a server without op levels);
the token as given when it is 1 to 3 digits, else `0`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from chatd.hub.hub import Hub
from chatd.hub.registry import ClientRecord
from ircproto import numerics as N

FIELD_ORDER = "tcuihsnfdlaor"
HIDDEN_IP = "255.255.255.255"
MAX_TOKEN_DIGITS = 3


@dataclass(frozen=True)
class WhoxRequest:
    fields: str  # the letters asked for, each once, in FIELD_ORDER
    token: str


def parse_whox(param: str) -> WhoxRequest | None:
    """The WHOX request in WHO's second parameter, or None for a plain WHO."""
    if "%" not in param:
        return None
    letters, _, token = param.split("%", 1)[1].partition(",")
    if not (token.isascii() and token.isdigit() and len(token) <= MAX_TOKEN_DIGITS):
        token = "0"
    return WhoxRequest("".join(f for f in FIELD_ORDER if f in letters), token)


def whox_lines(hub: Hub, asker: ClientRecord, channel_name: str, found: Iterable[ClientRecord],
               flags_of: Callable[[ClientRecord], str], request: WhoxRequest) -> Iterator[str]:
    """354 lines for `found`, made as they are taken (a cut WHO builds no line past its
    budget); `flags_of` gives each one's WHO flags (H/G, *, B, its rank)."""
    for who in found:
        values = {
            "t": request.token, "c": channel_name, "u": who.user,
            "i": who.address if hub.shows_address(asker, who) else HIDDEN_IP,
            "h": who.host, "s": hub.config.server_name, "n": who.nick or "*",
            "f": flags_of(who), "d": "0", "l": "0", "a": who.account or "0", "o": "n/a",
            "r": who.realname,
        }
        yield hub.numeric(asker, N.RPL_WHOSPCRPL, *(values[f] for f in request.fields))
