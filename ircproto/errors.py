"""Typed errors for IRC handlers, on both sides of a connection. A handler raises one instead
of sending an error reply itself; one boundary per process turns it into the line the client
gets (and applies rules such as "NOTICE never gets an error reply", RFC 2812 3.3.2). Pure."""

from __future__ import annotations


class IrcError(Exception):
    """An error numeric: `code` (a name from ircproto.numerics) and its parameters after the
    client's nick, the last one being the human-readable text."""

    def __init__(self, code: str, *params: str):
        super().__init__(f"{code} {' '.join(params)}")
        self.code = code
        self.params = params


class StandardReplyError(Exception):
    """An IRCv3 standard reply (ircv3.net/specs/extensions/standard-replies):
    FAIL <command> <code> [<context>...] :<description>."""

    def __init__(self, command: str, code: str, *context: str, description: str):
        super().__init__(description)
        self.command, self.code = command, code
        self.context, self.description = context, description
