"""Names and lines are clean, on a running chatd: a channel name with a control or format
character is refused with 479, a client tag with a malformed key is not relayed, and a WHOIS
of a user with the longest realname and away text fits 512 bytes — while the server keeps
serving the others."""

from __future__ import annotations

import re
import unittest

from tests.support.chatd_process import open_on_other_worker, start_chatd
from tests.support.irc_client import open_client

NO_AUTOJOIN = {"channels": {"autojoin": '""'}}


class CleanNamesTest(unittest.TestCase):
    def test_bad_names_refused_tags_cleaned_long_replies_fit(self) -> None:
        server = start_chatd(self, workers=2, extra=NO_AUTOJOIN)
        ada = open_client(self, server.port, "ada", caps=("message-tags",))
        bo = open_on_other_worker(self, server, ada, "bo")
        bo.send("CAP REQ message-tags")
        bo.expect(r" CAP \S+ ACK ")
        for c in (ada, bo):
            c.send("JOIN #ok")
            c.expect(r" 366 \S+ #ok ")

        for name in ("#\x1b[31mred", "#\u202eder", "#a\u200bb", "#a\x07b"):
            with self.subTest(name=name):
                ada.send(f"JOIN {name}")
                ada.expect(r" 479 ada \S+ :Illegal channel name$")
        ada.send("@+a\x1b[31m=1;+\x07;+ok=2 PRIVMSG #ok :tagged")
        relayed = bo.expect(r" PRIVMSG #ok :tagged$")
        self.assertTrue(relayed.startswith("@"), relayed)
        self.assertIn("+ok=2", relayed)
        self.assertNotIn("\x1b", relayed)
        self.assertNotIn("\x07", relayed)

        # The longest realname a USER line carries, and the longest away text, in 3-byte UTF-8.
        long = open_client(self, server.port)
        prefix = "USER u 0 * :"
        long.send("NICK " + "L" * 30)
        long.send(prefix + "\u65e5" * ((510 - len(prefix)) // 3))
        long.expect_until(r" (376|422) ")
        long.send("AWAY :" + "\u65e5" * ((510 - 6) // 3))  # cut to AWAYLEN bytes
        long.expect(r" 306 ")
        long.send("JOIN #ok")
        long.expect(r" 366 \S+ #ok ")
        for query in ("WHOIS " + "L" * 30, "WHO #ok", "WHO " + "L" * 30):
            with self.subTest(query=query):
                bo.send(query)
                lines = bo.expect_until(r" (318|315) ")
                self.assertTrue(any(" \u65e5" in l or ":0 \u65e5" in l or ":\u65e5" in l
                                    for l in lines), lines)
                for line in lines:
                    self.assertLessEqual(len(line.encode("utf-8")) + 2, 512, line)

        ada.send("PRIVMSG #ok :still here")  # the server serves everyone as before
        bo.expect(r"^(@\S+ )?:ada!\S+ PRIVMSG #ok :still here$")
        self.assertTrue(re.search(r" 366 ", "\n".join(long.seen)))


if __name__ == "__main__":
    unittest.main()
