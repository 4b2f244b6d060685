"""The everyday extensions against a real chatd, over real sockets and across its two workers,
following the specs' examples: away-notify, MONITOR (ISUPPORT MONITOR=, 730-734),
extended-monitor, setname (NAMELEN, FAIL SETNAME INVALID_REALNAME), WHOWAS (314/312/406/369)
and bot mode (BOT=B, +B, the `bot` tag live and in history, 335, WHO's B) — and that chghost is
not offered (chatd never changes a host)."""

from __future__ import annotations

import unittest

from ircproto.message import parse
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import NO_AUTOJOIN, history, join, only

SERVER = "chat.test"
LIMITS = {"limits": {"monitor": "3", "whowas": "3"}}


def isupport(lines: list[str]) -> dict[str, str]:
    tokens = {}
    for msg in only(lines, "005"):
        for token in msg.params[1:-1]:
            name, _, value = token.partition("=")
            tokens[name] = value
    return tokens


class PresenceTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra={**NO_AUTOJOIN, **LIMITS})

    def client(self, nick: str, caps: tuple[str, ...] = (),
               other: IRCClient | None = None) -> IRCClient:
        """A registered client; with `other`, on the other worker than other's."""
        if other is not None:
            return open_on_other_worker(self, self.server, other, nick, caps=caps)
        return open_client(self, self.server.port, nick, caps=caps)

    def quit(self, client: IRCClient) -> None:
        client.send("QUIT :bye")
        client.wait_closed()

    # ISUPPORT and CAP
    def test_advertised(self) -> None:
        c = open_client(self, self.server.port)
        tokens = isupport(c.register("adv"))
        self.assertEqual((tokens["BOT"], tokens["MONITOR"], tokens["NAMELEN"]), ("B", "3", "128"))
        myinfo = only(c.seen, "004")[0]
        self.assertIn("B", myinfo.params[3])  # the user modes
        c.send("CAP LS 302")
        offered = {cap.split("=")[0] for cap in parse(c.expect(r" CAP \S+ LS ")).params[-1].split()}
        self.assertLessEqual({"away-notify", "setname", "extended-monitor"}, offered)
        self.assertNotIn("chghost", offered)  # chatd never changes a user or host

    # away-notify (ircv3.net/specs/extensions/away-notify)
    def test_away_notify(self) -> None:
        foo = self.client("awfoo", caps=("away-notify",))
        bar = self.client("awbar", other=foo)
        plain = self.client("awplain")
        for c in (foo, bar, plain):
            join(c, "#away")
        foo.sync()
        bar.send("AWAY :i'm going away")
        self.assertEqual(parse(bar.expect(r" 30[56] ")).command, "306")
        self.assertEqual(foo.expect_msg(r" AWAY ").params, ("i'm going away",))
        self.assertTrue(foo.seen[-1].startswith(":awbar!"))
        bar.send("AWAY")
        bar.expect(r" 305 ")
        self.assertEqual(foo.expect(r" AWAY"), ":awbar!awbar@127.0.0.1 AWAY")
        # Whoever is away and joins is announced after the JOIN; not to itself, nor to
        # clients that did not ask.
        late = self.client("awlate", other=foo)
        late.send("AWAY :already away")
        late.sync()
        self.assertNotIn("AWAY", [m.command for m in map(parse, join(late, "#away"))])
        lines = foo.expect_until(r" AWAY ")
        self.assertRegex(lines[-2], r"^:awlate!\S+ JOIN #away$")
        self.assertEqual(lines[-1], ":awlate!awlate@127.0.0.1 AWAY :already away")
        self.assertEqual(only(plain.sync() + bar.sync(), "AWAY"), [])

    # MONITOR (ircv3.net/specs/extensions/monitor)
    def test_monitor(self) -> None:
        watcher = self.client("mwatch")
        watcher.send("MONITOR + mtarget,mother")
        self.assertEqual(watcher.expect_msg(r" 731 ").params, ("mwatch", "mtarget,mother"))
        target = self.client("mtarget", other=watcher)
        self.assertEqual(watcher.expect_msg(r" 730 ").params,
                         ("mwatch", "mtarget!mtarget@127.0.0.1"))
        watcher.send("MONITOR S")
        self.assertEqual([(m.command, m.params[1]) for m in map(parse, watcher.sync())],
                         [("730", "mtarget!mtarget@127.0.0.1"), ("731", "mother")])
        target.send("NICK mother")
        told = [parse(l) for l in watcher.expect_until(" 730 ")]
        self.assertEqual([(m.command, m.params[1]) for m in told if m.command in ("730", "731")],
                         [("731", "mtarget"), ("730", "mother!mtarget@127.0.0.1")])
        self.quit(target)
        self.assertEqual(watcher.expect_msg(r" 731 ").params, ("mwatch", "mother"))
        # The list: at most [limits] monitor = 3 nicks, the rest refused with 734.
        watcher.send("MONITOR + m3,m4,m5")
        lines = [parse(l) for l in watcher.sync()]
        self.assertEqual([(m.command, m.params[1:]) for m in lines],
                         [("731", ("m3",)), ("734", ("3", "m4,m5", "Monitor list is full"))])
        watcher.send("MONITOR - MTARGET")
        watcher.send("MONITOR L")
        self.assertEqual([(m.command, m.params[1]) for m in map(parse, watcher.sync())],
                         [("732", "mother,m3"), ("733", "End of MONITOR list")])
        watcher.send("MONITOR C")
        watcher.send("MONITOR L")
        self.assertEqual([m.command for m in map(parse, watcher.sync())], ["733"])
        self.client("m3")
        self.assertEqual(watcher.sync(), [])  # no longer watched

    def test_extended_monitor(self) -> None:
        watcher = self.client("xwatch", caps=("extended-monitor", "away-notify", "setname"))
        plain = self.client("xplain", caps=("away-notify",))
        for c in (watcher, plain):
            c.send("MONITOR + xtarget")
            c.sync()
        target = self.client("xtarget", other=watcher)  # shares no channel with them
        watcher.expect(r" 730 ")
        target.send("AWAY :afk")
        target.send("SETNAME :New Name")
        target.sync()
        self.assertEqual([l for l in watcher.sync() if " 730 " not in l],
                         [":xtarget!xtarget@127.0.0.1 AWAY :afk",
                          ":xtarget!xtarget@127.0.0.1 SETNAME :New Name"])
        self.assertEqual(only(plain.sync(), "AWAY"), [])  # no extended-monitor: nothing

    # setname (ircv3.net/specs/extensions/setname)
    def test_setname(self) -> None:
        batman = self.client("batman", caps=("setname",))
        robin = self.client("robin", caps=("setname",), other=batman)
        alfred = self.client("alfred")
        for c in (batman, robin, alfred):
            join(c, "#cave")
        batman.sync()
        batman.send("SETNAME :Bruce Wayne <bruce@wayne.enterprises>")
        own = ":batman!batman@127.0.0.1 SETNAME :Bruce Wayne <bruce@wayne.enterprises>"
        self.assertEqual(batman.sync(), [own])
        self.assertEqual(robin.expect(r" SETNAME "), own)
        batman.send("SETNAME Batman")
        self.assertEqual(batman.sync(), [":batman!batman@127.0.0.1 SETNAME Batman"])
        batman.send("SETNAME :Heute back ich, morgen brau ich, übermorgen hol ich der Königin "
                    "ihr Kind; ach, wie gut, dass niemand weiß, dass ich Rumpelstilzchen heiß!")
        [fail] = map(parse, batman.sync())
        self.assertEqual((fail.command, fail.params[:2]), ("FAIL", ("SETNAME", "INVALID_REALNAME")))
        alfred.send("WHOIS batman")
        self.assertEqual(alfred.expect_msg(r" 311 ").params[-1], "Batman")
        self.assertEqual(only(alfred.sync(), "SETNAME"), [])  # it did not ask
        # Without the capability: changed silently.
        alfred.send("SETNAME :Alfred Pennyworth")
        self.assertEqual(alfred.sync(), [])
        self.assertEqual(robin.expect(r"^:alfred\S* SETNAME "),
                         ":alfred!alfred@127.0.0.1 SETNAME :Alfred Pennyworth")

    # WHOWAS (modern.ircdocs.horse)
    def test_whowas(self) -> None:
        asker = self.client("wasker")
        for user in ("ident2", "ident3"):
            gone = open_client(self, self.server.port)
            gone.send("NICK wgone")
            gone.send(f"USER {user} 0 * :Realname")
            gone.expect(r" (376|422) ")
            self.quit(gone)
            asker.sync()  # a PING round trip: the master has handled that departure too
        asker.send("WHOWAS wgone")
        lines = [parse(l) for l in asker.sync()]
        self.assertEqual([(m.command, m.params[1:3]) for m in lines],
                         [("314", ("wgone", "ident3")), ("312", ("wgone", SERVER)),
                          ("314", ("wgone", "ident2")), ("312", ("wgone", SERVER)),
                          ("369", ("wgone", "End of WHOWAS"))])
        self.assertEqual(lines[0].params[3:], ("127.0.0.1", "*", "Realname"))
        asker.send("WHOWAS wgone 1")
        self.assertEqual([m.command for m in map(parse, asker.sync())], ["314", "312", "369"])
        asker.send("WHOWAS wnever")
        self.assertEqual([(m.command, m.params[1]) for m in map(parse, asker.sync())],
                         [("406", "wnever"), ("369", "wnever")])
        asker.send("WHOWAS")
        self.assertEqual([m.command for m in map(parse, asker.sync())], ["431"])

    # bot mode (ircv3.net/specs/extensions/bot-mode)
    def test_bot_mode(self) -> None:
        bot = self.client("robodan", caps=("message-tags", "echo-message"))
        tagged = self.client("btagged", caps=("message-tags", "server-time", "batch",
                                              "draft/chathistory"), other=bot)
        plain = self.client("bplain")
        bot.send("MODE robodan +B")
        self.assertEqual(bot.expect_msg(r" MODE ").params, ("robodan", "+B"))
        for c in (bot, tagged, plain):
            join(c, "#chat")
        bot.send("PRIVMSG #chat :Hello! Try typing .help to see my commands!")
        echo = parse(bot.expect(r" PRIVMSG #chat "))
        self.assertIn("bot", echo.tags)
        live = parse(tagged.expect(r" PRIVMSG #chat "))
        self.assertEqual((live.tags.get("bot"), live.params[1]),
                         ("", "Hello! Try typing .help to see my commands!"))
        self.assertFalse(plain.expect(r" PRIVMSG #chat ").startswith("@"))
        stored = [m for m in history(tagged, "CHATHISTORY LATEST #chat * 10").messages]
        self.assertIn("bot", stored[-1].tags)  # as it was sent
        plain.send("WHOIS robodan")
        whois = [parse(l) for l in plain.expect_until(r" 318 ")]
        self.assertEqual([m.params[1:] for m in whois if m.command == "335"],
                         [("robodan", "is a bot on chatd")])
        plain.send("WHO #chat")
        flags = {m.params[5]: m.params[6] for m in map(parse, plain.expect_until(r" 315 "))
                 if m.command == "352"}
        # B after H/G and before the rank (@: robodan made #chat)
        self.assertEqual(flags, {"robodan": "HB@", "btagged": "H", "bplain": "H"})


if __name__ == "__main__":
    unittest.main()
