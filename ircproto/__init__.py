"""Pure IRC protocol layer shared by the chatd server and the tui client.

Nothing in this package does I/O: it turns bytes into messages and messages into bytes,
folds case, validates names and names the numerics. Importing socket, selectors, sqlite3 or
curses here is a bug (a unit test enforces it).
"""

from ircproto.message import Message, ProtocolError, parse, format_message
from ircproto.casemap import casefold, irc_equal

__all__ = ["Message", "ProtocolError", "parse", "format_message", "casefold", "irc_equal"]
