"""`chatd -c chatd.conf account add|passwd|delete|cert-add|cert-del NAME [FINGERPRINT]`: the
operator's account command. The password is read from stdin (first line) and hashed here, so
no password reaches the server. The write goes through the running server's control socket
(chatd/processes/control.py), so its writer stays the only one; when no server runs, the
command takes the history's lock (chatd/store/lock.py) and writes the file itself. One line
on stdout or stderr says what happened; the exit status is 0 for done, 1 for refused or
unreachable, 2 for a bad command line."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import sys
import time
from typing import TextIO

from chatd.config import Config
from chatd.credentials import make_credentials
from chatd.exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME
from chatd.identity import account_name_problem, password_problem
from chatd.limits import MAX_ACCOUNTS, MAX_CERTS_PER_ACCOUNT
from chatd.store import accounts, lock, schema

OPERATIONS = ("add", "passwd", "delete", "cert-add", "cert-del")
_STORE_OP = {"add": "create", "passwd": "passwd", "delete": "delete", "cert-add": "cert-add",
             "cert-del": "cert-del"}
CONTROL_TIMEOUT_S = 30.0
_FINGERPRINT = re.compile(r"[0-9a-f]{64}\Z")


class Refused(Exception):
    """The operation cannot be done; the message says why (exit status 1)."""


def run_account_command(config: Config, op: str, name: str, fingerprint: str | None,
                        stdin: TextIO) -> int:
    try:
        payload = _payload(config, op, name, fingerprint, stdin)
    except ValueError as exc:
        print(f"chatd: account {op}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        message = _through_server(config, op, name, payload)
        if message is None:
            message = _directly(config, op, name, payload)
    except Refused as exc:
        print(f"chatd: account {op} {name}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    print(f"chatd: {message}")
    return EXIT_OK


def _payload(config: Config, op: str, name: str, fingerprint: str | None,
             stdin: TextIO) -> dict:
    if op == "add":
        problem = account_name_problem(name, config.server_name)
        if problem:
            raise ValueError(f"{name!r}: {problem}")
    if op in ("cert-add", "cert-del"):
        fingerprint = (fingerprint or "").replace(":", "").lower()
        if not _FINGERPRINT.match(fingerprint):
            raise ValueError("give the certificate's SHA-256 fingerprint (64 hex digits)")
        return {"fingerprint": fingerprint}
    if fingerprint is not None:
        raise ValueError(f"'account {op}' takes only a name")
    if op not in ("add", "passwd"):
        return {}
    password = stdin.readline().rstrip("\r\n")
    if not password:
        raise ValueError("give the password on stdin (one line)")
    refused = password_problem(password)
    if refused:
        raise ValueError(refused[1])
    creds = make_credentials(password)
    return {"email": "", "password_hash": creds.password_hash, "scram": creds.scram}


def _through_server(config: Config, op: str, name: str, payload: dict) -> str | None:
    """Ask the running server; None if none is running (no control socket answers)."""
    path = lock.control_path(config.history_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONTROL_TIMEOUT_S)
    try:
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except OSError as exc:
            raise Refused(f"cannot reach the server at {path}: {exc.strerror}") from None
        request = {"op": op, "name": name, "payload": payload}
        try:
            sock.sendall(json.dumps(request).encode() + b"\n")
            answer = sock.makefile("rb").readline().decode("utf-8", "replace").strip()
        except OSError as exc:
            raise Refused(f"the server did not answer: {exc}") from None
    finally:
        sock.close()
    if not answer:
        raise Refused("the server closed the connection without answering")
    status, _, text = answer.partition(" ")
    if status != "ok":
        raise Refused(text.partition(" ")[2] or text)
    return text


def _directly(config: Config, op: str, name: str, payload: dict) -> str:
    """No server runs: write the file, holding its lock so that none starts meanwhile."""
    try:
        fd = lock.take(config.history_path)
    except lock.HistoryLocked:
        raise Refused("a chatd holds the history but its control socket does not answer "
                      "(starting or stopping?); try again") from None
    try:
        db = schema.open_for_writing(config.history_path, config.history_synchronous)
        try:
            return _apply(db, op, name, payload)
        finally:
            db.close()
    except (schema.HistoryError, sqlite3.Error) as exc:
        raise Refused(f"cannot write {config.history_path}: {exc}") from None
    finally:
        os.close(fd)


def _apply(db: sqlite3.Connection, op: str, name: str, payload: dict) -> str:
    exists = accounts.exists(db, name)
    if op == "add" and exists:
        raise Refused(f"the account {name} already exists")
    if op != "add" and not exists:
        raise Refused(f"there is no account {name}")
    if op == "add" and accounts.count(db) >= MAX_ACCOUNTS:
        raise Refused(f"the server holds {MAX_ACCOUNTS} accounts, its most")
    if op == "cert-add" and accounts.cert_count(db, name) >= MAX_CERTS_PER_ACCOUNT:
        raise Refused(f"{name} has {MAX_CERTS_PER_ACCOUNT} certificates, its most: remove"
                      " one first")
    accounts.apply_now(db, _STORE_OP[op], name, payload, int(time.time() * 1000))
    done = {"add": "created", "passwd": "password changed", "delete": "deleted",
            "cert-add": "certificate added", "cert-del": "certificate removed"}[op]
    return f"account {name} {done} (server not running: written to the file)"
