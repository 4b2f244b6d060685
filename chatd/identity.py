"""Names and passwords people may choose: the rules for account names, the names reserved
for nobody (service-looking names), and what a password must be. Shared and pure: the worker
answers a bad REGISTER at once with these, the master enforces the same rules for nicks, and
the admin command (chatd/admin.py) checks its arguments with them."""

from __future__ import annotations

from ircproto.casemap import casefold
from chatd.limits import is_nick

# Names that look like network services or staff: nobody may take them as a nick or an
# account, so nobody can receive messages meant for a service (e.g. "IDENTIFY <password>").
SERVICE_NAMES = frozenset(casefold(name) for name in (
    "NickServ", "ChanServ", "OperServ", "MemoServ", "BotServ", "HostServ", "HelpServ",
    "Global", "root", "admin", "administrator", "oper", "operator", "services", "server",
    "sysop", "irc", "ircd", "chatd", "SaslServ",
))

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 1024  # a longer password is refused (and never hashed)
MAX_EMAIL_BYTES = 254


def is_service_name(name: str, server_name: str) -> bool:
    """Reserved for nobody: a service-looking name, or the server's own name."""
    folded = casefold(name)
    return folded in SERVICE_NAMES or folded == casefold(server_name)


def account_name_problem(name: str, server_name: str) -> str | None:
    """Why `name` cannot be an account name (it must be usable as a nick), or None."""
    if not is_nick(name):
        return "Account names must be valid nicknames (letters, digits, []\\`_^{|}-, 1-30)"
    if is_service_name(name, server_name):
        return "That name is reserved for services"
    return None


def password_problem(password: str) -> tuple[str, str] | None:
    """(standard-reply code, text) saying why `password` is refused, or None."""
    if len(password.encode("utf-8", "replace")) > MAX_PASSWORD_BYTES:
        return "UNACCEPTABLE_PASSWORD", f"Passwords may be at most {MAX_PASSWORD_BYTES} bytes"
    if any(ch.isspace() or ord(ch) < 32 for ch in password):
        return "UNACCEPTABLE_PASSWORD", "Passwords may not contain spaces or control characters"
    if len(password) < MIN_PASSWORD_CHARS:
        return "WEAK_PASSWORD", f"Passwords must be at least {MIN_PASSWORD_CHARS} characters"
    return None
