"""A real irssi, logged in to an account with SASL, quits and comes back: it is shown only the
messages of #lobby that came while it was away, not again those it had shown before (issue
15, point 5; chatd/session/seen.py). irssi answers the server's acknowledgement PING by
itself; the test waits for chatd's debug line saying so, then for the screens. Every wait is
a deadline-bounded poll."""

from __future__ import annotations

import re
import shutil
import tempfile
import unittest

from ircproto.message import parse
from tests.e2e.test_interop import ENV
from tests.e2e.test_sasl_interop import irssi_sasl_config
from tests.support.chatd_process import ChatdProcess, start_chatd
from tests.support.irc_client import open_client
from tests.support.tmux import Tmux, start_tmux, tmux_available
from tests.support.wait import wait_until

TIMEOUT_S = 15.0
ACCOUNT, PASSWORD = "ines", "irssi-Replay-Pass-1"


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
@unittest.skipUnless(shutil.which("irssi"), "irssi is not installed (.ci/run installs it)")
class IrssiReplayTest(unittest.TestCase):
    def start_irssi(self, server: ChatdProcess) -> Tmux:
        tmp = tempfile.TemporaryDirectory(prefix="replay-home-", ignore_cleanup_errors=True)
        self.addCleanup(tmp.cleanup)
        with open(f"{tmp.name}/config", "w", encoding="utf-8") as fh:
            fh.write(irssi_sasl_config(ACCOUNT, server.port, ACCOUNT, PASSWORD, "PLAIN"))
        term = start_tmux(self, ["irssi", f"--home={tmp.name}"], 120, 30, ENV)
        term.wait_for(r"Act: 2", TIMEOUT_S)  # chatd put it in #lobby: window 2
        term.type_line("/window 2")
        term.wait_for(r"\[2:chatd/#lobby", TIMEOUT_S)
        return term

    def test_irssi_coming_back_is_shown_only_what_it_missed(self) -> None:
        server = start_chatd(self)  # every client is put in #lobby
        registrant = open_client(self, server.port, "registrant")
        registrant.send(f"REGISTER {ACCOUNT} * {PASSWORD}")
        registrant.expect(rf"REGISTER SUCCESS {ACCOUNT} ")
        registrant.send("QUIT")
        registrant.wait_closed(TIMEOUT_S)
        speaker = open_client(self, server.port, "speaker", caps=("echo-message",
                                                                  "message-tags"))

        first = self.start_irssi(server)
        speaker.send("PRIVMSG #lobby :already-shown")
        shown_id = int(parse(speaker.expect(r" PRIVMSG #lobby :already-shown$"))
                       .tags["msgid"])
        first.wait_for("already-shown", TIMEOUT_S)
        wait_until(lambda: any(int(found) >= shown_id for found in re.findall(
                       r"acknowledged every event up to (\d+)", server.log_text())),
                   TIMEOUT_S, message="irssi acknowledging the message")
        first.type_line("/quit bye")
        self.assertEqual(first.wait_exit(TIMEOUT_S), 0)
        speaker.expect(rf":{ACCOUNT}!\S+ QUIT ")  # it left (what it was shown: reported)

        speaker.send("PRIVMSG #lobby :missed-while-away")
        speaker.expect(r" PRIVMSG #lobby :missed-while-away$")
        again = self.start_irssi(server)
        screen = again.wait_for("missed-while-away", TIMEOUT_S)
        self.assertNotIn("already-shown", screen)
        again.type_line("/quit bye")
        self.assertEqual(again.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
