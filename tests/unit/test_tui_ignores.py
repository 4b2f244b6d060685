"""tui.ignores and /ignore, /unignore: masks, matching, and what an ignored user no longer
shows (messages, notices, CTCP, invites, lines of fetched history)."""

import unittest

from tests.unit.test_tui_support import ALL_CAPS, Harness, sent
from tui.commands import run_input
from tui.ignores import MAX_IGNORES, IgnoreList, SaveIgnores, ignore_mask


class IgnoreListTest(unittest.TestCase):
    def test_masks_and_matching(self) -> None:
        ignores = IgnoreList(["bob", "*!*@spam.example", "[x]*!*@*"])
        cases = [("bob!b@h", True), ("BOB!x@y", True), ("bobby!b@h", False),
                 ("eve!e@spam.example", True), ("eve!e@SPAM.example", True),
                 ("eve!e@ham.example", False), ("[x]y!u@h", True), ("xy!u@h", False),
                 ("bob", True), ("eve", False), ("chat.test", False), (None, False)]
        for source, expected in cases:
            with self.subTest(source=source):
                self.assertEqual(ignores.matches(source), expected)

    def test_add_remove(self) -> None:
        ignores = IgnoreList()
        self.assertEqual(ignore_mask("bob"), "bob!*@*")
        self.assertEqual(ignores.add("bob"), "bob!*@*")
        self.assertIsNone(ignores.add("BOB!*@*"))  # already there (IRC case folding)
        self.assertEqual(ignores.add("*!*@h"), "*!*@h")
        self.assertEqual(ignores.remove("Bob"), "bob!*@*")
        self.assertIsNone(ignores.remove("bob"))
        self.assertEqual(ignores.remove("*!*@h"), "*!*@h")
        full = IgnoreList([f"n{i}" for i in range(MAX_IGNORES)])
        self.assertIsNone(full.add("one_more"))
        self.assertEqual(len(full.masks), MAX_IGNORES)


class IgnoredInSessionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness(caps=ALL_CAPS)
        self.h.register()
        self.h.join()
        self.h.answer([])

    def run_(self, text: str) -> list:
        return run_input(text, self.h.session, self.h.state, self.h.now)

    def test_commands_list_add_and_remove_and_ask_to_save(self) -> None:
        self.assertEqual(self.run_("/ignore"), [])
        self.assertEqual(self.h.texts("#lobby")[-1], "Nobody is ignored.")
        self.assertEqual(self.run_("/ignore bob"), [SaveIgnores(("bob!*@*",))])
        self.assertEqual(self.run_("/ignore bob"), [])
        self.assertEqual(self.h.texts("#lobby")[-1], "bob is ignored already.")
        self.run_("/ignore")
        self.assertEqual(self.h.texts("#lobby")[-1], "Ignored: bob!*@*")
        self.assertEqual(self.run_("/unignore bob"), [SaveIgnores(())])
        self.assertEqual(self.run_("/unignore bob"), [])
        self.assertEqual(self.h.texts("#lobby")[-1], "bob is not ignored.")
        for text in ("/ignore a b", "/unignore"):
            with self.subTest(text=text):
                self.assertEqual(self.run_(text), [])
                self.assertIn("Usage", self.h.texts("#lobby")[-1])

    def test_nothing_from_them_is_shown(self) -> None:
        self.run_("/ignore bob")
        before = len(self.h.texts("#lobby"))
        out = self.h.recv(":bob!b@h PRIVMSG #lobby :spam", ":bob!b@h NOTICE #lobby :spam",
                          ":bob!b@h PRIVMSG alice :\x01VERSION\x01",
                          ":bob!b@h PRIVMSG alice :private spam",
                          ":bob!b@h INVITE alice #spam")
        self.assertEqual(out, [])  # no CTCP reply either
        self.assertEqual(len(self.h.texts("#lobby")), before)
        self.assertIsNone(self.h.state.get("bob"))
        self.h.recv(":carol!c@h PRIVMSG #lobby :not ignored")
        self.assertEqual(self.h.texts("#lobby")[-1], "not ignored")

    def test_nor_in_fetched_history(self) -> None:
        self.run_("/ignore *!*@spam.example")
        self.h.state.get("#lobby").history_start = False
        self.h.session.load_older(self.h.buffer("#lobby"))
        self.h.answer([self.h.line("PRIVMSG", "#lobby", "old spam", source="bob!b@spam.example",
                                   msgid=1),
                       self.h.line("PRIVMSG", "#lobby", "old news", source="carol!c@h",
                                   msgid=2)])
        texts = self.h.texts("#lobby")
        self.assertIn("old news", texts)
        self.assertNotIn("old spam", texts)

    def test_our_own_echo_is_never_ignored(self) -> None:
        self.run_("/ignore *!*@*")
        out = sent(self.run_("still me"))
        self.h.echo(out[0], msgid=5)
        self.assertEqual(len(self.h.session.outbox), 0)


if __name__ == "__main__":
    unittest.main()
