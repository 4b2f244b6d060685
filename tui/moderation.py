"""The channel operators' side of what the server says: MODE changes (members' prefixes kept
up to date, the change shown readably), the channel's modes and its ban / exception / invite
lists when asked for, INVITEs (ours answered by 341, one for us, and others' with IRCv3
invite-notify), and a JOIN refused by a channel's modes (full, invite-only, banned, wrong key).

Pure. It reads the `ClientContext` (our nick, the server's CHANMODES and PREFIX, the time) and
changes only `State`; it sends nothing and returns no changes for the session. It must not
import the session or its other parts. Other refused commands (482 not an operator, 441, 443,
401 ...) are shown by `chat` like every error reply: in the current buffer, in the server's
words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.message import Message
from tui.context import ClientContext
from tui.effects import Effect
from tui.lines import event_text
from tui.modes import LIST_NAMES, parse_changes
from tui.state import Buffer, Kind, Line

# Numerics of RFC 2812 5.1/5.2 (and modern.ircdocs.horse) that ircproto does not name yet.
RPL_INVITELIST = "346"
RPL_ENDOFINVITELIST = "347"
RPL_EXCEPTLIST = "348"
RPL_ENDOFEXCEPTLIST = "349"
RPL_INVITING = "341"
ERR_CHANNELISFULL = "471"
ERR_INVITEONLYCHAN = "473"
ERR_BANNEDFROMCHAN = "474"
ERR_BADCHANNELKEY = "475"
ERR_NEEDREGGEDNICK = "477"

# A list reply's entry and end numerics -> the mode letter of the list.
LIST_ENTRIES = {N.RPL_BANLIST: "b", RPL_EXCEPTLIST: "e", RPL_INVITELIST: "I"}
LIST_ENDS = {N.RPL_ENDOFBANLIST: "b", RPL_ENDOFEXCEPTLIST: "e", RPL_ENDOFINVITELIST: "I"}
JOIN_REFUSALS = (ERR_CHANNELISFULL, ERR_INVITEONLYCHAN, ERR_BANNEDFROMCHAN, ERR_BADCHANNELKEY,
                 ERR_NEEDREGGEDNICK)
MAX_LISTS_PENDING = 64  # lists being counted; replies without an end are not kept for ever

Handler = Callable[[Message, datetime], list[Effect]]


class Moderation:
    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.listed: dict[tuple[str, str], int] = {}  # (letter, channel key) -> entries shown

    def handlers(self) -> dict[str, Handler]:
        return {
            "MODE": self.handle_mode, "INVITE": self.handle_invite,
            N.RPL_CHANNELMODEIS: self.handle_channelmodeis,
            N.RPL_CREATIONTIME: lambda m, w: [],  # the channel's birth date: not worth a line
            RPL_INVITING: self.handle_inviting,
            **{code: self.handle_list_entry for code in LIST_ENTRIES},
            **{code: self.handle_list_end for code in LIST_ENDS},
            **{code: self.handle_join_refused for code in JOIN_REFUSALS},
        }

    def reset(self) -> None:
        self.listed.clear()

    def _buffer_for(self, channel: str) -> Buffer:
        """The channel's buffer when we have one, else the one the user is looking at."""
        return self.state.get(channel) or self.state.current

    def _event(self, buf: Buffer, when: datetime, text: str, msgid: str = "") -> None:
        history = buf.join_time is not None and when < buf.join_time
        self.state.add(buf, Line(when, Kind.EVENT, text, history=history, msgid=msgid))

    def _info(self, buf: Buffer, text: str) -> None:
        self.state.add(buf, Line(self.ctx.now, Kind.INFO, text))

    # -- changes -------------------------------------------------------------------------------
    def handle_mode(self, msg: Message, when: datetime) -> list[Effect]:
        """A mode change: a channel's (members' prefixes follow it) or our user modes."""
        target = msg.param(0) or ""
        rules = self.ctx.mode_rules
        text = event_text(msg, rules) or ""
        if not self.ctx.is_channel(target):
            self._event(self.state.server, when, text)
            return []
        buf = self.state.get(target)
        if buf is None:
            return []
        for change in parse_changes(msg.params[1:], rules) or []:
            symbol = rules.prefixes.symbol_of(change.letter)
            if symbol is not None and change.arg:
                buf.users.set_prefix(change.arg, symbol, change.adding, rules.prefixes)
        self._event(buf, when, text, msg.tags.get("msgid", ""))
        return []

    def handle_invite(self, msg: Message, when: datetime) -> list[Effect]:
        """`:alice INVITE bob #c`: for us, shown where we are with how to accept; for someone
        else (invite-notify), in the channel."""
        by, invited, channel = msg.source_nick or "server", msg.param(0) or "", msg.param(1) or ""
        if self.ctx.ignores.matches(msg.source):
            return []
        if self.ctx.is_me(invited):
            self.state.add(self.state.current, Line(
                when, Kind.INFO, f"{by} invites you to {channel} (/join {channel})"))
        else:
            buf = self.state.get(channel)
            if buf is not None:
                self._event(buf, when, f"-- {by} invited {invited} to {channel}",
                            msg.tags.get("msgid", ""))
        return []

    # -- replies to our commands -------------------------------------------------------------
    def handle_inviting(self, msg: Message, when: datetime) -> list[Effect]:
        """341 `<client> <nick> <channel>`: our INVITE went out."""
        invited, channel = msg.param(1) or "", msg.param(2) or ""
        self._info(self._buffer_for(channel), f"You invited {invited} to {channel}")
        return []

    def handle_channelmodeis(self, msg: Message, when: datetime) -> list[Effect]:
        """324 `<client> <channel> <modestring> [args...]`: the answer to `MODE #c`."""
        channel = msg.param(1) or ""
        modes = " ".join(msg.params[2:])
        text = f"Modes of {channel}: {modes}" if modes.strip("+") else \
            f"No modes are set on {channel}"
        self._info(self._buffer_for(channel), text)
        return []

    def handle_list_entry(self, msg: Message, when: datetime) -> list[Effect]:
        """367/348/346 `<client> <channel> <mask> [<who> <set-ts>]`: one entry of a list."""
        letter = LIST_ENTRIES[msg.command]
        channel, mask, setter = msg.param(1) or "", msg.param(2) or "", msg.param(3) or ""
        key = (letter, casefold(channel))
        if key in self.listed or len(self.listed) < MAX_LISTS_PENDING:
            self.listed[key] = self.listed.get(key, 0) + 1
        by = f" (set by {setter.split('!', 1)[0]})" if setter else ""
        self._info(self._buffer_for(channel),
                   f"{LIST_NAMES[letter].capitalize()} on {channel}: {mask}{by}")
        return []

    def handle_list_end(self, msg: Message, when: datetime) -> list[Effect]:
        letter = LIST_ENDS[msg.command]
        channel = msg.param(1) or ""
        count = self.listed.pop((letter, casefold(channel)), 0)
        name = LIST_NAMES[letter]
        text = f"{count} {name}{'s' if count != 1 else ''} on {channel}" if count else \
            f"No {name}s on {channel}"
        self._info(self._buffer_for(channel), text)
        return []

    def handle_join_refused(self, msg: Message, when: datetime) -> list[Effect]:
        """471/473/474/475/477 `<client> <channel> :<why>`: a JOIN the channel's modes
        refused, said where the user is."""
        channel = msg.param(1) or ""
        why = msg.params[-1] if len(msg.params) > 2 else "refused"
        self.state.add(self.state.current,
                       Line(when, Kind.ERROR, f"Cannot join {channel}: {why}"))
        return []
