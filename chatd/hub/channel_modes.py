"""A channel MODE command's mode string: parsing it by the CHANMODES types and applying it to a
channel (modern.ircdocs.horse "MODE message"; RFC 2811 4). Pure: it changes the channel's
ChannelModes and member ranks and says what changed and what was refused; who may run it,
the replies and the broadcast are chatd/hub/mode_command.py's.

Parsing: `+` and `-` switch between adding and removing (a string without either adds). Type
A modes (b, e, I) take a mask; without one they ask for their list. o and v always take a
nick, k takes its key when set and may be given one when unset, l and r take a number or an
account when set and nothing when unset; a mode lacking its parameter is ignored, but for +r,
which then names the setter's own account. Flags (imnst) take none.
Each unknown letter is reported once. At most MAX_MODE_PARAMS changes with a parameter
count; the ones after them are dropped (ISUPPORT MODES). Changes that change nothing (+m on
a moderated channel, -b of a mask not on the list) are left out of what is applied.

What a registered channel keeps — its founder (+r) and the accounts it opps (+o on a member
logged in) — is chatd/hub/founders.py's, which apply_changes asks through KeptModes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Protocol, Sequence

from chatd.hub.bans import canonical_mask
from chatd.hub.channel_state import MAX_LIMIT, ListEntry, with_rank
from chatd.hub.registry import ChannelRecord, ClientRecord
from chatd.limits import (FLAG_MODES, FOUNDER_MODE, KEY_MODE, KEYLEN, LIMIT_MODE, LIST_MODES,
                          MAX_LIST_ENTRIES, MAX_MODE_PARAMS, PREFIX_MODES)
from ircproto import numerics as N
from ircproto.errors import IrcError
from ircproto.message import as_middle_param


class ModeChange(NamedTuple):
    adding: bool
    letter: str
    param: str | None = None


@dataclass(slots=True)
class ParsedModes:
    changes: list[ModeChange] = field(default_factory=list)
    list_queries: list[str] = field(default_factory=list)  # type A letters without a mask
    unknown: list[str] = field(default_factory=list)  # letters chatd does not know, each once


_KNOWN_MODES = FLAG_MODES + LIST_MODES + PREFIX_MODES + KEY_MODE + LIMIT_MODE + FOUNDER_MODE


def parse_modes(modestring: str, args: Sequence[str]) -> ParsedModes:
    parsed = ParsedModes()
    pending = list(args)
    adding, with_param = True, 0
    for letter in modestring:
        if letter in "+-":
            adding = letter == "+"
            continue
        if letter not in _KNOWN_MODES:
            if letter not in parsed.unknown:
                parsed.unknown.append(letter)
            continue
        if letter in LIST_MODES and not pending:
            if letter not in parsed.list_queries:
                parsed.list_queries.append(letter)
            continue
        if _takes_param(letter, adding):
            if not pending and letter != FOUNDER_MODE:
                continue  # a mode without its parameter is ignored (+r: the setter's account)
            param = pending.pop(0) if pending else None
        elif letter == KEY_MODE:  # -k: a key may follow; it is not needed
            param = pending.pop(0) if pending else None
        else:
            param = None
        if param is not None:
            with_param += 1
            if with_param > MAX_MODE_PARAMS:
                continue
        parsed.changes.append(ModeChange(adding, letter, param))
    return parsed


def _takes_param(letter: str, adding: bool) -> bool:
    """Whether the mode needs a parameter (k when removed: see parse_modes)."""
    if letter in LIST_MODES or letter in PREFIX_MODES:
        return True
    return adding and letter in (KEY_MODE + LIMIT_MODE + FOUNDER_MODE)


# (nick) -> the member of the channel with that nick; raises IrcError (401, 441) otherwise
MemberLookup = Callable[[str], ClientRecord]


class KeptModes(Protocol):
    """What a registered channel keeps, changed by MODE (chatd/hub/founders.py)."""

    def change_founder(self, change: ModeChange) -> ModeChange | None:
        """+r/-r: the change to announce, None if nothing changed; raises IrcError."""

    def note_rank(self, member: ClientRecord, change: ModeChange) -> bool:
        """+o/-o of `member`: whether its account was recorded or forgotten for it."""


@dataclass(slots=True)
class Applied:
    changes: list[ModeChange] = field(default_factory=list)  # what changed, to broadcast
    errors: list[IrcError] = field(default_factory=list)  # what was refused, in order


def apply_changes(channel: ChannelRecord, changes: list[ModeChange], setter: str, now_s: int,
                  find_member: MemberLookup, kept: KeptModes | None = None) -> Applied:
    """Apply the changes in order. `setter` (nick!user@host) and `now_s` are recorded with
    each new list entry. Without `kept`, +r/-r change nothing."""
    applied = Applied()
    for change in changes:
        try:
            done = _apply_one(channel, change, setter, now_s, find_member, kept)
        except IrcError as error:
            applied.errors.append(error)
            continue
        if done is not None:
            applied.changes.append(done)
    return applied


def _apply_one(channel: ChannelRecord, change: ModeChange, setter: str, now_s: int,
               find_member: MemberLookup, kept: KeptModes | None) -> ModeChange | None:
    letter = change.letter
    if letter in FLAG_MODES:
        flags = channel.modes.flags
        if (letter in flags) == change.adding:
            return None
        (flags.add if change.adding else flags.discard)(letter)
        return change
    if letter in PREFIX_MODES:
        member = find_member(change.param or "")
        rank = channel.ranks.get(member.conn_id, "")
        new_rank = with_rank(rank, letter, change.adding)
        # recorded: an op who had its rank already now has its account kept (announced too)
        recorded = kept is not None and kept.note_rank(member, change)
        if new_rank == rank and not recorded:
            return None
        channel.set_rank(member, new_rank)
        return change._replace(param=member.nick)
    if letter == FOUNDER_MODE:
        return kept.change_founder(change) if kept is not None else None
    if letter in LIST_MODES:
        return _apply_list(channel, change, setter, now_s)
    if letter == KEY_MODE:
        return _apply_key(channel, change)
    return _apply_limit(channel, change)


def _apply_list(channel: ChannelRecord, change: ModeChange, setter: str,
                now_s: int) -> ModeChange | None:
    modes, letter = channel.modes, change.letter
    mask = canonical_mask(change.param or "")
    if mask is None:
        raise _invalid(channel, letter, change.param, "Invalid mask")
    existing = modes.find_entry(letter, mask)
    if not change.adding:
        if existing is None:
            return None
        modes.remove_entry(letter, existing)
        return change._replace(param=existing.mask)
    if existing is not None:
        return None
    if modes.list_size() >= MAX_LIST_ENTRIES:
        raise IrcError(N.ERR_BANLISTFULL, channel.name, letter, "Channel list is full")
    modes.add_entry(letter, ListEntry(mask, setter, now_s))
    return change._replace(param=mask)


def _apply_key(channel: ChannelRecord, change: ModeChange) -> ModeChange | None:
    modes = channel.modes
    if not change.adding:
        if modes.key is None:
            return None
        modes.key = None
        return change._replace(param="*")  # type B: sent with a parameter both ways
    key = change.param or ""
    if not is_valid_key(key):
        raise _invalid(channel, KEY_MODE, "*",
                       f"Invalid key: 1 to {KEYLEN} characters, no spaces or commas")
    if key == modes.key:
        return None
    modes.key = key
    return change


def is_valid_key(key: str) -> bool:
    """RFC 2812 2.3.1: 1 to 23 characters, not NUL, CR, LF, FF, tabs or space; chatd also
    refuses ',' (JOIN lists keys with commas), a leading ':' and non-ASCII."""
    return (0 < len(key) <= KEYLEN and key[0] != ":" and key.isascii()
            and all(32 < ord(ch) < 127 and ch != "," for ch in key))


def _apply_limit(channel: ChannelRecord, change: ModeChange) -> ModeChange | None:
    modes = channel.modes
    if not change.adding:
        if modes.limit is None:
            return None
        modes.limit = None
        return change
    text = change.param or ""
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_LIMIT):
        raise _invalid(channel, LIMIT_MODE, text, f"The limit must be 1 to {MAX_LIMIT}")
    if int(text) == modes.limit:
        return None
    modes.limit = int(text)
    return change._replace(param=str(modes.limit))


def _invalid(channel: ChannelRecord, letter: str, param: str | None, why: str) -> IrcError:
    return IrcError(N.ERR_INVALIDMODEPARAM, channel.name, letter,
                    as_middle_param(param or ""), why)


def format_changes(changes: Sequence[ModeChange]) -> str:
    """The MODE line's mode string and parameters: "+ov-b nick nick mask"."""
    letters, params, sign = [], [], ""
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            letters.append(wanted)
            sign = wanted
        letters.append(change.letter)
        if change.param is not None:
            params.append(change.param)
    return " ".join(["".join(letters), *params])


def split_changes(changes: Sequence[ModeChange], max_bytes: int) -> list[list[ModeChange]]:
    """The changes in runs whose format_changes() fits in `max_bytes` (each change alone
    fits: masks, keys and nicks are short), in order."""
    runs: list[list[ModeChange]] = []
    for change in changes:
        if runs and len(format_changes([*runs[-1], change]).encode()) <= max_bytes:
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs
