"""IRCv3 batches from the client's side (ircv3.net/specs/extensions/batch): collect the lines
of `BATCH +ref type ...` ... `BATCH -ref` (nested batches included) and hand over the complete
batch, so a page of history or a labeled response is handled as one unit.

Bounded: at most MAX_OPEN open batches and MAX_ITEMS lines per batch; what goes beyond is
counted (`dropped`), never stored. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ircproto.message import Message

MAX_OPEN = 32
MAX_ITEMS = 2000  # a history page is at most CHATHISTORY=<limit> lines; this is far above


@dataclass(eq=False)
class Batch:
    ref: str
    type: str
    params: tuple[str, ...]
    tags: dict[str, str]  # of the BATCH + line (a labeled response's label is there)
    items: list[Message | Batch] = field(default_factory=list)
    parent: Batch | None = None
    dropped: int = 0  # lines beyond MAX_ITEMS

    @property
    def label(self) -> str | None:
        return self.tags.get("label")

    def messages(self) -> list[Message]:
        """The plain lines of this batch (nested batches left out)."""
        return [item for item in self.items if isinstance(item, Message)]


class Batches:
    def __init__(self) -> None:
        self.open: dict[str, Batch] = {}

    def reset(self) -> None:
        """The connection ended: unfinished batches will never finish."""
        self.open.clear()

    def feed(self, msg: Message) -> tuple[bool, Batch | None]:
        """Offer one received message. Returns (consumed, finished): `consumed` is False when
        the message is not part of a batch and should be handled now; `finished` is a
        top-level batch that just ended (handle its items in order)."""
        outer = self.open.get(msg.tags.get("batch", "")) if "batch" in msg.tags else None
        if msg.command == "BATCH" and msg.params and msg.params[0][:1] in "+-":
            return True, self._batch_line(msg, outer)
        if outer is None:
            return False, None
        self._add(outer, msg)
        return True, None

    def _batch_line(self, msg: Message, outer: Batch | None) -> Batch | None:
        sign, ref = msg.params[0][0], msg.params[0][1:]
        if sign == "+":
            if not ref or ref in self.open or len(self.open) >= MAX_OPEN:
                if outer is not None:
                    outer.dropped += 1
                return None
            batch = Batch(ref, msg.param(1) or "", msg.params[2:], dict(msg.tags),
                          parent=outer)
            if outer is not None:
                self._add(outer, batch)
            self.open[ref] = batch
            return None
        batch = self.open.pop(ref, None)
        if batch is None or batch.parent is not None:
            return None  # unknown ref, or a nested batch (its parent hands it over)
        return batch

    @staticmethod
    def _add(batch: Batch, item: Message | Batch) -> None:
        if len(batch.items) >= MAX_ITEMS:
            batch.dropped += 1
        else:
            batch.items.append(item)
