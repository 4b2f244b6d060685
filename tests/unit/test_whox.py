"""WHOX (chatd/hub/whox.py) through the Hub, as irctest's who.py and ircv3.net's
extensions/whox.md have it: exactly the fields asked for, in the fixed order whatever the
order asked, the token, the placeholders, the real address to the user and opers only, the
end numeric; and a WHO without `%` still answers 352."""

import unittest

from chatd.hub.whox import HIDDEN_IP, parse_whox
from ircproto import numerics as N
from tests.unit.test_hub import add_client, make_hub, replies, run


class WhoxTest(unittest.TestCase):
    def setUp(self):
        self.hub = make_hub(server_name="irc.test")
        self.cool = add_client(self.hub, 1, "coolNick")
        self.cool.account = "coolAcct"
        self.asker = add_client(self.hub, 2, "asker")
        run(self.hub, self.cool, "JOIN #chan")

    def who(self, client, line: str) -> list:
        out = replies(run(self.hub, client, line))
        self.assertEqual(out[-1].command, N.RPL_ENDOFWHO, out)
        return [(m.command, list(m.params[1:])) for m in out[:-1]]

    def test_every_field_in_the_fixed_order_whatever_the_order_asked(self):
        expected = [(N.RPL_WHOSPCRPL, ["123", "*", "u1", HIDDEN_IP, self.cool.host, "irc.test",
                                       "coolNick", "H", "0", "0", "coolAcct", "n/a",
                                       "Real coolNick"])]
        self.assertEqual(self.who(self.asker, "WHO coolNick %tcuihsnfdlaor,123"), expected)
        self.assertEqual(self.who(self.asker, "WHO coolNick %roaldfnshiuct,123"), expected)

    def test_just_the_fields_asked_and_the_placeholders(self):
        self.assertEqual(self.who(self.asker, "WHO coolNick %tn,321"),
                         [(N.RPL_WHOSPCRPL, ["321", "coolNick"])])
        self.assertEqual(self.who(self.asker, "WHO asker %na"),
                         [(N.RPL_WHOSPCRPL, ["asker", "0"])])  # logged out: 0
        self.assertEqual(self.who(self.asker, "WHO coolNick %nxyz"),  # unknown letters
                         [(N.RPL_WHOSPCRPL, ["coolNick"])])
        self.assertEqual(self.who(self.asker, "WHO coolNick %tn,12345"),  # not a token
                         [(N.RPL_WHOSPCRPL, ["0", "coolNick"])])

    def test_a_channel_who_gives_the_channel_and_ranks(self):
        run(self.hub, self.asker, "JOIN #chan")
        self.assertEqual(sorted(self.who(self.asker, "WHO #chan %cnf")),
                         [(N.RPL_WHOSPCRPL, ["#chan", "asker", "H"]),
                          (N.RPL_WHOSPCRPL, ["#chan", "coolNick", "H@"])])

    def test_the_real_address_only_to_the_user_and_operators(self):
        self.assertEqual(self.who(self.cool, "WHO coolNick %i"),
                         [(N.RPL_WHOSPCRPL, [self.cool.address])])
        self.asker.oper = "admin"
        self.assertEqual(self.who(self.asker, "WHO coolNick %i"),
                         [(N.RPL_WHOSPCRPL, [self.cool.address])])

    def test_without_percent_it_is_a_plain_who(self):
        self.assertIsNone(parse_whox("o"))
        [(code, _params)] = self.who(self.asker, "WHO coolNick o")
        self.assertEqual(code, N.RPL_WHOREPLY)


if __name__ == "__main__":
    unittest.main()
