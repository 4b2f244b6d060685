"""The pure building blocks of accounts: credentials (scrypt records, SCRAM keys with RFC
7677's test vector), SASL message handling (chunks, PLAIN, the SCRAM server) and the
failed-login throttle."""

from __future__ import annotations

import base64
import unittest

from chatd.credentials import (make_credentials, parse_scram, scram_keys_from_password,
                               verify_password)
from chatd.hub.throttle import BASE_DELAY_S, FREE_FAILURES, MAX_DELAY_S, Throttle
from chatd.session.sasl import (ChunkBuffer, ResponseTooLong, SaslFailed, ScramServer,
                                decode_plain, encode_chunks)

# RFC 7677 section 3
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
RFC_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
CREDS = make_credentials("pencil-and-paper")  # computed once: scrypt costs tens of ms


class CredentialsTest(unittest.TestCase):
    def test_records_carry_their_parameters_and_never_the_password(self):
        self.assertRegex(CREDS.password_hash, r"^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$")
        self.assertRegex(CREDS.scram, r"^scram-sha-256\$4096\$")
        self.assertNotIn("pencil", CREDS.password_hash + CREDS.scram)
        self.assertNotEqual(make_credentials("pencil-and-paper"), CREDS)  # fresh salts

    def test_verify(self):
        self.assertTrue(verify_password(CREDS.password_hash, "pencil-and-paper"))
        for wrong in ("pencil-and-pape", "", "PENCIL-AND-PAPER"):
            self.assertFalse(verify_password(CREDS.password_hash, wrong))
        for broken in ("", "scrypt$1$2", "md5$x$y$z$a$b", CREDS.password_hash + "$x"):
            self.assertFalse(verify_password(broken, "pencil-and-paper"))

    def test_scram_rfc7677_vector(self):
        keys = scram_keys_from_password(b"pencil", RFC_SALT, 4096)
        server = ScramServer(RFC_SERVER_NONCE)
        self.assertEqual(server.client_first(RFC_CLIENT_FIRST), "user")
        self.assertEqual(server.server_first(keys), RFC_SERVER_FIRST)
        self.assertEqual(server.client_final(RFC_CLIENT_FINAL, keys), RFC_SERVER_FINAL)

    def test_scram_wrong_proof_and_bad_messages(self):
        keys = scram_keys_from_password(b"not-pencil", RFC_SALT, 4096)
        server = ScramServer(RFC_SERVER_NONCE)
        server.client_first(RFC_CLIENT_FIRST)
        server.server_first(keys)
        with self.assertRaises(SaslFailed):
            server.client_final(RFC_CLIENT_FINAL, keys)
        for bad in (b"p=tls-unique,,n=user,r=x", b"n,,r=x", b"n,,n=user", b"\xff\xfe",
                    b"garbage"):
            with self.subTest(bad=bad), self.assertRaises(SaslFailed):
                ScramServer().client_first(bad)

    def test_stored_scram_record_parses(self):
        keys = parse_scram(CREDS.scram)
        self.assertIsNotNone(keys)
        self.assertEqual(keys.iterations, 4096)
        self.assertIsNone(parse_scram("scram-sha-1$1$x$y$z"))


class SaslMessagesTest(unittest.TestCase):
    def test_chunks(self):
        buf = ChunkBuffer()
        self.assertIsNone(buf.feed("A" * 400))  # exactly 400: more follows
        self.assertEqual(buf.feed("+"), base64.b64decode("A" * 400))
        self.assertEqual(buf.feed(base64.b64encode(b"hi").decode()), b"hi")
        self.assertEqual(buf.feed("+"), b"")  # an empty response
        with self.assertRaises(ResponseTooLong):
            ChunkBuffer().feed("A" * 401)
        buf = ChunkBuffer()
        with self.assertRaises(SaslFailed):  # chunks of the right size, too many: 904
            for _ in range(30):
                buf.feed("A" * 400)
        with self.assertRaises(SaslFailed):
            ChunkBuffer().feed("not base64!")

    def test_encode_chunks(self):
        self.assertEqual(encode_chunks(b""), ["+"])
        self.assertEqual(encode_chunks(b"x" * 300), [base64.b64encode(b"x" * 300).decode(), "+"])
        self.assertEqual(len(encode_chunks(b"x" * 301)), 2)

    def test_plain(self):
        self.assertEqual(decode_plain(b"\0alice\0secret pw"), ("", "alice", "secret pw"))
        self.assertEqual(decode_plain(b"alice\0alice\0pw"), ("alice", "alice", "pw"))
        self.assertEqual(decode_plain("\0zoë\0pässword".encode()), ("", "zoë", "pässword"))
        for bad in (b"alice", b"\0alice", b"\0\0pw", b"\0alice\0", b"a\0b\0c\0d", b"\0\xff\0pw"):
            with self.subTest(bad=bad), self.assertRaises(SaslFailed):
                decode_plain(bad)


class ThrottleTest(unittest.TestCase):
    def test_free_failures_then_doubling_delays(self):
        throttle = Throttle()
        for _ in range(FREE_FAILURES - 1):
            throttle.failed("k", 100.0)
            self.assertEqual(throttle.retry_after("k", 100.0), 0)
        throttle.failed("k", 100.0)
        self.assertEqual(throttle.retry_after("k", 100.0), BASE_DELAY_S)
        self.assertEqual(throttle.retry_after("k", 100.0 + BASE_DELAY_S), 0)
        throttle.failed("k", 103.0)
        self.assertEqual(throttle.retry_after("k", 103.0), 2 * BASE_DELAY_S)
        for _ in range(40):
            throttle.failed("k", 200.0)
        self.assertEqual(throttle.retry_after("k", 200.0), MAX_DELAY_S)
        self.assertEqual(throttle.retry_after("other", 200.0), 0)

    def test_success_and_quiet_forget(self):
        throttle = Throttle()
        for _ in range(FREE_FAILURES):
            throttle.failed("k", 0.0)
        throttle.succeeded("k")
        self.assertEqual(throttle.retry_after("k", 0.0), 0)
        for _ in range(FREE_FAILURES):
            throttle.failed("k", 0.0)
        throttle.failed("x", 10_000.0)  # much later: the quiet key is pruned
        self.assertEqual(len(throttle), 1)


if __name__ == "__main__":
    unittest.main()
