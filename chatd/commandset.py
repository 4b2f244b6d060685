"""Every IRC command chatd knows, as one table of frozen records: how many parameters it
needs, whether it is allowed before registration, and which process answers it — the worker
that holds the connection (WORKER) or the master, which holds the global tables (MASTER).
Shared: the worker reads it to answer 451/461/421 and to know what to forward; the master's
and the worker's handler tables are keyed by the same names (a unit test checks that each
command has exactly one handler, on its side)."""

from __future__ import annotations

from dataclasses import dataclass

WORKER = "worker"
MASTER = "master"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    min_params: int
    answered_by: str  # WORKER or MASTER
    before_registration: bool = False
    # RFC 2812 3.3.2: "automatic replies MUST NEVER be sent in response to a NOTICE".
    never_answered: bool = False


def _specs(*specs: CommandSpec) -> dict[str, CommandSpec]:
    return {spec.name: spec for spec in specs}


COMMANDS: dict[str, CommandSpec] = _specs(
    # answered by the worker, from the connection's own state
    CommandSpec("CAP", 1, WORKER, before_registration=True),
    CommandSpec("PASS", 1, WORKER, before_registration=True),
    CommandSpec("NICK", 0, WORKER, before_registration=True),  # 431 is the handler's
    CommandSpec("USER", 4, WORKER, before_registration=True),
    CommandSpec("PING", 1, WORKER, before_registration=True),
    CommandSpec("PONG", 0, WORKER, before_registration=True),
    CommandSpec("QUIT", 0, WORKER, before_registration=True),
    CommandSpec("MOTD", 0, WORKER),
    CommandSpec("VERSION", 0, WORKER),
    CommandSpec("TIME", 0, WORKER),
    CommandSpec("CHATHISTORY", 1, WORKER),
    CommandSpec("SEARCH", 1, WORKER),  # chatd/session/search.py
    CommandSpec("REDACT", 2, WORKER),  # the worker reads, the master decides (redaction.py)
    CommandSpec("AUTHENTICATE", 1, WORKER, before_registration=True),
    CommandSpec("REGISTER", 3, WORKER, before_registration=True),  # before-connect
    CommandSpec("VERIFY", 2, WORKER, before_registration=True),
    CommandSpec("PASSWORD", 2, WORKER),
    CommandSpec("OPER", 2, WORKER),  # the worker checks the password (chatd/session/oper_login.py)
    CommandSpec("BATCH", 1, WORKER),  # a client's multiline batch (chatd/session/client_batch.py)
    # answered by the master, from the global tables
    CommandSpec("JOIN", 1, MASTER),
    CommandSpec("PART", 1, MASTER),
    CommandSpec("PRIVMSG", 0, MASTER),  # 411/412 are the handler's
    CommandSpec("NOTICE", 0, MASTER, never_answered=True),
    CommandSpec("TAGMSG", 0, MASTER),
    CommandSpec("TOPIC", 1, MASTER),
    CommandSpec("NAMES", 0, MASTER),
    CommandSpec("WHO", 0, MASTER),
    CommandSpec("WHOIS", 1, MASTER),
    CommandSpec("LIST", 0, MASTER),
    CommandSpec("MODE", 1, MASTER),
    CommandSpec("AWAY", 0, MASTER),
    CommandSpec("ISON", 1, MASTER),
    CommandSpec("USERHOST", 1, MASTER),
    CommandSpec("LUSERS", 0, MASTER),
    CommandSpec("KICK", 2, MASTER),
    CommandSpec("INFO", 0, MASTER),
    CommandSpec("ADMIN", 0, MASTER),
    CommandSpec("INVITE", 0, MASTER),  # alone: the invite list; 461 is the handler's
    # FAIL MARKREAD NEED_MORE_PARAMS is the handler's (draft/read-marker), not 461
    CommandSpec("MARKREAD", 0, MASTER),
    # server operators (chatd/hub/opers.py, chatd/hub/klines.py)
    CommandSpec("KILL", 1, MASTER),
    CommandSpec("WALLOPS", 1, MASTER),
    CommandSpec("REHASH", 0, MASTER),
    CommandSpec("KLINE", 1, MASTER),
    CommandSpec("UNKLINE", 1, MASTER),
    CommandSpec("STATS", 1, MASTER),
    CommandSpec("MONITOR", 1, MASTER),
    CommandSpec("WHOWAS", 0, MASTER),  # 431 is the handler's (modern.ircdocs)
    CommandSpec("SETNAME", 1, MASTER),
)


def gets_automatic_replies(command: str) -> bool:
    """False for a command nothing may answer automatically, errors included (NOTICE); the
    error boundaries of the worker and of the master both ask this."""
    spec = COMMANDS.get(command)
    return spec is None or not spec.never_answered


def commands_answered_by(side: str) -> frozenset[str]:
    return frozenset(name for name, spec in COMMANDS.items() if spec.answered_by == side)
