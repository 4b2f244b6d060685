"""Which server `ERROR` ends the reconnect loop instead of being retried forever.

The rule (README, "When tui stops reconnecting"):
- an ERROR after 465 N.ERR_YOUREBANNEDCREEP on the same connection is fatal; after 464
  ERR_PASSWDMISMATCH it is not (tui asks for the server password and reconnects once it is
  typed), nor does it count toward "twice in a row";
- an ERROR whose text says we are banned (banned, K-/G-/Z-lined) is fatal, registered or not;
- an ERROR before registration completes is fatal when the previous connection also ended with
  one before registration (twice in a row: the server refuses us, whatever the reason);
- except when its text says the condition passes (throttled, too many connections, try again,
  restarting, shutting down, timeout): those are retried with backoff, like a lost connection.
An ERROR after registration (ping timeout, killed, server shutdown) is never fatal.

Pure: texts and numerics in, a reason (or None) out. It owns no connection.
"""

from __future__ import annotations

import re

from ircproto import numerics as N

BANNED = re.compile(r"\bbanned\b|\b[kgzd]-?lined\b", re.IGNORECASE)
TRANSIENT = re.compile(r"throttl|too many|try again|restart|shutting down|time ?out|timed out",
                       re.IGNORECASE)


class FatalErrors:
    def __init__(self) -> None:
        self._refused: str | None = None  # 465 on this connection: why
        self._password_asked = False  # 464 on this connection: the user is asked instead
        self._errored_unregistered = False  # the previous connection did (non-transient)

    def connection_started(self) -> None:
        self._refused = None
        self._password_asked = False

    def registered(self) -> None:
        self._errored_unregistered = False

    def numeric(self, command: str) -> None:
        if command == N.ERR_PASSWDMISMATCH:
            self._password_asked = True
        elif command == N.ERR_YOUREBANNEDCREEP:
            self._refused = "you are banned from this server"

    def error(self, text: str, registered: bool) -> str | None:
        """The reason to stop reconnecting after this ERROR, or None to retry."""
        if self._refused is not None:
            return self._refused
        if self._password_asked:
            return None
        if BANNED.search(text):
            return f"banned ({text})"
        if registered or TRANSIENT.search(text):
            return None
        if self._errored_unregistered:
            return f"the server refused the connection twice ({text})"
        self._errored_unregistered = True
        return None
