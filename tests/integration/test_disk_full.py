"""The history cannot be written (disk full, I/O errors), against a real chatd: the writer
keeps the events and retries instead of dying, nothing uncommitted is shown to anyone,
connections stay up and what needs the history waits (a PONG too: it comes after what was
sent before the PING); once writes work again every waiting message is stored and
delivered in order. The failure is made with RLIMIT_FSIZE on the writer process (writes
beyond the limit fail, as on a full disk; SQLite reports an I/O error), set and lifted
from outside with prlimit."""

from __future__ import annotations

import re
import resource
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client
from tests.support.wait import wait_until

UNLIMITED = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)


class DiskFullTest(unittest.TestCase):
    def test_commits_wait_for_the_disk_and_nothing_is_lost(self) -> None:
        server = start_chatd(self)
        alice = open_client(self, server.port, "alice", caps=("echo-message",))
        bob = open_client(self, server.port, "bob")
        alice.send("PRIVMSG #lobby :before")
        bob.expect(r"^:alice!\S+ PRIVMSG #lobby :before$")
        writer_pid = int(re.findall(r"writer started \(pid (\d+)\)", server.log_text())[-1])

        # Any write past the first byte of a file now fails.
        resource.prlimit(writer_pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
        self.addCleanup(_lift, writer_pid)
        alice.send("PRIVMSG #lobby :during-1")
        alice.send("PRIVMSG #lobby :during-2")
        wait_until(lambda: "cannot commit" in server.log_text(), 10,
                   message="the writer's commit error in the log")
        # Not committed, so shown to no one, not even as an echo. A PING is a barrier for
        # what was sent before it, so bob's PONG waits for them too.
        bob.send("PING :after-during")
        bob.assert_no_line("during|after-during", within_s=0.5)
        alice.assert_no_line("during", within_s=0.1)
        # A newcomer's autojoin is an event too: its registration waits with the rest.
        carol = open_client(self, server.port)
        carol.send("NICK carol")
        carol.send("USER carol 0 * :Carol")

        resource.prlimit(writer_pid, resource.RLIMIT_FSIZE, UNLIMITED)
        carol.expect(r"^:carol!\S+ JOIN #lobby$")
        carol.expect(r" 366 carol #lobby ")
        for client in (alice, bob):
            client.expect(r"^:alice!\S+ PRIVMSG #lobby :during-1$")
            client.expect(r"^:alice!\S+ PRIVMSG #lobby :during-2$")
        bob.expect(r" PONG \S+ :?after-during$")
        wait_until(lambda: "commits work again" in server.log_text(), 10,
                   message="the writer's recovery in the log")
        self.assertEqual(writer_pid, int(re.findall(r"writer started \(pid (\d+)\)",
                                                    server.log_text())[-1]),
                         "the writer was replaced instead of retrying")

        # And it is all in the history, once, in order.
        late = open_client(self, server.port, "late")
        texts = [line.rsplit(" :", 1)[1] for line in late.sync()
                 if " PRIVMSG #lobby " in line]
        self.assertEqual(["before", "during-1", "during-2"],
                         [re.sub(r"^\[[^\]]*\] ", "", text) for text in texts])


def _lift(pid: int) -> None:
    try:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, UNLIMITED)
    except ProcessLookupError:
        pass
