"""Every reply the master builds fits the 512-byte line limit (with CRLF), however long the
texts a client controls: a realname from USER, an away text, a topic, the channels it is in.
A text too long for its line is cut at a character boundary; a list is split into lines."""

import unittest

from chatd.limits import CHANNELLEN, NICKLEN, TOPICLEN
from chatd.serverinfo import AWAYLEN
from ircproto import numerics as N
from ircproto.message import numeric_line
from tests.unit.test_hub import add_client, make_hub, replies, run

LIMIT = 510  # 512 with CRLF

# A realname as long as a USER line lets it be: "USER u 0 * :" and 498 bytes more.
TEXTS = {
    "ascii": "r" * 498,
    "two-byte": "\u00e9" * 249,
    "three-byte": "\u65e5" * 166,
    "four-byte": "\U0001f600" * 124,
    "spaces": "a b " * 124,
}


def raw_lines(effects: list) -> list[str]:
    return [line for e in effects for line in getattr(e, "lines", ())]


class NumericLineFitsTest(unittest.TestCase):
    def test_the_last_parameter_is_cut_at_a_character_boundary(self):
        for kind, text in TEXTS.items():
            for extra in (0, 100, 400):
                with self.subTest(kind=kind, extra=extra):
                    text2 = text + text[:1] * extra
                    line = numeric_line("irc.example.org", "n" * NICKLEN, N.RPL_WHOISUSER,
                                        "n" * NICKLEN, "user", "host", "*", text2)
                    self.assertLessEqual(len(line.encode("utf-8")), LIMIT)
                    kept = line.split(" :", 1)[1] if " :" in line else line.rsplit(" ", 1)[1]
                    self.assertTrue(text2.startswith(kept))

    def test_a_line_that_fits_is_unchanged(self):
        line = numeric_line("irc.test", "bob", N.RPL_AWAY, "alice", "back soon")
        self.assertEqual(line, ":irc.test 301 bob alice :back soon")


class QueryRepliesFitTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub(server_name="irc." + "s" * 40 + ".example.org")
        self.asker = add_client(self.hub, 1, "a" * NICKLEN)

    def check(self, line: str) -> list[str]:
        lines = raw_lines(run(self.hub, self.asker, line))
        self.assertTrue(lines)
        for out in lines:
            self.assertLessEqual(len(out.encode("utf-8")), LIMIT, out)
        return lines

    def test_who_whois_list_names_topic(self):
        for kind, text in TEXTS.items():
            with self.subTest(kind=kind):
                hub = self.hub
                nick = ("t" + kind.replace("-", ""))[:NICKLEN]
                other = add_client(hub, 10 + len(hub.registry.clients), nick)
                other.realname = text
                channel = "#" + kind + "x" * (CHANNELLEN - 1 - len(kind))
                run(hub, other, f"JOIN {channel}")
                run(hub, other, "AWAY :" + text[:AWAYLEN])
                run(hub, other, f"TOPIC {channel} :" + text[:TOPICLEN])
                run(hub, self.asker, f"JOIN {channel}")
                for query in (f"WHO {channel}", f"WHO {nick}", f"WHO {nick[:3]}*",
                              f"WHOIS {nick}", "LIST", f"LIST {channel}", f"NAMES {channel}",
                              f"TOPIC {channel}"):
                    self.check(query)

    def test_whois_channels_are_split_not_lost(self):
        other = add_client(self.hub, 5, "b" * NICKLEN)
        names = [f"#{i:02d}" + "c" * (CHANNELLEN - 3) for i in range(40)]
        for name in names:
            run(self.hub, other, f"JOIN {name}")
        effects = run(self.hub, self.asker, "WHOIS " + "b" * NICKLEN)
        self.check("WHOIS " + "b" * NICKLEN)
        listed = [name for m in replies(effects) if m.command == N.RPL_WHOISCHANNELS
                  for name in m.params[-1].split()]
        self.assertEqual(listed, ["@" + name for name in names])  # it made each one
        self.assertGreater(sum(m.command == N.RPL_WHOISCHANNELS for m in replies(effects)), 1)


if __name__ == "__main__":
    unittest.main()
