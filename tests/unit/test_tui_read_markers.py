"""tui.read_markers (MARKREAD, IRCv3 draft/read-marker), tui.alerts and tui.notify (the bell
and desktop notifications), tui.rejoining (what is joined after registration)."""

import unittest
from datetime import timedelta

from tests.unit.test_tui_support import ALL_CAPS, MASK, T0, Harness, stamp
from tui.alerts import ALERT_GAP, Alerts, Notify
from tui.config import Settings
from tui.effects import Alert
from tui.notify import notification
from tui.read_markers import MARKREAD_GAP

CAPS = ALL_CAPS + " draft/read-marker"
MINUTE = timedelta(minutes=1)


def sent(h: Harness, command: str) -> list[tuple[str, ...]]:
    return [m.params for m in h.sent_commands(command)]


class MarkreadTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness(caps=CAPS)
        self.h.register()
        self.h.join()
        self.h.answer([])
        self.lobby = self.h.buffer("#lobby")

    def say(self, text: str, minutes: int, msgid: int, target: str = "#lobby") -> None:
        self.h.recv(self.h.line("PRIVMSG", target, text, msgid=msgid,
                                when=T0 + minutes * MINUTE))

    def test_the_server_moves_the_read_position_and_the_marker(self) -> None:
        h = self.h
        h.state.switch(0)
        for i in range(1, 5):
            self.say(f"m{i}", i, i)
        self.assertEqual(self.lobby.unread, 4)
        h.recv(f":srv MARKREAD #lobby timestamp={stamp(T0 + 3 * MINUTE)}")
        self.assertEqual(self.lobby.read_time, T0 + 3 * MINUTE)
        self.assertEqual(self.lobby.unread, 1)
        self.assertEqual([l.text for l in self.lobby.lines if l.kind.value in
                          ("message", "divider")][-3:], ["m3", "new", "m4"])
        h.recv(f":srv MARKREAD #lobby timestamp={stamp(T0 + MINUTE)}")  # never back
        h.recv(":srv MARKREAD #lobby *")
        self.assertEqual(self.lobby.read_time, T0 + 3 * MINUTE)
        self.assertEqual(sent(h, "MARKREAD"), [])  # the server told us: nothing to send

    def test_leaving_a_buffer_sends_how_far_it_was_read(self) -> None:
        h = self.h
        h.state.focus(self.lobby)
        self.say("hello", 1, 10)
        h.state.switch(0)
        h.advance(0)
        self.assertEqual(sent(h, "MARKREAD"),
                         [("#lobby", f"timestamp={stamp(T0 + MINUTE)}")])
        h.advance(1)
        self.assertEqual(len(sent(h, "MARKREAD")), 1)  # once
        self.say("more", 2, 11)
        h.state.focus(self.lobby)
        h.state.switch(0)  # read again at once: held back
        h.advance(0)
        self.assertEqual(len(sent(h, "MARKREAD")), 1)
        self.assertEqual(h.session.next_deadline(), T0 + MARKREAD_GAP)
        h.now = T0 + MARKREAD_GAP
        h.advance(0)
        self.assertEqual(sent(h, "MARKREAD")[-1],
                         ("#lobby", f"timestamp={stamp(T0 + 2 * MINUTE)}"))

    def test_a_private_buffer_asks_for_its_position_once(self) -> None:
        h = self.h
        self.say("psst", 1, 11, target="alice")
        h.advance(0)
        h.advance(1)
        self.assertIn(("bob",), sent(h, "MARKREAD"))
        self.assertEqual(sent(h, "MARKREAD").count(("bob",)), 1)

    def test_without_the_capability_nothing_is_sent(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.recv(h.line("PRIVMSG", "#lobby", "hi", msgid=5))
        h.state.switch(0)
        h.advance(1)
        self.assertEqual(sent(h, "MARKREAD"), [])
        self.assertIsNotNone(h.buffer("#lobby").read_time)  # kept locally all the same

    def test_a_mention_is_an_alert(self) -> None:
        h = self.h
        effects = h.session.receive(h.line("PRIVMSG", "#lobby", "alice: look", msgid=12), h.now)
        self.assertEqual(effects, [Alert("#lobby", "bob", "alice: look", False)])
        effects = h.session.receive(h.line("PRIVMSG", "#lobby", "plain", msgid=13), h.now)
        self.assertEqual(effects, [])
        effects = h.session.receive(h.line("PRIVMSG", "alice", "psst", msgid=14), h.now)
        self.assertIn(Alert("bob", "bob", "psst", True), effects)

    def test_highlight_words(self) -> None:
        h = self.h
        h.session.ctx.highlights = ("deploy",)
        effects = h.session.receive(h.line("PRIVMSG", "#lobby", "Deploy done", msgid=15), h.now)
        self.assertTrue(effects and h.buffer("#lobby").lines[-1].mention)
        effects = h.session.receive(h.line("PRIVMSG", "#lobby", "redeployed", msgid=16), h.now)
        self.assertEqual(effects, [])  # whole words only


class AlertsTest(unittest.TestCase):
    def test_settings_and_rate(self) -> None:
        alert = Alert("#c", "bob", "alice: hi", False)
        cases = [  # (settings, expected bytes)
            (Settings(), b"\x07"),
            (Settings(bell=False, notify="off"), None),
            (Settings(bell=False, notify="osc9"), b"\x1b]9;bob in #c: alice: hi\x07"),
            (Settings(notify="osc777"), b"\x07\x1b]777;notify;bob in #c;alice: hi\x07"),
        ]
        for settings, expected in cases:
            with self.subTest(settings=settings):
                alerts = Alerts(settings)
                got = alerts.on_alert(alert, T0)
                self.assertEqual(got.data if got else None, expected)
        alerts = Alerts(Settings())
        self.assertIsNotNone(alerts.on_alert(alert, T0))
        self.assertIsNone(alerts.on_alert(alert, T0 + ALERT_GAP / 2))  # a burst rings once
        self.assertEqual(alerts.on_alert(alert, T0 + ALERT_GAP), Notify(b"\x07"))

    def test_network_text_cannot_escape_the_sequence(self) -> None:
        data = notification("osc777", "e;vil\x1b]0;x\x07", "body\x1b\\\x9c\x07")
        self.assertEqual(data.count(b"\x1b"), 1)  # ours, at the start
        self.assertEqual(data.count(b"\x07"), 1)  # ours, at the end
        self.assertEqual(data.count(b";"), 3)  # 777;notify;title;body
        self.assertNotIn("\x9c".encode(), data)


class RejoinTest(unittest.TestCase):
    def test_what_is_joined(self) -> None:
        cases = [  # (session arguments, remembered channels, expected JOINs)
            ({}, [], ["JOIN #lobby"]),  # nothing wanted, nothing joined: the default
            ({}, ["#a", "#b"], ["JOIN #a", "JOIN #b"]),  # remembered, not the default
            ({"autojoin": ("#x", "#a")}, ["#a"], ["JOIN #a", "JOIN #x"]),
            ({"channel": "#mine", "channel_explicit": True}, ["#a"], ["JOIN #mine", "JOIN #a"]),
        ]
        for kwargs, remembered, expected in cases:
            with self.subTest(kwargs=kwargs, remembered=remembered):
                h = Harness(**kwargs)
                h.session.remember(remembered, None)
                h.register()
                self.assertEqual(h.advance(5), expected)

    def test_autojoin_only_on_the_first_connection(self) -> None:
        h = Harness(autojoin=("#x",))
        h.register()
        self.assertEqual(h.advance(5), ["JOIN #x"])
        h.recv(h.line("JOIN", "#x", source=MASK))
        h.recv(f":{MASK} PART #x")
        h.session.disconnected("gone", h.now)
        h.register()
        self.assertEqual(h.advance(5), ["JOIN #lobby"])  # parted #x stays parted


if __name__ == "__main__":
    unittest.main()
