"""tui.credentials: where saved logins live, their text form, and the mode rule. No files."""

import unittest
from pathlib import PurePath

from tui.credentials import config_dir, format_entries, is_private, parse, server_key
from tui.sasl import Credentials


class CredentialsTextTest(unittest.TestCase):
    def test_config_dir(self) -> None:
        cases = [({}, PurePath("/home/u/.config/tui")),
                 ({"XDG_CONFIG_HOME": "/cfg"}, PurePath("/cfg/tui")),
                 ({"XDG_CONFIG_HOME": "relative"}, PurePath("/home/u/.config/tui")),
                 ({"XDG_CONFIG_HOME": ""}, PurePath("/home/u/.config/tui"))]
        for environ, expected in cases:
            with self.subTest(environ=environ):
                self.assertEqual(config_dir(environ, "/home/u"), expected)

    def test_round_trip(self) -> None:
        entries = {server_key("Chat.Example", 6697): Credentials("alice", "p%ss = ;#x"),
                   server_key("127.0.0.1", 6667): Credentials("bob", "")}
        self.assertEqual(list(entries), ["chat.example:6697", "127.0.0.1:6667"])
        self.assertEqual(parse(format_entries(entries)), entries)

    def test_bad_text(self) -> None:
        with self.assertRaises(ValueError):
            parse("account = alice\n")  # no section
        self.assertEqual(parse("[h:1]\naccount = alice\n"), {})  # no password: skipped
        with self.assertRaises(ValueError):
            format_entries({"h:1": Credentials("a", "two\nlines")})

    def test_is_private(self) -> None:
        cases = [(0o100600, True), (0o100400, True), (0o100640, False), (0o100604, False),
                 (0o100660, False)]
        for mode, expected in cases:
            with self.subTest(mode=oct(mode)):
                self.assertEqual(is_private(mode), expected)


if __name__ == "__main__":
    unittest.main()
