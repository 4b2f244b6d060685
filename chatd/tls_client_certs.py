"""Requesting client certificates without verifying them: their SHA-256 fingerprint is what
identifies a user (SASL EXTERNAL, WHOIS 276), so a self-signed certificate must be accepted.
Python's ssl cannot do that: with CERT_OPTIONAL, OpenSSL verifies the certificate against the
trust store and fails the handshake, and there is no verify callback in the ssl module.

The standard-library way is ctypes: find the SSL_CTX of the SSLContext and call libssl's
SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, callback) with a callback that always returns 1.
Reaching into CPython's memory is only safe when everything checks out, so before setting
anything this module verifies that:
- the interpreter is a CPython release build (the SSL_CTX pointer comes right after the
  object header in PySSLContext; a debug build's header is larger);
- the libssl loaded through ctypes is the one Python's _ssl module uses: the library mapped
  into this process, whose OpenSSL_version() string equals ssl.OPENSSL_VERSION;
- the pointer is the context's: SSL_CTX_get_options() equals context.options, and
  SSL_CTX_get_verify_mode() follows a change of context.verify_mode made through Python.
If any check fails, client certificates are not requested and the reason is returned, for
one warning at start. The callback object is kept referenced for the life of the process
(OpenSSL holds only its address).
"""

from __future__ import annotations

import ctypes
import ssl
import sys

SSL_VERIFY_PEER = 0x01
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_KEEP_ALIVE: list[object] = []  # the callbacks and libraries OpenSSL points into


@_VERIFY_CALLBACK
def _accept_any(preverify_ok: int, store_ctx: int) -> int:
    return 1  # the certificate is an identity, not a proof of trust: keep the handshake going


def accept_any_client_certificate(context: ssl.SSLContext) -> str | None:
    """Make `context` request a client certificate and accept any (or none). None on
    success; otherwise why not, with `context` unchanged."""
    if sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"):
        return "not a CPython release build"
    try:
        libssl = _python_libssl()
    except OSError as exc:
        return f"cannot load libssl: {exc}"
    if libssl is None:
        return "cannot tell which libssl Python's ssl module uses"
    try:
        version_fn = libssl.OpenSSL_version
        get_options, get_mode = libssl.SSL_CTX_get_options, libssl.SSL_CTX_get_verify_mode
        set_verify = libssl.SSL_CTX_set_verify
    except AttributeError as exc:
        return f"libssl lacks a function: {exc}"
    version_fn.restype, version_fn.argtypes = ctypes.c_char_p, [ctypes.c_int]
    loaded = (version_fn(0) or b"").decode("ascii", "replace")
    if loaded != ssl.OPENSSL_VERSION:
        return f"libssl is {loaded!r}, Python's ssl uses {ssl.OPENSSL_VERSION!r}"
    get_options.restype = ctypes.c_uint64 if ssl.OPENSSL_VERSION_INFO >= (3,) else ctypes.c_ulong
    get_options.argtypes = [ctypes.c_void_p]
    get_mode.restype, get_mode.argtypes = ctypes.c_int, [ctypes.c_void_p]
    set_verify.restype = None
    set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
    ctx_ptr = _ssl_ctx_pointer(context)
    if not ctx_ptr:
        return "no SSL_CTX found in the SSLContext"
    if get_options(ctx_ptr) != int(context.options) or get_mode(ctx_ptr) != context.verify_mode:
        return "the SSL_CTX found does not match the SSLContext"
    original = context.verify_mode
    context.verify_mode = ssl.CERT_OPTIONAL  # through Python: the pointer must see it
    seen = get_mode(ctx_ptr)
    context.verify_mode = original
    if seen != SSL_VERIFY_PEER or get_mode(ctx_ptr) != int(original):
        return "the SSL_CTX found does not follow the SSLContext"
    _KEEP_ALIVE.extend((_accept_any, libssl))
    set_verify(ctx_ptr, SSL_VERIFY_PEER, _accept_any)
    if context.verify_mode != ssl.CERT_OPTIONAL:
        return "setting the verify mode had no effect"  # not expected after the checks
    return None


def _ssl_ctx_pointer(context: ssl.SSLContext) -> int:
    """PySSLContext is {PyObject_HEAD; SSL_CTX *ctx; ...}: the pointer after the header."""
    header = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    return ctypes.c_void_p.from_address(id(context) + header).value or 0


def _python_libssl() -> ctypes.CDLL | None:
    """The libssl already mapped into this process (loaded by _ssl); None if there is not
    exactly one (e.g. _ssl linked statically)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[5].strip() for line in maps
                     if line.count(" ") >= 5 and "/libssl." in line}
    except OSError:
        return None
    paths = {p for p in paths if p.startswith("/")}
    if len(paths) != 1:
        return None
    return ctypes.CDLL(paths.pop())  # dlopen of a loaded library: the same handle
