"""RPL_ISUPPORT (005) tokens (modern.ircdocs.horse/#rplisupport-005): parsing what a server
advertises, with the RFC defaults for what it does not. Pure; used by the client, which must
take limits from the server it talks to, not assume chatd's."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

RFC1459_NICKLEN = 9  # RFC 1459 section 1.2: "a maximum length of nine (9) characters"


@dataclass(frozen=True)
class ISupport:
    """What a server advertised, accumulated over its 005 lines."""

    tokens: dict[str, str] = field(default_factory=dict)  # NAME -> value ("" when none)

    def updated(self, params: tuple[str, ...] | list[str]) -> ISupport:
        """A copy with the tokens of one 005 reply applied (`params` without the client's
        nick and the trailing text); `-NAME` removes a token."""
        tokens = dict(self.tokens)
        for token in params:
            if not token:
                continue
            if token.startswith("-"):
                tokens.pop(token[1:].upper(), None)
                continue
            name, _, value = token.partition("=")
            tokens[name.upper()] = _unescape(value)
        return replace(self, tokens=tokens)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.tokens.get(name.upper(), default)

    def number(self, name: str, default: int) -> int:
        """A numeric token, or `default` when absent or not a positive number."""
        value = self.tokens.get(name.upper(), "")
        return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else default

    @property
    def nicklen(self) -> int:
        return self.number("NICKLEN", RFC1459_NICKLEN)


def _unescape(value: str) -> str:
    """ISUPPORT values escape some bytes as \\xHH (e.g. \\x20 for a space, \\x3D for '=')."""
    if "\\x" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        hex_digits = value[i + 2:i + 4]
        if (value.startswith("\\x", i) and len(hex_digits) == 2
                and all(c in "0123456789abcdefABCDEF" for c in hex_digits)):
            out.append(chr(int(hex_digits, 16)))
            i += 4
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
