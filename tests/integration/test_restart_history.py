"""What a restart leaves in the history (issue 14, point 9; docs/history.md): a clean stop
stores a QUIT (Server shutting down) for everyone connected, between their JOIN before and
their JOIN after; a start after a crash — SIGKILL of every process, or of the master alone —
stores one (Server restarted after a crash) for whoever the dead run left in channels, once;
a writer replaced while chatd runs stores none. CHATHISTORY with draft/event-playback shows
them; the JOIN replay and CHATHISTORY without event-playback (messages only) do not."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import unittest
from pathlib import Path

from tests.support.chatd_process import (ChatdProcess, open_on_other_worker,
                                         pids_running_config, start_chatd)
from tests.support.irc_client import IRCClient
from tests.support.ircv3 import HISTORY_CAPS, NO_AUTOJOIN, connect, history, join, send_echoed
from tests.support.wait import wait_until

PLAYBACK = HISTORY_CAPS + ("draft/event-playback",)
SHUTDOWN = "Server shutting down"
CRASH = "Server restarted after a crash"


def events_in(client: IRCClient, channel: str) -> list[tuple[str, str, str]]:
    """(command, source nick, last parameter) of the channel's history, oldest first."""
    batch = history(client, f"CHATHISTORY LATEST {channel} * 100")
    return [(m.command, m.source_nick or "", m.params[-1]) for m in batch.inner]


def live_members(db_path: Path) -> set[tuple[str, str]]:
    """(nick, channel) pairs of the writer's live_members table, read beside chatd."""
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return set(db.execute("SELECT nick, conv FROM live_members"))
    finally:
        db.close()


class RestartHistoryTest(unittest.TestCase):
    def wait_all_gone(self, server: ChatdProcess) -> None:
        wait_until(lambda: not pids_running_config(server.conf_path), 10.0,
                   message="every chatd process gone")

    def test_a_clean_restart_stores_who_was_disconnected(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", PLAYBACK)
        bob = open_on_other_worker(self, server, alice, "bob")  # a plain client
        for client, channel in ((alice, "#r"), (bob, "#r"), (bob, "#s")):
            join(client, channel)
        send_echoed(alice, "PRIVMSG #r :before the restart")
        self.assertEqual(0, server.stop(), server.log_text())
        for client in (alice, bob):
            client.wait_closed()
            self.assertEqual(f"ERROR :{SHUTDOWN}", client.seen[-1])
        self.assertEqual(set(), live_members(server.db_path))  # a clean end leaves nobody
        self.assertIn("shutdown: storing a QUIT for the 2 user(s) in channels", server.log_text())
        server.start_on_same_config()
        self.assertNotIn("did not end cleanly", server.log_text())

        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#r")
        self.assertEqual([("JOIN", "alice", "#r"), ("JOIN", "bob", "#r"),
                          ("PRIVMSG", "alice", "before the restart"),
                          ("QUIT", "alice", SHUTDOWN), ("QUIT", "bob", SHUTDOWN),
                          ("JOIN", "alice", "#r")], events_in(alice, "#r"))
        join(alice, "#s")
        self.assertEqual([("JOIN", "bob", "#s"), ("QUIT", "bob", SHUTDOWN),
                          ("JOIN", "alice", "#s")], events_in(alice, "#s"))
        # Messages only, as before, for the JOIN replay and without event-playback.
        plain = connect(self, server, "plain")
        replay = join(plain, "#r")
        self.assertEqual(1, len(replay), replay)
        self.assertRegex(replay[0], r"^:alice!\S+ PRIVMSG #r :\[[^]]+ UTC\] before the restart$")
        legacy = connect(self, server, "legacy", HISTORY_CAPS)
        join(legacy, "#r")
        self.assertEqual([("PRIVMSG", "alice", "before the restart")], events_in(legacy, "#r"))

    def test_a_start_after_a_crash_shows_who_was_left_once(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", PLAYBACK)
        bob = open_on_other_worker(self, server, alice, "bob", PLAYBACK)
        carol = connect(self, server, "carol")
        for client, channel in ((alice, "#c"), (bob, "#c"), (carol, "#c"), (bob, "#d")):
            join(client, channel)
        bob.send("NICK bob2")
        bob.expect(r" NICK :?bob2$")
        carol.send("PART #c :leaving")
        carol.expect(r" PART #c")
        send_echoed(alice, "PRIVMSG #c :last words")  # all of the above is committed by now
        self.assertEqual({("alice", "#c"), ("bob2", "#c"), ("bob2", "#d")},
                         live_members(server.db_path))

        server.kill()  # SIGKILL: the master and every child
        self.wait_all_gone(server)
        server.start_on_same_config()
        self.assertIn(f"the last run did not end cleanly: stored a QUIT ({CRASH}) for the 2"
                      " user(s) it left in channels", server.log_text())
        before_crash = [("JOIN", "alice", "#c"), ("JOIN", "bob", "#c"), ("JOIN", "carol", "#c"),
                        ("NICK", "bob", "bob2"), ("PART", "carol", "leaving"),
                        ("PRIVMSG", "alice", "last words")]
        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#c")
        after_crash = [("QUIT", "alice", CRASH), ("QUIT", "bob2", CRASH)]
        self.assertEqual(before_crash + after_crash + [("JOIN", "alice", "#c")],
                         events_in(alice, "#c"))
        join(alice, "#d")
        self.assertEqual([("JOIN", "bob", "#d"), ("NICK", "bob", "bob2"),
                          ("QUIT", "bob2", CRASH), ("JOIN", "alice", "#d")],
                         events_in(alice, "#d"))
        # The JOIN replay of a plain client shows the message, not the crash.
        plain = connect(self, server, "plain")
        self.assertEqual(1, len([line for line in join(plain, "#c") if " PRIVMSG #c " in line]))
        self.assertEqual([], [line for line in plain.seen if " QUIT " in line])

        server.restart()  # clean: this run's people quit; the crash's QUITs are not repeated
        self.assertEqual(1, server.log_text().count("did not end cleanly"))
        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#c")
        self.assertEqual(before_crash + after_crash + [
            ("JOIN", "alice", "#c"), ("JOIN", "plain", "#c"), ("QUIT", "alice", SHUTDOWN),
            ("QUIT", "plain", SHUTDOWN), ("JOIN", "alice", "#c")], events_in(alice, "#c"))

    def test_a_master_killed_alone_counts_as_a_crash(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#m")
        send_echoed(alice, "PRIVMSG #m :hello")
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(5)
        alice.wait_closed()  # its worker saw the master go and closed
        self.wait_all_gone(server)  # the children hold the history's lock until they exit
        server.start_on_same_config()
        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#m")
        self.assertEqual([("JOIN", "alice", "#m"), ("PRIVMSG", "alice", "hello"),
                          ("QUIT", "alice", CRASH), ("JOIN", "alice", "#m")],
                         events_in(alice, "#m"))

    def test_a_writer_replaced_while_chatd_runs_stores_no_quit(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        alice = connect(self, server, "alice", PLAYBACK)
        join(alice, "#w")
        old = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])
        os.kill(old, signal.SIGKILL)
        send_echoed(alice, "PRIVMSG #w :stored by the new writer")  # waits for the new one
        self.assertNotIn("did not end cleanly", server.log_text())
        self.assertEqual({("alice", "#w")}, live_members(server.db_path))
        self.assertEqual([("JOIN", "alice", "#w"),
                          ("PRIVMSG", "alice", "stored by the new writer")],
                         events_in(alice, "#w"))


if __name__ == "__main__":
    unittest.main()
