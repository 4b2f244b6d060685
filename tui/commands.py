"""What the user types: `/commands` and plain messages, turned into session calls.

Parsing is explicit (`parse_input`) and dispatch goes through the `COMMANDS` table, whose
entries also feed `/help` (the channel operator's commands are built in `operator_commands`).
Handlers return effects for the event loop (`Send`, or `Quit` to end the program) and report
mistakes as lines in the current buffer: a line that cannot be sent as typed is a usage
message, never a crash. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ircproto.message import ProtocolError, parse
from tui import multiline
from tui.command_context import Action, ConfirmLines, Context, Quit
from tui.effects import AskPassword, Send, send
from tui.operator_commands import OPERATOR_COMMANDS, Builder, UsageError, Where
from tui.people_commands import PEOPLE_COMMANDS
from tui.view_commands import VIEW_COMMANDS
from tui.session import Session
from tui.state import BufferKind, Kind, State

DEFAULT_QUIT_REASON = "Leaving"


def parse_input(text: str) -> tuple[str | None, str]:
    """Split an input line into (command, arguments); command is None for a plain message.
    `//text` and `/ text` send text that starts with a slash."""
    if text.startswith("//"):
        return None, text[1:]
    if not text.startswith("/") or text.startswith("/ "):
        return None, text.removeprefix("/ ")
    name, _, args = text[1:].partition(" ")
    return name.lower(), args.strip()


def send_message(ctx: Context, text: str, action: bool = False) -> list[Action]:
    """A plain line typed in a buffer (or /me). Offline, or before the channel is re-joined,
    it is queued and sent once the connection is back."""
    target = ctx.conversation_target()
    if ctx.buffer.kind == BufferKind.RESULTS:
        return ctx.error("These are results: Up/Down and Enter, or a number and Enter, take one.")
    if target is None:
        return ctx.error("This is the server buffer: /join #channel or /query nick first.")
    buf = ctx.buffer
    if buf.kind == BufferKind.CHANNEL and not (buf.joined or buf.rejoin) \
            and ctx.session.registered:
        return ctx.error(f"You are not in {target}; /join {target} first.")
    if "\n" in text:
        if not text.strip():
            return []  # blank lines only: no message
        if action:
            return ctx.error("A /me is one line.")
        session = ctx.session
        if not multiline.can_send(session.caps, session.registration.cap.offered.get(
                multiline.CAP), text, session.text_budget("PRIVMSG", target)):
            return [ConfirmLines(target, text, buf)]
    if buf.kind == BufferKind.QUERY:
        ctx.session.typing.opened_by_user(target)  # answering: they may see us type now
    return list(ctx.session.say(target, text, ctx.now, action=action, show_in=buf))


def _channel_arg(name: str) -> str:
    return name if name[:1] in "#&" else "#" + name


def cmd_join(ctx: Context, args: str) -> list[Action]:
    if not args:
        return ctx.error("Usage: /join #channel")
    out: list[Action] = []
    for name in args.split()[0].split(","):
        if name:
            out += ctx.session.request_join(_channel_arg(name))
    return out


def cmd_part(ctx: Context, args: str) -> list[Action]:
    words = args.split(" ", 1)
    if words[0] and ctx.session.is_channel(words[0]):
        name, reason = words[0], words[1] if len(words) > 1 else ""
    else:
        name, reason = ctx.conversation_target() or "", args
    if not name:
        return ctx.error("Usage: /part [#channel] [reason]")
    buf = ctx.state.get(name)
    if buf is not None and (buf.kind == BufferKind.QUERY or not buf.joined):
        ctx.session.close(buf)  # nothing to tell the server
        return []
    return [send("PART", name, reason) if reason else send("PART", name)]


def cmd_msg(ctx: Context, args: str) -> list[Action]:
    target, _, text = args.partition(" ")
    if not target or not text or target.startswith(":"):  # ':' would end the parameters
        return ctx.error("Usage: /msg nick|#channel text")
    out: list[Action] = []
    if not ctx.session.is_channel(target):
        out += ctx.session.open_query(target)[1]
        ctx.session.typing.opened_by_user(target)
    out += ctx.session.say(target, text, ctx.now)
    if ctx.state.get(target) is not ctx.buffer:
        ctx.say(f"-> {target}: {text}")  # it went to the target's buffer: say so here
    return out


def cmd_query(ctx: Context, args: str) -> list[Action]:
    nick, _, text = args.partition(" ")
    if not nick or ctx.session.is_channel(nick) or nick.startswith(":"):
        return ctx.error("Usage: /query nick [text]")
    buf, out = ctx.session.open_query(nick)
    ctx.session.typing.opened_by_user(nick)
    ctx.state.focus(buf)
    return list(out) + (send_message(ctx, text) if text else [])


def cmd_me(ctx: Context, args: str) -> list[Action]:
    if not args:
        return ctx.error("Usage: /me does something")
    return send_message(ctx, args, action=True)


def cmd_nick(ctx: Context, args: str) -> list[Action]:
    nick = args.split(" ")[0]
    if not nick:
        return ctx.error("Usage: /nick newnick")
    return list(ctx.session.choose_nick(nick))


def cmd_topic(ctx: Context, args: str) -> list[Action]:
    buf = ctx.buffer
    if buf.kind != BufferKind.CHANNEL:
        return ctx.error("/topic works in a channel buffer.")
    if not args:
        if buf.topic:
            return ctx.say(f"-- Topic of {buf.name}: {buf.topic}", Kind.EVENT)
        return [send("TOPIC", buf.name)]
    return [send("TOPIC", buf.name, args)]


def cmd_names(ctx: Context, args: str) -> list[Action]:
    name = args.split(" ")[0] or (ctx.buffer.name if ctx.buffer.kind == BufferKind.CHANNEL
                                  else "")
    if not name:
        return ctx.error("Usage: /names #channel")
    return list(ctx.session.request_names(name))


def cmd_quit(ctx: Context, args: str) -> list[Action]:
    return [Quit(args or DEFAULT_QUIT_REASON)]


def cmd_win(ctx: Context, args: str) -> list[Action]:
    if not args.isdigit() or not ctx.state.switch(int(args) - 1):
        return ctx.error(f"Usage: /win N, with N from 1 to {len(ctx.state.buffers)}")
    return []


def cmd_say(ctx: Context, args: str) -> list[Action]:
    return send_message(ctx, args) if args else []


def cmd_resend(ctx: Context, args: str) -> list[Action]:
    out = list(ctx.session.resend(ctx.buffer))
    if not any(e.buffer is ctx.buffer for e in ctx.session.outbox.entries) and not out:
        return ctx.say("Nothing here waits to be sent again.")
    return out


def cmd_quote(ctx: Context, args: str) -> list[Action]:
    try:
        parse(args)
    except ProtocolError:
        return ctx.error("Usage: /quote RAW IRC LINE")
    return [Send(args)]


def cmd_register(ctx: Context, args: str) -> list[Action]:
    """Claim the current nick as an account; without a password, it is asked hidden."""
    if args:
        return list(ctx.session.login.register(args))
    problem = ctx.session.login.cannot_register()
    if problem:
        return ctx.error(problem)
    nick = ctx.session.nick
    return [AskPassword(nick, f"Choose a password for the name {nick} (empty: cancel):",
                        "register")]


def operator_command(name: str, build: Builder, usage: str) -> Handler:
    """A channel operator's command (/op, /kick, /ban ...) acting where the user is."""
    def run(ctx: Context, args: str) -> list[Action]:
        session, buf = ctx.session, ctx.buffer
        if not session.registered:
            return ctx.error(f"Not connected: /{name} needs the server.")
        where = Where(buf.name if buf.kind == BufferKind.CHANNEL else None, session.nick,
                      session.ctx.chantypes, session.ctx.modes_per_line)
        try:
            return list(build(args, where))
        except UsageError as exc:
            return ctx.error(f"Usage: /{name} {usage}" + (f" ({exc})" if str(exc) else ""))
    return run


def cmd_help(ctx: Context, args: str) -> list[Action]:
    ctx.say("Commands:")
    for name, (_, usage, description) in COMMANDS.items():
        ctx.say(f"  /{name} {usage}".ljust(32) + " " + description)
    ctx.say("Keys: PgUp/PgDn scroll, Alt-1..9 or Ctrl-N/Ctrl-P switch buffers, F2 shows or "
            "hides the buffer list, Tab completes nicks, Up/Down recall sent lines (in a "
            "results buffer: choose one, Enter takes it), Alt-Enter starts a new line, Ctrl-C "
            "quits.")
    return []


Handler = Callable[[Context, str], list[Action]]
COMMANDS: dict[str, tuple[Handler, str, str]] = {
    "join": (cmd_join, "#channel", "join a channel"),
    "part": (cmd_part, "[#channel] [reason]", "leave a channel (or close a query)"),
    "msg": (cmd_msg, "nick text", "send a private message"),
    "query": (cmd_query, "nick [text]", "open a private conversation"),
    "me": (cmd_me, "text", "describe an action"),
    "nick": (cmd_nick, "newnick", "change your nick"),
    "topic": (cmd_topic, "[text]", "show or set the channel topic"),
    "names": (cmd_names, "[#channel]", "list the users of a channel"),
    **PEOPLE_COMMANDS,
    **{name: (operator_command(name, build, usage), usage, description)
       for name, (build, usage, description) in OPERATOR_COMMANDS.items()},
    **VIEW_COMMANDS,
    "win": (cmd_win, "N", "switch to buffer N"),
    "say": (cmd_say, "text", "send text as is (even if it starts with /)"),
    "resend": (cmd_resend, "", "send again messages marked ? (not confirmed stored)"),
    "quote": (cmd_quote, "LINE", "send a raw IRC line"),
    "register": (cmd_register, "[password]", "claim your nick as an account (logs you in)"),
    "quit": (cmd_quit, "[reason]", "leave chat"),
    "help": (cmd_help, "", "this list"),
}
ALIASES = {"j": "join", "leave": "part", "close": "part", "q": "query", "w": "win",
           "window": "win", "raw": "quote", "exit": "quit"}


def holds_secret(text: str) -> bool:
    """The input line carries a password (`/register PASSWORD`): it is not remembered in the
    input history."""
    command, args = parse_input(text)
    return command is not None and ALIASES.get(command, command) == "register" and bool(args)


def run_input(text: str, session: Session, state: State, now: datetime) -> list[Action]:
    """Handle one submitted input line."""
    ctx = Context(session, state, now)
    command, args = parse_input(text)
    if command is None:
        return send_message(ctx, args) if args else []
    if "\n" in args:
        return ctx.error("A command is one line (a text of several lines is a message).")
    name = ALIASES.get(command, command)
    entry = COMMANDS.get(name)
    if entry is None:
        return ctx.error(f"Unknown command /{command} (type /help for the list)")
    try:
        return entry[0](ctx, args)
    except ValueError:  # a word the IRC line cannot carry (a ':' start, a line break)
        return ctx.error(f"Usage: /{name} {entry[1]} (that cannot be sent as typed)")
