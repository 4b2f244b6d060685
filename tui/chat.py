"""What people and the server say, as it arrives live: PRIVMSG and NOTICE into the right
buffer (a new private conversation opens one), our own echoes confirmed instead of shown
twice, CTCP requests answered (VERSION, PING), and the numerics and IRCv3 standard replies
that no other part handles shown as information or errors.

Pure. It reads the `ClientContext`, tells the `Outbox` which of our messages came back or
failed and the `History` which conversations need catching up; it returns lines to send. It
must not import the session, and it does nothing about registration or membership.
"""

from __future__ import annotations

from datetime import datetime

from ircproto import numerics as N
from ircproto.casemap import irc_equal
from ircproto.ctcp import DELIM, split_ctcp
from ircproto.message import Message
from tui.context import ClientContext
from tui import attention
from tui.effects import Alert, Effect, send
from tui.history import History
from tui.lines import error_text, message_line
from tui.outbox import Outbox
from tui.state import Buffer, BufferKind, Kind, Line

# Errors that mean a message to that target was not delivered (when no label tells which).
DELIVERY_ERRORS = (N.ERR_NOSUCHNICK, N.ERR_NOSUCHCHANNEL, N.ERR_CANNOTSENDTOCHAN)
VERSION_REPLY = "tui (chatd client)"


class Chat:
    def __init__(self, ctx: ClientContext, outbox: Outbox, history: History):
        self.ctx = ctx
        self.state = ctx.state
        self.outbox = outbox
        self.history = history

    def ignored(self, msg: Message) -> bool:
        """From someone the user /ignored (never ourselves: our echoes confirm delivery)."""
        return not self.ctx.is_me(msg.source_nick) and self.ctx.ignores.matches(msg.source)

    def info(self, buf: Buffer, text: str, when: datetime) -> None:
        self.state.add(buf, Line(when, Kind.INFO, text))

    # -- messages ------------------------------------------------------------------------------
    def target_buffer(self, msg: Message, target: str, create: bool) -> tuple[Buffer, bool]:
        """The buffer a message belongs in, and whether it was just created."""
        nick = msg.source_nick
        if self.ctx.is_channel(target):
            return self.state.open(target, BufferKind.CHANNEL), False
        if msg.source is None or (nick and "." in nick and "!" not in msg.source):
            return self.state.server, False  # from the server itself
        other = target if self.ctx.is_me(nick) else nick or target
        if irc_equal(other, self.ctx.nick) or other == "*":
            return self.state.server, False
        existing = self.state.get(other)
        if existing is not None:
            return existing, False
        if create:
            return self.state.open(other, BufferKind.QUERY), True
        return self.state.current, False

    def handle_privmsg(self, msg: Message, when: datetime, label: str | None) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if self.ignored(msg):
            return []
        ctcp = split_ctcp(text)
        if ctcp is not None and ctcp[0] != "ACTION":
            return self._ctcp_request(msg, nick, *ctcp, when)
        if self.ctx.is_me(nick) and self.outbox.confirm_echo(msg, when, label):
            return []
        buf, created = self.target_buffer(msg, target, create=True)
        out = self._show(buf, msg, when)
        if created and self.ctx.ready:
            out += self.history.sync(buf)  # a new conversation: show what came before
        return out

    def handle_notice(self, msg: Message, when: datetime, label: str | None) -> list[Effect]:
        target, text = msg.param(0) or "", msg.param(1) or ""
        nick = msg.source_nick or "server"
        if self.ignored(msg):
            return []
        if self.ctx.is_me(nick) and (text.startswith(DELIM)
                                     or self.outbox.confirm_echo(msg, when, label)):
            return []  # the echo of our CTCP reply, or of a NOTICE we sent
        if not self.ctx.registered and not self.ctx.is_channel(target):
            buf = self.state.server
        else:
            buf, _ = self.target_buffer(msg, target, create=False)
        return self._show(buf, msg, when)

    def _ctcp_request(self, msg: Message, nick: str, verb: str, args: str,
                      when: datetime) -> list[Effect]:
        """A CTCP request (modern.ircdocs.horse/ctcp): answered privately, and only the
        harmless ones."""
        if self.ctx.is_me(nick):
            return []  # the echo of a CTCP we sent
        self.info(self.state.server, f"CTCP {verb} from {nick}", when)
        if self.ctx.is_channel(msg.param(0) or ""):
            return []  # replying to a channel CTCP invites floods
        if verb == "VERSION":
            return [send("NOTICE", nick, f"{DELIM}VERSION {VERSION_REPLY}{DELIM}")]
        if verb == "PING":
            return [send("NOTICE", nick, f"{DELIM}PING {args}{DELIM}")]
        return []

    def _show(self, buf: Buffer, msg: Message, when: datetime) -> list[Effect]:
        """Add the message's line to `buf`; an Alert if it deserves the user's attention."""
        history = "time" in msg.tags and buf.join_time is not None and when < buf.join_time
        # The author's rank in the channel when they spoke (a replayed line's is not known).
        prefix = buf.users.highest(msg.source_nick or "server") \
            if buf.kind == BufferKind.CHANNEL and not history else ""
        line = message_line(msg, when, history, self.ctx.nick, self.ctx.highlights, prefix)
        if line is None:
            return []
        if history and line.own:
            # A server without CHATHISTORY replays on JOIN: a message of ours we could not
            # confirm may be in it (compared by text: there may be no tags).
            entry = self.outbox.find_text(msg.param(0) or "", msg.param(1) or "")
            if entry is not None:
                self.outbox.confirm(entry, line)
                return []
        if self.state.add(buf, line) and attention.alerts(buf, line):
            return [Alert(buf.name, line.nick, line.text, buf.kind == BufferKind.QUERY)]
        return []

    # -- replies nobody else handles ---------------------------------------------------------
    def handle_standard_reply(self, msg: Message, when: datetime,
                              label: str | None) -> list[Effect]:
        """IRCv3 standard replies: `FAIL|WARN|NOTE <command> <code> [context...] :text`."""
        if msg.command == "FAIL" and (msg.param(0) or "").upper() == "CHATHISTORY":
            handled = self.history.on_fail(msg, label)
            if handled is not None:
                return handled
        text = f"{msg.param(0)} {msg.param(1)}: {msg.params[-1]}" if len(msg.params) > 2 \
            else " ".join(msg.params)
        if msg.command == "FAIL":
            self.state.add(self.state.current, Line(when, Kind.ERROR, text))
        else:
            self.info(self.state.server, text, when)
        return []

    def handle_numeric(self, msg: Message, when: datetime, label: str | None) -> list[Effect]:
        params = list(msg.params[1:])  # params[0] is our nick
        if not params:
            return []
        if msg.command in DELIVERY_ERRORS and not label:
            self.outbox.delivery_failed(params[0])
        if msg.command[0] in "45":
            # A refused command (482 not an operator, 441, 401 ...): where the user is, in
            # the server's words.
            self.state.add(self.state.current, Line(when, Kind.ERROR, error_text(params)))
        else:
            self.info(self.state.server, " ".join(params), when)
        return []
