"""Who people are and whether they are here: WHOIS replies gathered into one readable block,
away states (ours, RPL_NOWAWAY/RPL_UNAWAY; others', from IRCv3 away-notify's AWAY, WHO's H/G
flags and RPL_AWAY), and the WHO requests tui sends by itself to learn who in a channel is
away (their replies are not shown).

Away is a property of a user, not of a channel membership, so it is kept once per nick (the
nick list of every channel reads it). Without away-notify, nobody tells us when someone goes
away: the channel being looked at is asked again (WHO) at most every AWAY_REFRESH.

Pure. It reads the `ClientContext` and changes only `State` (the WHOIS block, away notes);
it returns lines to send. It must not import the session or its other parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ircproto import numerics as N
from ircproto.casemap import casefold
from ircproto.message import Message
from tui.context import ClientContext
from tui.effects import Effect, send
from tui.state import Buffer, BufferKind, Kind, Line

MAX_AWAY = 100_000  # away nicks remembered (every member of every channel at most)
MAX_WHOIS_PENDING = 16  # WHOIS replies being gathered; replies without an end are dropped
MAX_WHOIS_LINES = 50  # one block's lines (a server listing hundreds of channels, split)
MAX_SILENT_WHO = 64  # our own WHO requests whose replies are swallowed
MAX_SHOWN_AWAY = 1000  # away messages said once (RPL_AWAY): the oldest forgotten first
AWAY_REFRESH = timedelta(minutes=5)
DEFAULT_AWAY = "Away"

# WHOIS replies that carry one sentence about the user (the server's words are shown).
RPL_WHOISREGNICK = "307"
RPL_WHOISSPECIAL = "320"
RPL_WHOISBOT = "335"
RPL_WHOISACTUALLY = "338"
WHOIS_SENTENCES = (RPL_WHOISREGNICK, RPL_WHOISSPECIAL, RPL_WHOISBOT, RPL_WHOISACTUALLY,
                   N.RPL_WHOISOPERATOR, N.RPL_WHOISHOST, N.RPL_WHOISSECURE,
                   N.RPL_WHOISCERTFP)

Handler = Callable[[Message, datetime], list[Effect]]


def duration_text(seconds: int) -> str:
    """`4h 05m`, `3m 20s`, `12s`: the two largest units."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@dataclass(eq=False)
class WhoisBlock:
    """The lines of one WHOIS reply being gathered (the head comes with RPL_WHOISUSER)."""

    nick: str
    buffer: Buffer | None  # where it was asked (None: not asked by us; shown where the user is)
    head: str = ""
    lines: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.lines) < MAX_WHOIS_LINES:
            self.lines.append(text)


class People:
    def __init__(self, ctx: ClientContext):
        self.ctx = ctx
        self.state = ctx.state
        self.away: dict[str, str] = {}  # casefolded nick -> away message
        self.away_text: str | None = None  # ours, as asked for (sent again after a reconnect)
        self.me_away = False  # as the server last confirmed
        self._whois: dict[str, WhoisBlock] = {}
        self._silent_who: set[str] = set()  # casefolded masks of our own WHO requests
        # channel key -> when we last asked WHO, and for which of our joins
        self._who_at: dict[str, tuple[datetime, datetime | None]] = {}
        self._shown_away: dict[str, str] = {}  # RPL_AWAY already said, per nick

    def handlers(self) -> dict[str, Handler]:
        return {
            "AWAY": self.handle_away, N.RPL_AWAY: self.handle_rpl_away,
            N.RPL_NOWAWAY: self.handle_own_away, N.RPL_UNAWAY: self.handle_own_away,
            N.RPL_WHOREPLY: self.handle_whoreply, N.RPL_ENDOFWHO: self.handle_endofwho,
            N.RPL_WHOISUSER: self.handle_whoisuser, N.RPL_WHOISCHANNELS: self.handle_channels,
            N.RPL_WHOISSERVER: self.handle_whoisserver, N.RPL_WHOISIDLE: self.handle_idle,
            N.RPL_WHOISACCOUNT: self.handle_account, N.RPL_ENDOFWHOIS: self.handle_endofwhois,
            **{code: self.handle_sentence for code in WHOIS_SENTENCES},
        }

    def reset(self) -> None:
        """A new connection: what the old one was gathering will not come; the server
        forgot our away state."""
        self._whois.clear()
        self._silent_who.clear()
        self._who_at.clear()
        self.away.clear()
        self.me_away = False

    def is_away(self, nick: str) -> bool:
        return casefold(nick) in self.away

    # -- what the user asks for --------------------------------------------------------------
    def request_whois(self, nick: str, buf: Buffer) -> list[Effect]:
        key = casefold(nick)
        if key in self._whois or len(self._whois) < MAX_WHOIS_PENDING:
            self._whois[key] = WhoisBlock(nick, buf)
        return [send("WHOIS", nick)]

    def set_away(self, text: str | None) -> list[Effect]:
        """/away TEXT (None: /back). Kept, so that a reconnect keeps us away."""
        self.away_text = text
        if not self.ctx.registered:
            return []
        return [send("AWAY", text)] if text else [send("AWAY")]

    def on_ready(self) -> list[Effect]:
        """Registered again: the server forgot that we were away."""
        return [send("AWAY", self.away_text)] if self.away_text else []

    def who_channel(self, channel: str) -> list[Effect]:
        """Ask who in `channel` is away (the reply only updates the nick list)."""
        if len(self._silent_who) >= MAX_SILENT_WHO:
            return []
        self._silent_who.add(casefold(channel))
        return [send("WHO", channel)]

    def refresh(self, buf: Buffer, now: datetime) -> list[Effect]:
        """The channel being looked at: asked (WHO) once after our join; without
        away-notify, again every AWAY_REFRESH. Channels nobody looks at cost nothing."""
        if buf.kind != BufferKind.CHANNEL or not buf.joined or not self.ctx.ready:
            return []
        asked = self._who_at.get(buf.key)
        if asked is not None and asked[1] == buf.join_time and (
                "away-notify" in self.ctx.caps or now < asked[0] + AWAY_REFRESH):
            return []
        self._who_at[buf.key] = (now, buf.join_time)
        return self.who_channel(buf.name)

    def observe(self, msg: Message) -> None:
        """Every message passes here: a user who quits is no longer away; a rename keeps
        the away state under the new nick."""
        nick = msg.source_nick
        if not nick or msg.command not in ("QUIT", "NICK"):
            return
        message = self.away.pop(casefold(nick), None)
        new = msg.param(0) or ""
        if msg.command == "NICK" and message is not None and new:
            self.away[casefold(new)] = message

    # -- away --------------------------------------------------------------------------------
    def _mark(self, nick: str, message: str | None) -> None:
        key = casefold(nick)
        if message is None:
            self.away.pop(key, None)
            self._shown_away.pop(key, None)
        elif key in self.away or len(self.away) < MAX_AWAY:
            self.away[key] = message or DEFAULT_AWAY

    def handle_away(self, msg: Message, when: datetime) -> list[Effect]:
        """IRCv3 away-notify: `:nick!u@h AWAY :message` (gone) or `AWAY` (back)."""
        nick = msg.source_nick or ""
        if nick and not self.ctx.is_me(nick):
            self._mark(nick, msg.param(0) or None)
        return []

    def handle_rpl_away(self, msg: Message, when: datetime) -> list[Effect]:
        """301 `<client> <nick> :<message>`: part of a WHOIS, or the answer to a message we
        sent to someone away (said once per away message, where we talk with them)."""
        nick, message = msg.param(1) or "", msg.params[-1] if len(msg.params) > 2 else ""
        self._mark(nick, message)
        key = casefold(nick)
        block = self._whois.get(key)
        if block is not None:
            block.note(f"away: {message}")
        elif self._shown_away.get(key) != message:
            self._shown_away.pop(key, None)
            self._shown_away[key] = message
            while len(self._shown_away) > MAX_SHOWN_AWAY:
                del self._shown_away[next(iter(self._shown_away))]
            buf = self.state.get(nick) or self.state.current
            self.state.add(buf, Line(self.ctx.now, Kind.INFO, f"{nick} is away: {message}"))
        return []

    def handle_own_away(self, msg: Message, when: datetime) -> list[Effect]:
        """306 (we are away) / 305 (back), in the server's words, where the user is."""
        self.me_away = msg.command == N.RPL_NOWAWAY
        text = msg.params[-1] if len(msg.params) > 1 else ""
        self.state.add(self.state.current, Line(self.ctx.now, Kind.INFO, text))
        return []

    # -- WHO -----------------------------------------------------------------------------------
    def handle_whoreply(self, msg: Message, when: datetime) -> list[Effect]:
        """352 `<client> <channel> <user> <host> <server> <nick> <flags> :<hops> <realname>`:
        H here, G gone (RFC 2812 4.2)."""
        nick, flags = msg.param(5) or "", msg.param(6) or ""
        if nick and flags[:1] in ("H", "G"):
            self._mark(nick, None if flags[0] == "H" else self.away.get(casefold(nick), ""))
        if casefold(msg.param(1) or "") not in self._silent_who:
            self._show(msg)
        return []

    def handle_endofwho(self, msg: Message, when: datetime) -> list[Effect]:
        key = casefold(msg.param(1) or "")
        if key in self._silent_who:
            self._silent_who.discard(key)
        else:
            self._show(msg)
        return []

    def _show(self, msg: Message) -> None:
        """A reply to someone else's WHO (typed with /quote): as other numerics are shown."""
        self.state.add(self.state.server, Line(self.ctx.now, Kind.INFO, " ".join(msg.params[1:])))

    # -- WHOIS ---------------------------------------------------------------------------------
    def _block(self, msg: Message) -> WhoisBlock | None:
        nick = msg.param(1) or ""
        key = casefold(nick)
        if not nick:
            return None
        if key not in self._whois:
            if len(self._whois) >= MAX_WHOIS_PENDING:
                return None
            self._whois[key] = WhoisBlock(nick, None)
        return self._whois[key]

    def handle_whoisuser(self, msg: Message, when: datetime) -> list[Effect]:
        """311 `<client> <nick> <user> <host> * :<realname>`."""
        block = self._block(msg)
        if block is not None:
            user, host, real = msg.param(2) or "", msg.param(3) or "", msg.params[-1]
            block.nick = msg.param(1) or block.nick
            block.head = f"{block.nick} is {user}@{host}" + (f" ({real})" if real else "")
        return []

    def handle_channels(self, msg: Message, when: datetime) -> list[Effect]:
        """319 `<client> <nick> :{[prefix]<channel> }` (several lines for many channels)."""
        block = self._block(msg)
        if block is not None and msg.params[-1].strip():
            block.note("on " + msg.params[-1].strip())
        return []

    def handle_whoisserver(self, msg: Message, when: datetime) -> list[Effect]:
        """312 `<client> <nick> <server> :<server info>`."""
        block = self._block(msg)
        if block is not None:
            info = msg.params[-1] if len(msg.params) > 3 else ""
            block.note(f"via {msg.param(2) or '?'}" + (f" ({info})" if info else ""))
        return []

    def handle_idle(self, msg: Message, when: datetime) -> list[Effect]:
        """317 `<client> <nick> <secs> [<signon>] :seconds idle, signon time`."""
        block = self._block(msg)
        idle, signon = msg.param(2) or "", msg.param(3) or ""
        if block is None or not idle.isdigit():
            return []
        text = f"idle {duration_text(int(idle))}"
        if signon.isdigit() and len(msg.params) > 4:
            since = datetime.fromtimestamp(int(signon), UTC).astimezone(self.state.tz)
            text += f", connected since {since:%Y-%m-%d %H:%M}"
        block.note(text)
        return []

    def handle_account(self, msg: Message, when: datetime) -> list[Effect]:
        """330 `<client> <nick> <account> :is logged in as`."""
        block = self._block(msg)
        if block is not None:
            block.note(f"logged in as {msg.param(2) or '?'}")
        return []

    def handle_sentence(self, msg: Message, when: datetime) -> list[Effect]:
        """313, 378, 671, 276, 307, 320, 335, 338: the server's sentence about the user."""
        block = self._block(msg)
        if block is not None and len(msg.params) > 2:
            block.note(" ".join(msg.params[2:]) if msg.command == RPL_WHOISACTUALLY
                       else msg.params[-1])
        return []

    def handle_endofwhois(self, msg: Message, when: datetime) -> list[Effect]:
        """318: the block is complete; shown where it was asked (nothing for an unknown nick:
        its 401 was shown already)."""
        block = self._whois.pop(casefold(msg.param(1) or ""), None)
        if block is None or not (block.head or block.lines):
            return []
        buf = block.buffer if block.buffer in self.state.buffers else self.state.current
        assert buf is not None
        now = self.ctx.now
        self.state.add(buf, Line(now, Kind.INFO, block.head or block.nick))
        for text in block.lines:
            self.state.add(buf, Line(now, Kind.INFO, "  " + text))
        return []
