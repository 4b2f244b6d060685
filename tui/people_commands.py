"""The commands about people: /whois, /away, /back, /ignore and /unignore. Gathered into the
`commands` table (`PEOPLE_COMMANDS`), with the same `Context` and usage rules. No I/O: a
changed ignore list goes to the event loop as `SaveIgnores`."""

from __future__ import annotations

from collections.abc import Callable

from tui.command_context import Action, Context
from tui.ignores import MAX_IGNORES, SaveIgnores
from tui.people import DEFAULT_AWAY
from tui.state import BufferKind

IGNORE_USAGE = "nick|mask"


def _one_word(args: str) -> str | None:
    words = args.split()
    return words[0] if len(words) == 1 and not words[0].startswith(":") else None


def cmd_whois(ctx: Context, args: str) -> list[Action]:
    """/whois nick (in a private conversation, /whois alone: the partner)."""
    nick = ctx.buffer.name if not args and ctx.buffer.kind == BufferKind.QUERY \
        else _one_word(args)
    if not nick or ctx.session.is_channel(nick):
        return ctx.error("Usage: /whois nick")
    if not ctx.session.registered:
        return ctx.error("Not connected: /whois needs the server.")
    return list(ctx.session.people.request_whois(nick, ctx.buffer))


def cmd_away(ctx: Context, args: str) -> list[Action]:
    """/away [text]: marked away (kept across reconnects) until /back."""
    out = list(ctx.session.people.set_away(args or DEFAULT_AWAY))
    if not ctx.session.registered:
        ctx.say("You will be marked away once connected.")
    return out


def cmd_back(ctx: Context, args: str) -> list[Action]:
    if ctx.session.people.away_text is None and not ctx.session.people.me_away:
        return ctx.say("You are not marked away.")
    return list(ctx.session.people.set_away(None))


def _save(ctx: Context) -> SaveIgnores:
    return SaveIgnores(tuple(ctx.session.ctx.ignores.masks))


def cmd_ignore(ctx: Context, args: str) -> list[Action]:
    """/ignore lists; /ignore nick|mask adds."""
    ignores = ctx.session.ctx.ignores
    if not args:
        if not ignores.masks:
            return ctx.say("Nobody is ignored.")
        return ctx.say("Ignored: " + " ".join(ignores.masks))
    word = _one_word(args)
    if word is None:
        return ctx.error(f"Usage: /ignore {IGNORE_USAGE}")
    mask = ignores.add(word)
    if mask is None:
        full = len(ignores.masks) >= MAX_IGNORES
        return ctx.error(f"The ignore list is full ({MAX_IGNORES})." if full
                         else f"{word} is ignored already.")
    ctx.say(f"Ignoring {mask}: nothing from them is shown (/unignore {word} to undo).")
    return [_save(ctx)]


def cmd_unignore(ctx: Context, args: str) -> list[Action]:
    word = _one_word(args)
    if word is None:
        return ctx.error(f"Usage: /unignore {IGNORE_USAGE}")
    mask = ctx.session.ctx.ignores.remove(word)
    if mask is None:
        return ctx.error(f"{word} is not ignored.")
    ctx.say(f"No longer ignoring {mask}.")
    return [_save(ctx)]


Handler = Callable[[Context, str], list[Action]]
PEOPLE_COMMANDS: dict[str, tuple[Handler, str, str]] = {
    "whois": (cmd_whois, "nick", "who someone is: name, channels, account, away, idle"),
    "away": (cmd_away, "[text]", "mark yourself away (with a reason) until /back"),
    "back": (cmd_back, "", "you are no longer away"),
    "ignore": (cmd_ignore, f"[{IGNORE_USAGE}]", "hide everything from someone (or list)"),
    "unignore": (cmd_unignore, IGNORE_USAGE, "stop ignoring someone"),
}
