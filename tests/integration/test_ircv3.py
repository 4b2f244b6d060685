"""IRCv3 capabilities against a real chatd, checked against the specs at ircv3.net and what
the irctest conformance suite asserts: capability negotiation (CAP LS/REQ/ACK/NAK/LIST/END,
cap-notify), message-tags (client-only tags, escaping, TAGMSG, the 4094-byte limit, msgid),
server-time, echo-message (sent only once stored), labeled-response and batch."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import unittest

from ircproto.servertime import format_server_time as server_time
from ircproto.message import Message, parse
from tests.support.chatd_process import ChatdProcess, open_on_other_worker, start_chatd
from tests.support.irc_client import IRCClient, open_client
from tests.support.ircv3 import (
    HISTORY_CAPS,
    NO_AUTOJOIN,
    SERVER,
    TIME_RE,
    connect,
    find_batch,
    history,
    join,
    only,
    parse_batch,
    send_echoed,
    send_spaced,
)

ALL_CAPS = {"batch", "cap-notify", "draft/chathistory", "draft/event-playback", "echo-message",
            "labeled-response", "message-tags", "multi-prefix", "server-time",
            "standard-replies", "userhost-in-names", "sasl", "draft/account-registration",
            "account-notify", "account-tag", "extended-join", "invite-notify", "away-notify",
            "setname", "extended-monitor", "draft/multiline", "draft/message-redaction",
            "draft/search", "soju.im/search", "draft/read-marker"}


def up_to_marker(client: IRCClient, marker: str) -> list[Message]:
    """Messages the client got before the PRIVMSG whose text is `marker` (which the test sent
    after what it checks: per-connection delivery follows the history order)."""
    lines = client.expect_until(rf" PRIVMSG \S+ :{re.escape(marker)}$")
    return [parse(l) for l in lines[:-1]]


class CapabilityNegotiationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def fresh(self) -> IRCClient:
        return open_client(self, self.server.port)

    def test_ls_lists_every_capability_in_lines_that_fit(self) -> None:
        client = self.fresh()
        for command in ("CAP LS", "CAP LS 301", "CAP LS 302"):
            client.send(command)
            lines = client.sync()
            messages = [parse(line) for line in lines]
            # Every line but the last carries "*" before its list (multiline replies); a
            # client before 302 gets no values, and so one line.
            for msg in messages[:-1]:
                self.assertEqual(("*", "LS", "*"), msg.params[:3], msg)
            self.assertEqual(3, len(messages[-1].params), messages[-1])
            caps = " ".join(msg.params[-1] for msg in messages).split()
            self.assertEqual(ALL_CAPS, {cap.split("=")[0] for cap in caps})
            for line, msg in zip(lines, messages):
                self.assertEqual((SERVER, "CAP"), (msg.source, msg.command))
                self.assertLess(len(line.encode()) + 2, 512)
            if command == "CAP LS 302":  # values only for 302 (SASL mechanisms, ...)
                self.assertIn("sasl=PLAIN,EXTERNAL,SCRAM-SHA-256", caps)
            else:
                self.assertEqual(1, len(lines), lines)
                self.assertNotIn("=", " ".join(caps))

    def test_ls_302_implies_cap_notify_which_cannot_be_disabled(self) -> None:
        client = self.fresh()
        client.send("CAP LS 302")
        client.send("CAP LIST")
        lines = client.sync()
        self.assertEqual(("*", "LIST", "cap-notify"), parse(lines[-1]).params)
        client.send("CAP REQ :-cap-notify")
        self.assertEqual([f":{SERVER} CAP * NAK -cap-notify"], client.sync())
        client.send("CAP REQ cap-notify")  # may be requested: ACK without side effects
        self.assertEqual(("*", "ACK", "cap-notify"), parse(client.sync()[0]).params)
        client.send("CAP LIST")
        self.assertEqual(("*", "LIST", "cap-notify"), parse(client.sync()[0]).params)

    def test_cap_notify_is_optional_for_older_clients(self) -> None:
        client = self.fresh()
        client.send("CAP LS")
        client.send("CAP REQ :cap-notify")
        client.send("CAP REQ :-cap-notify")
        client.send("CAP LIST")
        lines = client.sync()
        self.assertEqual([("*", "ACK", "cap-notify"), ("*", "ACK", "-cap-notify"),
                          ("*", "LIST", "")], [parse(l).params for l in lines[1:]])

    def test_empty_list_has_an_empty_trailing_parameter(self) -> None:
        client = self.fresh()
        client.send("CAP LIST")
        self.assertEqual([f":{SERVER} CAP * LIST :"], client.sync())

    def test_req_is_all_or_nothing_and_nak_echoes_the_request_verbatim(self) -> None:
        client = self.fresh()
        client.send("CAP LS 302")
        client.send("CAP REQ :server-time")
        client.send("CAP REQ :foo qux bar baz qux quux")
        client.send("CAP REQ :message-tags not-a-cap batch")
        client.send("CAP REQ :echo-message -no-such-cap")
        client.send("CAP LIST")
        lines = client.sync()
        self.assertEqual([
            ("*", "ACK", "server-time"),
            ("*", "NAK", "foo qux bar baz qux quux"),
            ("*", "NAK", "message-tags not-a-cap batch"),
            ("*", "NAK", "echo-message -no-such-cap"),
            ("*", "LIST", "cap-notify server-time"),  # nothing of the NAKed requests
        ], [parse(l).params for l in lines[1:]])

    def test_req_of_several_caps_is_acked_as_requested(self) -> None:
        client = self.fresh()
        client.send("CAP REQ :multi-prefix userhost-in-names batch")
        client.send("CAP LIST")
        lines = client.sync()
        self.assertEqual(("*", "ACK", "multi-prefix userhost-in-names batch"),
                         parse(lines[0]).params)
        self.assertEqual({"multi-prefix", "userhost-in-names", "batch"},
                         set(parse(lines[1]).params[2].split()))

    def test_req_minus_disables_a_capability(self) -> None:
        """irctest testCapRemovalByClient: after -server-time, no time tag anywhere."""
        client = open_client(self, self.server.port)
        client.send("CAP LS 302")
        client.send("CAP REQ :echo-message server-time")
        client.send("NICK capdrop")
        client.send("USER capdrop 0 * :x")
        client.send("CAP END")
        registration = client.expect_until(r" 001 ")
        acks = [parse(l).params for l in registration if " CAP " in l][1:]
        self.assertEqual([("*", "ACK", "echo-message server-time")], acks)
        client.expect(r" (376|422) ")
        join(client, "#capdrop")
        echo = send_echoed(client, "PRIVMSG #capdrop :with time")
        self.assertRegex(echo.tags.get("time", ""), TIME_RE)
        client.send("CAP REQ :-server-time")
        client.send("CAP LIST")
        lines = client.sync()
        self.assertEqual(("capdrop", "ACK", "-server-time"), parse(lines[0]).params)
        listed = parse(lines[1])
        self.assertEqual({}, listed.tags)
        self.assertEqual({"echo-message", "cap-notify"}, set(listed.params[2].split()))
        echo = send_echoed(client, "PRIVMSG #capdrop :without time")
        self.assertEqual({}, echo.tags)

    def test_registration_waits_for_cap_end(self) -> None:
        client = self.fresh()
        client.send("CAP LS 302")
        client.send("NICK held")
        client.send("USER held 0 * :Held")
        first = client.sync()
        self.assertEqual(1, len(first), first)  # the LS reply only: no 001
        client.send("CAP REQ :server-time")
        client.send("CAP LS 302")  # irctest testNoReq: LS again, still no welcome
        second = client.sync()
        self.assertEqual(["ACK", "LS"], [parse(l).params[1] for l in second])
        client.send("CAP END")
        self.assertEqual(parse(client.expect(r" 001 ")).params[0], "held")

    def test_req_without_ls_also_holds_registration(self) -> None:
        client = self.fresh()
        client.send("CAP REQ :batch")
        client.send("NICK heldreq")
        client.send("USER heldreq 0 * :Held")
        self.assertEqual([("*", "ACK", "batch")], [parse(l).params for l in client.sync()])
        client.send("CAP END")
        client.expect(r" 001 heldreq ")

    def test_registration_without_cap_is_not_held_and_late_cap_end_is_ignored(self) -> None:
        client = self.fresh()
        client.register("nocap")
        client.send("CAP END")
        self.assertEqual([], client.sync())
        client.send("CAP REQ :server-time")  # CAP works after registration too
        self.assertEqual([f":{SERVER} CAP nocap ACK server-time"], client.sync())

    def test_unknown_subcommand_is_410(self) -> None:
        client = self.fresh()
        client.send("CAP NOTACOMMAND")
        lines = client.sync()
        self.assertEqual(1, len(lines), lines)
        msg = parse(lines[0])
        self.assertEqual("410", msg.command)
        self.assertEqual(("*", "NOTACOMMAND"), msg.params[:2])
        self.assertEqual(3, len(msg.params))
        client.register("capbad")
        client.send("CAP FOO bar")
        self.assertEqual(("capbad", "FOO"), parse(client.sync()[0]).params[:2])


class MessageTagsTest(unittest.TestCase):
    """One channel with members of every tag-relevant capability set."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.sender = connect(cls, server, "sender",
                             ("message-tags", "server-time", "echo-message"))
        cls.tags = open_on_other_worker(cls, server, cls.sender, "tagsonly", ("message-tags",))
        cls.times = connect(cls, server, "timeonly", ("server-time",))
        cls.plain = connect(cls, server, "plain")
        cls.full = connect(cls, server, "full", HISTORY_CAPS)
        cls.everyone = (cls.sender, cls.tags, cls.times, cls.plain, cls.full)
        for client in cls.everyone:
            join(client, "#tags")
        cls.markers = 0

    def marker(self) -> str:
        """Send a marker PRIVMSG from the sender; return its text."""
        type(self).markers += 1
        text = f"marker {self.markers}"
        send_echoed(self.sender, f"PRIVMSG #tags :{text}")
        return text

    def received(self) -> dict[str, list[Message]]:
        """What each other member got since the previous call, up to a fresh marker."""
        text = self.marker()
        return {name: [m for m in up_to_marker(client, text)
                       if m.params[:1] == ("#tags",) and m.command != "JOIN"]
                for name, client in
                (("tags", self.tags), ("times", self.times), ("plain", self.plain),
                 ("full", self.full))}

    def test_client_only_tags_go_only_to_message_tags_clients(self) -> None:
        echo = send_echoed(self.sender, "@+example.com/x=a;+flag;vendor/unprefixed=z;"
                                        "notclient PRIVMSG #tags :tagged")
        got = self.received()
        msgid, when = echo.tags["msgid"], echo.tags["time"]
        # Echo: the client tags (unprefixed ones stripped), msgid and time.
        self.assertEqual({"+example.com/x": "a", "+flag": "", "msgid": msgid, "time": when},
                         echo.tags)
        [tags] = got["tags"]
        self.assertEqual({"+example.com/x": "a", "+flag": "", "msgid": msgid}, tags.tags)
        [times] = got["times"]
        self.assertEqual({"time": when}, times.tags)
        [full] = got["full"]
        self.assertEqual(echo.tags, full.tags)
        [plain] = got["plain"]
        self.assertEqual({}, plain.tags)
        self.assertIn(":sender!sender@127.0.0.1 PRIVMSG #tags :tagged", self.plain.seen)
        for msg in (tags, times, full, plain):
            self.assertEqual(("#tags", "tagged"), msg.params)

    def test_escaped_values_round_trip(self) -> None:
        raw = r"a\:b\sc\\d\re\nf"
        echo = send_echoed(self.sender, f"@+esc={raw};+bad=x\\;+lone=\\b PRIVMSG #tags :esc")
        [relayed] = self.received()["tags"]
        for msg in (echo, relayed):
            self.assertEqual("a;b c\\d\re\nf", msg.tags["+esc"])
            self.assertEqual("x", msg.tags["+bad"])  # a trailing lone backslash is dropped
            self.assertEqual("b", msg.tags["+lone"])  # an unknown escape drops the backslash
        # ... and the wire form is escaped again, exactly.
        line = next(l for l in self.tags.seen if l.endswith("PRIVMSG #tags :esc"))
        self.assertIn(f"+esc={raw};", line)

    def test_tagmsg_reaches_only_message_tags_clients(self) -> None:
        echo = send_echoed(self.sender, "@+draft/react=l\U0001F603l;+draft/reply=1 TAGMSG #tags")
        got = self.received()
        self.assertEqual("l\U0001F603l", echo.tags["+draft/react"])
        self.assertEqual(("#tags",), echo.params)
        for name in ("tags", "full"):
            [msg] = got[name]
            self.assertEqual("TAGMSG", msg.command)
            self.assertEqual(echo.tags["msgid"], msg.tags["msgid"])
            self.assertEqual({"+draft/react": "l\U0001F603l", "+draft/reply": "1"},
                             {k: v for k, v in msg.tags.items() if k.startswith("+")})
        self.assertEqual([], got["times"])  # not even to server-time clients
        self.assertEqual([], got["plain"])

    def test_tagmsg_to_a_user(self) -> None:
        echo = send_echoed(self.sender, "@+typing=active TAGMSG tagsonly")
        self.assertEqual("active", echo.tags["+typing"])
        line = self.tags.expect(r" TAGMSG tagsonly$")
        self.assertEqual({"+typing": "active", "msgid": echo.tags["msgid"]}, parse(line).tags)
        send_echoed(self.sender, "@+typing=active TAGMSG timeonly")
        send_echoed(self.sender, "PRIVMSG timeonly :after tagmsg")
        self.assertEqual([], [m for m in up_to_marker(self.times, "after tagmsg")
                              if m.command == "TAGMSG"])

    def test_client_tag_data_over_4094_bytes_is_417(self) -> None:
        fits = "@+big=" + "x" * (4094 - len("+big=")) + " PRIVMSG #tags :fits"
        over = "@+big=" + "x" * (4095 - len("+big=")) + " PRIVMSG #tags :too long"
        self.assertEqual(1 + 4094, fits.index(" "))  # '@' + 4094 bytes of tag data
        self.sender.send(fits)
        self.sender.send(over)
        lines = self.sender.sync()
        self.assertEqual(2, len(lines), [l[:80] for l in lines])
        echo = parse(lines[0])
        self.assertEqual(("#tags", "fits"), echo.params)
        self.assertEqual(4094 - len("+big="), len(echo.tags["+big"]))
        self.assertEqual(f":{SERVER} 417 sender :Input line was too long", lines[1])
        got = self.received()
        self.assertEqual([("#tags", "fits")], [m.params for m in got["tags"]])
        self.assertEqual(echo.tags["+big"], got["tags"][0].tags["+big"])  # never truncated
        self.assertEqual([("#tags", "fits")], [m.params for m in got["plain"]])

    def test_msgid_and_time_are_identical_on_echo_relays_and_history(self) -> None:
        echo = send_echoed(self.sender, "@+k=v PRIVMSG #tags :one message")
        got = self.received()
        msgid, when = echo.tags["msgid"], echo.tags["time"]
        self.assertRegex(when, f"^{TIME_RE}$")
        self.assertEqual(msgid, got["tags"][0].tags["msgid"])
        self.assertEqual(msgid, got["full"][0].tags["msgid"])
        self.assertEqual(when, got["times"][0].tags["time"])
        self.assertEqual(when, got["full"][0].tags["time"])
        batch = history(self.full, f"CHATHISTORY AROUND #tags msgid={msgid} 1")
        [stored] = batch.inner
        self.assertEqual({"batch": batch.ref, "msgid": msgid, "time": when, "+k": "v"},
                         stored.tags)
        self.assertEqual((echo.source, echo.command, echo.params),
                         (stored.source, stored.command, stored.params))

    def test_every_message_gets_a_distinct_msgid(self) -> None:
        echoes = [send_echoed(self.sender, f"PRIVMSG #tags :n{i}") for i in range(10)]
        ids = [int(e.tags["msgid"]) for e in echoes]
        self.assertEqual(sorted(set(ids)), ids)
        self.received()

    def test_private_message_tags_follow_the_recipients_caps(self) -> None:
        echo = send_echoed(self.sender, "@+p=1 PRIVMSG tagsonly :private")
        line = self.tags.expect(r" PRIVMSG tagsonly :private$")
        self.assertEqual({"+p": "1", "msgid": echo.tags["msgid"]}, parse(line).tags)
        send_echoed(self.sender, "@+p=1 PRIVMSG plain :private")
        self.assertEqual(":sender!sender@127.0.0.1 PRIVMSG plain :private",
                         self.plain.expect(r" PRIVMSG plain :private$"))


class EchoMessageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)

    def test_echo_carries_msgid_and_time_per_caps(self) -> None:
        bare = connect(self, self.server, "echobare", ("echo-message",))
        tags = connect(self, self.server, "echotags", ("echo-message", "message-tags"))
        for client in (bare, tags):
            join(client, "#echo")
        self.assertEqual({}, send_echoed(bare, "PRIVMSG #echo :bare").tags)
        self.assertIn(":echobare!echobare@127.0.0.1 PRIVMSG #echo :bare", bare.seen)
        self.assertEqual({"msgid"}, set(send_echoed(tags, "PRIVMSG #echo :tags").tags))
        # Without echo-message a channel message is not sent back at all.
        plain = connect(self, self.server, "echonone")
        join(plain, "#echo")
        plain.send("PRIVMSG #echo :none")
        self.assertEqual([], plain.sync())

    def test_privmsg_to_self_comes_twice_with_echo_message_once_without(self) -> None:
        echo = connect(self, self.server, "selfecho", ("echo-message", "message-tags"))
        echo.send("PRIVMSG selfecho :me")
        copies = echo.sync()
        self.assertEqual(2, len(copies), copies)
        self.assertEqual(copies[0], copies[1])
        plain = connect(self, self.server, "selfplain", ("message-tags",))
        plain.send("PRIVMSG selfplain :me")
        self.assertEqual(1, len(plain.sync()))

    def test_notice_is_echoed_with_the_same_msgid_as_delivered(self) -> None:
        sender = connect(self, self.server, "noticer", ("echo-message", "message-tags"))
        other = connect(self, self.server, "noticed", ("message-tags",))
        for client in (sender, other):
            join(client, "#notice")
        echo = send_echoed(sender, "NOTICE #notice :hear ye")
        delivered = parse(other.expect(r" NOTICE #notice :hear ye$"))
        self.assertEqual(echo.tags["msgid"], delivered.tags["msgid"])
        echo = send_echoed(sender, "NOTICE noticed :psst")
        delivered = parse(other.expect(r" NOTICE noticed :psst$"))
        self.assertEqual(echo.tags["msgid"], delivered.tags["msgid"])

    def test_direct_message_echo_and_delivery_carry_the_client_tag(self) -> None:
        """irctest testDirectMessageEcho."""
        sender = connect(self, self.server, "dmsender",
                         ("echo-message", "message-tags", "batch", "labeled-response"))
        other = connect(self, self.server, "dmother", ("message-tags",))
        sender.send("@label=xyz;+example-client-tag=example-value PRIVMSG dmother :hi there")
        [line] = sender.sync()
        echo = parse(line)
        delivered = parse(other.expect(r" PRIVMSG dmother :hi there$"))
        self.assertEqual("xyz", echo.tags["label"])
        self.assertEqual("example-value", echo.tags["+example-client-tag"])
        self.assertEqual("example-value", delivered.tags["+example-client-tag"])
        self.assertNotIn("label", delivered.tags)
        self.assertEqual(echo.tags["msgid"], delivered.tags["msgid"])
        self.assertEqual(echo.params, delivered.params)

    def test_tagmsg_echo_needs_message_tags(self) -> None:
        client = connect(self, self.server, "tagecho", ("echo-message", "message-tags"))
        join(client, "#tagecho")
        echo = send_echoed(client, "@+draft/typing=active TAGMSG #tagecho")
        self.assertEqual("active", echo.tags["+draft/typing"])
        self.assertIn("msgid", echo.tags)


class EchoAfterCommitTest(unittest.TestCase):
    def test_echo_waits_for_the_writer_and_means_stored(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        client = connect(self, server, "durable", ("echo-message", "message-tags", "server-time"))
        join(client, "#durable")
        writer = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])
        os.kill(writer, signal.SIGSTOP)
        self.addCleanup(_continue, writer)
        client.send("PRIVMSG #durable :must be stored first")
        client.send("PING :held")
        # The writer cannot commit: neither the echo nor the PONG behind it may come.
        client.assert_no_line(r"PRIVMSG|PONG", within_s=0.5)
        self.assertEqual([], stored_texts(server, "#durable"))
        os.kill(writer, signal.SIGCONT)
        lines = client.expect_until(r"PONG \S+ :?held$")
        [echo] = only(lines, "PRIVMSG")
        # Once the echo is here, the row is in the file with the same id and time.
        self.assertEqual([(int(echo.tags["msgid"]), "must be stored first")],
                         stored_texts(server, "#durable"))
        with sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True) as db:
            [(ts,)] = db.execute("SELECT ts FROM messages WHERE id = ?",
                                 (int(echo.tags["msgid"]),)).fetchall()
        self.assertEqual(echo.tags["time"], server_time(ts))


def _continue(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def stored_texts(server: ChatdProcess, conv: str) -> list[tuple[int, str]]:
    """(id, text) of the PRIVMSGs stored for a timeline, read straight from the file."""
    with sqlite3.connect(f"{server.db_path.as_uri()}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT m.id, m.text FROM timeline t JOIN messages m ON m.id = t.id"
            " WHERE t.conv = ? AND m.kind = 'PRIVMSG' ORDER BY m.id", (conv,)).fetchall()


class LabeledResponseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.labeled = connect(cls, cls.server, "labeler", HISTORY_CAPS)

    def test_labeled_ping_gets_one_labeled_pong(self) -> None:
        self.labeled.send("@label=98765 PING adhoctestline")
        [line] = self.labeled.sync()
        msg = parse(line)
        self.assertEqual(("PONG", {"label": "98765"}, "adhoctestline"),
                         (msg.command, msg.tags, msg.params[-1]))

    def test_labeled_pong_gets_ack(self) -> None:
        self.labeled.send("@label=98765 PONG adhoctestline")
        self.assertEqual([f"@label=98765 :{SERVER} ACK"], self.labeled.sync())

    def test_labeled_unknown_command_gets_labeled_421(self) -> None:
        self.labeled.send("@label=deadbeef NONEXISTENT_COMMAND")
        [line] = self.labeled.sync()
        self.assertEqual(f"@label=deadbeef :{SERVER} 421 labeler NONEXISTENT_COMMAND "
                         ":Unknown command", line)

    def test_label_value_is_escaped_back(self) -> None:
        self.labeled.send(r"@label=a\sb\:c PING x")
        self.assertEqual("a b;c", parse(self.labeled.sync()[0]).tags["label"])

    def test_labeled_join_is_one_labeled_response_batch(self) -> None:
        self.labeled.send("@label=12345 JOIN #labeljoin")
        lines = self.labeled.sync()
        start = parse(lines[0])
        self.assertEqual({"label": "12345"}, start.tags)
        self.assertEqual("labeled-response", start.params[1])
        batch = parse_batch(lines)
        self.assertEqual(["JOIN", "353", "366"], [m.command for m in batch.inner])
        self.assertEqual(("#labeljoin",), batch.inner[0].params)
        for msg in batch.inner:
            self.assertNotIn("label", msg.tags)

    def test_labeled_privmsg_echo_has_exactly_the_label(self) -> None:
        """irctest testLabeledPrivmsgResponsesToChannel: a sender without message-tags and
        server-time gets tags {label} only."""
        sender = connect(self, self.server, "lblsender",
                         ("echo-message", "batch", "labeled-response"))
        member = connect(self, self.server, "lblmember", ("message-tags",))
        for client in (sender, member):
            join(client, "#labelmsg")
        sender.send("@label=12345;+draft/reply=123;+draft/react=l\U0001F603l "
                    "PRIVMSG #labelmsg :hi")
        [line] = [l for l in sender.sync() if " JOIN " not in l]
        echo = parse(line)
        self.assertEqual(({"label": "12345"}, ("#labelmsg", "hi")), (echo.tags, echo.params))
        relayed = parse(member.expect(r" PRIVMSG #labelmsg :hi$"))
        # No label for others. (The sender did not negotiate message-tags, so chatd does not
        # take client-only tags from it: only the msgid.)
        self.assertEqual({"msgid"}, set(relayed.tags))
        # To a user too.
        sender.send("@label=777 NOTICE lblmember :psst")
        [line] = sender.sync()
        self.assertEqual({"label": "777"}, parse(line).tags)

    def test_labeled_message_to_self_labels_only_the_echo(self) -> None:
        for command in ("PRIVMSG labeler :me", "NOTICE labeler :me", "TAGMSG labeler"):
            self.labeled.send("@label=self " + command)
            copies = [parse(l) for l in self.labeled.sync()]
            self.assertEqual(2, len(copies), copies)
            self.assertEqual(1, sum("label" in m.tags for m in copies), copies)
            self.assertEqual(copies[0].tags["msgid"], copies[1].tags["msgid"])

    def test_labeled_chathistory_labels_the_batch_start(self) -> None:
        join(self.labeled, "#labelhist")
        send_echoed(self.labeled, "PRIVMSG #labelhist :in history")
        self.labeled.send("@label=hist CHATHISTORY LATEST #labelhist * 10")
        lines = self.labeled.sync()
        start = parse(lines[0])
        self.assertEqual(("BATCH", "label"), (start.command, *start.tags))
        self.assertEqual(("chathistory", "#labelhist"), start.params[1:])
        batch = parse_batch(lines)
        self.assertEqual(["in history"], batch.texts)
        for msg in batch.inner:
            self.assertNotIn("label", msg.tags)
        # A refusal is one labeled FAIL.
        self.labeled.send("@label=nope CHATHISTORY LATEST #nowhere * 10")
        [line] = self.labeled.sync()
        fail = parse(line)
        self.assertEqual(("FAIL", {"label": "nope"}), (fail.command, fail.tags))
        self.assertEqual(("CHATHISTORY", "INVALID_TARGET", "LATEST", "#nowhere"),
                         fail.params[:4])

    def test_without_batch_the_label_goes_on_the_first_line_only(self) -> None:
        client = connect(self, self.server, "nobatch",
                         ("labeled-response", "draft/chathistory", "echo-message"))
        client.send("@label=j1 JOIN #nobatch")
        lines = client.sync()
        msgs = [parse(l) for l in lines]
        self.assertEqual(["JOIN", "353", "366"], [m.command for m in msgs])
        self.assertEqual([{"label": "j1"}, {}, {}], [m.tags for m in msgs])
        for text in ("one", "two"):
            send_echoed(client, f"PRIVMSG #nobatch :{text}")
        client.send("@label=h1 CHATHISTORY LATEST #nobatch * 10")
        msgs = [parse(l) for l in client.sync()]
        self.assertEqual([("PRIVMSG", "one"), ("PRIVMSG", "two")],
                         [(m.command, m.params[-1]) for m in msgs])
        self.assertEqual([{"label": "h1"}, {}], [m.tags for m in msgs])
        client.send("@label=h2 CHATHISTORY AFTER #nobatch timestamp=2262-01-01T00:00:00.000Z 10")
        self.assertEqual([f"@label=h2 :{SERVER} ACK"], client.sync())

    def test_labels_are_ignored_without_the_capability(self) -> None:
        client = connect(self, self.server, "nolabel", ("batch",))
        client.send("@label=x PING tok")
        self.assertEqual([f":{SERVER} PONG {SERVER} tok"], client.sync())


class BatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_chatd(cls, workers=2, extra=NO_AUTOJOIN)
        cls.speaker = connect(cls, cls.server, "speaker", HISTORY_CAPS)
        join(cls.speaker, "#replay")
        cls.echoes = send_spaced(cls.speaker, "#replay", ["r1", "r2", "r3"])

    def test_batch_references_are_unique_per_connection(self) -> None:
        client = connect(self, self.server, "refs", HISTORY_CAPS)
        refs = []
        for i in range(4):
            client.send(f"@label=j{i} JOIN #refs{i}")
            refs.append(parse(client.sync()[0]).params[0])
            refs.append("+" + history(client, f"CHATHISTORY LATEST #refs{i} * 10").ref)
            refs.append("+" + history(client, "CHATHISTORY TARGETS "
                                              "timestamp=2020-01-01T00:00:00.000Z "
                                              "timestamp=2262-01-01T00:00:00.000Z 10").ref)
        self.assertEqual(len(refs), len(set(refs)), refs)
        for ref in refs:
            self.assertRegex(ref, r"^\+[A-Za-z0-9-]+$")

    def test_join_replay_is_a_chathistory_batch_for_batch_clients(self) -> None:
        client = connect(self, self.server, "batched", ("batch", "server-time", "message-tags"))
        batch = find_batch(join(client, "#replay"))  # (other members may come and go)
        self.assertEqual(("chathistory", "#replay"), batch.params)
        self.assertEqual(["r1", "r2", "r3"], batch.texts)
        self.assertEqual([(e.tags["msgid"], e.tags["time"]) for e in self.echoes],
                         [(m.tags["msgid"], m.tags["time"]) for m in batch.inner])

    def test_no_batch_lines_for_clients_without_batch(self) -> None:
        client = connect(self, self.server, "unbatched", ("server-time",))
        replay = only(join(client, "#replay"), "PRIVMSG")
        self.assertFalse([l for l in client.seen if " BATCH " in l])
        self.assertEqual(["r1", "r2", "r3"], [m.params[1] for m in replay])
        self.assertEqual([{"time": e.tags["time"]} for e in self.echoes],
                         [m.tags for m in replay])

    def test_no_replay_for_chathistory_clients(self) -> None:
        client = connect(self, self.server, "asks", ("batch", "draft/chathistory"))
        self.assertEqual([], [l for l in join(client, "#replay") if " JOIN " not in l
                              and " QUIT " not in l])
        self.assertEqual(["r1", "r2", "r3"],
                         history(client, "CHATHISTORY LATEST #replay * 10").texts)


if __name__ == "__main__":
    unittest.main()
