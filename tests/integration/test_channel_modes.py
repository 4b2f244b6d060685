"""Channel operators and modes against a real chatd, with the members spread over two
workers: the creator's @ in NAMES, WHO and WHOIS; MODE changes seen by everyone as one line;
bans (by nick, by address from 127.0.0.2, by account) that keep a client out and silent by
every command and keep its nick; KICK, after which the kicked client's worker no longer
delivers the channel to it; INVITE with +i and invite-notify; +k and +l; and MODE and KICK
stored in the history, replayed by CHATHISTORY with draft/event-playback."""

from __future__ import annotations

import re
import unittest

from ircproto.message import parse
from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import NO_AUTOJOIN, history

PASSWORD = "correct-horse-battery"


def src(nick: str, host: str = "127.0.0.1") -> str:
    return re.escape(f":{nick}!{nick}@{host}")


def codes(lines: list[str]) -> list[str]:
    return [parse(line).command for line in lines]


class ChannelModesTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def client(self, nick: str, caps: tuple[str, ...] = (), near: IRCClient | None = None,
               source: str | None = None) -> IRCClient:
        """A registered client; on the other worker than `near`'s, if given."""
        if near is not None:
            return open_on_other_worker(self, self.server, near, nick, caps=caps)
        return open_client(self, self.server.port, nick, caps=caps, source=source)

    def joined(self, client: IRCClient, channel: str) -> list[str]:
        """JOIN; the burst up to the end of NAMES."""
        client.send(f"JOIN {channel}")
        return client.expect_until(rf" 366 \S+ {re.escape(channel)} ")

    def op_and_member(self, channel: str, op_nick: str, nick: str) -> tuple[IRCClient, IRCClient]:
        """`op_nick` creates the channel; `nick`, on the other worker, joins it."""
        op = self.client(op_nick)
        self.joined(op, channel)
        member = self.client(nick, near=op)
        self.joined(member, channel)
        op.expect(rf"^{src(nick)} JOIN {re.escape(channel)}$")
        return op, member

    def test_creator_is_shown_as_operator(self) -> None:
        ann = self.client("ann", caps=("multi-prefix",))
        burst = self.joined(ann, "#ops")
        self.assertIn(":chat.test 353 ann = #ops :@ann", burst)
        ben = self.client("ben", near=ann)
        self.assertIn(":chat.test 353 ben = #ops :@ann ben", self.joined(ben, "#ops"))
        ann.send("MODE #ops +v ann")
        ann.expect(rf"^{src('ann')} MODE #ops \+v ann$")
        ben.expect(rf"^{src('ann')} MODE #ops \+v ann$")
        ann.send("NAMES #ops")
        self.assertIn(":chat.test 353 ann = #ops :@+ann ben", ann.expect_until(" 366 "))
        ben.send("WHO #ops")
        flags = {parse(l).params[5]: parse(l).params[6] for l in ben.expect_until(" 315 ")
                 if " 352 " in l}
        self.assertEqual({"ann": "H@", "ben": "H"}, flags)
        ben.send("WHOIS ann")
        self.assertIn(":chat.test 319 ben ann :@#ops", ben.expect_until(" 318 "))
        ben.send("MODE #ops")
        self.assertEqual(("ben", "#ops", "+nt"), parse(ben.expect(" 324 ")).params)

    def test_moderated_channel_and_voice(self) -> None:
        op, member = self.op_and_member("#quiet", "qop", "qmem")
        member.send("MODE #quiet +m")
        member.expect(r"^:chat\.test 482 qmem #quiet :You're not channel operator$")
        op.send("MODE #quiet +m")
        for c in (op, member):
            c.expect(rf"^{src('qop')} MODE #quiet \+m$")
        member.send("PRIVMSG #quiet :may I?")
        member.expect(r"^:chat\.test 404 qmem #quiet :Cannot send to channel \(moderated")
        member.send("@+typing=active TAGMSG #quiet")
        member.expect(r" 404 qmem #quiet ")
        member.send("NOTICE #quiet :psst")  # refused without an answer
        member.sync()
        op.send("MODE #quiet +v qmem")
        member.expect(rf"^{src('qop')} MODE #quiet \+v qmem$")
        member.send("PRIVMSG #quiet :thanks")
        lines = op.expect_until(r"PRIVMSG #quiet :thanks$")
        self.assertFalse([l for l in lines if "may I" in l or "psst" in l], lines)

    def test_ban_by_address_keeps_out_silences_and_keeps_the_nick(self) -> None:
        op = self.client("bop")
        self.joined(op, "#banned")
        far = self.client("far", source="127.0.0.2")
        self.joined(far, "#banned")
        near = self.client("near")
        self.joined(near, "#banned")
        op.send("MODE #banned +b *!*@127.0.0.2")
        far.expect(rf"^{src('bop')} MODE #banned \+b \*!\*@127\.0\.0\.2$")
        far.send("PRIVMSG #banned :still here")
        far.expect(r" 404 far #banned :Cannot send to channel \(you are banned\)$")
        far.send("NICK stranger")
        far.expect(r"^:chat\.test 435 far stranger #banned :Cannot change nickname while banned")
        near.send("PRIVMSG #banned :not me")  # the mask is the address: 127.0.0.1 is not it
        op.expect(rf"^{src('near')} PRIVMSG #banned :not me$")
        far.send("PART #banned")
        far.expect(r" PART #banned")
        far.send("JOIN #banned")
        far.expect(r"^:chat\.test 474 far #banned :Cannot join channel \(\+b\)$")
        op.send("MODE #banned +e far!*@*")
        op.expect(r" MODE #banned \+e far!\*@\*$")
        self.joined(far, "#banned")
        op.send("MODE #banned b")
        lines = op.expect_until(" 368 ")
        entry = parse(lines[-2]).params
        self.assertEqual(entry[:4], ("bop", "#banned", "*!*@127.0.0.2", "bop!bop@127.0.0.1"))
        self.assertRegex(entry[4], r"^\d{10}$")

    def test_account_ban(self) -> None:
        op = self.client("aop")
        self.joined(op, "#acct")
        owner = self.client("holder")
        owner.send(f"REGISTER acctban * {PASSWORD}")
        owner.expect(r"REGISTER SUCCESS acctban")
        stranger = self.client("stranger2")  # not logged in
        op.send("MODE #acct +b $a:acct*")
        op.expect(r" MODE #acct \+b \$a:acct\*$")
        owner.send("JOIN #acct")
        owner.expect(r" 474 holder #acct ")
        self.joined(stranger, "#acct")

    def test_kick_removes_the_member_on_its_worker(self) -> None:
        op, member = self.op_and_member("#kick", "kop", "kmem")
        member.send("KICK #kick kop")
        member.expect(r"^:chat\.test 482 kmem #kick ")
        op.send("KICK #kick kmem :flooding")
        for c in (op, member):
            c.expect(rf"^{src('kop')} KICK #kick kmem :flooding$")
        op.send("PRIVMSG #kick :after the kick")
        op.sync()
        member.assert_no_line("after the kick")
        member.send("PRIVMSG #kick :let me back")
        member.expect(r" 404 kmem #kick ")  # +n: no longer a member
        member.send("CHATHISTORY LATEST #kick * 10")
        member.expect(r"^:chat\.test FAIL CHATHISTORY INVALID_TARGET ")
        self.joined(member, "#kick")  # a kick is not a ban

    def test_invite_only_and_invite_notify(self) -> None:
        op = self.client("iop")
        self.joined(op, "#inv")
        op2 = self.client("iop2", caps=("invite-notify",), near=op)
        self.joined(op2, "#inv")
        op.send("MODE #inv +io iop2")
        op2.expect(r" MODE #inv \+io iop2$")
        guest = self.client("guest", near=op)
        guest.send("JOIN #inv")
        guest.expect(r"^:chat\.test 473 guest #inv :Cannot join channel \(\+i\)$")
        op.send("INVITE guest #inv")
        op.expect(r"^:chat\.test 341 iop guest #inv$")
        guest.expect(rf"^{src('iop')} INVITE guest #inv$")
        op2.expect(rf"^{src('iop')} INVITE guest #inv$")  # invite-notify
        self.joined(guest, "#inv")
        op.send("INVITE guest #inv")
        op.expect(r"^:chat\.test 443 iop guest #inv :is already on channel$")

    def test_key_and_limit(self) -> None:
        op, _ = self.op_and_member("#locked", "lop", "lmem")
        op.send("MODE #locked +kl sesame 2")
        op.expect(r" MODE #locked \+kl sesame 2$")
        late = self.client("late")
        late.send("JOIN #locked")
        late.expect(r" 475 late #locked :Cannot join channel \(\+k\)$")
        late.send("JOIN #locked sesame")
        late.expect(r" 471 late #locked :Cannot join channel \(\+l\)$")
        late.send("MODE #locked")
        self.assertEqual(("late", "#locked", "+klnt", "*", "2"),
                         parse(late.expect(" 324 ")).params)
        op.send("MODE #locked -l")
        op.expect(r" MODE #locked -l$")
        late.send("JOIN #locked sesame")
        late.expect(r" 366 late #locked ")

    def test_topic_needs_an_operator_under_t(self) -> None:
        op, member = self.op_and_member("#topical", "top", "tmem")
        member.send("TOPIC #topical :mine now")
        member.expect(r"^:chat\.test 482 tmem #topical :You're not channel operator$")
        op.send("MODE #topical -t")
        member.expect(r" MODE #topical -t$")
        member.send("TOPIC #topical :mine now")
        op.expect(rf"^{src('tmem')} TOPIC #topical :mine now$")

    def test_modes_and_kicks_are_in_the_history(self) -> None:
        caps = ("batch", "server-time", "message-tags", "draft/chathistory",
                "draft/event-playback")
        op = self.client("hop", caps=caps)
        self.joined(op, "#kept")
        member = self.client("hmem", near=op)
        self.joined(member, "#kept")
        op.send("MODE #kept +mv hmem")
        op.expect(r" MODE #kept \+mv hmem$")
        op.send("KICK #kept hmem :bye")
        op.expect(r" KICK #kept hmem :bye$")
        events = [(m.command, m.params) for m in history(op, "CHATHISTORY LATEST #kept * 10").inner]
        self.assertEqual(events[-2:], [("MODE", ("#kept", "+mv", "hmem")),
                                       ("KICK", ("#kept", "hmem", "bye"))])
        plain = self.client("hplain", caps=caps[:4])  # without event-playback: messages only
        self.joined(plain, "#kept")
        self.assertEqual(history(plain, "CHATHISTORY LATEST #kept * 10").inner, [])


if __name__ == "__main__":
    unittest.main()


class ConfiguredOperatorsTest(unittest.TestCase):
    """[channels] operators: the named accounts own the autojoin channel; the first client in
    is not its operator. [channels] default_modes: what a new channel gets."""

    def test_the_lobby_belongs_to_the_configured_accounts(self) -> None:
        server = start_chatd(self, workers=1, extra={"channels": {
            "autojoin": "#lobby", "operators": "boss", "default_modes": "+nst"}})
        first = open_client(self, server.port)
        lines = first.register("first")
        self.assertIn(":chat.test 353 first @ #lobby :first", first.expect_until(" 366 "))
        boss = open_client(self, server.port)
        boss.send("CAP LS 302")
        boss.send("NICK boss")
        boss.send(f"REGISTER * * {PASSWORD}")  # logged in before the welcome and autojoin
        boss.expect(r"REGISTER SUCCESS boss ")
        boss.send("USER boss 0 * :Boss")
        boss.send("CAP END")
        self.assertIn(":chat.test 353 boss @ #lobby :first @boss", boss.expect_until(" 366 "))
        first.expect(r" JOIN #lobby")
        first.send("MODE #lobby +m")
        first.expect(r" 482 first #lobby ")
        first.send("JOIN #own")
        self.assertIn(":chat.test 353 first @ #own :@first", first.expect_until(" 366 "))
        first.send("MODE #own")
        self.assertEqual(("first", "#own", "+nst"), parse(first.expect(" 324 ")).params)
        self.assertEqual(("Biow", "Ibeiklmnorstv", "Ibeklorv"),  # RPL_MYINFO's mode lists
                         parse([l for l in lines if " 004 " in l][0]).params[3:])
