"""A client that stops reading is dropped once its server-side send queue passes `[limits]
sendq`, announced to the others as a QUIT, and logged; nobody else is held up and nothing
is buffered without bound (issue 5: no unbounded buffer)."""

from __future__ import annotations

import re
import socket
import time
import unittest

from tests.support.chatd_process import start_chatd
from tests.support.irc_client import open_client

SENDQ = 65536
TEXT = "x" * 400
DEADLINE_S = 60.0


class SlowReaderTest(unittest.TestCase):
    def test_a_reader_that_stops_is_dropped_and_the_rest_go_on(self) -> None:
        server = start_chatd(self, workers=1, extra={"limits": {"sendq": str(SENDQ)},
                                                     "channels": {"autojoin": '""'}})
        slow = open_client(self, server.port)
        # A small receive window, so the kernel holds little for it and chatd's own queue
        # for it fills.
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.register("slow")
        flooder = open_client(self, server.port, "flooder")
        reader = open_client(self, server.port, "reader")
        for client in (slow, flooder, reader):
            client.send("JOIN #flood")
            client.expect(r" 366 ")
        # `slow` reads nothing from here on. Flood in rounds, reading everything as `reader`
        # (and draining `flooder`), until `reader` is told `slow` quit.
        quit_re = re.compile(r"^:slow!\S+ QUIT :SendQ exceeded$")
        deadline = time.monotonic() + DEADLINE_S
        sent = 0
        while not any(quit_re.match(line) for line in reader.seen):
            self.assertLess(time.monotonic(), deadline,
                            f"slow was not dropped after {sent} messages of {len(TEXT)} bytes")
            for _ in range(100):
                flooder.send(f"PRIVMSG #flood :{sent} {TEXT}")
                sent += 1
            flooder.sync()
            reader.sync()
        self.assertLess(sent * len(TEXT), 64 << 20)  # dropped well before "unbounded"
        # Everyone else is served as before.
        flooder.send("PRIVMSG #flood :still here")
        reader.expect(r"^:flooder!\S+ PRIVMSG #flood :still here$")
        flooder.send("NAMES #flood")
        names = flooder.expect(r" 353 ")
        self.assertNotIn("slow", names.split(":", 2)[-1].split())
        self.assertRegex(server.log_text(), r"connection \d+ \(slow\) dropped: over its send "
                                            rf"queue of {SENDQ} bytes")
        # (The kernel still holds what it had accepted for `slow` - sent after all if it
        # ever reads - and the ERROR line is best effort: it goes out if the socket has room.)


if __name__ == "__main__":
    unittest.main()
