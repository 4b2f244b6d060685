"""Password credentials: what an account stores instead of its password, and the checks
against it. Pure computation (hashlib, hmac, secrets), no I/O; each hash costs tens of
milliseconds, so only a worker's verification threads (chatd/worker.py) and the admin command
(chatd/admin.py) call `make_credentials` and `verify_password` — never the master's loop.

Two records per account, each carrying its own parameters so they can change later:
- `password_hash`: "scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>" (hashlib.scrypt, 16-byte random
  salt per account), checked for SASL PLAIN and PASSWORD;
- `scram`: "scram-sha-256$<iterations>$<salt b64>$<StoredKey b64>$<ServerKey b64>" (RFC 5802
  section 3, RFC 7677), enough for a SCRAM-SHA-256 exchange without the password.
The password itself is never kept, stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import NamedTuple

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SCRYPT_MAXMEM = 64 << 20
SCRAM_ITERATIONS = 4096  # RFC 7677 section 4: at least 4096
SALT_BYTES = 16


class Credentials(NamedTuple):
    password_hash: str
    scram: str


class ScramKeys(NamedTuple):
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)


def scram_keys_from_password(password: bytes, salt: bytes, iterations: int) -> ScramKeys:
    """RFC 5802 section 3: SaltedPassword, then StoredKey = H(ClientKey) and ServerKey."""
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return ScramKeys(salt, iterations, hashlib.sha256(client_key).digest(), server_key)


def make_credentials(password: str, salt: bytes | None = None,
                     scram_salt: bytes | None = None) -> Credentials:
    """Both records for a new password (fresh random salts unless given, for tests)."""
    secret = password.encode("utf-8")
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    password_hash = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"
    keys = scram_keys_from_password(
        secret, scram_salt if scram_salt is not None else secrets.token_bytes(SALT_BYTES),
        SCRAM_ITERATIONS)
    scram = (f"scram-sha-256${keys.iterations}${_b64(keys.salt)}${_b64(keys.stored_key)}"
             f"${_b64(keys.server_key)}")
    return Credentials(password_hash, scram)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored scrypt record (constant-time comparison). A
    malformed record never matches."""
    try:
        scheme, n, r, p, salt, digest = password_hash.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = _scrypt(password.encode("utf-8"), _unb64(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def parse_scram(scram: str) -> ScramKeys | None:
    try:
        scheme, iterations, salt, stored, server = scram.split("$")
        if scheme != "scram-sha-256":
            return None
        return ScramKeys(_unb64(salt), int(iterations), _unb64(stored), _unb64(server))
    except ValueError:
        return None


_DUMMY: list[Credentials] = []


def dummy_credentials() -> Credentials:
    """Credentials of no account, checked when the account does not exist so that a wrong
    name costs the same time as a wrong password (no account enumeration by timing)."""
    if not _DUMMY:
        _DUMMY.append(make_credentials(secrets.token_hex(16)))
    return _DUMMY[0]
