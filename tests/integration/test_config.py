"""chatd.config against real files: chatd.conf -> Config, every problem reported at once (the
folder checks need a file system), and the shipped file."""

import dataclasses
import ipaddress
import os
import re
import tempfile
import unittest
from pathlib import Path

from chatd import config as config_module
from chatd.config import SCHEMA, Config, ConfigError, load

SHIPPED = Path(__file__).resolve().parents[2] / "chatd.conf"

# (section, key, bad value) -- each must be reported as a problem naming [section] and key
BAD_VALUES = [
    ("server", "name", ""),
    ("server", "name", "two words"),
    ("server", "network", "my net"),
    ("server", "network", ""),
    ("server", "listen", "6667"),
    ("server", "listen", "localhost"),
    ("server", "listen", "localhost:"),
    ("server", "listen", ":6667"),
    ("server", "listen", "localhost:65536"),
    ("server", "listen", "localhost:-1"),
    ("server", "listen", "localhost:http"),
    ("server", "listen", "localhost:66x"),
    ("server", "listen", "localhost:\u00b2"),
    ("server", "listen", "[::1]"),
    ("server", "listen", "[::1]6667"),
    ("server", "listen", "[]:6667"),
    ("server", "listen", "::1"),
    ("server", "listen", "::1:6667"),
    ("server", "listen", ""),
    ("server", "workers", "0"),
    ("server", "workers", "65"),
    ("server", "workers", "-1"),
    ("server", "workers", "1.5"),
    ("server", "workers", "many"),
    ("server", "workers", ""),
    ("server", "log_level", "verbose"),
    ("server", "log_level", ""),
    ("server", "motd", "no-such-motd.txt"),
    ("server", "ping_interval", "0"),
    ("server", "ping_interval", "0.5"),
    ("server", "ping_interval", "86401"),
    ("server", "ping_interval", "-5"),
    ("server", "ping_interval", "soon"),
    ("server", "ping_interval", "nan"),
    ("server", "ping_interval", "inf"),
    ("server", "ping_timeout", "0"),
    ("server", "ping_timeout", "x"),
    ("server", "registration_timeout", "100000"),
    ("server", "registration_timeout", ""),
    ("history", "path", ""),
    ("history", "path", "no-such-folder/chatd.db"),
    ("history", "replay", "-1"),
    ("history", "replay", "1001"),
    ("history", "replay", "all"),
    ("history", "synchronous", "off"),
    ("history", "synchronous", ""),
    ("channels", "autojoin", "lobby"),
    ("channels", "autojoin", "#ok,bad"),
    ("channels", "autojoin", "#"),
    ("channels", "autojoin", "#a:b"),
    ("channels", "default_modes", "+ntz"),
    ("channels", "default_modes", "+k"),  # only flags: a key or limit needs a value
    ("channels", "default_modes", "+nt-s"),
    ("channels", "default_modes", "nt lots"),
    ("channels", "operators", "alice, b@d"),
    ("channels", "operators", "#lobby"),
    ("limits", "sendq", "100"),
    ("limits", "sendq", "lots"),
    ("limits", "channels_per_client", "0"),
    ("limits", "channels_per_client", "1001"),
    ("limits", "max_clients", "-1"),
    ("limits", "max_clients", "unlimited"),
    ("limits", "flood_burst", "0"),
    ("limits", "flood_burst", "lots"),
    ("limits", "flood_rate", "-1"),
    ("limits", "flood_rate", "nan"),
    ("limits", "flood_rate", "fast"),
    ("limits", "recvq", "100"),
    ("limits", "clients_per_ip", "-1"),
    ("limits", "unregistered_per_ip", "three"),
    ("limits", "connects_per_minute_per_ip", "1.5"),
    ("limits", "exempt", "10.0.0.0/33"),
    ("limits", "exempt", "127.0.0.1/8"),  # host bits set: a typo, not a network
    ("limits", "exempt", "127.0.0.1, localhost"),
    ("limits", "exempt", "::1/129"),
    ("tls", "listen", "6697"),
    ("tls", "listen", "127.0.0.1:6697, ::1:6697"),
    ("tls", "listen", ","),
    ("tls", "sts_duration", "-1"),
    ("tls", "sts_duration", "a week"),
]

# (section, key, raw value, field, expected value); paths are checked separately
GOOD_VALUES = [
    ("server", "name", "irc.test", "server_name", "irc.test"),
    ("server", "network", "TestNet", "network", "TestNet"),
    ("server", "listen", "127.0.0.1:6667", "listen_host", "127.0.0.1"),
    ("server", "listen", "127.0.0.1:6667", "listen_port", 6667),
    ("server", "listen", "127.0.0.1:0", "listen_port", 0),
    ("server", "listen", "0.0.0.0:65535", "listen_port", 65535),
    ("server", "listen", "localhost:7000", "listen_host", "localhost"),
    ("server", "listen", "[::1]:6667", "listen_host", "::1"),
    ("server", "listen", "[::1]:6667", "listen_port", 6667),
    ("server", "listen", "[::]:0", "listen_host", "::"),
    ("server", "listen", "[::]:0", "listen_port", 0),
    ("server", "listen", "[fe80::1%lo]:6697", "listen_host", "fe80::1%lo"),
    ("server", "workers", "1", "workers", 1),
    ("server", "workers", "64", "workers", 64),
    ("server", "workers", "auto", "workers", os.cpu_count() or 1),
    ("server", "password", "s3cret pass", "password", "s3cret pass"),
    ("server", "password", "", "password", ""),
    ("server", "motd", "", "motd_path", None),
    ("server", "log_level", "debug", "log_level", "debug"),
    ("server", "log_level", "WARNING", "log_level", "warning"),
    ("server", "ping_interval", "1", "ping_interval_s", 1.0),
    ("server", "ping_interval", "2.5", "ping_interval_s", 2.5),
    ("server", "ping_timeout", "86400", "ping_timeout_s", 86400.0),
    ("server", "registration_timeout", "30", "registration_timeout_s", 30.0),
    ("history", "replay", "0", "history_replay", 0),
    ("history", "replay", "1000", "history_replay", 1000),
    ("history", "synchronous", "FULL", "history_synchronous", "full"),
    ("channels", "autojoin", '""', "autojoin", ()),
    ("channels", "autojoin", "''", "autojoin", ()),
    ("channels", "autojoin", "", "autojoin", ()),
    ("channels", "autojoin", "#lobby", "autojoin", ("#lobby",)),
    ("channels", "autojoin", "#a,#b", "autojoin", ("#a", "#b")),
    ("channels", "autojoin", "#a, #b  #c", "autojoin", ("#a", "#b", "#c")),
    ("channels", "autojoin", '"" ; nothing', "autojoin", ()),
    ("channels", "autojoin", "#lobby ; the hall", "autojoin", ("#lobby",)),
    ("channels", "default_modes", "+nt", "default_modes", "nt"),
    ("channels", "default_modes", "tnn", "default_modes", "nt"),
    ("channels", "default_modes", "+imnst", "default_modes", "imnst"),
    ("channels", "default_modes", "+", "default_modes", ""),
    ("channels", "default_modes", '""', "default_modes", ""),
    ("channels", "operators", "alice, Bob", "channel_operators", ("alice", "Bob")),
    ("channels", "operators", '""', "channel_operators", ()),
    ("limits", "sendq", "4096", "sendq_bytes", 4096),
    ("limits", "channels_per_client", "1", "channels_per_client", 1),
    ("limits", "max_clients", "0", "max_clients", 0),
    ("limits", "max_clients", "500", "max_clients", 500),
    ("limits", "flood_burst", "1", "flood_burst", 1),
    ("limits", "flood_rate", "0", "flood_rate", 0.0),
    ("limits", "flood_rate", "0.5", "flood_rate", 0.5),
    ("limits", "recvq", "65536", "recvq_bytes", 65536),
    ("limits", "clients_per_ip", "0", "clients_per_ip", 0),
    ("limits", "unregistered_per_ip", "5", "unregistered_per_ip", 5),
    ("limits", "connects_per_minute_per_ip", "60", "connects_per_minute_per_ip", 60),
    ("limits", "exempt", '""', "exempt", ()),
    ("limits", "exempt", "", "exempt", ()),
    ("limits", "exempt", "10.0.0.0/8, 2001:db8::/32 ,192.0.2.7", "exempt",
     (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"),
      ipaddress.ip_network("192.0.2.7/32"))),
]


class ConfigFileTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name).resolve()
        self.path = self.dir / "chatd.conf"

    def load_text(self, text: str) -> Config:
        self.path.write_text(text, encoding="utf-8")
        return load(self.path)

    def problems_for(self, text: str) -> list[str]:
        with self.assertRaises(ConfigError) as caught:
            self.load_text(text)
        return caught.exception.problems


class DefaultsTest(ConfigFileTest):
    def test_empty_file_gives_defaults(self):
        loaded = self.load_text("")
        expected = dataclasses.replace(Config(), history_path=self.dir / "chatd.db")
        self.assertEqual(loaded, expected)
        self.assertEqual(loaded.source_path, self.path)

    def test_empty_sections_give_defaults(self):
        loaded = self.load_text("[server]\n[history]\n[channels]\n[limits]\n")
        self.assertEqual(loaded, dataclasses.replace(Config(), history_path=self.dir / "chatd.db"))

    def test_documented_defaults(self):
        defaults = Config()
        cases = [
            ("server_name", "chat.example"), ("listen_host", "127.0.0.1"),
            ("listen_port", 6667), ("workers", 2), ("history_replay", 50),
            ("autojoin", ("#lobby",)), ("password", ""), ("motd_path", None),
            ("default_modes", "nt"), ("channel_operators", ()),
            ("clients_per_ip", 10), ("unregistered_per_ip", 3),
            ("connects_per_minute_per_ip", 30),
            ("exempt", (ipaddress.ip_network("127.0.0.0/8"),
                               ipaddress.ip_network("::1/128"))),
        ]
        for field, value in cases:
            with self.subTest(field=field):
                self.assertEqual(getattr(defaults, field), value)

    def test_config_is_frozen(self):
        with self.assertRaises(dataclasses.FrozenInstanceError):
            Config().workers = 3  # type: ignore[misc]


class ValuesTest(ConfigFileTest):
    def test_good_values(self):
        for section, key, raw, field, expected in GOOD_VALUES:
            with self.subTest(section=section, key=key, raw=raw):
                loaded = self.load_text(f"[{section}]\n{key} = {raw}\n")
                self.assertEqual(getattr(loaded, field), expected)

    def test_bad_values_are_each_reported(self):
        for section, key, raw in BAD_VALUES:
            with self.subTest(section=section, key=key, raw=raw):
                problems = self.problems_for(f"[{section}]\n{key} = {raw}\n")
                self.assertEqual(len(problems), 1, problems)
                self.assertIn(f"[{section}]", problems[0])
                self.assertIn(key, problems[0])
                self.assertIn(str(self.path), problems[0])
                self.assertNotIn("\n", problems[0])

    def test_relative_paths_resolve_against_the_config_folder(self):
        (self.dir / "data").mkdir()
        (self.dir / "motd.txt").write_text("hello\n")
        cases = [
            ("[history]\npath = h.db\n", "history_path", self.dir / "h.db"),
            ("[history]\npath = data/h.db\n", "history_path", self.dir / "data" / "h.db"),
            ("[history]\npath = data/../x.db\n", "history_path", self.dir / "x.db"),
            (f"[history]\npath = {self.dir / 'data' / 'abs.db'}\n", "history_path",
             self.dir / "data" / "abs.db"),
            ("", "history_path", self.dir / "chatd.db"),
            ("[server]\nmotd = motd.txt\n", "motd_path", self.dir / "motd.txt"),
        ]
        for text, field, expected in cases:
            with self.subTest(text=text):
                loaded = self.load_text(text)
                self.assertEqual(getattr(loaded, field), expected)
                self.assertTrue(getattr(loaded, field).is_absolute())

    def test_unwritable_history_folder(self):
        if os.geteuid() == 0:
            self.skipTest("root can write anywhere")
        locked = self.dir / "locked"
        locked.mkdir(mode=0o500)
        self.addCleanup(locked.chmod, 0o700)
        problems = self.problems_for("[history]\npath = locked/h.db\n")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("not writable", problems[0])

    def test_motd_must_be_a_file(self):
        (self.dir / "adir").mkdir()
        problems = self.problems_for("[server]\nmotd = adir\n")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("motd", problems[0])


class StructureTest(ConfigFileTest):
    def test_unknown_section(self):
        problems = self.problems_for("[serverz]\nname = x\n")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("unknown section [serverz]", problems[0])

    def test_unknown_key(self):
        cases = [
            ("server", "port"),
            ("server", "Name"),          # keys are case-sensitive
            ("history", "replay_count"),
            ("channels", "default"),
            ("limits", "flood"),
        ]
        for section, key in cases:
            with self.subTest(section=section, key=key):
                problems = self.problems_for(f"[{section}]\n{key} = 1\n")
                self.assertEqual(len(problems), 1, problems)
                self.assertIn(f"[{section}] unknown key '{key}'", problems[0])

    def test_key_in_the_wrong_section(self):
        problems = self.problems_for("[history]\nworkers = 2\n")
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("unknown key 'workers'", problems[0])

    def test_default_section_keys_are_not_silently_applied(self):
        # configparser copies [DEFAULT] keys into every section; they must not slip through.
        for text in ("[DEFAULT]\nworkers = 3\n[server]\n", "[DEFAULT]\nworkers = 3\n"):
            with self.subTest(text=text):
                problems = self.problems_for(text)
                self.assertEqual(len(problems), 1, problems)
                self.assertIn("unknown section [DEFAULT]", problems[0])

    def test_several_problems_are_all_listed(self):
        text = (
            "[server]\n"
            "name = two words\n"
            "listen = nowhere\n"
            "workers = 0\n"
            "colour = blue\n"
            "[history]\n"
            "replay = -3\n"
            "[channels]\n"
            "autojoin = lobby\n"
            "[limits]\n"
            "sendq = 1\n"
            "[extras]\n"
            "x = 1\n"
        )
        with self.assertRaises(ConfigError) as caught:
            self.load_text(text)
        problems = caught.exception.problems
        expected = ["name", "listen", "workers", "colour", "replay", "autojoin", "sendq",
                    "[extras]"]
        self.assertEqual(len(problems), len(expected), problems)
        for word, problem in zip(expected, problems):
            with self.subTest(word=word):
                self.assertIn(word, problem)
        for problem in problems:
            self.assertIn(problem, str(caught.exception))

    def test_not_ini(self):
        cases = [
            ("key outside a section", "workers = 2\n"),
            ("duplicate key", "[server]\nworkers = 2\nworkers = 3\n"),
            ("duplicate section", "[server]\n[server]\n"),
            ("not text", None),
        ]
        for what, text in cases:
            with self.subTest(what):
                if text is None:
                    self.path.write_bytes(b"[server]\nname = \xff\xfe\n")
                else:
                    self.path.write_text(text)
                with self.assertRaises(ConfigError) as caught:
                    load(self.path)
                self.assertEqual(len(caught.exception.problems), 1)
                self.assertIn("not a valid INI file", caught.exception.problems[0])

    def test_missing_file(self):
        with self.assertRaises(ConfigError) as caught:
            load(self.dir / "absent.conf")
        self.assertEqual(len(caught.exception.problems), 1)
        self.assertIn("cannot read", caught.exception.problems[0])

    def test_comments(self):
        loaded = self.load_text(
            "# a comment\n; another\n[server]\nname = irc.test   ; inline\n"
            "[channels]\nautojoin = #a #b   ; '#' starts channel names, not comments\n")
        self.assertEqual(loaded.server_name, "irc.test")
        self.assertEqual(loaded.autojoin, ("#a", "#b"))


class ShippedConfigTest(unittest.TestCase):
    def test_loads(self):
        loaded = load(SHIPPED)
        self.assertEqual(loaded.source_path, SHIPPED)

    def test_documented_values_are_the_defaults(self):
        # The file says "the value shown is the default unless noted".
        loaded = load(SHIPPED)
        expected = dataclasses.replace(Config(), history_path=SHIPPED.parent / "chatd.db")
        self.assertEqual(loaded, expected)

    def test_every_schema_key_is_documented_in_its_section(self):
        documented: dict[str, set[str]] = {}
        section = None
        for line in SHIPPED.read_text(encoding="utf-8").splitlines():
            header = re.match(r"\s*\[(\w+)\]", line)
            if header:
                section = header.group(1)
                documented.setdefault(section, set())
                continue
            # a key line, possibly commented out to show an optional setting
            key = re.match(r"\s*[;#]?\s*(\w+)\s*=", line)
            if key and section is not None:
                documented[section].add(key.group(1))
        for section_name, keys in SCHEMA.items():
            for key in keys:
                with self.subTest(section=section_name, key=key):
                    self.assertIn(key, documented.get(section_name, set()))

    def test_every_config_field_has_a_key(self):
        targets = set()
        for keys in SCHEMA.values():
            for target, _parser in keys.values():
                targets.update(target if isinstance(target, tuple) else (target,))
        fields = {f.name for f in dataclasses.fields(Config)} - {"source_path"}
        self.assertEqual(targets, fields)

    def test_log_level_number(self):
        cases = [("debug", 10), ("info", 20), ("warning", 30), ("error", 40)]
        for level, number in cases:
            with self.subTest(level=level):
                cfg = dataclasses.replace(Config(), log_level=level)
                self.assertEqual(config_module.log_level_number(cfg), number)


if __name__ == "__main__":
    unittest.main()
