"""Password credentials: what an account stores instead of its password, and the checks
against it. Pure computation (hashlib, hmac, secrets), no I/O; each hash costs tens of
milliseconds, so only a worker's verification threads (chatd/worker.py) and the admin command
(chatd/admin.py) call `make_credentials` and `verify_password` — never the master's loop;
`chatd --hash-password` (chatd/cli.py) makes the same scrypt record for an [opers] line.

Two records per account, each carrying its own parameters so they can change later:
- `password_hash`: "scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>" (hashlib.scrypt, 16-byte random
  salt per account), checked for SASL PLAIN, PASSWORD and OPER (the [opers] config lines);
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
MIN_DIGEST_BYTES = 16  # a shorter stored digest would be guessable: not a record we accept


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


def make_password_hash(password: str, salt: bytes | None = None) -> str:
    """The scrypt record of `password` (a fresh random salt unless given, for tests): what an
    account stores, and what `chatd --hash-password` prints for an [opers] line."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password.encode("utf-8"), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def make_credentials(password: str, salt: bytes | None = None,
                     scram_salt: bytes | None = None) -> Credentials:
    """Both records for a new password (fresh random salts unless given, for tests)."""
    password_hash = make_password_hash(password, salt)
    keys = scram_keys_from_password(
        password.encode("utf-8"),
        scram_salt if scram_salt is not None else secrets.token_bytes(SALT_BYTES),
        SCRAM_ITERATIONS)
    scram = (f"scram-sha-256${keys.iterations}${_b64(keys.salt)}${_b64(keys.stored_key)}"
             f"${_b64(keys.server_key)}")
    return Credentials(password_hash, scram)


class ScryptRecord(NamedTuple):
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def parse_password_hash(password_hash: str) -> ScryptRecord | None:
    """The parts of an scrypt record, or None if it is not one that verify_password could
    check (wrong scheme, bad base64, parameters hashlib refuses or that need more memory than
    SCRYPT_MAXMEM). The config's [opers] values are checked with this at start."""
    try:
        scheme, n, r, p, salt, digest = password_hash.split("$")
        if scheme != "scrypt":
            return None
        record = ScryptRecord(int(n), int(r), int(p), _unb64(salt), _unb64(digest))
    except ValueError:  # (binascii.Error is a ValueError)
        return None
    n_ok = record.n > 1 and record.n & (record.n - 1) == 0  # a power of 2, as scrypt wants
    if (not n_ok or record.r < 1 or record.p < 1 or len(record.digest) < MIN_DIGEST_BYTES
            or 128 * record.r * (record.n + record.p + 2) > SCRYPT_MAXMEM):
        return None
    return record


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored scrypt record (constant-time comparison). A
    malformed record never matches."""
    record = parse_password_hash(password_hash)
    if record is None:
        return False
    try:
        actual = hashlib.scrypt(password.encode("utf-8"), salt=record.salt, n=record.n,
                                r=record.r, p=record.p, maxmem=SCRYPT_MAXMEM,
                                dklen=len(record.digest))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, record.digest)


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
