"""The master's control socket: a Unix socket beside the history file (mode 0600: only the
user chatd runs as may use it) through which `chatd account ...` (chatd/admin.py) asks the
running server to add, change or delete an account, so that the writer stays the only
process writing the file. One request per connection: a JSON line
{"op": ..., "name": ..., "payload": {...}} (credentials already hashed by the admin command:
no password reaches the master), answered with one line, "ok ..." or "error <kind> ...",
once the write is committed. Never blocks: non-blocking sockets, bounded reads."""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
from pathlib import Path

log = logging.getLogger(__name__)

CONTROL_KEY = "control"  # the listening socket's data in the master's selector
MAX_REQUEST_BYTES = 1 << 16


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()


class ControlServer:
    def __init__(self, path: Path, selector: selectors.BaseSelector) -> None:
        self.path = path
        self.selector = selector
        self.listener: socket.socket | None = None
        self.clients: dict[int, _Client] = {}
        self._next_id = 1

    def start(self) -> None:
        try:
            self.path.unlink(missing_ok=True)  # left by a chatd that was killed (we hold the lock)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old_umask = os.umask(0o177)  # created 0600, never briefly wider
            try:
                sock.bind(str(self.path))
            finally:
                os.umask(old_umask)
            sock.listen(8)
            sock.setblocking(False)
        except OSError as exc:
            log.warning("no control socket at %s (%s): the account command will not reach "
                        "this server", self.path, exc.strerror or exc)
            return
        self.listener = sock
        self.selector.register(sock, selectors.EVENT_READ, CONTROL_KEY)

    def close(self) -> None:
        for client in list(self.clients.values()):
            self._drop(client)
        if self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None
            self.path.unlink(missing_ok=True)

    def accept(self) -> None:
        assert self.listener is not None
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("control socket: accept failed: %s", exc)
            return
        sock.setblocking(False)
        control_id = self._next_id
        self._next_id += 1
        self.clients[control_id] = _Client(sock)
        self.selector.register(sock, selectors.EVENT_READ, (CONTROL_KEY, control_id))

    def read(self, control_id: int) -> dict | None:
        """A complete request from this client, if one arrived (bad ones are answered)."""
        client = self.clients.get(control_id)
        if client is None:
            return None
        try:
            data = client.sock.recv(MAX_REQUEST_BYTES)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return None
        client.buf += data
        if b"\n" not in client.buf:
            if len(client.buf) > MAX_REQUEST_BYTES:
                self.answer(control_id, b"error usage request too long")
            return None
        self.selector.unregister(client.sock)  # one request per connection
        try:
            request = json.loads(client.buf.split(b"\n", 1)[0])
            if not (isinstance(request, dict) and isinstance(request.get("op"), str)
                    and isinstance(request.get("name"), str)
                    and isinstance(request.get("payload", {}), dict)):
                raise ValueError("not a request")
        except ValueError:
            self.answer(control_id, b"error usage malformed request")
            return None
        return request

    def answer(self, control_id: int, text: bytes) -> None:
        client = self.clients.get(control_id)
        if client is None:
            return
        try:
            client.sock.send(text + b"\n")  # one short line: fits the empty socket buffer
        except OSError:
            pass
        self._drop(client)

    def _drop(self, client: _Client) -> None:
        for control_id, other in list(self.clients.items()):
            if other is client:
                del self.clients[control_id]
        try:
            self.selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass  # unregistered once its request was read
        client.sock.close()
