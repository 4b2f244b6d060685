"""Protocol errors and garbage from clients, against a real chatd: every error gets its numeric
and the client stays usable; no input crashes a worker or disturbs other clients."""

from __future__ import annotations

import itertools
import re
import unittest

from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client

NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


def src(nick: str) -> str:
    return re.escape(f":{nick}!{nick}@127.0.0.1")


def numerics(lines: list[str]) -> list[str]:
    return [l for l in lines if re.match(r":chat\.test \d{3} ", l)]


class ErrorReplyTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def client(self, nick: str | None = None) -> IRCClient:
        return open_client(self, self.server.port, nick)

    def test_commands_before_registration_get_451(self) -> None:
        c = self.client()
        for line in ("JOIN #early", "PRIVMSG someone :hi", "MOTD", "WHOIS someone", "LIST",
                     "NAMES", "TOPIC #early", "AWAY :x", "FROBNICATE"):
            with self.subTest(line=line):
                c.send(line)
                c.expect(r"^:chat\.test 451 \* :You have not registered$")
        c.register("late")  # registration still works afterwards

    def test_error_numerics_and_the_client_stays(self) -> None:
        member = self.client("member")
        member.send("JOIN #errs-other")
        member.expect(r" 366 member #errs-other ")
        c = self.client("errs")
        c.send("JOIN #errs-mine")
        c.expect(r" 366 errs #errs-mine ")
        cases = [
            ("JOIN", r"461 errs JOIN :Not enough parameters"),
            ("WHOIS", r"461 errs WHOIS :Not enough parameters"),
            ("PART", r"461 errs PART :Not enough parameters"),
            ("USER again 0 * :Again", r"462 errs :You may not reregister"),
            ("FROBNICATE now", r"421 errs FROBNICATE :Unknown command"),
            ("PART #errs-nosuch", r"403 errs #errs-nosuch :No such channel"),
            ("PART #errs-other :bye", r"442 errs #errs-other :You're not on that channel"),
            ("PRIVMSG #errs-other :let me in", r"404 errs #errs-other :"),
            ("PRIVMSG #errs-nosuch :anyone?", r"403 errs #errs-nosuch :No such channel"),
            ("PRIVMSG", r"411 errs :No recipient given \(PRIVMSG\)"),
            ("PRIVMSG #errs-mine", r"412 errs :No text to send"),
            ("PRIVMSG #errs-mine :", r"412 errs :No text to send"),
            ("PRIVMSG nobody-at-all :x", r"401 errs nobody-at-all :No such nick/channel"),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                c.send(line)
                replies = numerics(c.sync())  # PONG comes after every reply to the line
                self.assertEqual(1, len(replies), replies)
                self.assertRegex(replies[0], rf"^:chat\.test {expected}")
        # Nothing of that reached the channel the client is not in.
        self.assertFalse([l for l in member.sync() if "let me in" in l or "bye" in l])
        c.send("PRIVMSG member :still here")
        member.expect(rf"^{src('errs')} PRIVMSG member :still here$")

    def test_line_over_512_bytes_gets_417_and_the_client_stays(self) -> None:
        talker = self.client("talker")
        listener = open_on_other_worker(self, self.server, talker, "listener")
        for c in (talker, listener):
            c.send("JOIN #long")
            c.expect(r" 366 \S+ #long ")
        head = "PRIVMSG #long :"
        # The relayed line, with the sender's prefix, must fit in 512 bytes with its CRLF.
        relay_head = f":talker!talker@127.0.0.1 {head}"
        room = 510 - len(relay_head)
        talker.send(head + "a" * room)
        listener.expect(rf"^{src('talker')} PRIVMSG #long :a{{{room}}}$")
        # One byte more is a legal input line, but could only be relayed too long or cut:
        # it is refused with 417 (and says why), never cut.
        talker.send(head + "c" * (room + 1))
        replies = numerics(talker.sync())
        self.assertEqual(1, len(replies), replies)
        self.assertTrue(replies[0].startswith(":chat.test 417 talker :"), replies)
        self.assertIn("relayed", replies[0])
        for size in (511, 600, 4000):
            with self.subTest(bytes_before_crlf=size):
                talker.send(head + "b" * (size - len(head)))
                replies = numerics(talker.sync())
                self.assertEqual([":chat.test 417 talker :Input line was too long"], replies)
        talker.send("PRIVMSG #long :after the long ones")
        listener.expect(rf"^{src('talker')} PRIVMSG #long :after the long ones$")
        self.assertFalse([l for l in listener.seen if "bbbb" in l or "cccc" in l])  # not cut


class GarbageTest(unittest.TestCase):
    """Garbage from one client: no worker crashes (same pids) and others keep chatting."""

    server = None
    numbers = itertools.count(1)

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.pids = sorted(cls.server.child_pids())
        assert len(cls.pids) == 3, cls.pids  # writer and two workers
        # Two bystanders, one on each worker, chatting in their own channel.
        cls.ann = open_client(cls, cls.server.port, "ann")
        cls.ben = open_on_other_worker(cls, cls.server, cls.ann, "ben")
        for c in (cls.ann, cls.ben):
            c.send("JOIN #bystanders")
            c.expect(r" 366 \S+ #bystanders ")

    def setUp(self) -> None:
        # A vandal, and a peer on the other worker that sees what the vandal's lines became.
        number = next(self.numbers)
        self.vandal_nick, self.channel = f"vandal{number}", f"#garbage{number}"
        self.vandal = open_client(self, self.server.port, self.vandal_nick)
        self.peer = open_on_other_worker(self, self.server, self.vandal, f"peer{number}")
        for c in (self.vandal, self.peer):
            c.send(f"JOIN {self.channel}")
            c.expect(rf" 366 \S+ {self.channel} ")

    def tearDown(self) -> None:
        self.assert_server_intact()

    def assert_server_intact(self) -> None:
        self.assertIsNone(self.server.proc.poll(), "the master exited")
        self.assertEqual(self.pids, sorted(self.server.child_pids()),
                         "a child was replaced:\n" + self.server.log_text())
        for sender, receiver in ((self.ann, self.ben), (self.ben, self.ann)):
            text = f"still chatting after {self._testMethodName}"
            sender.send(f"PRIVMSG #bystanders :{text}")
            receiver.expect(rf" PRIVMSG #bystanders :{re.escape(text)}$")

    def assert_vandal_usable(self) -> None:
        self.vandal.send(f"PRIVMSG {self.channel} :usable")
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :usable$")

    def test_binary_bytes(self) -> None:
        self.vandal.send_raw(bytes(range(256)) + b"\r\n")
        self.vandal.send_raw(b"\x00\x01\x02\xff\xfe\r\n\x1b[2J\x07\r\n")
        self.vandal.send_raw(f"PRIVMSG {self.channel} :bin\x01\x7f\x1b".encode() + b"\xff\r\n")
        self.vandal.sync()
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :bin\x01\x7f\x1b\xff$")
        self.assert_vandal_usable()

    def test_invalid_utf8_is_read_as_latin1(self) -> None:
        self.vandal.send_raw(f"PRIVMSG {self.channel} :caf".encode() + b"\xe9 cr\xe8me\r\n")
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :café crème$")
        # Valid UTF-8 is taken as UTF-8, not Latin-1.
        self.vandal.send_raw(f"PRIVMSG {self.channel} :caf".encode() + "é ☕".encode() + b"\r\n")
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :café ☕$")
        self.assert_vandal_usable()

    def test_long_line_without_newline(self) -> None:
        self.vandal.send_raw(f"PRIVMSG {self.channel} :".encode() + b"z" * 400_000)
        self.vandal.send_raw(b"\r\n")
        replies = numerics(self.vandal.sync())
        self.assertEqual([f":chat.test 417 {self.vandal_nick} :Input line was too long"],
                         replies)
        self.assertFalse([l for l in self.peer.sync() if "zzz" in l])
        self.assert_vandal_usable()

    def test_lf_without_cr(self) -> None:
        self.vandal.send_raw(f"PRIVMSG {self.channel} :lf only\nPRIVMSG {self.channel} "
                             ":and again\n".encode())
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :lf only$")
        self.peer.expect(rf" PRIVMSG {re.escape(self.channel)} :and again$")

    def test_bare_cr_ends_a_line_and_cannot_forge_one(self) -> None:
        """RFC 1459 section 8.2: a server treats CR or LF as the end of a message. A CR relayed
        inside a message would let clients that split on CR read a forged line."""
        self.vandal.send_raw(f"PRIVMSG {self.channel} :hi\r:evil!evil@evil PRIVMSG "
                             f"{self.channel} :forged\r\n".encode())
        self.vandal.sync()
        lines = self.peer.sync()
        self.assertFalse([l for l in lines if "\r" in l], lines)
        self.assertFalse([l for l in lines if l.startswith(":evil")], lines)
        self.assertIn(f":{self.vandal_nick}!{self.vandal_nick}@127.0.0.1 PRIVMSG "
                      f"{self.channel} :hi", lines)

    def test_words_that_cannot_be_echoed_in_a_numeric(self) -> None:
        """Error numerics echo the offending word as a middle parameter; a word with a space,
        an empty one or one starting with ':' (all possible as a trailing parameter) must
        still get its numeric, not crash the worker or get the client dropped."""
        cases = [
            ("NICK :a b", "432"), ("NICK ::colon", "432"), ("CAP :LS 302", "410"),
            ("PART :#a b", "403"), ("PART :", "403"), ("JOIN :#a b", "479"),  # 479: illegal name
            ("WHOIS :a b", "401"), ("WHOIS :", "401"), ("MODE :", "401"),
            ("MODE :#a b", "403"), ("TOPIC :#a b", "403"), ("TOPIC :", "403"),
            ("WHO :a b", "315"), ("NAMES :#a b", "366"),
        ]
        for line, code in cases:
            with self.subTest(line=line):
                self.vandal.send(line)
                replies = numerics(self.vandal.sync())
                self.assertTrue(replies, "no reply")
                self.assertRegex(replies[0], rf"^:chat\.test {code} {self.vandal_nick} \* :")
        # Before registration too (the worker answers those itself).
        newcomer = open_client(self, self.server.port)
        for line in ("NICK :a b", "NICK ::x", "CAP :LS 302"):
            with self.subTest(unregistered=line):
                newcomer.send(line)
                newcomer.expect(r"^:chat\.test (432|410) \* \* :")
        newcomer.register(f"{self.vandal_nick}b")
        self.assert_vandal_usable()

    def test_unparsable_lines(self) -> None:
        for raw in (b":\r\n", b":only-a-source\r\n", b"@tag\r\n", b"@=x PING y\r\n",
                    b"   \r\n", b"\r\n\r\n\n\n", b"@" + b"t" * 9000 + b" PING x\r\n"):
            with self.subTest(raw=raw[:20]):
                self.vandal.send_raw(raw)
                self.vandal.sync()
        self.assert_vandal_usable()


if __name__ == "__main__":
    unittest.main()
