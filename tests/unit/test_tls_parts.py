"""The pure parts of TLS support: the IRCv3 STS value a session offers (never a duration
over plain text), what the session keeps from the handshake and sends the master, and the
WHOIS lines about TLS (671 for all, 276 to the user only)."""

import dataclasses
import unittest

from chatd.config import Config
from chatd.ipc import frames as ipc
from chatd.serverinfo import build_server_info
from chatd.session.capabilities import sts_value
from chatd.session.session import Session
from tests.unit.test_session import CONN, HOST, T0, feed, take_master, take_out


def tls_session(secure: bool, certfp: str | None = None, sts_duration_s: int = 300,
                tls_ports: tuple[int, ...] = (6697,)) -> Session:
    config = dataclasses.replace(Config(), sts_duration_s=sts_duration_s)
    session = Session(CONN, HOST, build_server_info(config, None, 0, tls_ports), T0)
    if secure:
        session.on_tls_established(certfp)
    return session


def sts_caps(session: Session, ls: str = "CAP LS 302") -> list[str]:
    feed(session, ls)
    [msg] = take_out(session)
    return [cap for cap in msg.params[-1].split() if cap.startswith("sts")]


class StsTest(unittest.TestCase):
    def test_value(self):
        cases = [
            (300, (6697, 7000), False, "port=6697"),
            (300, (6697,), True, "duration=300"),
            (0, (6697,), False, None),
            (0, (6697,), True, None),
            (300, (), False, None),
        ]
        for duration, ports, secure, expected in cases:
            with self.subTest(duration=duration, ports=ports, secure=secure):
                self.assertEqual(sts_value(duration, ports, secure), expected)

    def test_offered_only_with_cap_302(self):
        self.assertEqual(sts_caps(tls_session(False)), ["sts=port=6697"])
        self.assertEqual(sts_caps(tls_session(True)), ["sts=duration=300"])
        self.assertEqual(sts_caps(tls_session(False), "CAP LS"), [])
        self.assertEqual(sts_caps(tls_session(True, sts_duration_s=0)), [])

    def test_sts_cannot_be_requested(self):
        session = tls_session(False)
        feed(session, "CAP REQ :sts")
        [msg] = take_out(session)
        self.assertEqual(msg.params[1], "NAK")


class SessionTlsTest(unittest.TestCase):
    def test_registered_frame_carries_tls_and_fingerprint(self):
        cases = [(False, None), (True, None), (True, "ab" * 32)]
        for secure, certfp in cases:
            with self.subTest(secure=secure, certfp=certfp):
                session = tls_session(secure, certfp)
                self.assertEqual((session.secure, session.certfp), (secure, certfp))
                feed(session, "NICK al")
                session.on_nick_granted("al")
                session.on_synced(T0)
                feed(session, "USER al 0 * :Al")
                frames = take_master(session)
                self.assertIn(ipc.Registered(CONN, "al", "Al", HOST, secure, certfp), frames)

    def test_frames_default_to_plain(self):
        self.assertEqual(ipc.NewConn(1, "h"), ipc.NewConn(1, "h", False))
        self.assertEqual(ipc.Registered(1, "u", "r", "h"),
                         ipc.Registered(1, "u", "r", "h", False, None))
        encoded = bytearray(ipc.encode(ipc.NewConn(1, "h", True)))
        self.assertEqual(ipc.decode_frames(encoded), [ipc.NewConn(1, "h", True)])


if __name__ == "__main__":
    unittest.main()
