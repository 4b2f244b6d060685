"""Who is in a channel, and with which membership prefixes (`@` operator, `+` voice, ...).

`PrefixTable` is the server's ISUPPORT PREFIX (`(ov)@+`: mode letters and their symbols,
highest rank first); it reads NAMES entries (several prefixes each with IRCv3 multi-prefix) and
ranks members. `Members` is one channel's member list: each member's nick as shown and the
prefixes they hold, kept in rank order, so that losing `@` leaves the `+` they also had.

Pure data; it reads no IRC messages (the membership and moderation parts feed it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ircproto.casemap import casefold

# modern.ircdocs.horse (RPL_ISUPPORT PREFIX): without the token, clients assume (ov)@+.
DEFAULT_PREFIX = "(ov)@+"
MAX_MEMBERS = 100_000  # one channel's members kept; a server announcing more is not believed


@dataclass(frozen=True, slots=True)
class PrefixTable:
    """Membership modes and their prefix symbols, highest rank first (`modes[i]` shows as
    `symbols[i]`)."""

    modes: str
    symbols: str

    @classmethod
    def parse(cls, value: str | None) -> PrefixTable:
        """ISUPPORT PREFIX: absent (None) means the default; present but empty means the
        server has no membership prefixes; a value that does not pair letters with symbols
        is ignored (default)."""
        if value is None:
            value = DEFAULT_PREFIX
        if value == "":
            return cls("", "")
        modes, close, symbols = value[1:].partition(")")
        if not value.startswith("(") or not close or len(modes) != len(symbols):
            return cls.parse(None)
        return cls(modes, symbols)

    def symbol_of(self, mode: str) -> str | None:
        """The prefix symbol a membership mode letter gives (`o` -> `@`), None for others."""
        index = self.modes.find(mode) if mode else -1
        return self.symbols[index] if index >= 0 else None

    def rank(self, prefixes: str) -> int:
        """Sort key of a member by their highest prefix: 0 for the top rank, len(symbols)
        for none."""
        return self.symbols.find(prefixes[0]) if prefixes and prefixes[0] in self.symbols \
            else len(self.symbols)

    def ordered(self, symbols: str) -> str:
        """The known symbols among `symbols`, each once, highest rank first."""
        return "".join(s for s in self.symbols if s in symbols)

    def split(self, entry: str) -> tuple[str, str]:
        """A NAMES entry (`@+bob`, or `@bob!u@h` with userhost-in-names) as (prefixes in rank
        order, nick)."""
        nick = entry.lstrip(self.symbols)
        prefixes = entry[:len(entry) - len(nick)]
        return self.ordered(prefixes), nick.split("!", 1)[0]


@dataclass(slots=True)
class Member:
    nick: str  # as the server spells it
    prefixes: str = ""  # membership prefix symbols held, highest rank first


class Members:
    """One channel's members by casefolded nick."""

    def __init__(self) -> None:
        self._by_key: dict[str, Member] = {}
        self.version = 0  # changes with every change: what is drawn from the list is cached

    def _changed(self) -> None:
        self.version += 1

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, nick: object) -> bool:
        return isinstance(nick, str) and casefold(nick) in self._by_key

    def nicks(self) -> list[str]:
        return [member.nick for member in self._by_key.values()]

    def clear(self) -> None:
        self._by_key.clear()
        self._changed()

    def add(self, nick: str, prefixes: str = "") -> None:
        """`nick` is a member with exactly these prefixes (a JOIN: none; NAMES: as listed)."""
        key = casefold(nick)
        if key in self._by_key or len(self._by_key) < MAX_MEMBERS:
            self._by_key[key] = Member(nick, prefixes)
            self._changed()

    def remove(self, nick: str) -> bool:
        self._changed()
        return self._by_key.pop(casefold(nick), None) is not None

    def rename(self, old: str, new: str) -> bool:
        """A member changed nick: same prefixes under the new name."""
        member = self._by_key.pop(casefold(old), None)
        if member is None:
            return False
        self._by_key[casefold(new)] = Member(new, member.prefixes)
        self._changed()
        return True

    def prefixes(self, nick: str) -> str:
        member = self._by_key.get(casefold(nick))
        return member.prefixes if member is not None else ""

    def highest(self, nick: str) -> str:
        """The one prefix shown in front of the nick: their highest."""
        return self.prefixes(nick)[:1]

    def set_prefix(self, nick: str, symbol: str, held: bool, table: PrefixTable) -> bool:
        """A MODE gave (`held`) or took a membership prefix; False if `nick` is no member."""
        member = self._by_key.get(casefold(nick))
        if member is None:
            return False
        others = member.prefixes.replace(symbol, "")
        member.prefixes = table.ordered(others + symbol) if held else others
        self._changed()
        return True

    def ranked(self, table: PrefixTable) -> list[Member]:
        """Everyone, highest rank first, then by name."""
        return sorted(self._by_key.values(),
                      key=lambda m: (table.rank(m.prefixes), casefold(m.nick)))
