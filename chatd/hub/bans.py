"""Channel masks: the form a ban, ban exception or invite exception is kept and shown in, and
whether one matches a client. A mask is `nick!user@host` with `*` and `?` wildcards, matched
case-insensitively (rfc1459) with ircproto.casemap's linear glob matcher against what other
users see of the client (its cloak when cloaking is on: never its real address, which would
let an operator probe for it), or the IRCv3 account extban `$a:<account mask>` (`$a` alone:
any logged-in client). Pure."""

from __future__ import annotations

from chatd.hub.registry import ClientRecord
from ircproto.casemap import casefold, glob_match

EXTBAN_PREFIX = "$"  # ISUPPORT EXTBAN=$,a
ACCOUNT_EXTBAN = "a"  # ISUPPORT ACCOUNTEXTBAN=a (ircv3.net account-extban)
MAX_MASK_BYTES = 150  # longer masks are refused (ERR_INVALIDMODEPARAM)


def canonical_mask(raw: str) -> str | None:
    """The mask as stored and shown, completed the usual way (`nick` -> `nick!*@*`,
    `user@host` -> `*!user@host`, `nick!user` -> `nick!user@*`, empty parts -> `*`), or None
    when it cannot be a mask: too long, a control character, a leading ':' (it could not be
    sent back as a middle parameter) or an extban chatd does not have."""
    if (not raw or raw[0] == ":" or len(raw.encode("utf-8")) > MAX_MASK_BYTES
            or any(ord(ch) < 33 or ord(ch) == 127 for ch in raw)):
        return None
    if raw[0] == EXTBAN_PREFIX:
        kind, colon, pattern = raw[1:].partition(":")
        if kind != ACCOUNT_EXTBAN or (colon and not pattern):
            return None
        return raw
    if "@" in raw:
        userpart, _, host = raw.rpartition("@")
        nick, bang, user = userpart.partition("!")
        if not bang:
            nick, user = "*", userpart
    else:
        nick, _, user = raw.partition("!")
        host = ""
    mask = f"{nick or '*'}!{user or '*'}@{host or '*'}"
    return mask if len(mask.encode("utf-8")) <= MAX_MASK_BYTES else None


def mask_matches(mask: str, client: ClientRecord) -> bool:
    """Whether a canonical mask matches the client as it is now."""
    if mask[0] == EXTBAN_PREFIX:  # $a or $a:<account mask>
        pattern = mask[3:]
        if client.account is None:
            return False
        return not pattern or glob_match(casefold(pattern), casefold(client.account))
    return glob_match(casefold(mask), casefold(client.source))


def any_matches(masks: list, client: ClientRecord) -> bool:
    """Whether any entry (a channel_state.ListEntry) of a list matches the client."""
    return any(mask_matches(entry.mask, client) for entry in masks)
