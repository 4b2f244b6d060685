"""The commands that open or change what is shown: /list (the server's channels, in their own
buffer), /search (messages, in a results buffer) and /clear. Gathered into the `commands`
table (`VIEW_COMMANDS`), with the same `Context` and usage rules. No I/O."""

from __future__ import annotations

from collections.abc import Callable

from tui.command_context import Action, Context
from tui.effects import send
from tui.search import parse_query

SEARCH_USAGE = "words [from:nick] [in:#channel]"


def cmd_list(ctx: Context, args: str) -> list[Action]:
    """/list [mask]: LIST, answered in the channel list buffer."""
    words = args.split()
    if len(words) > 1 or (words and words[0].startswith(":")):
        return ctx.error("Usage: /list [#channel-or-mask]")
    if not ctx.session.registered:
        return ctx.error("Not connected: /list needs the server.")
    ctx.session.results.list_requested()
    return [send("LIST", *words)]


def cmd_search(ctx: Context, args: str) -> list[Action]:
    query = parse_query(args)
    if query is None:
        return ctx.error(f"Usage: /search {SEARCH_USAGE}")
    return list(ctx.session.search.request(query))


def cmd_clear(ctx: Context, args: str) -> list[Action]:
    """Empty the buffer on screen (the server's history is untouched)."""
    ctx.state.clear(ctx.buffer)
    return []


Handler = Callable[[Context, str], list[Action]]
VIEW_COMMANDS: dict[str, tuple[Handler, str, str]] = {
    "list": (cmd_list, "[mask]", "the server's channels, to join one"),
    "search": (cmd_search, SEARCH_USAGE, "find messages; Enter shows one in its place"),
    "clear": (cmd_clear, "", "empty this buffer on screen"),
}
