"""The client without its terminal and socket: modes (name prompt, nick prompt, hidden
password prompt, "keep this login?" and "send these lines?" questions, chat), what Enter, Tab,
Up/Down and a paste do, reconnecting with backoff (and not after a fatal ERROR), what the
user's typing tells others, and what the pane, nick list and status bar show.

The event loop (curses_client) feeds it keys, received lines and the time, and executes the
actions it returns (`Send`, `Connect`, `Disconnect`, `Quit`, `SaveCredentials`,
`SaveIgnores`). Pure, so the whole flow from the name prompt to chatting is unit-testable.
"""

from __future__ import annotations

import enum
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ircproto.casemap import irc_equal
from ircproto.validate import is_valid_nick
from tui import commands
from tui.command_context import ConfirmLines
from tui.commands import Action
from tui.context import CLIENT_NICK_MAX_LEN
from tui.credentials import server_key
from tui.effects import (AskNick, AskPassword, Disconnect, LoggedIn, Reconnect,
                         StopReconnecting)
from tui.inputline import InputLine
from tui.layout import Row, at_top, scroll, view_rows
from tui.nicklist import NickList
from tui.render import line_rows, status_row
from tui.results import Choice, JoinChannel
from tui.sasl import Credentials
from tui.session import Session
from tui.state import BufferKind, Kind, Line, State
from tui.typing_notices import typing_text

# Reconnect after FIRST, doubling up to MAX, each delay spread by +-JITTER so clients that lost
# the same server do not all come back in the same instant.
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0
RECONNECT_JITTER = 0.2
NAME_PROMPT = "Your name: "
PASSWORD_PROMPT = "Server password: "


def reconnect_delay_s(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 = the first after a loss)."""
    base = min(RECONNECT_FIRST_S * 2 ** min(attempt, 16), RECONNECT_MAX_S)
    return base * rng.uniform(1 - RECONNECT_JITTER, 1 + RECONNECT_JITTER)


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a connection to the server now."""


@dataclass(frozen=True, slots=True)
class SaveCredentials:
    """Write this login to the saved-logins file (the loop reports back with `saved`)."""

    server: str
    credentials: Credentials


class Mode(enum.Enum):
    NAME = "name"  # asking for the nick before the first connection
    NICK = "nick"  # the server refused the nick during registration
    PASSWORD = "password"  # hidden input: an account's or the server's password
    KEEP = "keep"  # "keep this login on this computer?"
    CONFIRM = "confirm"  # "send these lines as separate messages?"
    CHAT = "chat"


def default_nick(login: str, max_len: int = CLIENT_NICK_MAX_LEN) -> str:
    """The login name turned into something a server accepts as a nick (before any server
    is known: within the client's generous bound; a server with a lower limit answers 432)."""
    nick = re.sub(r"[^A-Za-z0-9\[\]\\`_^{|}-]", "", login)[:max_len]
    if not nick or not is_valid_nick(nick, max_len):
        nick = ("u" + nick)[:max_len] if nick else "guest"
    return nick if is_valid_nick(nick, max_len) else "guest"


class App:
    def __init__(self, host: str, port: int, *, nick: str | None, channel: str = "#lobby",
                 channel_explicit: bool = False, login: str = "guest",
                 tz: tzinfo | None = None, rng: random.Random | None = None,
                 password: str | None = None, saved: Credentials | None = None,
                 notice: str | None = None):
        self.host, self.port = host, port
        self.saved = saved  # the login kept for this server, if any
        self.stopped: str | None = None  # why reconnecting stopped (a fatal ERROR)
        self._reconnect_now = False
        self._asking: AskPassword | None = None
        self._confirming: ConfirmLines | None = None
        self.tz = tz
        self.rng = rng or random.Random()
        self.state = State(server_name=host, tz=tz)
        self.session = Session(self.state, nick or default_nick(login), user=default_nick(login),
                               realname=login or "tui", channel=channel,
                               channel_explicit=channel_explicit)
        self.session.registration.password = password
        self.input = InputLine()
        self.nick_list = NickList()
        self._typed = ""  # the input line as the typing notifications last saw it
        self.ever_connected = False
        self._attempt = 0
        self._reconnect_at: datetime | None = None
        now = datetime.now().astimezone()
        self.state.add(self.state.server, Line(now, Kind.INFO,
                                               f"tui: chat on {host} port {port}. /help for help."))
        if notice:
            self.state.add(self.state.server, Line(now, Kind.ERROR, notice))
        if nick is None:
            self.mode = Mode.NAME
            self.prompt = NAME_PROMPT
            self.input.set(saved.account if saved else self.session.nick, selected=True)
        else:
            self.mode = Mode.CHAT
            self.prompt = ""
            self._use_saved_login(nick)

    @property
    def prompt(self) -> str:
        """The input line's prompt; a text of several lines says so (one message)."""
        lines = self.input.line_count
        return (f"[{lines} lines] " if lines > 1 and self.mode == Mode.CHAT else "") \
            + self._prompt

    @prompt.setter
    def prompt(self, prompt: str) -> None:
        self._prompt = prompt

    def _use_saved_login(self, nick: str) -> None:
        """The saved login is used when the chosen name is its account's."""
        if self.saved is not None and irc_equal(nick, self.saved.account):
            self.session.login.credentials = self.saved

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> list[Action]:
        """Actions at program start: connect at once unless the name must be asked first."""
        return [Connect()] if self.mode == Mode.CHAT else []

    def on_connected(self, now: datetime) -> list[Action]:
        self.ever_connected = True
        self._reconnect_at = None
        return self._handle(self.session.connect(now))

    def on_connection_lost(self, reason: str, now: datetime) -> None:
        """The socket closed or could not be opened: try again later, with backoff (at once
        to log in; once the user typed the server password it asked for; never after a fatal
        ERROR)."""
        self.session.disconnected(reason, now)
        if self._asking is not None and self._asking.purpose == "server":
            self._reconnect_at = None  # reconnects when the password is typed
            return
        if self.stopped is not None:
            self._reconnect_at = None
            self.state.add(self.state.server, Line(
                now, Kind.ERROR, f"Not reconnecting: {self.stopped}. Restart tui to try again."))
            return
        if self._reconnect_now:
            self._reconnect_now = False
            self._reconnect_at = now
            return
        delay = reconnect_delay_s(self._attempt, self.rng)
        self._attempt += 1
        self._reconnect_at = now + timedelta(seconds=delay)
        self.state.add(self.state.server, Line(now, Kind.INFO,
                                               f"Reconnecting in {delay:.1f} s..."))

    def on_line(self, line: str, now: datetime) -> list[Action]:
        actions = self._handle(self.session.receive(line, now))
        if self.session.registered:
            self._attempt = 0  # a successful registration resets the backoff
        return actions

    def tick(self, now: datetime) -> list[Action]:
        actions = self._handle(self.session.tick(now) + self._watch(now))
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect_at = None
            actions.append(Connect())
        return actions

    def _watch(self, now: datetime) -> list:
        """What the user is doing, for others: typing (a changed input line), and looking at
        a channel (who in it is away, for the nick list)."""
        out = self.session.people.refresh(self.state.current, now)
        if self.mode == Mode.CHAT and self.input.text != self._typed:
            self._typed = self.input.text
            out += self.session.typing.input_changed(self.state.current, self._typed, now)
        return out

    def next_deadline(self) -> datetime | None:
        deadlines = [d for d in (self.session.next_deadline(), self._reconnect_at) if d]
        return min(deadlines, default=None)

    def _handle(self, effects: list) -> list[Action]:
        """Take the effects that concern the UI (AskNick); pass the rest to the loop."""
        out: list[Action] = []
        for effect in effects:
            if isinstance(effect, AskNick):
                self._ask(Mode.NICK, f"{effect.message} New nick: ")
                self.input.set(effect.suggestion, selected=True)
            elif isinstance(effect, AskPassword):
                self._asking = effect
                if effect.purpose == "server":
                    self.state.add(self.state.server, Line(
                        self.session.ctx.now, Kind.ERROR,
                        f"{effect.message} Type it and press Enter (it is not shown)."))
                    self._ask(Mode.PASSWORD, PASSWORD_PROMPT)
                else:
                    self._ask(Mode.PASSWORD, effect.message + " ")
                self.input.masked = True
            elif isinstance(effect, LoggedIn):
                if self.session.login.credentials != self.saved:
                    self._ask(Mode.KEEP, f"Keep the password for {effect.account} on this "
                              "computer, to log in by itself next time? [y/N] ")
            elif isinstance(effect, Reconnect):
                self._reconnect_now = True
                out.append(Disconnect(effect.reason))
            elif isinstance(effect, StopReconnecting):
                self.stopped = effect.reason
            elif isinstance(effect, ConfirmLines):
                self._confirming = effect
                self._ask(Mode.CONFIRM, f"Send {effect.count} lines as {effect.count} "
                          "messages? (y/n) ")
            else:
                out.append(effect)
        return out

    def _ask(self, mode: Mode, prompt: str) -> None:
        self.mode, self.prompt = mode, prompt
        self.input.masked = False
        self.input.set("")

    # -- keys ------------------------------------------------------------------------------------
    def submit(self, now: datetime) -> list[Action]:
        """Enter."""
        if self.mode == Mode.CHAT:
            choice = self.session.results.choose(self.state.current, self.input.text)
            if choice is not None:
                return self._take(choice, now)
            text = self.input.submit(remember=not commands.holds_secret(self.input.text))
            self.session.typing.message_sent()
            self._typed = ""
            return self._handle(commands.run_input(text, self.session, self.state, now))
        if self.mode == Mode.PASSWORD:
            return self._submit_password(now)
        if self.mode == Mode.KEEP:
            return self._submit_keep(now)
        if self.mode == Mode.CONFIRM:
            return self._submit_lines(now)
        text = self.input.text.strip()
        # The server's NICKLEN once announced; before, a generous client bound (the server
        # answers 432 to a nick too long for it).
        max_len = self.session.nick_max_len()
        if not is_valid_nick(text, max_len):
            self.state.add(self.state.current, Line(
                now, Kind.ERROR, f"{text!r} cannot be a nick: use letters, digits and "
                "_-[]\\`^{|}, not starting with a digit or '-', at most "
                f"{max_len} characters."))
            return []
        self.input.set("")
        mode, self.mode, self.prompt = self.mode, Mode.CHAT, ""
        if mode == Mode.NAME:
            self.session.nick = text
            self._use_saved_login(text)
            return [Connect()]
        return self._handle(self.session.choose_nick(text))

    def _submit_password(self, now: datetime) -> list[Action]:
        """Enter in the hidden prompt: the password goes to the login, nowhere else."""
        password, ask = self.input.text, self._asking
        self._asking = None
        self._ask(Mode.CHAT, "")
        login = self.session.login
        if ask is None:
            return []
        if ask.purpose == "server":  # 464: reconnect with it (it goes out as PASS)
            self.session.registration.password = password
            self._reconnect_at = None
            return [Connect()]
        if ask.purpose == "register":
            if not password:
                self._note("Not registered.", now)
                return []
            return self._handle(login.register(password))
        if password:
            return self._handle(login.login_with(ask.account, password))
        login.cancel_prompt()
        if self.session.registered:
            return []
        max_len = self.session.nick_max_len()
        return self._handle([AskNick(f"Choose another name than {ask.account}.",
                                     (ask.account + "_")[:max_len])])

    def _submit_keep(self, now: datetime) -> list[Action]:
        answer = self.input.text.strip().lower()
        self._ask(Mode.CHAT, "")
        creds = self.session.login.credentials
        if answer not in ("y", "yes") or creds is None:
            self._note("Not kept: tui will ask for the password next time.", now)
            return []
        return [SaveCredentials(server_key(self.host, self.port), creds)]

    def _submit_lines(self, now: datetime) -> list[Action]:
        """The answer to "send these lines as separate messages?": no puts the text back."""
        answer, ask = self.input.text.strip().lower(), self._confirming
        self._confirming = None
        self._ask(Mode.CHAT, "")
        if ask is None:
            return []
        if answer not in ("y", "yes"):
            self.input.set(ask.text)
            self._note("Not sent: the text is back in the input line.", now)
            return []
        return self._handle([effect for line in ask.lines for effect in self.session.say(
            ask.target, line, now, show_in=ask.buffer)])

    def paste(self, text: str) -> None:
        """A bracketed paste (or Alt-Enter's "\\n"): its lines stay in the input line, one
        message sent with Enter (a prompt takes the first line only)."""
        if self.mode != Mode.CHAT:
            text = text.split("\n", 1)[0]
        self.input.insert(text, lines=self.mode == Mode.CHAT)

    def saved_credentials(self, creds: Credentials, error: str | None, now: datetime) -> None:
        """The loop wrote (or failed to write) the saved-logins file."""
        if error:
            self.state.add(self.state.current, Line(
                now, Kind.ERROR, f"Could not keep the login: {error}"))
            return
        self.saved = creds
        self._note(f"Kept: tui logs in as {creds.account} by itself from now on.", now)

    def _note(self, text: str, now: datetime) -> None:
        self.state.add(self.state.current, Line(now, Kind.INFO, text))

    def note_error(self, text: str, now: datetime) -> None:
        """Something the event loop could not do (write a file), said where the user is."""
        self.state.add(self.state.current, Line(now, Kind.ERROR, text))

    def complete(self) -> None:
        """Tab: complete a nick of the current channel (or the query partner)."""
        buf = self.state.current
        if buf.kind == BufferKind.CHANNEL:
            nicks = [n for n in buf.users.nicks() if not self.session.is_me(n)]
        elif buf.kind == BufferKind.QUERY:
            nicks = [buf.name]
        else:
            nicks = []
        self.input.complete(nicks)

    def up(self) -> None:
        """Up: in a results buffer (nothing typed), the result above; else recall."""
        if self.input.text or not self.session.results.move(self.state.current, -1):
            self.input.history_prev()

    def down(self) -> None:
        if self.input.text or not self.session.results.move(self.state.current, 1):
            self.input.history_next()

    def _take(self, choice: Choice, now: datetime) -> list[Action]:
        """Enter on a result: join the channel, or show the message in its place."""
        self.input.set("")
        if isinstance(choice, JoinChannel):
            return self._handle(self.session.request_join(choice.channel))
        return self._handle(self.session.search.show(choice))

    def switch(self, index: int) -> None:
        self.state.switch(index)

    def cycle(self, step: int) -> None:
        self.state.cycle(step)

    def scroll_page(self, direction: int, width: int, height: int) -> list[Action]:
        """PgUp (-1) / PgDn (+1): move by a page, keeping two rows of context. Reaching the
        top asks the server for the page of history before it."""
        buf = self.state.current
        rows_of = self._rows_of(width)
        buf.anchor = scroll(rows_of, buf.first_index, buf.end_index, height,
                            buf.anchor, direction * max(1, height - 2))
        if buf.anchor is None:
            buf.unseen = 0
        if direction < 0 and at_top(rows_of, buf.first_index, buf.end_index, height,
                                    buf.anchor):
            return self._handle(self.session.load_older(buf))
        return []

    # -- what to draw --------------------------------------------------------------------------
    def nick_column(self, width: int, height: int) -> tuple[int, list[Row]]:
        """(columns, rows) of the nick list beside the current channel (0 columns: none)."""
        session = self.session
        return self.nick_list.column(self.state.current, session.ctx.prefix_table, width,
                                     height, session.people.is_away, session.is_me)

    def pane_width(self, width: int) -> int:
        """Columns left for the conversation beside the side columns."""
        return width - self.nick_column(width, 0)[0]

    def _rows_of(self, width: int):
        buf = self.state.current
        return lambda index: list(line_rows(buf.line_at(index), width, self.tz))

    def pane(self, width: int, height: int) -> list[Row]:
        buf, session = self.state.current, self.session
        # A results buffer shows its selection; a message jumped to is centred and marked.
        rows_of = session.search.view(buf, session.results.view(buf, self._rows_of(width),
                                                                height), height)
        rows, buf.anchor = view_rows(rows_of, buf.first_index, buf.end_index, height,
                                     buf.anchor)
        if buf.anchor is None:
            buf.unseen = 0
        return rows

    @property
    def input_hidden(self) -> bool:
        """Whether the input line must be drawn masked (a password is being typed)."""
        return self.input.masked

    def connection_label(self) -> str:
        if self.stopped is not None:
            return "stopped"
        if self.session.registered:
            return "connected"
        if self.session.connected:
            return "connecting"
        if self._reconnect_at is not None:
            return "reconnecting"
        return "offline" if self.ever_connected else "not connected"

    def status(self, width: int) -> Row:
        buf = self.state.current
        return status_row(
            width, connection=self.connection_label(), nick=self.session.nick,
            buffer_number=self.state.current_index + 1, buffer_name=buf.name,
            users=len(buf.users) if buf.kind == BufferKind.CHANNEL and buf.joined else None,
            activity=[(n, b.name, b.mention) for n, b in self.state.activity()],
            more_below=buf.unseen if buf.anchor is not None else None,
            unsent=self.session.outbox.waiting(),
            loading=self.session.history.busy, parted=buf.parted, notes=self._notes())

    def _notes(self) -> tuple[str, ...]:
        """Status bar notes: we are away; who is typing here."""
        people, now = self.session.people, self.session.ctx.now
        typing = typing_text(self.session.typing.typing_in(self.state.current, now))
        return tuple(note for note in ("away" if people.me_away else "", typing) if note)
