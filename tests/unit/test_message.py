"""ircproto.message: parsing and formatting IRC lines, IRCv3 tag escaping.

Cases follow the modern client protocol (modern.ircdocs.horse "Message format"), the IRCv3
message-tags spec ("Escaping values"), and a selection of the situations the public
ircdocs/parser-tests (msg-split, msg-join) exercise. chatd upper-cases the command on parse,
so the expected commands below are upper case.
"""

import unittest

from ircproto.message import (
    Message,
    ProtocolError,
    client_only_tags,
    escape_tag_value,
    format_message,
    format_tags,
    is_valid_tag_key,
    numeric_line,
    parse,
    parse_tags,
    unescape_tag_value,
)

# (line, tags, source, command, params)
SPLIT_CASES = [
    ("foo bar baz asdf", {}, None, "FOO", ("bar", "baz", "asdf")),
    (":coolguy foo bar baz asdf", {}, "coolguy", "FOO", ("bar", "baz", "asdf")),
    ("foo bar baz :asdf quux", {}, None, "FOO", ("bar", "baz", "asdf quux")),
    ("foo bar baz :", {}, None, "FOO", ("bar", "baz", "")),
    ("foo bar baz ::asdf", {}, None, "FOO", ("bar", "baz", ":asdf")),
    (":coolguy foo bar baz :  asdf quux ", {}, "coolguy", "FOO", ("bar", "baz", "  asdf quux ")),
    (":coolguy PRIVMSG bar :lol :) ", {}, "coolguy", "PRIVMSG", ("bar", "lol :) ")),
    (":coolguy foo bar baz :  ", {}, "coolguy", "FOO", ("bar", "baz", "  ")),
    ("@a=b;c=32;k;rt=ql7 foo", {"a": "b", "c": "32", "k": "", "rt": "ql7"}, None, "FOO", ()),
    ("@a=b\\\\and\\nk;c=72\\s45;d=gh\\:764 foo",
     {"a": "b\\and\nk", "c": "72 45", "d": "gh;764"}, None, "FOO", ()),
    ("@c;h=;a=b :quux ab cd", {"c": "", "h": "", "a": "b"}, "quux", "AB", ("cd",)),
    (":src JOIN #chan", {}, "src", "JOIN", ("#chan",)),
    (":src JOIN :#chan", {}, "src", "JOIN", ("#chan",)),
    (":src AWAY", {}, "src", "AWAY", ()),
    (":src AWAY ", {}, "src", "AWAY", ()),
    # a tab is not SPACE: it stays inside the source or parameter
    (":cool\tguy foo bar baz", {}, "cool\tguy", "FOO", ("bar", "baz")),
    (":coolguy foo b\tar baz", {}, "coolguy", "FOO", ("b\tar", "baz")),
    ("PRIVMSG bob\u00a0x :hi", {}, None, "PRIVMSG", ("bob\u00a0x", "hi")),
    (":coolguy!ag@net\x035w\x03ork.admin PRIVMSG foo :bar baz", {},
     "coolguy!ag@net\x035w\x03ork.admin", "PRIVMSG", ("foo", "bar baz")),
    ("@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4= :irc.example.com COMMAND p1 p2 :p3 p3",
     {"tag1": "value1", "tag2": "", "vendor1/tag3": "value2", "vendor2/tag4": ""},
     "irc.example.com", "COMMAND", ("p1", "p2", "p3 p3")),
    ("@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4 COMMAND p1 p2 :p3 p3",
     {"tag1": "value1", "tag2": "", "vendor1/tag3": "value2", "vendor2/tag4": ""},
     None, "COMMAND", ("p1", "p2", "p3 p3")),
    ("COMMAND", {}, None, "COMMAND", ()),
    ("@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND", {"foo": "\\\\;\\s \r\n"}, None, "COMMAND", ()),
    # several spaces between parts (RFC 1459 leniency, kept by the modern spec's parsers)
    (":gravel.mozilla.org 432  #momo :Erroneous Nickname: Illegal characters", {},
     "gravel.mozilla.org", "432", ("#momo", "Erroneous Nickname: Illegal characters")),
    (":gravel.mozilla.org MODE #tckk +n ", {}, "gravel.mozilla.org", "MODE", ("#tckk", "+n")),
    (":services.esper.net MODE #foo-bar +o foobar  ", {}, "services.esper.net", "MODE",
     ("#foo-bar", "+o", "foobar")),
    ("@a=1   :src    CMD   x    y   :  z", {"a": "1"}, "src", "CMD", ("x", "y", "  z")),
    # escapes are read one character at a time
    ("@tag1=value\\\\ntest COMMAND", {"tag1": "value\\ntest"}, None, "COMMAND", ()),
    # an unknown escape drops the backslash; a trailing lone backslash is dropped
    ("@tag1=value\\1 COMMAND", {"tag1": "value1"}, None, "COMMAND", ()),
    ("@tag1=value1\\ COMMAND", {"tag1": "value1"}, None, "COMMAND", ()),
    ("@tag1=\\ COMMAND", {"tag1": ""}, None, "COMMAND", ()),
    # duplicate keys: the last one wins; a vendored key is a different key
    ("@tag1=1;tag2=3;tag3=4;tag1=5 COMMAND", {"tag1": "5", "tag2": "3", "tag3": "4"},
     None, "COMMAND", ()),
    ("@tag1=1;tag2=3;tag1=5;vendor/tag2=8 COMMAND",
     {"tag1": "5", "tag2": "3", "vendor/tag2": "8"}, None, "COMMAND", ()),
    ("@a;a=x COMMAND", {"a": "x"}, None, "COMMAND", ()),
    ("@a=x;a COMMAND", {"a": ""}, None, "COMMAND", ()),
    # empty items between semicolons are skipped
    ("@;a=1;;b=2; COMMAND", {"a": "1", "b": "2"}, None, "COMMAND", ()),
    # a value may hold '=' (only the first '=' separates key and value)
    ("@a=b=c COMMAND", {"a": "b=c"}, None, "COMMAND", ()),
    (":SomeOp MODE #channel :+i", {}, "SomeOp", "MODE", ("#channel", "+i")),
    (":SomeOp MODE #channel +oo SomeUser :AnotherUser", {}, "SomeOp", "MODE",
     ("#channel", "+oo", "SomeUser", "AnotherUser")),
    ("privmsg #a :hi", {}, None, "PRIVMSG", ("#a", "hi")),
    ("001 me :Welcome", {}, None, "001", ("me", "Welcome")),
    ("PRIVMSG #a :caf\u00e9 \u2603", {}, None, "PRIVMSG", ("#a", "caf\u00e9 \u2603")),
]

BAD_LINES = [
    "",
    " ",
    "   ",
    ":",
    ":src",
    ":src ",
    ":src   ",
    "@a=b",
    "@a=b ",
    "@a=b :src",
    "@a=b :src  ",
    ":src :only trailing",
    "@=value COMMAND",
    "@a=1;=2 COMMAND",
    ": COMMAND",
]

# (tags, source, command, params, acceptable formatted lines) -- msg-join style
JOIN_CASES = [
    ({}, None, "foo", ("bar", "baz", "asdf"), {"foo bar baz asdf", "foo bar baz :asdf"}),
    ({}, "src", "AWAY", (), {":src AWAY"}),
    ({}, "src", "AWAY", ("",), {":src AWAY :"}),
    ({}, "coolguy", "foo", ("bar", "baz", "asdf"),
     {":coolguy foo bar baz asdf", ":coolguy foo bar baz :asdf"}),
    ({}, None, "foo", ("bar", "baz", "asdf quux"), {"foo bar baz :asdf quux"}),
    ({}, None, "foo", ("bar", "baz", ""), {"foo bar baz :"}),
    ({}, None, "foo", ("bar", "baz", ":asdf"), {"foo bar baz ::asdf"}),
    ({}, "coolguy", "foo", ("bar", "baz", "  asdf quux "), {":coolguy foo bar baz :  asdf quux "}),
    ({}, "coolguy", "PRIVMSG", ("bar", "lol :) "), {":coolguy PRIVMSG bar :lol :) "}),
    ({}, "coolguy", "foo", ("bar", "baz", "  "), {":coolguy foo bar baz :  "}),
    ({}, "coolguy", "foo", ("b\tar", "baz"), {":coolguy foo b\tar baz", ":coolguy foo b\tar :baz"}),
    # a tag without value is written bare: never turned into "key=" (size limits)
    ({"asd": ""}, "coolguy", "foo", ("bar", "baz", "  "), {"@asd :coolguy foo bar baz :  "}),
    ({"a": "b\\and\nk", "d": "gh;764"}, None, "foo", (),
     {"@a=b\\\\and\\nk;d=gh\\:764 foo", "@d=gh\\:764;a=b\\\\and\\nk foo"}),
    ({"a": "b\\and\nk", "d": "gh;764"}, None, "foo", ("par1", "par2"),
     {"@a=b\\\\and\\nk;d=gh\\:764 foo par1 par2", "@a=b\\\\and\\nk;d=gh\\:764 foo par1 :par2",
      "@d=gh\\:764;a=b\\\\and\\nk foo par1 par2", "@d=gh\\:764;a=b\\\\and\\nk foo par1 :par2"}),
    ({"foo": "\\\\;\\s \r\n"}, None, "COMMAND", (), {"@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND"}),
    ({"time": "2026-01-01T00:00:00.000Z", "msgid": "7"}, "n!u@h", "PRIVMSG", ("#a", "hi there"),
     {"@time=2026-01-01T00:00:00.000Z;msgid=7 :n!u@h PRIVMSG #a :hi there"}),
]

# (tag value, escaped form) per IRCv3 message-tags "Escaping values"
ESCAPES = [
    ("", ""),
    ("plain", "plain"),
    (";", "\\:"),
    (" ", "\\s"),
    ("\\", "\\\\"),
    ("\r", "\\r"),
    ("\n", "\\n"),
    ("a;b c\\d\re\nf", "a\\:b\\sc\\\\d\\re\\nf"),
    ("\\s", "\\\\s"),  # a literal backslash-s is not a space
    ("caf\u00e9=1", "caf\u00e9=1"),
]

# (raw escaped value, unescaped) including what the spec says about invalid escapes
UNESCAPES = [(escaped, value) for value, escaped in ESCAPES] + [
    ("\\", ""),            # lone trailing backslash dropped
    ("ab\\", "ab"),
    ("\\x", "x"),          # unknown escape: drop the backslash
    ("\\b\\t", "bt"),
    ("a\\\\\\", "a\\"),    # escaped backslash then a trailing lone one
    ("\\:\\:", ";;"),
]

# Messages that format_message must refuse: (description, message)
UNWRITABLE = [
    ("space in middle param", Message("PRIVMSG", ("a b", "text"))),
    ("empty middle param", Message("PRIVMSG", ("", "text"))),
    ("colon-led middle param", Message("PRIVMSG", (":a", "text"))),
    ("CR in trailing", Message("PRIVMSG", ("#a", "x\ry"))),
    ("LF in trailing", Message("PRIVMSG", ("#a", "x\ny"))),
    ("CRLF in trailing", Message("PRIVMSG", ("#a", "x\r\nQUIT"))),
    ("NUL in trailing", Message("PRIVMSG", ("#a", "x\x00y"))),
    ("LF in middle", Message("PRIVMSG", ("#a\n", "x"))),
    ("NUL in middle", Message("PRIVMSG", ("#a\x00", "x"))),
    ("LF in only param", Message("NICK", ("a\nb",))),
    ("empty command", Message("")),
    ("space in command", Message("PRIV MSG", ("a",))),
    ("CRLF in command", Message("PING\r\nQUIT")),
    ("space in source", Message("PING", ("x",), "a b")),
    ("LF in source", Message("PING", ("x",), "a\nb")),
    ("NUL in source", Message("PING", ("x",), "a\x00")),
    ("empty tag key", Message("PING", ("x",), None, {"": "v"})),
    ("= in tag key", Message("PING", ("x",), None, {"a=b": "v"})),
    ("; in tag key", Message("PING", ("x",), None, {"a;b": "v"})),
    ("space in tag key", Message("PING", ("x",), None, {"a b": "v"})),
    ("LF in tag key", Message("PING", ("x",), None, {"a\n": "v"})),
    ("NUL in tag value", Message("PING", ("x",), None, {"a": "\x00"})),
]


class ParseTest(unittest.TestCase):
    def test_split_cases(self):
        for line, tags, source, command, params in SPLIT_CASES:
            with self.subTest(line=line):
                msg = parse(line)
                self.assertEqual(msg.tags, tags)
                self.assertEqual(msg.source, source)
                self.assertEqual(msg.command, command)
                self.assertEqual(msg.params, params)

    def test_lines_without_a_command_are_protocol_errors(self):
        for line in BAD_LINES:
            with self.subTest(line=line):
                with self.assertRaises(ProtocolError):
                    parse(line)

    def test_protocol_error_is_a_value_error(self):
        self.assertTrue(issubclass(ProtocolError, ValueError))

    def test_param_accessor(self):
        msg = parse("CMD a b :c d")
        cases = [(0, None, "a"), (2, None, "c d"), (3, None, None), (3, "dflt", "dflt")]
        for index, default, expected in cases:
            with self.subTest(index=index, default=default):
                self.assertEqual(msg.param(index, default), expected)

    def test_source_nick(self):
        cases = [
            (":nick!user@host PRIVMSG a b", "nick"),
            (":nick@host PRIVMSG a b", "nick"),
            (":server.example NOTICE a b", "server.example"),
            ("PRIVMSG a b", None),
        ]
        for line, nick in cases:
            with self.subTest(line=line):
                self.assertEqual(parse(line).source_nick, nick)


class FormatTest(unittest.TestCase):
    def test_join_cases(self):
        for tags, source, command, params, matches in JOIN_CASES:
            with self.subTest(command=command, params=params, tags=tags):
                line = format_message(Message(command, params, source, tags))
                self.assertIn(line, matches)

    def test_method_and_function_agree(self):
        msg = Message("PRIVMSG", ("#a", "hello there"), "n!u@h", {"k": "v"})
        self.assertEqual(msg.format(), format_message(msg))

    def test_unwritable_messages_are_refused(self):
        for what, msg in UNWRITABLE:
            with self.subTest(what):
                with self.assertRaises(ValueError):
                    format_message(msg)

    def test_empty_source_is_omitted(self):
        self.assertEqual(format_message(Message("PING", ("x",), "")), "PING x")

    def test_round_trips(self):
        for tags, source, command, params, _matches in JOIN_CASES:
            msg = Message(command.upper(), params, source, tags)
            with self.subTest(msg=msg):
                self.assertEqual(parse(format_message(msg)), msg)
        for line, tags, source, command, params in SPLIT_CASES:
            msg = Message(command, params, source, tags)
            with self.subTest(line=line):
                self.assertEqual(parse(format_message(msg)), msg)

    def test_tricky_params_round_trip(self):
        trailing_values = ["", " ", ":", "::", " :x", "a :b", "  lead", "trail  ", "\t",
                           "\x01ACTION waves\x01",
                           "\u00e9\u00e8", "@not a tag", ":not a source"]
        for value in trailing_values:
            msg = Message("PRIVMSG", ("#chan", value), "n!u@h")
            with self.subTest(value=value):
                self.assertEqual(parse(format_message(msg)), msg)


class TagEscapingTest(unittest.TestCase):
    def test_escape(self):
        for value, escaped in ESCAPES:
            with self.subTest(value=value):
                self.assertEqual(escape_tag_value(value), escaped)

    def test_unescape(self):
        for raw, value in UNESCAPES:
            with self.subTest(raw=raw):
                self.assertEqual(unescape_tag_value(raw), value)

    def test_escaped_value_never_contains_separators(self):
        for value, _ in ESCAPES:
            escaped = escape_tag_value(value)
            with self.subTest(value=value):
                for forbidden in ";", " ", "\r", "\n":
                    self.assertNotIn(forbidden, escaped)

    def test_parse_and_format_tags(self):
        cases = [
            ("a=1;b;c=x\\sy", {"a": "1", "b": "", "c": "x y"}),
            ("", {}),
            ("+draft/reply=abc", {"+draft/reply": "abc"}),
            ("example.com/key=\\:", {"example.com/key": ";"}),
        ]
        for raw, tags in cases:
            with self.subTest(raw=raw):
                self.assertEqual(parse_tags(raw), tags)
                self.assertEqual(parse_tags(format_tags(tags)), tags)

    def test_missing_and_empty_values_are_the_same(self):
        self.assertEqual(parse_tags("a"), parse_tags("a="))
        self.assertEqual(format_tags({"a": ""}), "a")


class TagKeyTest(unittest.TestCase):
    def test_key_grammar(self):
        # (key, valid per message-tags: ['+'] [vendor '/'] letters, digits, hyphens)
        cases = [
            ("a", True),
            ("time", True),
            ("+typing", True),
            ("+draft/reply", True),
            ("+example.com/foo-bar", True),
            ("xn--e1afmkfd.org/foo", True),
            ("+a1-B2", True),
            ("", False),
            ("+", False),
            ("++a", False),
            ("+a/", False),
            ("+/a", False),
            ("+a/b/c", False),
            ("+a..b/c", False),
            ("+a_b", False),
            ("+a\x1b[31m", False),     # ESC
            ("+a\x07", False),         # BEL
            ("+\u202ea", False),       # bidi override
            ("+caf\u00e9", False),     # non-ASCII
            ("+\u0663", False),        # an Arabic-Indic digit is not an ASCII digit
            ("+a.b", False),           # a dot only in the vendor
            ("+a\n", False),
        ]
        for key, valid in cases:
            with self.subTest(key=key):
                self.assertEqual(is_valid_tag_key(key), valid)

    def test_client_only_tags_keep_prefixed_well_formed_keys(self):
        cases = [
            ({"+a": "1", "time": "x"}, {"+a": "1"}),
            ({"+a\x1b": "1", "+b": "\x1b"}, {"+b": "\x1b"}),  # values are the client's
            ({"+\x07": "", "+c/d": ""}, {"+c/d": ""}),
            ({}, {}),
        ]
        for tags, kept in cases:
            with self.subTest(tags=tags):
                self.assertEqual(client_only_tags(tags), kept)

    def test_the_parser_keeps_any_key(self):
        # Receivers treat names as opaque: a client reading a server's line does not refuse it.
        self.assertEqual(parse("@+a\x1b=1 PING x").tags, {"+a\x1b": "1"})


class NumericLineTest(unittest.TestCase):
    def test_formats_with_nick_or_star_and_legal_middles(self):
        cases = [
            (("srv", "alice", "001", "Welcome"), ":srv 001 alice Welcome"),
            (("srv", None, "451", "You have not registered"),
             ":srv 451 * :You have not registered"),
            (("srv", "bob", "432", "a b", "Erroneous nickname"),
             ":srv 432 bob * :Erroneous nickname"),  # a word with a space cannot be a middle
            (("srv", "bob", "403", ":x", "No such channel"), ":srv 403 bob * :No such channel"),
            (("srv", "bob", "353", "=", "#a", ""), ":srv 353 bob = #a :"),
        ]
        for args, line in cases:
            with self.subTest(args=args):
                self.assertEqual(numeric_line(*args), line)


if __name__ == "__main__":
    unittest.main()
