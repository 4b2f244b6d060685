"""ircproto.framing: bytes -> lines with the protocol's limits, decoding, UTF-8 splitting.

Limits (modern.ircdocs.horse, IRCv3 message-tags): 512 bytes for the part after the tags,
CRLF included; 8191 bytes for the tag section, '@' and trailing space included.
"""

import random
import unittest

from ircproto.framing import (
    MAX_BODY_BYTES,
    MAX_LINE_BYTES,
    MAX_TAGS_BYTES,
    LineReader,
    LineTooLong,
    decode_line,
    encode_line,
    pack_words,
    split_utf8,
    truncate_utf8,
)

BODY_MAX = MAX_BODY_BYTES - 2  # without CRLF


def tagged(tags_len: int, body: bytes = b"PING x") -> bytes:
    """A line whose tag section (with '@' and the space) is exactly tags_len bytes."""
    assert tags_len >= 5
    return b"@k=" + b"v" * (tags_len - 4) + b" " + body


def short(item: object) -> str:
    """A readable repr of a possibly huge line, for failure messages."""
    text = repr(item)
    return text if len(text) < 80 else f"{text[:40]}...({len(text)} chars)"


def body_of(length: int) -> bytes:
    return b"PRIVMSG #a :" + b"x" * (length - len(b"PRIVMSG #a :"))


class LineReaderTest(unittest.TestCase):
    def test_feeds(self):
        # (chunks fed one after another, lines expected after each feed)
        cases = [
            ("CRLF", [b"PING a\r\n"], [[b"PING a"]]),
            ("LF only", [b"PING a\n"], [[b"PING a"]]),
            ("two in one", [b"A\r\nB\n"], [[b"A", b"B"]]),
            ("split across feeds", [b"PI", b"NG a\r", b"\nPONG\r\n"],
             [[], [], [b"PING a", b"PONG"]]),
            ("CR and LF in different feeds", [b"X\r", b"\n"], [[], [b"X"]]),
            ("empty lines skipped", [b"\r\n\n\r\nX\r\n\n"], [[b"X"]]),
            ("lone CR inside a line is kept", [b"A\rB\r\n"], [[b"A\rB"]]),
            ("only the last CR is stripped", [b"A\r\r\n"], [[b"A\r"]]),
            ("no newline yet", [b"PING"], [[]]),
            ("binary kept as bytes", [b"\xff\xfe\x00x\n"], [[b"\xff\xfe\x00x"]]),
        ]
        for name, chunks, expected in cases:
            with self.subTest(name):
                reader = LineReader()
                got = [reader.feed(chunk) for chunk in chunks]
                self.assertEqual(got, expected)

    def test_bare_cr_ends_a_line_on_the_server_side(self):
        # RFC 1459 8.2: a server treats CR as a line end too, so a CR smuggled inside a line
        # cannot reach other clients as a forged second line.
        cases = [
            ([b"A\rB\r\n"], [[b"A", b"B"]]),
            ([b"PRIVMSG #a :x\rQUIT :forged\r\n"], [[b"PRIVMSG #a :x", b"QUIT :forged"]]),
            ([b"PING a\r\n"], [[b"PING a"]]),
            ([b"PING a\r"], [[b"PING a"]]),
            ([b"PING a\r", b"\nPONG\r\n"], [[b"PING a"], [b"PONG"]]),
            ([b"\r\r\n\r"], [[]]),
        ]
        for chunks, expected in cases:
            with self.subTest(chunks=chunks):
                reader = LineReader(cr_ends_line=True)
                self.assertEqual([reader.feed(c) for c in chunks], expected)

    def test_byte_at_a_time(self):
        reader = LineReader()
        data = b"NICK a\r\nUSER u 0 * :Real Name\nPING :x\r\n"
        lines = []
        for i in range(len(data)):
            lines += reader.feed(data[i:i + 1])
        self.assertEqual(lines, [b"NICK a", b"USER u 0 * :Real Name", b"PING :x"])
        self.assertEqual(reader.pending_bytes, 0)

    def test_length_limits(self):
        # (name, line without terminator, too long?)
        cases = [
            ("body at the limit", body_of(BODY_MAX), False),
            ("body one over", body_of(BODY_MAX + 1), True),
            ("body far over", body_of(5000), True),
            ("tags at the limit", tagged(MAX_TAGS_BYTES), False),
            ("tags one over", tagged(MAX_TAGS_BYTES + 1), True),
            ("tags and body at their limits", tagged(MAX_TAGS_BYTES, body_of(BODY_MAX)), False),
            ("tags fine, body one over", tagged(100, body_of(BODY_MAX + 1)), True),
            ("small tags do not lend bytes to the body", tagged(10, body_of(BODY_MAX + 5)), True),
        ]
        for name, line, too_long in cases:
            for terminator, cr_ends_line in [(b"\r\n", False), (b"\n", False), (b"\r\n", True)]:
                with self.subTest(name, terminator=terminator, cr_ends_line=cr_ends_line):
                    reader = LineReader(cr_ends_line=cr_ends_line)
                    out = reader.feed(line + terminator + b"PING ok\r\n")
                    self.assertEqual(len(out), 2)
                    if too_long:
                        self.assertIsInstance(out[0], LineTooLong, short(out[0]))
                        self.assertGreaterEqual(out[0].length, len(line))
                    else:
                        self.assertTrue(out[0] == line, short(out[0]))
                    self.assertEqual(out[1], b"PING ok")

    def test_max_line_constant(self):
        self.assertEqual(MAX_LINE_BYTES, MAX_BODY_BYTES + MAX_TAGS_BYTES)

    def test_custom_limits(self):
        reader = LineReader(max_body_bytes=12, max_tags_bytes=8)
        out = reader.feed(b"0123456789\r\n0123456789a\r\n@a=1234 0123456789\n@a=12345 x\n")
        self.assertEqual(out[0], b"0123456789")
        self.assertIsInstance(out[1], LineTooLong)
        self.assertEqual(out[2], b"@a=1234 0123456789")
        self.assertIsInstance(out[3], LineTooLong)

    def test_endless_line_is_bounded_and_reported_once(self):
        # (chunk size, number of chunks): a peer that never sends LF
        runs = [(1, 9000), (1000, 100), (4096, 30), (100_000, 3)]
        for (chunk_size, chunks), cr_ends_line in [(r, cr) for r in runs for cr in (False, True)]:
            with self.subTest(chunk_size=chunk_size, chunks=chunks, cr_ends_line=cr_ends_line):
                reader = LineReader(cr_ends_line=cr_ends_line)
                self.assertEqual(reader.feed(b"NICK a\r\n"), [b"NICK a"])
                for _ in range(chunks):
                    self.assertEqual(reader.feed(b"x" * chunk_size), [])
                    self.assertLessEqual(reader.pending_bytes, MAX_LINE_BYTES)
                out = reader.feed(b"tail\r\nPING a\r\n")
                self.assertEqual(len(out), 2, out)
                self.assertIsInstance(out[0], LineTooLong)
                self.assertGreaterEqual(out[0].length, chunk_size * chunks)
                self.assertEqual(out[1], b"PING a")
                # and afterwards everything is normal again
                self.assertEqual(reader.feed(b"PONG b\n"), [b"PONG b"])
                self.assertEqual(reader.feed(b"PO"), [])
                self.assertEqual(reader.feed(b"NG c\r\n"), [b"PONG c"])
                self.assertEqual(reader.pending_bytes, 0)

    def test_endless_line_ended_by_bare_lf_chunk(self):
        reader = LineReader()
        reader.feed(b"y" * (MAX_LINE_BYTES + 1))
        self.assertEqual(reader.pending_bytes, 0)
        out = reader.feed(b"\n")
        self.assertEqual(len(out), 1)
        self.assertIsInstance(out[0], LineTooLong)
        self.assertEqual(reader.feed(b"\n\r\n"), [])  # empty lines stay skipped

    def test_long_line_that_is_still_legal_is_held(self):
        # A tagged line may legitimately take MAX_LINE_BYTES; it must not be cut early.
        line = tagged(MAX_TAGS_BYTES, body_of(BODY_MAX))
        self.assertEqual(len(line), MAX_LINE_BYTES - 2)
        reader = LineReader()
        self.assertEqual(reader.feed(line), [])
        self.assertEqual(reader.pending_bytes, len(line))
        self.assertEqual(reader.feed(b"\r"), [])
        self.assertTrue(reader.feed(b"\n") == [line])


class DecodeTest(unittest.TestCase):
    def test_decode_line(self):
        cases = [
            (b"PRIVMSG #a :hi", "PRIVMSG #a :hi"),
            ("PRIVMSG #a :caf\u00e9 \u2603 \U0001f600".encode(),
             "PRIVMSG #a :caf\u00e9 \u2603 \U0001f600"),
            (b"PRIVMSG #a :caf\xe9", "PRIVMSG #a :caf\u00e9"),            # Latin-1 fallback
            (b"\xff\xfe", "\u00ff\u00fe"),
            # one invalid byte makes the whole line Latin-1 (no mixing)
            ("\u00e9".encode() + b"\xe9", "\u00c3\u00a9\u00e9"),
            (b"a\x00b\x00", "ab"),                                        # NUL dropped
            (b"\x00", ""),
            ("\u00e9".encode() + b"\x00", "\u00e9"),  # NUL dropped before decoding
            (b"", ""),
        ]
        for raw, text in cases:
            with self.subTest(raw=raw):
                self.assertEqual(decode_line(raw), text)

    def test_encode_line(self):
        cases = [
            ("PING x", b"PING x\r\n"),
            ("PRIVMSG #a :\u00e9", b"PRIVMSG #a :\xc3\xa9\r\n"),
            ("", b"\r\n"),
            ("bad \ud800 surrogate", b"bad ? surrogate\r\n"),
        ]
        for line, raw in cases:
            with self.subTest(line=line):
                self.assertEqual(encode_line(line), raw)


class Utf8BudgetTest(unittest.TestCase):
    def test_truncate(self):
        euro = "\u20ac"       # 3 bytes
        face = "\U0001f600"   # 4 bytes
        cases = [
            ("abc", 10, "abc"),
            ("abc", 3, "abc"),
            ("abc", 2, "ab"),
            ("abc", 0, ""),
            ("\u00e9", 1, ""),
            ("a\u00e9", 2, "a"),
            ("a\u00e9", 3, "a\u00e9"),
            (euro * 2, 5, euro),
            (euro * 2, 6, euro * 2),
            (face + "x", 3, ""),
            (face + "x", 4, face),
            ("", 5, ""),
        ]
        for text, budget, expected in cases:
            with self.subTest(text=text, budget=budget):
                got = truncate_utf8(text, budget)
                self.assertEqual(got, expected)
                self.assertLessEqual(len(got.encode()), budget)
                self.assertTrue(text.startswith(got))

    def test_split(self):
        euro = "\u20ac"
        cases = [
            ("", 10, [""]),
            ("abc", 10, ["abc"]),
            ("abcdefghij", 3, ["abc", "def", "ghi", "j"]),
            ("the quick brown fox", 10, ["the quick ", "brown fox"]),
            ("hello world", 8, ["hello ", "world"]),
            # a space too early in the piece is not worth a short piece: hard cut instead
            ("a bcdefghij", 6, ["a bcde", "fghij"]),
            (euro * 3, 4, [euro, euro, euro]),
            (euro * 3, 7, [euro * 2, euro]),
            ("a" + euro * 2, 4, ["a" + euro, euro]),
            ("\u00e9" * 5, 3, ["\u00e9", "\u00e9", "\u00e9", "\u00e9", "\u00e9"]),
        ]
        for text, budget, expected in cases:
            with self.subTest(text=text, budget=budget):
                self.assertEqual(split_utf8(text, budget), expected)

    def test_split_invariants(self):
        texts = [
            "word " * 200,
            "x" * 1000,
            ("caf\u00e9 \u2603 \U0001f600 " * 60).strip(),
            "\U0001f600" * 300,
            "a" * 399 + " " + "b" * 400,
        ]
        for text in texts:
            for budget in (4, 5, 17, 100, 400, 450):
                with self.subTest(text=text[:20], budget=budget):
                    pieces = split_utf8(text, budget)
                    self.assertEqual("".join(pieces), text)  # nothing lost, nothing added
                    for piece in pieces:
                        self.assertGreater(len(piece), 0)
                        self.assertLessEqual(len(piece.encode()), budget)

    def test_split_prefers_spaces(self):
        text = " ".join(f"word{i:03d}" for i in range(100))
        for piece in split_utf8(text, 100)[:-1]:
            with self.subTest(piece=piece):
                self.assertTrue(piece.endswith(" "))

    def test_split_budget_smaller_than_a_character_is_refused(self):
        # Splitting cannot progress: it must say so instead of looping forever.
        for text, budget in [("\u20ac\u20ac", 2), ("\U0001f600", 3), ("ab", 0), ("a\u00e9", 1)]:
            with self.subTest(text=text, budget=budget):
                with self.assertRaises(ValueError):
                    split_utf8(text, budget)


if __name__ == "__main__":
    unittest.main()


class PackWordsTest(unittest.TestCase):
    """pack_words against the obvious word-by-word packing (which it must equal), on ASCII
    (the fast path) and non-ASCII words, with words longer than the budget."""

    @staticmethod
    def reference(words: list[str], max_bytes: int) -> list[str]:
        pieces, piece = [], []
        for word in words:
            if piece and len(" ".join([*piece, word]).encode()) > max_bytes:
                pieces.append(" ".join(piece))
                piece = []
            piece.append(word)
        return pieces + ([" ".join(piece)] if piece else [])

    def test_same_as_word_by_word(self):
        rng = random.Random(5)
        alphabets = ("abcXYZ_[]", "abcé€😀")
        for trial in range(400):
            alphabet = alphabets[trial % 2]
            words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
                     for _ in range(rng.randint(0, 60))]
            budget = rng.randint(8, 80)
            with self.subTest(trial=trial, budget=budget):
                got = pack_words(" ".join(words), budget)
                self.assertEqual(got, self.reference(words, budget))
                self.assertEqual(" ".join(got).split(" ") if got else [], words)
                for piece in got:
                    if " " in piece:  # only a lone word may be over the budget
                        self.assertLessEqual(len(piece.encode()), budget)

    def test_edges(self):
        self.assertEqual(pack_words("", 10), [])
        self.assertEqual(pack_words("abc", 3), ["abc"])
        self.assertEqual(pack_words("ab cd", 5), ["ab cd"])
        self.assertEqual(pack_words("ab cd", 4), ["ab", "cd"])
        self.assertEqual(pack_words("a longword b", 3), ["a", "longword", "b"])
