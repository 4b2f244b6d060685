"""The channel operator's commands, from what the user typed to IRC lines: /op, /deop, /voice,
/devoice and /ban, /unban (MODE, RFC 2812 3.2.3), /kick (KICK, 3.2.8), /invite (INVITE,
3.2.7) and /mode. Each acts on the current channel unless the user names one first
(`/op #dev bob`; /invite names it last, as INVITE does).

Pure: the typed arguments and where the user is (`Where`) in, `Send`s out, or a `UsageError`
for the caller to show as the command's one-line usage. No buffers, no session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ircproto.validate import is_valid_nick
from tui.effects import Send, send

ANY_NICK_LEN = 1000  # a bare nick is recognised by its characters; the server checks its length


class UsageError(Exception):
    """The arguments do not fit the command; the text (maybe empty) says what is missing."""


@dataclass(frozen=True, slots=True)
class Where:
    """What the commands need to know about the user's situation."""

    channel: str | None  # the channel of the current buffer, None elsewhere
    nick: str  # ours: what /mode changes outside a channel
    chantypes: str  # ISUPPORT CHANTYPES
    modes_per_line: int  # ISUPPORT MODES: modes with an argument one MODE line may carry

    def is_channel(self, word: str) -> bool:
        return bool(word) and word[0] in self.chantypes


Builder = Callable[[str, Where], list[Send]]


def _words(text: str) -> list[str]:
    """The words of `text`; none may start with ':' (it would end the line's parameters)."""
    words = text.split()
    if any(word.startswith(":") for word in words):
        raise UsageError("a word cannot start with ':'")
    return words


def _leading_channel(args: str, where: Where) -> tuple[str, str]:
    """(the channel named first, or the current one; the rest of the arguments)."""
    first, _, rest = args.strip().partition(" ")
    if where.is_channel(first):
        return first, rest.strip()
    if where.channel is None:
        raise UsageError("name the channel, or type it in the channel's buffer")
    return where.channel, args.strip()


def mode_lines(channel: str, adding: bool, letter: str, args: list[str],
               per_line: int) -> list[Send]:
    """`MODE #c +ooo a b c`, as many lines as the server's MODES limit needs."""
    per_line = max(per_line, 1)
    sign = "+" if adding else "-"
    return [send("MODE", channel, sign + letter * len(chunk), *chunk)
            for chunk in (args[i:i + per_line] for i in range(0, len(args), per_line))]


def member_mode(adding: bool, letter: str) -> Builder:
    """/op, /deop, /voice, /devoice: `[#channel] nick...`."""
    def build(args: str, where: Where) -> list[Send]:
        channel, rest = _leading_channel(args, where)
        nicks = _words(rest)
        if not nicks:
            raise UsageError()
        return mode_lines(channel, adding, letter, nicks, where.modes_per_line)
    return build


def ban_mask(word: str) -> str:
    """What a ban names: a bare nick becomes `nick!*@*`; a mask (`*!*@host`, `bob!*@*`) or
    an extended ban (`$a:account`) goes as typed."""
    return f"{word}!*@*" if is_valid_nick(word, ANY_NICK_LEN) else word


def ban(adding: bool) -> Builder:
    """/ban and /unban: `[#channel] nick|mask...`; /ban alone lists the channel's bans."""
    def build(args: str, where: Where) -> list[Send]:
        channel, rest = _leading_channel(args, where)
        masks = [ban_mask(word) for word in _words(rest)]
        if not masks:
            if adding:
                return [send("MODE", channel, "+b")]  # the ban list (367 ... 368)
            raise UsageError()
        return mode_lines(channel, adding, "b", masks, where.modes_per_line)
    return build


def kick(args: str, where: Where) -> list[Send]:
    """/kick `[#channel] nick [reason]`: the reason may have spaces."""
    channel, rest = _leading_channel(args, where)
    nick, _, reason = rest.partition(" ")
    _words(nick)
    if not nick:
        raise UsageError()
    reason = reason.strip()
    return [send("KICK", channel, nick, reason) if reason else send("KICK", channel, nick)]


def invite(args: str, where: Where) -> list[Send]:
    """/invite `nick [#channel]`."""
    words = _words(args)
    if not 1 <= len(words) <= 2 or where.is_channel(words[0]):
        raise UsageError()
    if len(words) == 2 and not where.is_channel(words[1]):
        raise UsageError(f"{words[1]} is not a channel")
    channel = words[1] if len(words) == 2 else where.channel
    if channel is None:
        raise UsageError("name the channel, or type it in the channel's buffer")
    return [send("INVITE", words[0], channel)]


def mode(args: str, where: Where) -> list[Send]:
    """/mode `[target] [modes [args]]`: the target is the current channel (elsewhere: our own
    nick) unless named; without modes the server says which are set."""
    words = _words(args)
    if words and words[0][0] not in "+-":
        target = words.pop(0)
    else:
        target = where.channel or where.nick
    return [send("MODE", target, *words)]


# name -> (builder, usage, description), in the order /help lists them.
OPERATOR_COMMANDS: dict[str, tuple[Builder, str, str]] = {
    "op": (member_mode(True, "o"), "[#chan] nick...", "make channel operator (@)"),
    "deop": (member_mode(False, "o"), "[#chan] nick...", "take channel operator away"),
    "voice": (member_mode(True, "v"), "[#chan] nick...", "let speak when moderated (+)"),
    "devoice": (member_mode(False, "v"), "[#chan] nick...", "take the voice away"),
    "kick": (kick, "[#chan] nick [reason]", "put someone out of the channel"),
    "ban": (ban(True), "[#chan] [nick|mask...]", "ban (nick: nick!*@*); alone: list bans"),
    "unban": (ban(False), "[#chan] nick|mask...", "lift a ban"),
    "invite": (invite, "nick [#chan]", "invite someone (also past +i)"),
    "mode": (mode, "[target] [modes [args]]", "show or change modes: +m, +k key, +l 20 ..."),
}
