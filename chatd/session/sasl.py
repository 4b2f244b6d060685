"""SASL's pure parts for a worker (IRCv3 SASL 3.2, RFC 4616 PLAIN, RFC 5802/7677 SCRAM):
reassembling AUTHENTICATE chunks, decoding a PLAIN message, and the server side of a
SCRAM-SHA-256 exchange against stored keys (chatd/credentials.py). No I/O, no state beyond
one exchange (AuthState); chatd/session/authentication.py drives them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from typing import Any

from chatd.credentials import ScramKeys

CHUNK_BYTES = 400  # IRCv3 SASL: a 400-byte chunk means more follows; "+" is an empty one
MAX_RESPONSE_BYTES = 8192  # base64 characters of one response, all chunks together
MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")


class SaslFailed(Exception):
    """The client's response cannot be right (bad base64, malformed message, bad proof)."""


class ResponseTooLong(Exception):
    """A chunk over 400 bytes (905 ERR_SASLTOOLONG, IRCv3 SASL 3.1)."""


class ChunkBuffer:
    """Collects the chunks of one client response."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def feed(self, chunk: str) -> bytes | None:
        """The decoded response once complete, else None (more chunks follow)."""
        if len(chunk) > CHUNK_BYTES:
            raise ResponseTooLong()
        if chunk != "+":
            self._size += len(chunk)
            if self._size > MAX_RESPONSE_BYTES:
                # Each chunk was well-formed: the exchange fails (904), as in Solanum and
                # Ergo; 905 is for one AUTHENTICATE line over 400 bytes (irctest
                # testPlainInfiniteMessages expects 904 after 1000 chunks).
                self._parts, self._size = [], 0
                raise SaslFailed("the response is too long")
            self._parts.append(chunk)
            if len(chunk) == CHUNK_BYTES:
                return None
        text, self._parts, self._size = "".join(self._parts), [], 0
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise SaslFailed("the response is not valid base64") from None


def encode_chunks(data: bytes) -> list[str]:
    """A server challenge as AUTHENTICATE parameters (400 characters each, "+" if empty or
    if the last chunk is exactly 400)."""
    text = base64.b64encode(data).decode("ascii")
    chunks = [text[i:i + CHUNK_BYTES] for i in range(0, len(text), CHUNK_BYTES)]
    if not chunks or len(chunks[-1]) == CHUNK_BYTES:
        chunks.append("+")
    return chunks


def decode_plain(message: bytes) -> tuple[str, str, str]:
    """RFC 4616: authzid NUL authcid NUL password -> (authzid, authcid, password)."""
    parts = message.split(b"\0")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise SaslFailed("a PLAIN response is authzid NUL authcid NUL password")
    try:
        authzid, authcid, password = (part.decode("utf-8") for part in parts)
    except UnicodeDecodeError:
        raise SaslFailed("a PLAIN response must be UTF-8") from None
    return authzid, authcid, password


def _attributes(message: str) -> dict[str, str]:
    attrs = {}
    for item in message.split(","):
        key, sep, value = item.partition("=")
        if not sep or len(key) != 1:
            raise SaslFailed("malformed SCRAM message")
        attrs.setdefault(key, value)
    return attrs


class ScramServer:
    """One SCRAM-SHA-256 exchange: client-first -> username; then the server-first for the
    stored keys; then client-final -> server-final (or SaslFailed on a wrong proof)."""

    def __init__(self, server_nonce: str | None = None) -> None:
        self._server_nonce = server_nonce or secrets.token_urlsafe(18)
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._gs2_header = ""

    def client_first(self, message: bytes) -> str:
        """The username the client asks for."""
        try:
            text = message.decode("utf-8")
        except UnicodeDecodeError:
            raise SaslFailed("SCRAM messages are UTF-8") from None
        cbind, _, rest = text.partition(",")
        authzid, _, bare = rest.partition(",")
        if cbind not in ("n", "y") or (authzid and not authzid.startswith("a=")):
            raise SaslFailed("unsupported SCRAM channel binding or header")
        attrs = _attributes(bare)
        if "m" in attrs or not attrs.get("n") or not attrs.get("r"):
            raise SaslFailed("SCRAM client-first needs n= and r=")
        self._gs2_header = f"{cbind},{authzid},"
        self._client_first_bare = bare
        self._nonce = attrs["r"] + self._server_nonce
        return attrs["n"].replace("=2C", ",").replace("=3D", "=")

    def server_first(self, keys: ScramKeys) -> bytes:
        salt = base64.b64encode(keys.salt).decode("ascii")
        self._server_first = f"r={self._nonce},s={salt},i={keys.iterations}"
        return self._server_first.encode("ascii")

    def client_final(self, message: bytes, keys: ScramKeys) -> bytes:
        """Check the proof; the server-final message (v=ServerSignature) if it is right."""
        try:
            text = message.decode("ascii")
        except UnicodeDecodeError:
            raise SaslFailed("malformed SCRAM client-final") from None
        without_proof, sep, proof_b64 = text.rpartition(",p=")
        if not sep:
            raise SaslFailed("SCRAM client-final needs p=")
        attrs = _attributes(without_proof)
        expected_c = base64.b64encode(self._gs2_header.encode()).decode("ascii")
        if attrs.get("r") != self._nonce or attrs.get("c") != expected_c:
            raise SaslFailed("SCRAM nonce or channel binding mismatch")
        try:
            proof = base64.b64decode(proof_b64.encode("ascii"), validate=True)
        except binascii.Error:
            raise SaslFailed("SCRAM proof is not base64") from None
        auth_message = ",".join((self._client_first_bare, self._server_first,
                                 without_proof)).encode("utf-8")
        signature = hmac.digest(keys.stored_key, auth_message, "sha256")
        if len(proof) != len(signature):
            raise SaslFailed("wrong SCRAM proof")
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), keys.stored_key):
            raise SaslFailed("wrong SCRAM proof")
        server_signature = hmac.digest(keys.server_key, auth_message, "sha256")
        return b"v=" + base64.b64encode(server_signature)


class AuthState:
    """One connection's exchange in progress (at most one)."""

    def __init__(self) -> None:
        self.failures = 0  # failed SASL attempts on this connection
        self.reset()

    def reset(self) -> None:
        self.waiting: str | None = None  # "AUTHENTICATE", "REGISTER", "PASSWORD" while busy
        self.mechanism: str | None = None
        self.chunks = ChunkBuffer()
        self.account = ""
        self.secret: Any = None  # a password until it is checked, then dropped
        self.scram: ScramServer | None = None
        self.scram_keys: ScramKeys | None = None
        self.scram_done = False
