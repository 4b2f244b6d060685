"""What is kept of a channel across emptiness and restarts (docs/history.md, "Channels that
are kept"): a registered channel's whole state — founder, modes, key, limit, topic, mask
lists and operator accounts — or an autojoin channel's topic alone. Its layout is written
once, here: the master builds it (chatd/hub/founders.py), the ordered stream carries it as
JSON (a row of kind events.CHANNEL_KIND), the writer stores it in the `channels` table
(chatd/store/channels.py) and hands every row back in Ready at start. Pure: no I/O."""

from __future__ import annotations

import json
from typing import NamedTuple

ListRow = tuple[str, str, int]  # (mask, setter nick!user@host, set in unix seconds)


class StoredChannel(NamedTuple):
    name: str  # as it was first spelled
    founder: str  # the founder's account, folded ('' for none: an autojoin channel's topic)
    created_s: int  # RPL_CREATIONTIME
    flags: str  # the type D modes set ("nt")
    key: str | None
    limit: int | None
    topic: str
    topic_setter: str  # the setter's nick (RPL_TOPICWHOTIME)
    topic_ts_ms: int
    lists: dict[str, tuple[ListRow, ...]]  # list mode letter -> its entries, in order
    operators: tuple[str, ...]  # the accounts opped on join (folded), the founder apart


def to_json(state: StoredChannel) -> str:
    """The stream's payload."""
    return json.dumps(state._asdict(), separators=(",", ":"))


def from_json(text: str) -> StoredChannel:
    return from_mapping(json.loads(text))


def from_mapping(fields: dict) -> StoredChannel:
    """A StoredChannel from its fields by name (JSON, or the table's columns)."""
    return StoredChannel(
        name=fields["name"], founder=fields["founder"], created_s=int(fields["created_s"]),
        flags=fields["flags"], key=fields["key"], limit=fields["limit"],
        topic=fields["topic"], topic_setter=fields["topic_setter"],
        topic_ts_ms=int(fields["topic_ts_ms"]),
        lists={letter: tuple((str(mask), str(setter), int(set_s))
                             for mask, setter, set_s in entries)
               for letter, entries in fields["lists"].items()},
        operators=tuple(fields["operators"]))

