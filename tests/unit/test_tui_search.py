"""/search (tui.search), /list (tui.results) and /clear: results buffers, choosing a result
with Up/Down/Enter or its number, a search result shown in its place with its context
(CHATHISTORY AROUND), the search among loaded lines without draft/search."""

import unittest
from datetime import timedelta

from ircproto.message import parse
from tests.unit.test_tui_support import ALL_CAPS, T0, Harness, sent, stamp
from tui.app import App
from tui.commands import run_input
from tui.results import ShowMessage
from tui.search import Query, parse_query
from tui.state import BufferKind, Kind

SEARCH_CAPS = ALL_CAPS + " draft/search"


def screen(app: App, width: int = 60, height: int = 10) -> list[str]:
    return ["".join(t for t, _ in row) for row in app.pane(width, height)]


def reversed_rows(app: App, width: int = 60, height: int = 10) -> list[str]:
    return ["".join(t for t, _ in row) for row in app.pane(width, height)
            if row and all(style.reverse for _, style in row if _.strip())]


class QueryTest(unittest.TestCase):
    def test_parse(self) -> None:
        cases = [("deploy friday", Query("deploy friday")),
                 ("from:bob in:#dev deploy", Query("deploy", "bob", "#dev")),
                 ("FROM:bob", Query("", "bob")), ("in:", Query("in:")), ("", None),
                 ("   ", None)]
        for args, expected in cases:
            with self.subTest(args=args):
                self.assertEqual(parse_query(args), expected)
        self.assertEqual(Query("a b", "bob", "#c").title, "search: a b from:bob in:#c")


class AppTestCase(unittest.TestCase):
    caps = SEARCH_CAPS

    def setUp(self) -> None:
        self.h = Harness(caps=self.caps)
        self.app = App("chat.test", 6667, nick="alice")
        self.app.session = self.h.session  # the harness's scripted server drives this app
        self.app.state = self.h.state
        self.h.register()
        self.h.join()
        if "draft/chathistory" in self.caps:
            self.h.answer([])

    def type_(self, text: str) -> list[str]:
        self.app.input.set(text)
        return [a.line for a in self.app.submit(self.h.now) if hasattr(a, "line")]


class ServerSearchTest(AppTestCase):
    def test_request_results_and_enter_shows_the_message_in_context(self) -> None:
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "recent", msgid=100))
        [line] = self.type_("/search deploy; now from:bob")
        request = parse(line)
        self.assertEqual((request.command, request.params),
                         ("SEARCH", ("limit=100;text=deploy\\:\\snow;from=bob",)))
        results = self.h.state.current
        self.assertEqual((results.kind, results.name),
                         (BufferKind.RESULTS, "search: deploy; now from:bob"))
        old = T0 - timedelta(days=2)
        self.h.recv(f"@label={request.tags['label']} :srv BATCH +s soju.im/search",
                    f"@batch=s;msgid=40;time={stamp(old)} :bob!b@h PRIVMSG #lobby "
                    ":deploy; now older",
                    f"@batch=s;msgid=90;time={stamp(T0)} :bob!b@h PRIVMSG alice "
                    ":deploy; now private",
                    ":srv BATCH -s")
        choices = self.h.session.results.listings[results].choices
        self.assertEqual(choices, [ShowMessage("bob", "90"), ShowMessage("#lobby", "40")])
        texts = self.h.texts(results.name)
        self.assertRegex(texts[1], r"^  1\. \d{4}-\d\d-\d\d \d\d:\d\d bob bob: deploy; now "
                                   "private$")
        self.assertEqual(texts[-1], "2 results (Up/Down and Enter, or a number and Enter, "
                                    "shows one).")
        self.assertEqual(reversed_rows(self.app)[0][:5], "  1. ")
        self.app.down()
        self.assertEqual(reversed_rows(self.app)[0][:5], "  2. ")
        [around] = self.type_("")
        self.assertEqual(around.split(" ", 1)[1], "CHATHISTORY AROUND #lobby msgid=40 40")
        self.assertIs(self.h.state.current, self.h.buffer("#lobby"))
        page = [self.h.line("PRIVMSG", "#lobby", f"context {i}", msgid=30 + i,
                            when=old + timedelta(minutes=i)) for i in range(20)]
        self.h.answer(page)
        rows = screen(self.app, height=9)
        self.assertTrue(any("context 10" in row for row in rows), rows)
        self.assertNotIn("context 0", " ".join(rows))
        self.assertEqual(len(reversed_rows(self.app, height=9)), 1)
        self.assertIn("context 10", reversed_rows(self.app, height=9)[0])
        self.assertIn("gap", [line.text for line in self.h.buffer("#lobby").lines
                              if line.kind == Kind.DIVIDER])

    def test_a_number_typed_picks_that_result(self) -> None:
        self.type_("/search x")
        self.h.recv(":srv BATCH +s draft/search",
                    f"@batch=s;msgid=1;time={stamp(T0)} :bob!b@h PRIVMSG #lobby :x one",
                    f"@batch=s;msgid=2;time={stamp(T0)} :bob!b@h PRIVMSG #lobby :x two",
                    ":srv BATCH -s")
        results = self.h.state.current
        self.assertIsNone(self.h.session.results.choose(results, "3"))
        self.assertIsNone(self.h.session.results.choose(results, "hello"))
        self.assertEqual(self.h.session.results.choose(results, "2"), ShowMessage("#lobby", "2"))

    def test_fail_search_ends_it(self) -> None:
        [line] = self.type_("/search (")
        label = parse(line).tags["label"]
        self.h.recv(f"@label={label} :srv FAIL SEARCH INVALID_PARAMS :Invalid parameters")
        self.assertIn("SEARCH INVALID_PARAMS: Invalid parameters",
                      self.h.texts(self.h.state.current.name))
        self.h.recv(f"@label={label} :srv BATCH +s draft/search", ":srv BATCH -s")
        self.assertNotIn("0 results.", self.h.texts(self.h.state.current.name))

    def test_a_loaded_result_needs_no_request(self) -> None:
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "here already", msgid=77))
        self.type_("/search here")
        self.h.recv(":srv BATCH +s draft/search",
                    f"@batch=s;msgid=77;time={stamp(T0)} :bob!b@h PRIVMSG #lobby :here already",
                    ":srv BATCH -s")
        self.assertEqual(self.type_("1"), [])
        self.assertIn("here already", reversed_rows(self.app)[0])


class LocalSearchTest(AppTestCase):
    caps = ALL_CAPS  # no draft/search

    def test_searches_the_loaded_lines_and_says_so(self) -> None:
        self.h.recv(self.h.line("PRIVMSG", "#lobby", "Deploy on Friday", msgid=1),
                    self.h.line("PRIVMSG", "#lobby", "deploy done", source="carol!c@h",
                                msgid=2),
                    self.h.line("PRIVMSG", "alice", "deploy privately", msgid=3,
                                when=T0 + timedelta(minutes=1)))
        self.assertEqual(self.type_("/search deploy from:bob"), [])
        texts = self.h.texts("search: deploy from:bob")
        self.assertIn("The server offers no search", texts[0])
        self.assertTrue(texts[1].endswith(" bob bob: deploy privately"), texts)
        self.assertTrue(texts[2].endswith(" #lobby bob: Deploy on Friday"), texts)
        self.assertEqual(len(texts), 4)  # the note, two results, the count
        self.type_("/search deploy in:#lobby")
        self.assertEqual(len(self.h.session.results.listings[self.h.state.current].choices), 2)
        self.app.down()
        self.assertEqual(self.type_(""), [])  # loaded already: shown, no request
        self.assertIs(self.h.state.current, self.h.buffer("#lobby"))
        self.assertIn("carol: deploy done", reversed_rows(self.app)[0])


class ChannelListTest(AppTestCase):
    caps = "server-time"

    def test_list_buffer_and_enter_joins(self) -> None:
        self.assertEqual(self.type_("/list"), ["LIST"])
        buf = self.h.state.current
        self.assertEqual(buf.name, "channel list")
        self.h.recv(":s 321 alice Channel :Users Name", ":s 322 alice #dev 3 :Development",
                    ":s 322 alice * 1 :", ":s 322 alice #lobby 2 :", ":s 323 alice :End")
        self.assertEqual(self.h.texts("channel list"), [
            "  1. #dev (3) Development", "  2. #lobby (2)",
            "2 channels. Up/Down and Enter (or a number and Enter) join one."])
        self.assertEqual(self.type_(""), ["JOIN #dev"])
        self.type_("/list")
        self.assertEqual(self.h.texts("channel list"), [])  # a new list starts empty
        self.h.recv(":s 323 alice :End")
        self.assertEqual(self.h.texts("channel list"), ["No channels."])
        self.assertEqual(self.type_("/list a b"), [])
        self.assertEqual(self.h.session.results.choose(self.h.buffer("#lobby"), ""), None)

    def test_up_down_recall_input_elsewhere(self) -> None:
        self.type_("first line")
        self.app.up()
        self.assertEqual(self.app.input.text, "first line")


class ClearTest(unittest.TestCase):
    def test_clear_keeps_what_was_shown_from_coming_back(self) -> None:
        h = Harness()
        h.register()
        h.join()
        h.answer([h.line("PRIVMSG", "#lobby", f"m{i}", msgid=i) for i in range(1, 4)])
        run_input("/clear", h.session, h.state, h.now)
        self.assertEqual(h.texts("#lobby"), [])
        h.session.disconnected("gone", h.now)
        h.register()
        h.join()
        self.assertEqual(h.last("CHATHISTORY").params[:3], ("LATEST", "#lobby", "*"))
        h.answer([h.line("PRIVMSG", "#lobby", f"m{i}", msgid=i) for i in range(1, 5)])
        self.assertEqual([t for t in h.texts("#lobby") if t.startswith("m")], ["m4"])
        self.assertEqual(sent(h.session.load_older(h.buffer("#lobby"))), [])


if __name__ == "__main__":
    unittest.main()
