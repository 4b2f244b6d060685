"""tui.config (the settings file), tui.xdg (where files live) and the command line's choice of
server (tui.__main__.choose_target). No files."""

import contextlib
import io
import unittest
from pathlib import Path, PurePath

from tui.__main__ import UsageError, choose_target, parse_args
from tui.config import Config, ConfigError, ServerEntry, Settings, parse
from tui.xdg import config_dir, state_dir

FULL = """\
[tui]
server = work               ; the default
time_format = %H:%M:%S
colours = off
highlight = deploy, Build  release
bell = no
notify = osc777
buffer_list = off

[server home]
host = 127.0.0.1

[server work]
host = chat.example.org
port = 7000
tls = on
nick = alice
autojoin = #lobby, dev #ops
"""


class ConfigTest(unittest.TestCase):
    def test_every_key(self) -> None:
        config = parse(FULL)
        self.assertEqual(config.settings, Settings(
            time_format="%H:%M:%S", colours=False, highlights=("deploy", "Build", "release"),
            bell=False, notify="osc777", buffer_list=False))
        self.assertEqual(list(config.servers), ["home", "work"])
        self.assertEqual(config.servers["home"], ServerEntry("home", "127.0.0.1", 6667))
        self.assertEqual(config.servers["work"], ServerEntry(
            "work", "chat.example.org", 7000, "on", "alice", ("#lobby", "#dev", "#ops")))
        self.assertEqual(config.server(None).name, "work")  # [tui] server
        self.assertEqual(config.server("home").host, "127.0.0.1")
        self.assertIsNone(config.server("nope"))

    def test_defaults(self) -> None:
        config = parse("[server only]\nhost = h\ntls = insecure\n")
        self.assertEqual(config.settings, Settings())
        self.assertEqual(config.server(None), ServerEntry("only", "h", 6697, "insecure"))
        self.assertIsNone(Config().server(None))
        self.assertEqual(parse(""), Config())

    def test_every_problem_at_once(self) -> None:
        text = ("[tui]\nserver = gone\ncolour = on\nbell = maybe\nnotify = loud\n"
                "time_format = %H\x07\n[server a]\nport = 0\ntls = yes\nnick = 9bad\n"
                "[server b]\nhost = h\nfoo = 1\n[weird]\n")
        with self.assertRaises(ConfigError) as caught:
            parse(text)
        problems = str(caught.exception).splitlines()
        for expected in ("[tui] colour: unknown key", "[tui] bell: on or off",
                         "[tui] notify: one of", "[tui] time_format:", "[server a] host: needed",
                         "[server a] port: 1-65535", "[server a] tls: one of",
                         "[server a] nick: '9bad' cannot be a nick", "[server b] foo: unknown",
                         "[weird]: unknown section", "[tui] server: no [server gone]"):
            with self.subTest(expected=expected):
                self.assertTrue(any(p.startswith(expected) for p in problems), problems)
        with self.assertRaises(ConfigError):
            parse("no section = here\n")

    def test_xdg_folders(self) -> None:
        cases = [({}, "/home/u/.config/tui", "/home/u/.local/state/tui"),
                 ({"XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}, "/c/tui", "/s/tui"),
                 ({"XDG_CONFIG_HOME": "rel", "XDG_STATE_HOME": "rel"},
                  "/home/u/.config/tui", "/home/u/.local/state/tui")]
        for environ, config, state in cases:
            with self.subTest(environ=environ):
                self.assertEqual(config_dir(environ, "/home/u"), PurePath(config))
                self.assertEqual(state_dir(environ, "/home/u"), PurePath(state))


class ChooseTargetTest(unittest.TestCase):
    CONFIG = parse(FULL)

    def target(self, *argv: str):
        return choose_target(parse_args(list(argv)), self.CONFIG, Path("/c/config.ini"))

    def test_table(self) -> None:
        cases = [  # (argv, host, port, tls, nick, autojoin)
            ((), "chat.example.org", 7000, "on", "alice", ("#lobby", "#dev", "#ops")),
            (("home",), "127.0.0.1", 6667, "off", None, ()),
            (("home", "--tls"), "127.0.0.1", 6697, "on", None, ()),
            (("work", "--nick", "bob"), "chat.example.org", 7000, "on", "bob",
             ("#lobby", "#dev", "#ops")),
            (("work", "--tls-insecure"), "chat.example.org", 7000, "insecure", "alice",
             ("#lobby", "#dev", "#ops")),
            (("irc.other.net",), "irc.other.net", 6667, "off", None, ()),
            (("irc.other.net", "--tls"), "irc.other.net", 6697, "on", None, ()),
            (("127.0.0.1", "6668"), "127.0.0.1", 6668, "off", None, ()),
            (("home", "6668"), "home", 6668, "off", None, ()),  # HOST PORT is a host
        ]
        for argv, host, port, tls, nick, autojoin in cases:
            with self.subTest(argv=argv):
                target = self.target(*argv)
                self.assertEqual((target.host, target.port, target.tls, target.nick,
                                  target.autojoin), (host, port, tls, nick, autojoin))

    def test_no_server_anywhere(self) -> None:
        with self.assertRaises(UsageError) as caught:
            choose_target(parse_args([]), Config(), Path("/c/config.ini"))
        self.assertIn("/c/config.ini", str(caught.exception))

    def test_bad_command_lines(self) -> None:
        for argv in (["h", "0"], ["h", "x"], ["a", "1", "b"]):
            with self.subTest(argv=argv), self.assertRaises(SystemExit), \
                    contextlib.redirect_stderr(io.StringIO()):
                parse_args(argv)


if __name__ == "__main__":
    unittest.main()
