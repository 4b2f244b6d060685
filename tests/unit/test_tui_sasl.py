"""tui.sasl: SCRAM-SHA-256 against RFC 7677's example, PLAIN, and AUTHENTICATE chunking."""

import base64
import unittest

from tui.sasl import (CHUNK_BYTES, PLAIN, SCRAM, ChunkReader, Credentials, SaslAttempt,
                      SaslError, ScramClient, authenticate_params, usable_mechanisms)

# RFC 7677 section 3: user "user", password "pencil".
RFC_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
RFC_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
USER = Credentials("user", "pencil")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ScramTest(unittest.TestCase):
    def test_rfc7677_example(self) -> None:
        client = ScramClient(USER, nonce=RFC_NONCE)
        self.assertEqual(client.first(), RFC_CLIENT_FIRST)
        self.assertEqual(client.final(RFC_SERVER_FIRST), RFC_CLIENT_FINAL)
        client.verify(RFC_SERVER_FINAL)  # no exception: the server is who it claims

    def test_attempt_speaks_the_rfc_exchange_over_authenticate(self) -> None:
        attempt = SaslAttempt(SCRAM, USER, nonce=RFC_NONCE)
        self.assertEqual(attempt.respond(b""), [b64(RFC_CLIENT_FIRST)])
        self.assertEqual(attempt.respond(RFC_SERVER_FIRST), [b64(RFC_CLIENT_FINAL)])
        self.assertEqual(attempt.respond(RFC_SERVER_FINAL), ["+"])

    def test_a_server_that_does_not_know_the_password_is_caught(self) -> None:
        bad = [
            (RFC_SERVER_FIRST, b"v=" + base64.b64encode(b"x" * 32)),  # wrong signature
            (RFC_SERVER_FIRST, b"e=invalid-proof"),
        ]
        for first, final in bad:
            with self.subTest(final=final):
                client = ScramClient(USER, nonce=RFC_NONCE)
                client.final(first)
                with self.assertRaises(SaslError):
                    client.verify(final)

    def test_malformed_server_first(self) -> None:
        cases = [b"r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  # nonce not ours
                 b"r=" + RFC_NONCE.encode() + b",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  # ours only
                 b"r=" + RFC_NONCE.encode() + b"x,s=!!,i=4096",
                 b"r=" + RFC_NONCE.encode() + b"x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
                 b"r=" + RFC_NONCE.encode() + b"x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999",
                 b"r=" + RFC_NONCE.encode() + b"x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many"]
        for first in cases:
            with self.subTest(first=first):
                with self.assertRaises(SaslError):
                    ScramClient(USER, nonce=RFC_NONCE).final(first)

    def test_username_is_escaped(self) -> None:
        client = ScramClient(Credentials("a,b=c", "pw"), nonce="n")
        self.assertEqual(client.first(), b"n,,n=a=2Cb=3Dc,r=n")

    def test_password_not_in_repr(self) -> None:
        self.assertNotIn("pencil", repr(USER))


class PlainTest(unittest.TestCase):
    def test_plain_payload(self) -> None:
        attempt = SaslAttempt(PLAIN, Credentials("alice", "s3cret"))
        self.assertEqual(attempt.respond(b""), [b64(b"alice\0alice\0s3cret")])
        with self.assertRaises(SaslError):
            attempt.respond(b"")  # PLAIN has one step only


class FramingTest(unittest.TestCase):
    def test_chunks(self) -> None:
        cases = [(b"", ["+"]), (b"abc", ["YWJj"]),
                 (b"x" * 300, [b64(b"x" * 300)[:400], "+"]),  # exactly 400: a "+" follows
                 (b"y" * 301, [b64(b"y" * 301)[:400], b64(b"y" * 301)[400:]])]
        for payload, expected in cases:
            with self.subTest(size=len(payload)):
                params = authenticate_params(payload)
                self.assertEqual(params, expected)
                self.assertTrue(all(len(p) <= CHUNK_BYTES for p in params))
                reader = ChunkReader()
                results = [reader.feed(p) for p in params]
                self.assertEqual(results[-1], payload)
                self.assertTrue(all(r is None for r in results[:-1]))

    def test_reader_limits(self) -> None:
        reader = ChunkReader()
        with self.assertRaises(SaslError):
            for _ in range(30):
                reader.feed("A" * CHUNK_BYTES)
        with self.assertRaises(SaslError):
            ChunkReader().feed("not base64!")

    def test_usable_mechanisms(self) -> None:
        cases = [("PLAIN,EXTERNAL,SCRAM-SHA-256", [SCRAM, PLAIN]), ("EXTERNAL", []),
                 ("plain", [PLAIN]), ("", [SCRAM, PLAIN])]
        for offered, expected in cases:
            with self.subTest(offered=offered):
                self.assertEqual(usable_mechanisms(offered), expected)


if __name__ == "__main__":
    unittest.main()
