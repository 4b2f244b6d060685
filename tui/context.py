"""What the session's parts (history, outbox, membership, chat) read about the session they
belong to: who we are, what the server announced (capabilities, ISUPPORT), where the
connection stands, the time, a label factory, and whom the user ignores.

The session owns the one `ClientContext` and is its only writer (the label counter aside); the
parts read it and return effects or changes instead of reaching into the session. It must not
import the session or any of its parts, so that all of them can import it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ircproto.casemap import casefold
from ircproto.isupport import ISupport
from tui.ignores import IgnoreList
from tui.members import PrefixTable
from tui.modes import ModeRules
from tui.state import State

# What the client assumes before the server announces CHANTYPES (the usual set).
DEFAULT_CHANTYPES = "#&"
# RFC 2812 3.2.3: "up to three (3) changes per command for modes that take a parameter"; the
# ISUPPORT MODES token says otherwise (without a value: no limit, taken as this many).
DEFAULT_MODES_PER_LINE = 3
UNLIMITED_MODES_PER_LINE = 12
# A nick the user types before the server announced NICKLEN is checked against this generous
# bound only: the server's own limit is unknown, and it answers 432 to a nick too long for it.
CLIENT_NICK_MAX_LEN = 30


@dataclass(eq=False)
class ClientContext:
    state: State
    nick: str
    caps: set[str]  # enabled capabilities: the CAP negotiation's live set
    now: datetime
    isupport: ISupport = field(default_factory=ISupport)
    connected: bool = False
    registered: bool = False
    ready: bool = False  # registered, ISUPPORT read, private conversations caught up
    labels: int = 0  # labels handed out on this connection
    highlights: tuple[str, ...] = ()  # words that count as mentions besides our nick
    ignores: IgnoreList = field(default_factory=IgnoreList)  # whom the user does not hear
    _folded: str = field(default="", repr=False)
    _folded_of: str | None = field(default=None, repr=False)

    def new_label(self) -> str:
        """A fresh IRCv3 label for one command on this connection."""
        self.labels += 1
        return f"tui{self.labels}"

    def is_me(self, nick: str | None) -> bool:
        if nick is None:
            return False
        if self._folded_of != self.nick:  # cached: asked several times per message
            self._folded, self._folded_of = casefold(self.nick), self.nick
        return casefold(nick) == self._folded

    @property
    def chantypes(self) -> str:
        return self.isupport.get("CHANTYPES") or DEFAULT_CHANTYPES

    @property
    def prefix_table(self) -> PrefixTable:
        """The server's membership prefixes (ISUPPORT PREFIX; (ov)@+ when it names none)."""
        return PrefixTable.parse(self.isupport.get("PREFIX"))

    @property
    def mode_rules(self) -> ModeRules:
        """Which channel modes take an argument (ISUPPORT CHANMODES and PREFIX)."""
        return ModeRules.parse(self.isupport.get("CHANMODES"), self.isupport.get("PREFIX"))

    @property
    def modes_per_line(self) -> int:
        """How many modes with an argument one MODE line may carry (ISUPPORT MODES)."""
        value = self.isupport.get("MODES")
        if value is None:
            return DEFAULT_MODES_PER_LINE
        return self.isupport.number("MODES", UNLIMITED_MODES_PER_LINE)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def nick_max_len(self) -> int:
        """The longest nick worth sending: the server's NICKLEN once it has sent ISUPPORT
        (RFC 1459's 9 when it advertises none), a generous client bound before."""
        return self.isupport.nicklen if self.isupport.tokens else CLIENT_NICK_MAX_LEN
