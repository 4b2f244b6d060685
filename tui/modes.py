"""Channel MODE changes as the client reads them: which letters take an argument (ISUPPORT
CHANMODES and PREFIX, modern.ircdocs.horse), the changes of one MODE line paired with their
arguments, and how they read in a buffer ("alice sets mode +o bob", "alice sets ban on
*!*@spam.example").

Pure functions of the server's rules and the message's words; no buffers, no sending.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.members import PrefixTable

# Without CHANMODES, the channel modes of RFC 2811 (lists b, e, I; key k; limit l).
DEFAULT_CHANMODES = "beI,k,l,imnpst"
# List modes people know by name (type A of CHANMODES); others read as "sets mode +X arg".
LIST_NAMES = {"b": "ban", "e": "ban exception", "I": "invite exception"}


@dataclass(frozen=True, slots=True)
class ModeChange:
    adding: bool
    letter: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class ModeRules:
    """How one server's channel modes take arguments (CHANMODES=A,B,C,D and PREFIX): type A
    (lists) and B always, C only when set, D never; membership modes (PREFIX) always."""

    lists: str
    always: str
    when_set: str
    prefixes: PrefixTable

    @classmethod
    def parse(cls, chanmodes: str | None, prefix: str | None) -> ModeRules:
        groups = (chanmodes if chanmodes is not None else DEFAULT_CHANMODES).split(",")
        groups += [""] * (3 - min(len(groups), 3))
        return cls(groups[0], groups[1], groups[2], PrefixTable.parse(prefix))

    def takes_arg(self, letter: str, adding: bool) -> bool:
        return letter in self.lists or letter in self.always or letter in self.prefixes.modes \
            or (adding and letter in self.when_set)


DEFAULT_RULES = ModeRules.parse(None, None)


def parse_changes(words: tuple[str, ...] | list[str],
                  rules: ModeRules = DEFAULT_RULES) -> list[ModeChange] | None:
    """The changes of `MODE <target> <words...>` (`+o-v bob carol`, `+b`, `+l 5`), each with its
    argument; None when the words do not fit the rules (an argument missing or left over: a
    user mode or a server whose rules we do not know), for the caller to show them as sent."""
    if not words:
        return None
    changes: list[ModeChange] = []
    args = list(words[1:])
    adding = True
    for letter in words[0]:
        if letter in "+-":
            adding = letter == "+"
            continue
        if rules.takes_arg(letter, adding):
            if not args:
                # A list mode without a mask is a request for the list (MODE #c +b); servers
                # never send one, but it is not worth a raw line either.
                if letter in rules.lists:
                    changes.append(ModeChange(adding, letter))
                    continue
                return None
            changes.append(ModeChange(adding, letter, args.pop(0)))
        else:
            changes.append(ModeChange(adding, letter))
    return changes if changes and not args else None


def mode_string(changes: list[ModeChange]) -> str:
    """`+ov-v bob carol dave`: letters under one sign each run, then the arguments."""
    letters, args = "", []
    sign = ""
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            letters += wanted
            sign = wanted
        letters += change.letter
        if change.arg:
            args.append(change.arg)
    return " ".join([letters, *args])


def describe(who: str, changes: list[ModeChange], rules: ModeRules = DEFAULT_RULES) -> str:
    """One readable line for the changes of one MODE: lists people know by name are said in
    words, runs of the other changes as a mode string."""
    phrases: list[str] = []
    run: list[ModeChange] = []
    for change in changes:
        name = LIST_NAMES.get(change.letter) if change.letter in rules.lists else None
        if name is None or not change.arg:
            run.append(change)
            continue
        if run:
            phrases.append("sets mode " + mode_string(run))
            run = []
        phrases.append(f"{'sets' if change.adding else 'removes'} {name} on {change.arg}")
    if run:
        phrases.append("sets mode " + mode_string(run))
    return f"{who} " + ", ".join(phrases)
