"""Multi-line messages (IRCv3 draft/multiline, ircv3.net/specs/extensions/multiline): the
limits chatd advertises, how one message of several lines is kept as ONE event (one id, one
msgid, one history row), and the lines that event is sent as to a given recipient. Pure;
shared by the worker (chatd/session/client_batch.py collects a client's batch; delivery,
replay and CHATHISTORY format what they send through `event_lines`) and the master
(chatd/hub/multiline_messages.py checks and stores one).

The row. Its text is the combined message, as the spec defines it — the lines joined by a
line feed, or directly where the sender marked a line `draft/multiline-concat` — so readers
and search see one text. The spec asks servers to keep the sender's line composition rather
than re-split the combined text (a client splits long lines where they read well), so the
row's tags end with chatd's own entry `multiline` (events.MULTILINE_TAG) listing where each
concatenated line begins in the text: "hello", "how is ", +concat "everyone?" is stored as
text "hello\\nhow is everyone?" with tags "multiline=13". A line holds no line feed, so the
line feeds and those offsets give the lines back exactly.

What a recipient gets (the spec's "Fallback" and its examples):
- with draft/multiline and batch: one batch, `BATCH +ref draft/multiline <target>` carrying
  the message's tags (time, msgid, account, client tags), each line inside with only
  `batch=ref` and, where it was sent so, `draft/multiline-concat`, then `BATCH -ref`;
- without: each non-blank line as a message of its own, every one with the message's tags
  but the msgid, which only the first carries (a msgid names one message), and the client
  tags only if they are short (REPEATED_TAGS_MAX_BYTES: the spec has them on the first
  line, "MAY" on the others; 4 KiB of tags on each of 100 lines would be 400 KiB for every
  such recipient).
The batch's source is the sender's (the spec's example); its reference is "ml<event id>",
which no batch chatd opens otherwise can be (those are "b<n>").
"""

from __future__ import annotations

from chatd import events
from ircproto.framing import encode_line

MAX_BYTES = 4096  # of the combined text, each joining line feed counted (CAP value max-bytes)
MAX_LINES = 100  # lines of one batch (CAP value max-lines)
CAP = "draft/multiline"
CAP_VALUE = f"max-bytes={MAX_BYTES},max-lines={MAX_LINES}"
BATCH_TYPE = "draft/multiline"
CONCAT_TAG = "draft/multiline-concat"

# Client tags are repeated on a fallback's lines after the first only up to this size (a
# `+draft/reply=<msgid>` is ~20 bytes).
REPEATED_TAGS_MAX_BYTES = 128
# A history answer (JOIN replay, CHATHISTORY) takes at most this share of the recipient's
# sendq, as one query reply does (chatd/hub/reply_budget.py): a multi-line message can be
# ~25 KiB for its recipient (100 lines, each with its prefix), and 100 of them must not
# fill the queue they go into, which would drop whoever asks (or joins).
HISTORY_SHARE = 4

Line = tuple[str, bool]  # (text, concat: joined to the line before it without a line feed)


def combined_text(lines: list[Line]) -> str:
    """The message the lines make (the spec's "combined message value")."""
    parts: list[str] = []
    for index, (text, concat) in enumerate(lines):
        if index and not concat:
            parts.append("\n")
        parts.append(text)
    return "".join(parts)


def tags_with_composition(client_tags: str, lines: list[Line]) -> str:
    """The tag section kept (and relayed) with a multi-line message: the client's tags, then
    chatd's own entry with the offsets of the concatenated lines (always last)."""
    offsets, position = [], 0
    for index, (text, concat) in enumerate(lines):
        if index:
            if concat:
                offsets.append(str(position))
            else:
                position += 1  # the line feed
        position += len(text)
    own = f"{events.MULTILINE_TAG}={','.join(offsets)}" if offsets else events.MULTILINE_TAG
    return f"{client_tags};{own}" if client_tags else own


def lines_of(text: str, offsets: tuple[int, ...]) -> list[Line]:
    """The lines of a stored multi-line message (tags_with_composition's inverse). Offsets that cannot
    be a concatenated line's start (out of range, at a line feed) are ignored."""
    cuts: list[tuple[int, bool]] = [(i, False) for i, ch in enumerate(text) if ch == "\n"]
    cuts += [(o, True) for o in offsets if 0 < o < len(text) and text[o] != "\n"]
    lines: list[Line] = []
    start, concat = 0, False
    for position, is_concat in sorted(set(cuts)):
        if position < start:
            continue
        lines.append((text[start:position], concat))
        start, concat = (position, True) if is_concat else (position + 1, False)
    lines.append((text[start:], concat))
    return lines


def event_lines(row: tuple, variant: int, stamp: bool = False) -> list[str]:
    """The lines (no CRLF) a stored event is sent as to a recipient with `variant`: the one
    line of events.py, or a multi-line message's batch or fallback lines. `stamp`: a replay
    to a client without server-time, which gets the original time in front of the text (of
    a multi-line message's first line that is sent)."""
    client_tags, offsets = events.split_stored_tags(row[events.TAGS])
    if offsets is None:
        return [events.stamped_replay_line(row, variant) if stamp
                else events.event_line(row, variant)]
    lines = lines_of(row[events.TEXT], offsets)
    if variant & events.WANTS_MULTILINE:
        return _batch(row, variant, client_tags, lines, stamp)
    return _fallback(row, variant, client_tags, lines, stamp)


def encoded_event(row: tuple, variant: int) -> bytes:
    """event_lines, encoded and CRLF-terminated, as one chunk (live delivery and echo)."""
    return b"".join(encode_line(line) for line in event_lines(row, variant))


def history_lines(rows: list[tuple], variant: int, budget_bytes: int, keep_newest: bool,
                  stamp: bool = False) -> tuple[list[bytes], int]:
    """The encoded lines of stored events (oldest first) for a recipient with `variant`, and
    how many events they are: as many whole events as fit `budget_bytes` (always one), the
    newest ones if `keep_newest`, else the oldest. A history answer may hold fewer events
    than asked (the chathistory spec's limit is a most); the client pages on from the last
    one it got."""
    chosen: list[list[bytes]] = []
    size = 0
    for row in reversed(rows) if keep_newest else rows:
        lines = [encode_line(line) for line in event_lines(row, variant, stamp)]
        size += sum(len(line) for line in lines)
        if chosen and size > budget_bytes:
            break
        chosen.append(lines)
    if keep_newest:
        chosen.reverse()
    return [line for lines in chosen for line in lines], len(chosen)


def _batch(row: tuple, variant: int, client_tags: str, lines: list[Line],
           stamp: bool) -> list[str]:
    source, target, ref = row[events.SOURCE], row[events.TARGET], f"ml{row[events.ID]}"
    account = _account(row)
    start = (events.tag_section(variant, row[events.ID], row[events.TS], client_tags,
                                account=account)
             + f":{source} BATCH +{ref} {BATCH_TYPE} {target}")
    stamp_index = _first_sent(lines) if stamp else -1
    inner = []
    for index, (text, concat) in enumerate(lines):
        tags = f"@batch={ref};{CONCAT_TAG} " if concat else f"@batch={ref} "
        inner.append(tags + _line_body(row, text, index == stamp_index))
    return [start, *inner, f":{source} BATCH -{ref}"]


def _fallback(row: tuple, variant: int, client_tags: str, lines: list[Line],
              stamp: bool) -> list[str]:
    # The spec: "Servers MUST NOT send blank lines to clients that have not negotiated the
    # multiline capability"; the tags a batch would carry go on the first line sent.
    sent = [text for text, _concat in lines if text]
    account = _account(row)
    repeated = client_tags if len(client_tags.encode()) <= REPEATED_TAGS_MAX_BYTES else ""
    return [events.tag_section(variant, row[events.ID], row[events.TS],
                               repeated if index else client_tags,
                               account=account, msgid=index == 0)
            + _line_body(row, text, stamp and index == 0)
            for index, text in enumerate(sent)]


def _line_body(row: tuple, text: str, stamped: bool) -> str:
    """One line of the message as a PRIVMSG/NOTICE (no tags). Each line was checked to fit
    512 bytes when it was stored (chatd/hub/multiline_messages.py); format_event still cuts
    one that would not, as it does for any event."""
    kind, source, target = row[events.KIND], row[events.SOURCE], row[events.TARGET]
    if stamped:
        text = events.fit_event_text(kind, source, target,
                                     events.replay_text(kind, text, row[events.TS]), mark="…")
    return events.format_event(kind, source, target, text)


def _first_sent(lines: list[Line]) -> int:
    """The index of the first non-blank line (where a replay's time stamp goes)."""
    return next((index for index, (text, _concat) in enumerate(lines) if text), 0)


def _account(row: tuple) -> str:
    return row[events.ACCOUNT] if len(row) > events.ACCOUNT else ""
