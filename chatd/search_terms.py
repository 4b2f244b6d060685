"""What the history's full-text index (chatd/store/search_index.py) holds for a message and
how a SEARCH (chatd/session/search.py) becomes an FTS5 query over it. Shared by the writer,
which indexes, and the workers, which ask; pure: no SQLite here.

The index has two columns. `text` holds the message's words (SQLite's unicode61 tokenizer:
letters, digits and private-use characters make words; case and diacritics are ignored).
`scope` holds made-up words that say where the message is and who sent it, so that every
filter of a search is a word of the same index: `c<hex>` for each timeline the message is in
(chatd/events.py: a channel, or each participant's private timeline), `o<hex>` for each owner
of a private timeline it is in, `f<hex>` for its sender's nick (folded). Hex keeps each one a
single word whatever a name holds.

A client's text never reaches FTS5 as syntax: it is cut into words here exactly where the
tokenizer cuts, and each word goes in double quotes. Words are ANDed; a part of the text in
double quotes is a phrase (its words in that order, side by side). Nothing else is special:
`*`, `-`, `OR`, `NEAR`, `^`, `:` and parentheses are ordinary characters (most are not word
characters at all). At most MAX_WORDS words, so one query stays cheap.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

from chatd.events import owner_of_timeline
from ircproto.casemap import casefold

MAX_WORDS = 8  # words of a SEARCH text (phrases count each of their words)


class QueryError(ValueError):
    """A SEARCH text that cannot be searched (no words, too many)."""


def timeline_term(conv: str) -> str:
    return "c" + conv.encode("utf-8").hex()


def owner_term(owner: str) -> str:
    return "o" + owner.encode("utf-8").hex()


def sender_term(nick: str) -> str:
    return "f" + casefold(nick).encode("utf-8").hex()


def scope_text(convs: Iterable[str], sender_nick: str) -> str:
    """The `scope` column of a message in these timelines, sent by `sender_nick`. The writer
    computes it the same way when it indexes a message and when it removes it (a contentless
    FTS5 table is told what to remove), so it depends on nothing but its arguments."""
    terms = []
    for conv in convs:
        terms.append(timeline_term(conv))
        owner = owner_of_timeline(conv)
        if owner is not None:
            terms.append(owner_term(owner))
    terms.append(sender_term(sender_nick))
    return " ".join(dict.fromkeys(terms))  # a message to oneself: one timeline, one owner


def _is_word_char(ch: str) -> bool:
    """unicode61's token characters (its default categories L*, N*, Co)."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


def words(text: str) -> list[str]:
    """The words of `text`, cut where the tokenizer cuts."""
    found, current = [], []
    for ch in text:
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def phrases(text: str) -> list[list[str]]:
    """The text as phrases: each double-quoted part is one (an unclosed quote runs to the
    end), each other word is a phrase of its own. QueryError if there is no word at all or
    more than MAX_WORDS."""
    found: list[list[str]] = []
    for index, part in enumerate(text.split('"')):
        part_words = words(part)
        if index % 2:  # inside quotes
            if part_words:
                found.append(part_words)
        else:
            found.extend([word] for word in part_words)
    count = sum(len(phrase) for phrase in found)
    if count == 0:
        raise QueryError("No words to search for")
    if count > MAX_WORDS:
        raise QueryError(f"Too many words (at most {MAX_WORDS})")
    return found


def _quoted(words_: list[str]) -> str:
    # Words hold no '"' (it is no word character); doubling it anyway is FTS5's escape.
    return '"' + " ".join(words_).replace('"', '""') + '"'


def match_expression(text_phrases: list[list[str]], any_of_timelines: list[str],
                     owners: list[str], sender_nick: str | None) -> str:
    """The FTS5 MATCH expression: every phrase in `text`, the message in one of
    `any_of_timelines` or in a private timeline of one of `owners`, and sent by
    `sender_nick` if given. Every string in it is quoted: nothing of a client's is syntax."""
    scopes = [timeline_term(conv) for conv in any_of_timelines] + [
        owner_term(owner) for owner in owners]
    if not scopes:
        raise ValueError("a search needs somewhere to look")
    parts = ["scope : (" + " OR ".join(_quoted([term]) for term in scopes) + ")"]
    if sender_nick is not None:
        parts.append("scope : " + _quoted([sender_term(sender_nick)]))
    if text_phrases:
        parts.append("text : (" + " AND ".join(_quoted(p) for p in text_phrases) + ")")
    return " AND ".join(parts)
