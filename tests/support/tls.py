"""TLS for tests: a throwaway self-signed certificate made with the `openssl` CLI (tests that
need one skip, with a reason, when it is not installed: .ci/run installs it), and client
contexts that trust it without verification (the tests check the server, not the PKI)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

OPENSSL_MISSING = "the openssl command is not installed (.ci/run installs it)"


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def make_certificate(folder: Path, name: str = "server", common_name: str = "localhost"
                     ) -> tuple[Path, Path]:
    """A self-signed EC certificate and its unencrypted key, as PEM files in `folder`."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", f"/CN={common_name}", "-addext", f"subjectAltName=DNS:{common_name}"],
        check=True, capture_output=True, timeout=30)
    return cert, key


def der_fingerprint(cert: Path) -> str:
    """SHA-256 of the certificate's DER, lowercase hex (what chatd shows in WHOIS 276)."""
    import hashlib
    der = ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))
    return hashlib.sha256(der).hexdigest()


def client_context(cert: Path | None = None, key: Path | None = None,
                   maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client context that does not verify the server (its certificate is throwaway),
    optionally presenting a client certificate or capped at an old TLS version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = maximum
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def tls_config(cert: Path, key: Path, sts_duration_s: int = 0) -> dict[str, dict[str, str]]:
    """The [tls] section for start_chatd's `extra`: one TLS listener on any free port."""
    section = {"listen": "127.0.0.1:0", "cert": str(cert), "key": str(key)}
    if sts_duration_s:
        section["sts_duration"] = str(sts_duration_s)
    return {"tls": section}
