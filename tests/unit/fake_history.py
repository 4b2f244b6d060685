"""An in-memory stand-in for chatd.store.reader.HistoryReader, over a list of stored rows, for the pure
CHATHISTORY and session tests. It implements the reader's contract in the plainest way (filter
and sort a list), so the tests state what the answers must be without SQLite;
tests/integration/test_history_queries.py checks that the real reader gives the same answers.

Rows are written as the writer stores them: (id, ts, kind, source, target, text, tags, convs
[, account]); they are read back as the reader's are: (id, ts, kind, source, target, text,
tags, account). `redact(id)` makes a tombstone as the writer does. SEARCH's expressions
(chatd/search_terms.py) are evaluated by reading them back, word by word, against each row's
scope terms and words (lower case): the grammar chatd writes, not FTS5's.
"""

from __future__ import annotations

import re
import unicodedata

from chatd.events import MESSAGE_KINDS, NO_UPPER_BOUND, owner_of_timeline
from chatd.search_terms import scope_text, words


class FakeHistory:
    def __init__(self, rows: list[tuple] = (), floor_id: int = 0, unindexed_up_to: int = 0):
        self._floor = floor_id
        self._floors: dict[str, int] = {}  # timeline -> the highest id of it deleted
        self._unindexed = unindexed_up_to
        self.redacted: set[int] = set()
        self.search_times_out = False  # every search stops at its time limit
        self.rows: list[tuple] = []
        self.calls: list[str] = []  # names of the methods called, in order
        for row in rows:
            self.add(row)

    def add(self, row: tuple) -> None:
        """Store one row (id, ts, kind, source, target, text, tags, convs); rows at or below
        the retention floor are gone, as if retention had deleted them (raising the floor
        of each of their timelines)."""
        assert len(row) in (8, 9) and isinstance(row[7], tuple), row
        if row[0] > self._floor:
            self.rows.append(row)
            self.rows.sort(key=lambda r: r[0])
        else:
            for conv in row[7]:
                self._floors[conv] = max(self._floors.get(conv, 0), row[0])

    def redact(self, event_id: int) -> None:
        self.redacted.add(event_id)
        self.rows = [r[:5] + ("", "") + r[7:] if r[0] == event_id else r for r in self.rows]

    def _visible(self, row: tuple) -> bool:
        return row[0] not in self.redacted

    # the HistoryReader interface
    def select(self, conv: str, after_id: int, before_id: int, limit: int, newest: bool,
               kinds: tuple[str, ...]) -> list[tuple]:
        self.calls.append("select")
        if limit <= 0:
            return []
        found = [_as_read(r) for r in self.rows if conv in r[7] and self._visible(r)
                 and after_id < r[0] < before_id and r[2] in kinds]
        return found[-limit:] if newest else found[:limit]

    def last_id_at_or_before(self, ts_ms: int) -> int:
        self.calls.append("last_id_at_or_before")
        return max((r[0] for r in self.rows if r[1] <= ts_ms), default=0)

    def first_id_at_or_after(self, ts_ms: int) -> int:
        self.calls.append("first_id_at_or_after")
        return min((r[0] for r in self.rows if r[1] >= ts_ms), default=NO_UPPER_BOUND)

    def floor_id(self, conv: str) -> int:
        self.calls.append("floor_id")
        return self._floors.get(conv, 0)

    def latest(self, conv: str, kinds: tuple[str, ...]) -> tuple | None:
        self.calls.append("latest")
        found = [_as_read(r) for r in self.rows
                 if conv in r[7] and r[2] in kinds and self._visible(r)]
        return found[-1] if found else None

    def private_latest(self, owner: str, after_ts: int, before_ts: int, limit: int,
                       newest: bool) -> list[tuple[str, tuple]]:
        self.calls.append("private_latest")
        latest: dict[str, tuple] = {}
        for row in self.rows:  # in id order: the last message seen is a timeline's latest
            if row[2] in MESSAGE_KINDS:
                for conv in row[7]:
                    if owner_of_timeline(conv) == owner:
                        latest[conv] = row
        found = sorted((row[1], conv, _as_read(row)) for conv, row in latest.items()
                       if after_ts < row[1] < before_ts)
        found = found[-limit:] if newest else found[:limit]
        return [(conv, row) for _ts, conv, row in found] if limit > 0 else []


    def searchable(self) -> bool:
        self.calls.append("searchable")
        return True

    def unindexed_up_to(self) -> int:
        self.calls.append("unindexed_up_to")
        return self._unindexed

    def search(self, match: str, after_id: int, before_id: int, limit: int, newest: bool,
               time_limit_s: float) -> tuple[list[tuple], bool]:
        self.calls.append("search")
        found = [_as_read(r) for r in self.rows
                 if r[2] in MESSAGE_KINDS and r[5] and r[0] > self._unindexed
                 and after_id < r[0] < before_id and _matches(match, r)]
        return (found[-limit:] if newest else found[:limit]), not self.search_times_out

    def message_in(self, conv: str, event_id: int) -> tuple | None:
        self.calls.append("message_in")
        for row in self.rows:
            if row[0] == event_id and conv in row[7] and self._visible(row):
                return _as_read(row)
        return None

    def private_timelines(self, event_id: int) -> tuple[str, ...]:
        self.calls.append("private_timelines")
        for row in self.rows:
            if row[0] == event_id:
                return tuple(c for c in row[7] if owner_of_timeline(c))
        return ()


def _folded_words(text: str) -> list[str]:
    """unicode61 with remove_diacritics: lower case, marks dropped."""
    plain = "".join(ch for ch in unicodedata.normalize("NFD", text.lower())
                    if unicodedata.category(ch) != "Mn")
    return words(plain)


def _matches(match: str, row: tuple) -> bool:
    """Evaluate chatd's expression: `column : ( "a" OP "b" ... )` or `column : "a"` parts,
    joined by AND; inside, OR or AND between quoted strings (a string of several words is a
    phrase)."""
    scope = scope_text(row[7], row[3].split("!", 1)[0]).split()
    text = _folded_words(row[5])
    for column, inner in re.findall(r'(\w+) : (\([^()]*\)|"[^"]*")', match):
        strings = re.findall(r'"((?:[^"]|"")*)"', inner)
        any_of = " OR " in inner
        hits = [_has_phrase(scope if column == "scope" else text,
                            _folded_words(string.replace('""', '"')) if column == "text"
                            else [string]) for string in strings]
        if not (any(hits) if any_of else all(hits)):
            return False
    return True


def _has_phrase(words_: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    return any(words_[i:i + size] == phrase for i in range(len(words_) - size + 1))


def _as_read(row: tuple) -> tuple:
    return row[:7] + (row[8] if len(row) > 8 else "",)
