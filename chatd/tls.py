"""TLS for client connections, shared by the composition root (which builds the server's
context once, before the fork, so that a bad certificate stops chatd at start) and the
worker (which wraps, handshakes and reads its TLS clients with the helpers below, driven by
its selector). The master never sees TLS: it only tells a worker that a connection came
from a TLS listener.

Non-blocking TLS has traps this module takes care of: a handshake or a read may need the
socket writable (SSLWantWriteError), bytes OpenSSL has already decrypted are invisible to
select (`pending()` must be drained), and the SSLWant* errors are OSErrors, so they must be
caught before the generic ones.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import socket
import ssl
from pathlib import Path
from typing import NamedTuple

from chatd.tls_client_certs import accept_any_client_certificate

# Records carry at most 16 KiB: one read takes several records, up to this much, so a
# client's burst is not spread over many loop iterations.
READ_LIMIT_BYTES = 1 << 16


class TlsSetupError(Exception):
    """The certificate or key cannot be used; the message is one line for the operator."""


class ServerTls(NamedTuple):
    context: ssl.SSLContext
    client_certs_problem: str | None  # why client certificates are not requested, or None


def server_context(cert: Path, key: Path) -> ServerTls:
    """The context of every TLS listener: TLS 1.2 or newer, the PEM pair loaded, client
    certificates requested (optional, self-signed accepted) when that can be done safely."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        # An encrypted key would make OpenSSL prompt on the terminal: give it no password.
        context.load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as exc:
        raise TlsSetupError(f"[tls] cert {cert} and key {key} are not a matching PEM "
                            f"certificate and unencrypted key ({exc.reason or exc})") from None
    except OSError as exc:
        raise TlsSetupError(f"[tls] cannot read {cert} or {key}: "
                            f"{exc.strerror or exc}") from None
    return ServerTls(context, accept_any_client_certificate(context))


def fresh_context(cert: Path | None, key: Path | None,
                  current: ssl.SSLContext) -> ssl.SSLContext:
    """After a reload: a context from the certificate and key as they are on disk now (the
    master checked them before it sent the reload); `current` if that fails meanwhile."""
    if cert is None or key is None:
        return current
    try:
        return server_context(cert, key).context
    except TlsSetupError as exc:
        logging.getLogger(__name__).error(
            "TLS certificate not reloaded, keeping the previous one: %s", exc)
        return current

def _no_password() -> bytes:
    return b""


def wrap(context: ssl.SSLContext, sock: socket.socket) -> ssl.SSLSocket:
    """The server side of a TLS connection over a connected, non-blocking socket; the
    handshake is left to `handshake`."""
    return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)


class Step(enum.Enum):
    DONE = "done"
    WANT_READ = "want read"
    WANT_WRITE = "want write"


class HandshakeFailed(Exception):
    """The peer does not speak TLS (plain text, garbage, a refused version) or went away."""


def handshake(sock: ssl.SSLSocket) -> Step:
    """Advance the handshake as far as the socket allows."""
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        return Step.WANT_READ
    except ssl.SSLWantWriteError:
        return Step.WANT_WRITE
    except ssl.SSLError as exc:
        raise HandshakeFailed(exc.reason or str(exc)) from None
    except OSError as exc:  # reset, EOF in violation of the protocol, ...
        raise HandshakeFailed(exc.strerror or str(exc) or "connection lost") from None
    return Step.DONE


def certificate_fingerprint(sock: ssl.SSLSocket) -> str | None:
    """SHA-256 of the client certificate's DER, in lowercase hex; None without one."""
    der = sock.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else None


def receive(sock: ssl.SSLSocket) -> bytes | None:
    """What the client sent, decrypted: b"" at its end of the stream, None when nothing is
    complete yet. Reads until OpenSSL has no more (including the decrypted bytes `pending()`
    holds, which select cannot see) or READ_LIMIT_BYTES, so nothing is stranded."""
    data = b""
    while len(data) < READ_LIMIT_BYTES:
        try:
            chunk = sock.recv(READ_LIMIT_BYTES - len(data))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            # (WantWrite on a read: a TLS 1.3 key update; OpenSSL retries on the next call.)
            break
        if not chunk:
            return data  # b"" only if nothing came before the end
        data += chunk
    return data or None


def send(sock: ssl.SSLSocket, data: bytearray) -> int:
    """Write what the socket takes; bytes written (0 when it would block). The caller keeps
    the unsent rest and passes it again, starting with the same bytes: OpenSSL requires a
    blocked write to be retried with the same data (Python allows the buffer to move)."""
    try:
        return sock.send(data)
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError, InterruptedError):
        return 0
