"""MONITOR lists (ircv3.net/specs/extensions/monitor): the nicks each client watches and, for
each nick, the clients watching it, kept consistent with each other. A list is the client's:
it is charged to it (at most `[limits] monitor` nicks, which the MONITOR handler checks before
adding) and dropped when it leaves. Pure data: MONITOR is answered in chatd/hub/presence.py;
the 730/731 sent when a watched nick arrives, leaves or is taken are the Hub's."""

from __future__ import annotations

from chatd.hub.registry import ClientRecord
from ircproto.casemap import casefold


class MonitorBook:
    """Every client's MONITOR list and its reverse index (nick -> watchers)."""

    def __init__(self) -> None:
        # conn_id -> folded nick -> the nick as the client gave it (MONITOR L shows that)
        self._lists: dict[int, dict[str, str]] = {}
        # folded nick -> conn_id -> the client watching it
        self._watchers: dict[str, dict[int, ClientRecord]] = {}

    def count(self, watcher: ClientRecord) -> int:
        return len(self._lists.get(watcher.conn_id, ()))

    def watches(self, watcher: ClientRecord, nick: str) -> bool:
        return casefold(nick) in self._lists.get(watcher.conn_id, {})

    def targets(self, watcher: ClientRecord) -> list[str]:
        """The nicks `watcher` watches, as it gave them, in the order it added them."""
        return list(self._lists.get(watcher.conn_id, {}).values())

    def add(self, watcher: ClientRecord, nick: str) -> None:
        folded = casefold(nick)
        self._lists.setdefault(watcher.conn_id, {}).setdefault(folded, nick)
        self._watchers.setdefault(folded, {})[watcher.conn_id] = watcher

    def remove(self, watcher: ClientRecord, nick: str) -> None:
        folded = casefold(nick)
        mine = self._lists.get(watcher.conn_id)
        if mine is None or mine.pop(folded, None) is None:
            return
        if not mine:
            del self._lists[watcher.conn_id]
        self._drop_watcher(folded, watcher.conn_id)

    def clear(self, watcher: ClientRecord) -> None:
        """Empty `watcher`'s list (MONITOR C, or it left)."""
        for folded in self._lists.pop(watcher.conn_id, {}):
            self._drop_watcher(folded, watcher.conn_id)

    def watchers(self, nick: str) -> list[ClientRecord]:
        """The clients watching `nick`, in the order they began to."""
        return list(self._watchers.get(casefold(nick), {}).values())

    def _drop_watcher(self, folded: str, conn_id: int) -> None:
        watching = self._watchers.get(folded)
        if watching is not None:
            watching.pop(conn_id, None)
            if not watching:
                del self._watchers[folded]
