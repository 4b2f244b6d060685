"""End to end: channel moderation between two real tuis (tmux), on chatd and on a stock IRC
server, ngIRCd (started with a config the test writes): tui must follow the IRC standards,
not only chatd, and chatd must moderate as a stock server does (issue 13's proof).

alice creates a fresh channel (the server makes its first member an operator, RFC 2811) and
bob joins. bob's refused /kick shows the server's reason; alice mutes the channel (+m) and bob's
message is refused with the server's reason; /voice, /op, /ban and /kick show on both screens
with the members' prefixes; bob, kicked and banned, is told why, stays out (his channel buffer
marked parted, no re-join by itself), and his /join is refused with the server's reason.

Each tui runs in its own private tmux server (killed at cleanup) with a config folder of its
own (no saved login is read); each server is stopped by PID. Every wait is a deadline-bounded
poll of a screen. The servers' words differ only in their refusals' texts (482).
"""

from __future__ import annotations

import sys
import tempfile
import unittest

from tests.support.chatd_process import REPO, start_chatd
from tests.support.ircv3 import NO_AUTOJOIN
from tests.support.ngircd_process import ngircd_available, start_ngircd
from tests.support.tmux import Tmux, start_tmux, tmux_available

TIMEOUT_S = 15.0
TIME = r"\d\d:\d\d"
CHANNEL = "#mod"
ENV = {"TZ": "UTC", "USER": "tester", "LOGNAME": "tester", "PYTHONPATH": str(REPO)}


class TuiModeration:
    """The scenario, on the server that start_server() starts (the mixin of a TestCase)."""

    NOT_OPERATOR = ""  # the server's text of 482, as the refused /kick shows it

    def start_server(self) -> int:
        """Start the server (stopped at cleanup); its port."""
        raise NotImplementedError

    def tui(self, port: int, nick: str) -> Tmux:
        """A tui in CHANNEL (no autojoin: tui joins it), showing that channel."""
        config_home = tempfile.TemporaryDirectory(prefix="tui-config-")
        self.addCleanup(config_home.cleanup)
        env = dict(ENV, XDG_CONFIG_HOME=config_home.name)
        pane = start_tmux(self, [sys.executable, "-m", "tui", "127.0.0.1", str(port),
                                 "--nick", nick, "--channel", CHANNEL], 100, 30, env)
        pane.wait_for(rf"You joined {CHANNEL}", TIMEOUT_S)
        pane.wait_for(rf"connected \| {nick} \| 2:{CHANNEL}", TIMEOUT_S)
        return pane

    def test_op_mute_voice_ban_kick(self) -> None:
        port = self.start_server()
        alice = self.tui(port, "alice")
        alice.wait_for(r"-- 1 user: @alice", TIMEOUT_S)  # the channel's creator is its op
        bob = self.tui(port, "bob")
        bob.wait_for(r"-- 2 users: @alice bob", TIMEOUT_S)
        alice.wait_for(rf"--> bob joined {CHANNEL}", TIMEOUT_S)

        # bob is no operator: the server refuses his /kick, and he reads why.
        bob.type_line("/kick alice out")
        bob.wait_for(rf"!! {CHANNEL}: {self.NOT_OPERATOR}", TIMEOUT_S)
        alice.type_line("hello from the op")
        bob.wait_for(rf"{TIME} @alice: hello from the op", TIMEOUT_S)

        # Muted (+m), bob cannot speak, and is told so; with a voice he can.
        alice.type_line("/mode +m")
        bob.wait_for(r"-- alice sets mode \+m", TIMEOUT_S)
        bob.type_line("can anyone hear me")
        bob.wait_for(rf"!! {CHANNEL}: Cannot send to channel", TIMEOUT_S)
        alice.type_line("/voice bob")
        alice.wait_for(r"-- alice sets mode \+v bob", TIMEOUT_S)
        bob.wait_for(r"-- alice sets mode \+v bob", TIMEOUT_S)
        bob.type_line("voiced now")
        alice.wait_for(rf"{TIME} \+bob: voiced now", TIMEOUT_S)
        self.assertNotIn("can anyone hear me", alice.capture())

        alice.type_line("/op bob")
        bob.wait_for(r"-- alice sets mode \+o bob", TIMEOUT_S)
        alice.type_line("/names")
        alice.wait_for(r"-- 2 users: @alice @bob", TIMEOUT_S)
        alice.type_line("/deop bob")
        alice.type_line("/names")
        alice.wait_for(r"-- 2 users: @alice \+bob", TIMEOUT_S)  # the voice stays

        alice.type_line("/ban bob")
        alice.wait_for(r"-- alice sets ban on bob!\*@\*", TIMEOUT_S)
        bob.wait_for(r"-- alice sets ban on bob!\*@\*", TIMEOUT_S)
        alice.type_line("/kick bob go away")
        alice.wait_for(r"<-- bob was kicked by alice \(go away\)", TIMEOUT_S)
        bob.wait_for(rf"!! You were kicked from {CHANNEL} by alice \(go away\)", TIMEOUT_S)
        bob.wait_for(rf"connected \| bob \| 2:{CHANNEL} \(parted\)", TIMEOUT_S)

        # Banned: bob's own /join is refused with the server's reason; tui never tried to
        # re-join by itself (alice saw bob join exactly once).
        bob.type_line(f"/join {CHANNEL}")
        bob.wait_for(rf"!! Cannot join {CHANNEL}: Cannot join channel \(\+b\)", TIMEOUT_S)
        self.assertEqual(alice.capture().count("--> bob joined"), 1, alice.capture())

        for pane in (alice, bob):
            pane.send_keys("C-c")
            self.assertEqual(pane.wait_exit(TIMEOUT_S), 0)


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
@unittest.skipUnless(ngircd_available(), "ngircd is not installed (.ci/run installs it)")
class TuiModerationOnNgircdTest(TuiModeration, unittest.TestCase):
    NOT_OPERATOR = "Your privileges are too low"

    def start_server(self) -> int:
        return start_ngircd(self).port


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class TuiModerationOnChatdTest(TuiModeration, unittest.TestCase):
    NOT_OPERATOR = "You're not channel operator"

    def start_server(self) -> int:
        return start_chatd(self, workers=2, extra=NO_AUTOJOIN).port


if __name__ == "__main__":
    unittest.main()
