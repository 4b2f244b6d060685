"""Reloading the configuration of a running chatd (SIGHUP; chatd/processes/reloading.py):
the MOTD, the log level, flood settings and the TLS certificate change live for everyone
connected and every new connection, with nobody disconnected; a key that needs a restart is
logged and left as it runs; a config with errors is refused as a whole, each problem logged
on one line, and chatd goes on with the old one; systemd hears RELOADING=1 then READY=1."""

from __future__ import annotations

import hashlib
import re
import signal
import tempfile
import unittest
from pathlib import Path

from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client
from tests.support.notify import NotifySocket
from tests.support.tls import (OPENSSL_MISSING, client_context, der_fingerprint,
                               make_certificate, openssl_available, tls_config)
from tests.support.wait import wait_until


def write_config(server, sections: dict[str, dict[str, str]]) -> None:
    """Rewrite the server's config file: its test defaults, changed by `sections`."""
    text = server.conf_path.read_text(encoding="utf-8")
    current: dict[str, dict[str, str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            current.setdefault(section, {})
        elif "=" in line:
            key, _, value = line.partition("=")
            current[section][key.strip()] = value.strip()
    for name, values in sections.items():
        current.setdefault(name, {}).update(values)
    server.conf_path.write_text("".join(
        f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
        for name, values in current.items()), encoding="utf-8")


class ReloadTest(unittest.TestCase):
    def reload(self, server, expect: str) -> None:
        """SIGHUP, then wait for the log line `expect` (a regex) that follows it."""
        seen = len(server.log_lines)
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: re.search(expect, "\n".join(server.log_lines[seen:])), 10,
                   message=f"log line {expect!r} after SIGHUP")

    def test_motd_level_and_flood_change_live_and_nobody_is_dropped(self) -> None:
        notify = NotifySocket(self)
        server = start_chatd(self, extra={"server": {"log_level": "info"}},
                             env={"NOTIFY_SOCKET": notify.env_value})
        motd = server.workdir / "motd.txt"
        alice = open_client(self, server.port, "alice")
        alice.send("MOTD")
        alice.expect(r" 422 alice :MOTD File is missing$")
        motd.write_text("welcome to the new chatd\n", encoding="utf-8")
        write_config(server, {"server": {"motd": str(motd), "log_level": "debug",
                                         "workers": "3", "listen": "127.0.0.1:1"}})
        self.reload(server, r"configuration reloaded from \S+: .*motd_path")
        log = server.log_text()
        self.assertIn("reload: [server] workers changed; it takes effect at the next restart",
                      log)
        self.assertIn("reload: [server] listen changed", log)
        alice.send("MOTD")  # the same connection, the new text
        alice.expect(r" 372 alice :- welcome to the new chatd$")
        bob = open_client(self, server.port, "bob")  # the old port: listen waits for a restart
        self.assertIn(":chat.test 372 bob :- welcome to the new chatd", bob.seen)
        # A worker's debug line: the workers took the new log level too.
        wait_until(lambda: re.search(r"DEBUG chatd\[worker-\d:\d+\] chatd\.worker: connection \d+ "
                                     r"from 127\.0\.0\.1", server.log_text()), 10,
                   message="a worker's debug line: the new log level")
        self.assertEqual(2, len(server.child_pids()) - 1)  # still two workers and the writer
        fields = [f for _t, f in notify.collect()]
        reloading = next(i for i, f in enumerate(fields) if "RELOADING=1" in f)
        self.assertTrue(any("MONOTONIC_USEC=" in a for a in fields[reloading]))
        self.assertTrue(any("READY=1" in f for f in fields[reloading + 1:]))
        alice.send("PRIVMSG bob :still here")
        bob.expect(r"PRIVMSG bob :still here$")

    def test_a_config_with_errors_is_refused_whole_and_the_old_one_stays(self) -> None:
        server = start_chatd(self)
        alice = open_client(self, server.port, "alice")
        motd = server.workdir / "motd.txt"
        motd.write_text("first\n", encoding="utf-8")
        write_config(server, {"server": {"motd": str(motd)}})
        self.reload(server, r"configuration reloaded")
        write_config(server, {"server": {"motd": str(server.workdir / "gone.txt"),
                                         "workers": "many"},
                              "colours": {"red": "1"}})
        self.reload(server, r"reload refused: the running configuration stays in force")
        log = server.log_text()
        for problem in ("unknown section [colours]", "workers = 'many'", "gone.txt"):
            self.assertRegex(log, rf"reload refused: .*{re.escape(problem)}")
        alice.send("MOTD")
        alice.expect(r" 372 alice :- first$")
        carol = open_client(self, server.port, "carol")
        carol.send("PING :ok")
        carol.expect(r"PONG \S+ :?ok$")

    def test_fakelag_settings_apply_to_clients_already_connected(self) -> None:
        server = start_chatd(self, extra={"limits": {"exempt": "10.0.0.0/8"}})
        alice = open_client(self, server.port, "alice", caps=("echo-message",))
        write_config(server, {"limits": {"flood_rate": "0"}})  # off: nothing held back
        self.reload(server, r"configuration reloaded from \S+: .*flood_rate")
        for i in range(60):
            alice.send(f"PRIVMSG #lobby :fast {i}")
        alice.expect(r"PRIVMSG #lobby :fast 59$", timeout_s=5)  # at 2/s this takes 30 s

    @unittest.skipUnless(openssl_available(), OPENSSL_MISSING)
    def test_a_renewed_certificate_serves_new_handshakes_and_old_sessions_go_on(self) -> None:
        folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        cert, key = make_certificate(folder, "live")
        first = der_fingerprint(cert)
        server = start_chatd(self, extra=tls_config(cert, key))
        early = open_client(self, server.tls_port, "early", tls=client_context())
        renewed_cert, renewed_key = make_certificate(folder, "renewed")
        cert.write_bytes(renewed_cert.read_bytes())
        key.write_bytes(renewed_key.read_bytes())
        self.reload(server, r"configuration reloaded")
        late = open_client(self, server.tls_port, "late", tls=client_context())
        seen = hashlib.sha256(late.sock.getpeercert(binary_form=True)).hexdigest()
        self.assertEqual(der_fingerprint(cert), seen)
        self.assertNotEqual(first, seen)
        early.send("PRIVMSG late :same session as before")
        late.expect(r"PRIVMSG late :same session as before$")


if __name__ == "__main__":
    unittest.main()
