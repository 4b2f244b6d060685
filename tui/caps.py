"""IRCv3 capability negotiation from the client's side (ircv3.net/specs/extensions/
capability-negotiation): read `CAP LS 302` (multi-line), request the capabilities we use and
the server offers (only those), end negotiation once every request was answered, and follow
`cap-notify` NEW/DEL afterwards.

Pure: CAP messages in, lines to send and the set of enabled capabilities out. It does not know
what the capabilities are for; the session reacts to `enabled` changing. When a capability in
`hold_end_for` is acknowledged (SASL: login happens before CAP END), CAP END waits until its
owner calls `release_end()`.
"""

from __future__ import annotations

from ircproto.message import Message, format_message
from tui.sasl import usable_mechanisms

# What tui can use, in the order requested. batch: framing of history pages; cap-notify:
# capabilities that come and go; draft/chathistory: pages of history on demand;
# draft/event-playback: joins/parts/... in those pages; echo-message: our own messages come
# back once stored; labeled-response: which reply belongs to which of our commands;
# message-tags: msgids and our idempotency nonce; server-time: original times.
# draft/account-registration: /register; sasl: logging in (asked for only when the server offers
# a mechanism tui speaks; harmless without credentials and lets a login happen later on the
# same connection). multi-prefix: every prefix of a member in NAMES (`@+bob`), so a -o leaves
# the + shown; invite-notify: who invites whom to our channels. away-notify: who goes away
# (dimmed in the nick list); draft/multiline: a paste of several lines as one message;
# draft/search (soju.im/search, its earlier name): /search on the server. draft/read-marker:
# read positions shared with the user's other clients (MARKREAD).
WANTED = ("away-notify", "batch", "cap-notify", "draft/account-registration",
          "draft/chathistory", "draft/event-playback", "draft/multiline", "draft/read-marker",
          "draft/search", "echo-message", "invite-notify", "labeled-response", "message-tags",
          "multi-prefix", "sasl", "server-time", "soju.im/search")
MAX_OFFERED = 200  # a server listing more capabilities than this is not taken at its word


def cap_line(*params: str) -> str:
    return format_message(Message("CAP", params))


class CapNegotiation:
    """State of one connection's CAP exchange."""

    def __init__(self, wanted: tuple[str, ...] = WANTED):
        self.wanted = wanted
        self.offered: dict[str, str] = {}  # name -> value ("" when none)
        self.enabled: set[str] = set()
        self.ended = True  # CAP END sent (or never needed)
        self._ls_done = False
        self._requests: list[tuple[str, ...]] = []  # REQs awaiting ACK/NAK, oldest first
        self._retried: set[str] = set()
        self.hold_end_for: frozenset[str] = frozenset()  # set by the owner before start()
        self.holding = False  # CAP END waits for release_end()

    def start(self) -> list[str]:
        """A new connection: forget the old one's capabilities and ask what the server
        offers (302: with values, and cap-notify implied)."""
        self.offered.clear()
        self.enabled.clear()
        self._requests.clear()
        self._retried.clear()
        self._ls_done = False
        self.ended = False
        self.holding = False
        return [cap_line("LS", "302")]

    def give_up(self) -> list[str]:
        """No (complete) answer in time, or the server does not know CAP: let registration
        go on without capabilities."""
        self.holding = False
        return self._end()

    def release_end(self) -> list[str]:
        """The owner of a held capability is done (SASL finished): CAP END may go."""
        if not self.holding:
            return []
        self.holding = False
        return self._end_if_answered()

    def on_cap(self, msg: Message) -> tuple[list[str], bool]:
        """Handle one CAP message; return (lines to send, whether `enabled` changed)."""
        sub = (msg.param(1) or "").upper()
        words = msg.params[-1].split() if len(msg.params) > 2 else []
        if sub == "LS":
            return self._on_ls(msg, words), False
        if sub == "ACK":
            return self._on_ack(words)
        if sub == "NAK":
            return self._on_nak(words), False
        if sub == "NEW":
            self._offer(words)
            return self._request([w.split("=", 1)[0] for w in words]), False
        if sub == "DEL":
            gone = {w.split("=", 1)[0] for w in words}
            for name in gone:
                self.offered.pop(name, None)
            changed = bool(self.enabled & gone)
            self.enabled -= gone
            return [], changed
        return [], False

    # -- internals ---------------------------------------------------------------------------
    def _offer(self, words: list[str]) -> None:
        for word in words:
            if len(self.offered) >= MAX_OFFERED:
                break
            name, _, value = word.partition("=")
            self.offered[name] = value

    def _on_ls(self, msg: Message, words: list[str]) -> list[str]:
        self._offer(words)
        if msg.param(2) == "*" and len(msg.params) > 3:
            return []  # 302 multi-line LS: more lines follow
        if self._ls_done:
            return []  # a late or repeated LS (e.g. after our own CAP LS later): nothing new
        self._ls_done = True
        return self._request(list(self.offered)) or self._end()

    def _request(self, names: list[str]) -> list[str]:
        want = tuple(c for c in self.wanted
                     if c in names and c in self.offered and c not in self.enabled
                     and (c != "sasl" or usable_mechanisms(self.offered[c])))
        if not want:
            return []
        self._requests.append(want)
        return [cap_line("REQ", " ".join(want))]

    def _answered(self, words: list[str]) -> tuple[str, ...]:
        """The request an ACK/NAK answers: the one with these names, else the oldest."""
        names = tuple(w.lstrip("-~=") for w in words)
        for i, request in enumerate(self._requests):
            if set(request) == set(names):
                return self._requests.pop(i)
        return self._requests.pop(0) if self._requests else names

    def _on_ack(self, words: list[str]) -> tuple[list[str], bool]:
        self._answered(words)
        before = set(self.enabled)
        for word in words:
            if word.startswith("-"):
                self.enabled.discard(word[1:])
            else:
                self.enabled.add(word.lstrip("~="))
        if not self.ended and (self.enabled - before) & self.hold_end_for:
            self.holding = True
        return self._end_if_answered(), self.enabled != before

    def _on_nak(self, words: list[str]) -> list[str]:
        request = self._answered(words)
        out: list[str] = []
        if len(request) > 1:
            # A REQ is all or nothing: one capability the server will not give must not cost
            # us the others. Ask for each alone (once).
            for name in request:
                if name not in self._retried:
                    self._retried.add(name)
                    self._requests.append((name,))
                    out.append(cap_line("REQ", name))
        return out or self._end_if_answered()

    def _end_if_answered(self) -> list[str]:
        return [] if self._requests or self.holding else self._end()

    def _end(self) -> list[str]:
        if self.ended:
            return []
        self.ended = True
        self._requests.clear()
        return [cap_line("END")]
