"""SASL for the client (IRCv3 SASL 3.2, ircv3.net/specs/extensions/sasl-3.2): the mechanisms
tui speaks (SCRAM-SHA-256 per RFC 5802/7677, PLAIN per RFC 4616), AUTHENTICATE framing
(base64 in 400-byte chunks, `+` for an empty or exactly-filled last chunk) and the numerics
900-908 by name.

The numerics belong in `ircproto.numerics`; they live here until the server branch adds them
there (tui must not wait for it, and must not edit ircproto on this branch).

Pure: bytes and strings in and out. It never shows or keeps the password beyond the SCRAM
exchange that needs it; the `Credentials` repr hides it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

SCRAM = "SCRAM-SHA-256"
PLAIN = "PLAIN"
MECHANISMS = (SCRAM, PLAIN)  # ours, preferred first: SCRAM never sends the password
CHUNK_BYTES = 400  # IRCv3 SASL: AUTHENTICATE payloads are split in 400-byte pieces
MAX_RECEIVED_BYTES = 8192  # a server challenge longer than this is not a SCRAM challenge
# RFC 7677 asks for at least 4096 iterations; more than this would freeze the client.
SCRAM_MIN_ITERATIONS = 4096
SCRAM_MAX_ITERATIONS = 1_000_000


class SaslError(Exception):
    """The server's side of the exchange is malformed or not to be trusted."""


@dataclass(frozen=True)
class Credentials:
    """An account and its password. The password never appears in repr() (tracebacks)."""

    account: str
    password: str = field(repr=False)


def usable_mechanisms(offered: str) -> list[str]:
    """Ours that the server offers, preferred first. `offered` is the `sasl` capability's
    value; empty (a 3.1 server, or no list) means unknown: try ours in order."""
    names = {m.strip().upper() for m in offered.split(",") if m.strip()}
    return [m for m in MECHANISMS if not names or m in names]


# -- framing -------------------------------------------------------------------------------
def authenticate_params(payload: bytes) -> list[str]:
    """The AUTHENTICATE parameters that carry `payload`: base64 in 400-byte chunks, and `+`
    after a last chunk of exactly 400 bytes (or for an empty payload)."""
    encoded = base64.b64encode(payload).decode("ascii")
    chunks = [encoded[i:i + CHUNK_BYTES] for i in range(0, len(encoded), CHUNK_BYTES)]
    if not chunks or len(chunks[-1]) == CHUNK_BYTES:
        chunks.append("+")
    return chunks


class ChunkReader:
    """Reassembles a server's AUTHENTICATE payload from its chunks."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def feed(self, param: str) -> bytes | None:
        """One AUTHENTICATE parameter; the decoded payload once complete, else None."""
        if param != "+":
            self._parts.append(param)
            self._size += len(param)
            if self._size > MAX_RECEIVED_BYTES:
                self.reset()
                raise SaslError("the server's SASL message is too long")
            if len(param) == CHUNK_BYTES:
                return None  # more follows
        encoded, _ = "".join(self._parts), self.reset()
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SaslError("the server's SASL message is not base64") from None

    def reset(self) -> None:
        self._parts, self._size = [], 0


# -- mechanisms ----------------------------------------------------------------------------
def plain_payload(creds: Credentials) -> bytes:
    """RFC 4616: authzid NUL authcid NUL password (authzid = the account, as IRC clients
    usually send it)."""
    account = creds.account.encode()
    return account + b"\0" + account + b"\0" + creds.password.encode()


def _scram_name(name: str) -> str:
    """RFC 5802 5.1: ',' and '=' in a username are escaped."""
    return name.replace("=", "=3D").replace(",", "=2C")


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class ScramClient:
    """The client side of one SCRAM-SHA-256 exchange (RFC 5802 section 3, RFC 7677), without
    channel binding (`n,,`). SASLprep (RFC 4013) is not applied: passwords are used as their
    UTF-8 bytes, which is what SASLprep leaves of the ASCII passwords most people type."""

    def __init__(self, creds: Credentials, nonce: str | None = None):
        self._password = creds.password.encode()
        self._nonce = nonce or secrets.token_urlsafe(24)
        self._first_bare = f"n={_scram_name(creds.account)},r={self._nonce}"
        self._server_signature: bytes | None = None

    def first(self) -> bytes:
        return ("n,," + self._first_bare).encode()

    def final(self, server_first: bytes) -> bytes:
        """The client-final message answering the server-first message."""
        text = server_first.decode("utf-8", "replace")
        fields = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
        nonce, salt_b64, iterations = fields.get("r", ""), fields.get("s", ""), fields.get("i")
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise SaslError("the server's SCRAM nonce does not extend ours")
        try:
            salt = base64.b64decode(salt_b64, validate=True)
            rounds = int(iterations or "")
        except (binascii.Error, ValueError):
            raise SaslError("the server's SCRAM challenge is malformed") from None
        if not SCRAM_MIN_ITERATIONS <= rounds <= SCRAM_MAX_ITERATIONS:
            raise SaslError(f"the server asks for {rounds} SCRAM iterations")
        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, rounds)
        self._password = b""  # not needed any more
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"  # biws = base64("n,,")
        auth_message = f"{self._first_bare},{text},{without_proof}".encode()
        signature = _hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        """Check the server's signature: it proves the server knows the password too."""
        text = server_final.decode("utf-8", "replace")
        if text.startswith("e="):
            raise SaslError(f"the server refused: {text[2:]}")
        expected = self._server_signature
        try:
            got = base64.b64decode(text.removeprefix("v="), validate=True)
        except (binascii.Error, ValueError):
            got = b""
        if expected is None or not text.startswith("v=") \
                or not hmac.compare_digest(got, expected):
            raise SaslError("the server's SCRAM signature is wrong")


class SaslAttempt:
    """One mechanism's exchange: what to answer to each complete server payload."""

    def __init__(self, mechanism: str, creds: Credentials, nonce: str | None = None):
        self.mechanism = mechanism
        self._creds: Credentials | None = creds
        self._scram = ScramClient(creds, nonce) if mechanism == SCRAM else None
        self._step = 0
        self.reader = ChunkReader()

    def respond(self, challenge: bytes) -> list[str]:
        """AUTHENTICATE parameters answering a server payload (raises SaslError)."""
        self._step += 1
        if self._scram is None:
            if self._step > 1 or challenge or self._creds is None:
                raise SaslError("unexpected PLAIN challenge")
            payload, self._creds = plain_payload(self._creds), None
            return authenticate_params(payload)
        if self._step == 1:
            return authenticate_params(self._scram.first())
        if self._step == 2:
            return authenticate_params(self._scram.final(challenge))
        if self._step == 3:
            self._scram.verify(challenge)
            return ["+"]
        raise SaslError("the server's SCRAM exchange goes on too long")
