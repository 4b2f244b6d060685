"""The client without its terminal and socket: modes (name prompt, nick prompt, hidden
password prompt, "keep this login?" and "send these lines?" questions, chat), what Enter, Tab,
Up/Down and a paste do, reconnecting with backoff (and not after a fatal ERROR), what the
user's typing tells others, and what the pane, nick list and status bar show.

The event loop (curses_client) feeds it keys, received lines and the time, and executes the
actions it returns (`Send`, `Connect`, `Disconnect`, `Quit`, `SaveCredentials`,
`SaveIgnores`, `SaveState` what is remembered of the server, `Notify` the bell). It composes
the frame the terminal draws (`tui.app_view`, `tui.frame`: the pane, the side columns such as
the buffer list and the nick list, status, input), and starts from what was remembered of the
server (`tui.saved_state`). Pure, so the whole flow from the name prompt to chatting is
unit-testable.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ircproto.casemap import irc_equal
from ircproto.validate import is_valid_nick
from tui import attention, commands
from tui.alerts import Alerts
from tui.app_view import AppView
from tui.buffer_list import BufferList
from tui.command_context import ConfirmLines
from tui.commands import Action
from tui.config import Settings
from tui.context import CLIENT_NICK_MAX_LEN
from tui.credentials import server_key
from tui.effects import (Alert, AskNick, AskPassword, Disconnect, LoggedIn, Reconnect,
                         StopReconnecting)
from tui.frame import Column
from tui.inputline import InputLine
from tui.layout import Row
from tui.memory import Memory
from tui.nicklist import NickList
from tui.render import RowCache
from tui.results import Choice, JoinChannel
from tui.sasl import Credentials
from tui.saved_state import SavedServer, restore
from tui.session import Session
from tui.state import BufferKind, Kind, Line, State

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


class App(AppView):
    def __init__(self, host: str, port: int, *, nick: str | None, channel: str = "#lobby",
                 channel_explicit: bool = False, login: str = "guest",
                 tz: tzinfo | None = None, rng: random.Random | None = None,
                 password: str | None = None, saved: Credentials | None = None,
                 notice: str | None = None, settings: Settings | None = None,
                 autojoin: tuple[str, ...] = (), remembered: SavedServer | None = None):
        settings = settings or Settings()
        self.host, self.port = host, port
        self.saved = saved  # the login kept for this server, if any
        self.stopped: str | None = None  # why reconnecting stopped (a fatal ERROR)
        self._reconnect_now = False
        self._asking: AskPassword | None = None
        self._confirming: ConfirmLines | None = None
        self.tz = tz
        self.rows = RowCache(tz, settings.time_format)
        self.show_buffer_list = settings.buffer_list
        self._status: tuple[tuple, Row] = ((), [])  # the status bar and what it shows
        self.colours = settings.colours
        self.alerts = Alerts(settings)
        self.memory = Memory(server_key(host, port), remembered)
        # What asks for a side column (tui.frame): functions of the terminal's width.
        self.column_sources: list[Callable[[int], Column | None]] = [self._buffer_list,
                                                                     self._nick_list]
        self.rng = rng or random.Random()
        self.state = State(server_name=host, tz=tz)
        self.buffer_list = BufferList(self.state)
        self.session = Session(self.state, nick or default_nick(login), user=default_nick(login),
                               realname=login or "tui", channel=channel,
                               channel_explicit=channel_explicit, autojoin=autojoin)
        self.session.ctx.highlights = settings.highlights
        self.session.registration.password = password
        if remembered is not None:
            self.session.remember(restore(remembered, self.state), remembered.seen_until)
        self.input = InputLine()
        self.nick_list = NickList()
        self._typed = ""  # the input line as the typing notifications last saw it
        self.ever_connected = False
        self.ever_registered = False
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
            self.ever_registered = True  # from now on there is something to remember
        return actions

    def tick(self, now: datetime) -> list[Action]:
        actions = self._handle(self.session.tick(now) + self._watch(now))
        if self.ever_registered:
            actions += self.memory.due(now, self.state, self.session)
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect_at = None
            actions.append(Connect())
        return actions

    def may_rest_reading(self) -> bool:
        """Whether the loop may leave the socket unread for a frame: only while nothing of
        ours waits for an answer (registration, history), which must not be slowed."""
        return self.session.registered and not self.session.history.busy

    def closing(self) -> list[Action]:
        """Quitting: the read positions the server should know, what to remember."""
        attention.move_read(self.state.current, attention.read_time_of(self.state.current))
        return [*self.session.read_markers.outgoing(self.session.ctx.now, force=True),
                *(self.memory.final(self.state, self.session) if self.ever_registered else [])]

    def user_active(self) -> None:
        """The user pressed a key: they see the buffer shown, read as far as its view."""
        attention.move_read(self.state.current, attention.read_time_of(self.state.current))
    def _watch(self, now: datetime) -> list:
        """What the user is doing, for others: typing (a changed input line), and looking at
        a channel (who in it is away, for the nick list)."""
        out = self.session.people.refresh(self.state.current, now)
        if self.mode == Mode.CHAT and self.input.text != self._typed:
            self._typed = self.input.text
            out += self.session.typing.input_changed(self.state.current, self._typed, now)
        return out

    def next_deadline(self) -> datetime | None:
        deadlines = [d for d in (self.session.next_deadline(), self._reconnect_at,
                                 self.memory.next_check if self.ever_registered else None)
                     if d]
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
            elif isinstance(effect, Alert):
                notify = self.alerts.on_alert(effect, self.session.ctx.now)
                if notify is not None:
                    out.append(notify)
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
            # The prompt says what is wrong now, not what was wrong with the previous nick.
            ask = NAME_PROMPT if self.mode == Mode.NAME else "New nick: "
            self.prompt = f"{text!r} cannot be a nick. {ask}"
            self.input.set(text, selected=True)  # to mend, or to replace by typing
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
