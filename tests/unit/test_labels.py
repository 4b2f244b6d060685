"""chatd.labels: IRCv3 labeled-response and batch framing on encoded lines.

The label goes on exactly one message of a response (ircv3.net/specs/extensions/labeled-response):
an ACK when there is nothing to say, the line itself when there is one, else the start of a
`labeled-response` batch that wraps the lines (or only the first line, for a client without
`batch`).
"""

import unittest

from chatd.session import labels
from ircproto.message import Message, parse

SERVER = "irc.test"


def enc(line: str) -> bytes:
    return (line + "\r\n").encode()


def parsed(lines: list[bytes]) -> list[Message]:
    out = []
    for raw in lines:
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == 1, raw
        out.append(parse(raw[:-2].decode()))
    return out


class AddTagTest(unittest.TestCase):
    def test_add_tag(self):
        cases = [
            (b":a PRIVMSG #c :hi\r\n", b"@label=x :a PRIVMSG #c :hi\r\n"),
            (b"@time=t :a PRIVMSG #c :hi\r\n", b"@label=x;time=t :a PRIVMSG #c :hi\r\n"),
            (b"PING :x\r\n", b"@label=x PING :x\r\n"),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(labels.add_tag(line, b"label=x"), expected)

    def test_has_batch_tag(self):
        cases = [
            (b":a PRIVMSG #c :batch=b1\r\n", False),     # in the text, not a tag
            (b"@batch=b1 :a PRIVMSG #c :hi\r\n", True),
            (b"@time=t;batch=b1 :a PRIVMSG #c :hi\r\n", True),
            (b"@time=t;mybatch=b1 :a PRIVMSG #c :hi\r\n", False),
            (b"@time=t :a PRIVMSG #c :hi\r\n", False),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(labels.has_batch_tag(line), expected)


class WrapBatchTest(unittest.TestCase):
    def test_wrap(self):
        lines = [enc(":a PRIVMSG #c :one"), enc("@time=t :a PRIVMSG #c :two")]
        out = parsed(labels.wrap_batch(lines, "b7", SERVER, "chathistory #c"))
        self.assertEqual([(m.source, m.command, m.params) for m in (out[0], out[-1])],
                         [(SERVER, "BATCH", ("+b7", "chathistory", "#c")),
                          (SERVER, "BATCH", ("-b7",))])
        self.assertEqual(out[0].tags, {})
        self.assertEqual([m.tags for m in out[1:-1]],
                         [{"batch": "b7"}, {"batch": "b7", "time": "t"}])
        self.assertEqual([m.params[-1] for m in out[1:-1]], ["one", "two"])

    def test_empty_batch(self):
        out = parsed(labels.wrap_batch([], "b1", SERVER, "chathistory #c"))
        self.assertEqual([m.params[0] for m in out], ["+b1", "-b1"])

    def test_first_tag_goes_on_the_start_only(self):
        out = parsed(labels.wrap_batch([enc("PONG x")], "b1", SERVER, "labeled-response",
                                       b"label=L"))
        self.assertEqual([m.tags for m in out], [{"label": "L"}, {"batch": "b1"}, {}])

    def test_nested_batch_lines_keep_their_own_tag(self):
        inner = labels.wrap_batch([enc(":a PRIVMSG #c :x")], "in", SERVER, "chathistory #c")
        out = parsed(labels.wrap_batch(inner, "out", SERVER, "labeled-response"))
        self.assertEqual([(m.params[0] if m.command == "BATCH" else m.command, m.tags)
                          for m in out],
                         [("+out", {}),
                          ("+in", {"batch": "out"}),      # the nested start is in the outer
                          ("PRIVMSG", {"batch": "in"}),
                          ("-in", {"batch": "out"}),
                          ("-out", {})])


class LabelResponseTest(unittest.TestCase):
    def test_shapes(self):
        one = [enc(":irc.test PONG irc.test x")]
        two = [enc(":irc.test 351 a v s :c"), enc("@time=t :irc.test 391 a s :now")]
        # (name, lines, batch ref, [(command or batch param, tags)] expected)
        cases = [
            ("nothing: ACK", [], "b1", [("ACK", {"label": "L"})]),
            ("nothing, no batch: ACK", [], None, [("ACK", {"label": "L"})]),
            ("one line", one, "b1", [("PONG", {"label": "L"})]),
            ("one line, no batch", one, None, [("PONG", {"label": "L"})]),
            ("several lines: a labeled-response batch", two, "b1",
             [("+b1", {"label": "L"}), ("351", {"batch": "b1"}),
              ("391", {"batch": "b1", "time": "t"}), ("-b1", {})]),
            ("several lines, no batch: only the first is labeled", two, None,
             [("351", {"label": "L"}), ("391", {"time": "t"})]),
        ]
        for name, lines, ref, expected in cases:
            with self.subTest(name):
                out = parsed(labels.label_response(lines, "L", SERVER, ref))
                got = [(m.params[0] if m.command == "BATCH" else m.command, m.tags)
                       for m in out]
                self.assertEqual(got, expected)
                labeled = [m for m in out if "label" in m.tags]
                self.assertEqual(len(labeled), 1)  # exactly one message carries the label
                if ref is not None and len(lines) > 1:
                    self.assertEqual(out[0].params[1], "labeled-response")
                if not lines:
                    self.assertEqual(out[0].source, SERVER)

    def test_a_response_that_is_one_batch_gets_the_label_on_its_start(self):
        # A CHATHISTORY answer is already one batch: no labeled-response batch around it.
        for rows in (0, 1, 3):
            with self.subTest(rows=rows):
                body = [enc(f"@time=t :a PRIVMSG #c :{i}") for i in range(rows)]
                batch = labels.wrap_batch(body, "b1", SERVER, "chathistory #c")
                out = parsed(labels.label_response(batch, "L", SERVER, "b2"))
                self.assertEqual(len(out), rows + 2)
                self.assertEqual((out[0].params[:2], out[0].tags),
                                 (("+b1", "chathistory"), {"label": "L"}))
                self.assertEqual(out[-1].params, ("-b1",))
                self.assertTrue(all(m.tags.get("batch") == "b1" for m in out[1:-1]))
                self.assertNotIn("b2", b"".join(labels.label_response(batch, "L", SERVER,
                                                                      "b2")).decode())

    def test_a_batch_with_more_lines_is_wrapped(self):
        batch = labels.wrap_batch([enc(":a PRIVMSG #c :x")], "b1", SERVER, "chathistory #c")
        cases = [
            ("a line after the batch", batch + [enc(":irc.test NOTICE a :after")]),
            ("a line before the batch", [enc(":irc.test NOTICE a :before")] + batch),
            ("two batches", batch + labels.wrap_batch([], "b3", SERVER, "chathistory #d")),
        ]
        for name, lines in cases:
            with self.subTest(name):
                out = parsed(labels.label_response(lines, "L", SERVER, "b2"))
                self.assertEqual((out[0].params[:2], out[0].tags),
                                 (("+b2", "labeled-response"), {"label": "L"}))
                self.assertEqual(out[-1].params, ("-b2",))
                self.assertEqual(len(out), len(lines) + 2)
                for m in out[1:-1]:
                    inner = m.command != "BATCH" and m.params[-1] == "x"
                    self.assertEqual(m.tags.get("batch"), "b1" if inner else "b2", m)

    def test_label_value_is_escaped(self):
        for label in ("a b", "x;y", "back\\slash", "plain-123"):
            with self.subTest(label=label):
                for lines, command in (([], "ACK"), ([enc("PONG x")], "PONG"),
                                       ([enc("PONG x"), enc("PONG y")], "BATCH")):
                    out = parsed(labels.label_response(lines, label, SERVER, "b1"))
                    # a raw space or ';' would have split the tag section or the tag
                    self.assertEqual((out[0].command, out[0].tags["label"]), (command, label))


if __name__ == "__main__":
    unittest.main()
