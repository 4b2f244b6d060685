"""SEARCH's query side, without SQLite: how a client's text becomes words and phrases
(chatd/search_terms.py), the FTS5 expression built from them (every client string quoted),
the attributes of a SEARCH (chatd/session/search.py parse_query), and the command answered
through a Session over the in-memory FakeHistory (access rules, batch, notes). The real index
answering the same expressions is tests/integration/test_search.py's."""

from __future__ import annotations

import re
import unittest

from chatd import events
from chatd.search_terms import (MAX_WORDS, QueryError, match_expression, phrases, scope_text,
                                sender_term, timeline_term, words)
from chatd.session.search import SEARCH_MAX, Fail, Query, parse_query
from ircproto.message import parse
from tests.unit.fake_history import FakeHistory
from tests.unit.test_session import CONN, feed, make_session, register, take_out

TS = 1_700_000_000_000


class WordsTest(unittest.TestCase):
    def test_words_are_cut_where_the_tokenizer_cuts(self):
        cases = [
            ("hello world", ["hello", "world"]),
            ("  deploy,friday!!  ", ["deploy", "friday"]),
            ("don't", ["don", "t"]),
            ("v1.2.3", ["v1", "2", "3"]),
            ("café naïve", ["café", "naïve"]),
            ("日本語 текст", ["日本語", "текст"]),
            ("emoji 👍 here", ["emoji", "here"]),  # a symbol is no word character
            ("private\ue000use", ["private\ue000use"]),  # Co is (unicode61's default)
            ("", []),
            ("***", []),
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(words(text), expected)

    def test_phrases(self):
        cases = [
            ("deploy friday", [["deploy"], ["friday"]]),
            ('"deploy on friday" now', [["deploy", "on", "friday"], ["now"]]),
            ('say "hello world', [["say"], ["hello", "world"]]),  # an unclosed quote runs on
            ('"" x', [["x"]]),
            ('a "b" c', [["a"], ["b"], ["c"]]),
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(phrases(text), expected)

    def test_no_words_or_too_many_is_an_error(self):
        for text in ("", "!!! ---", '""', " ".join(["w"] * (MAX_WORDS + 1)),
                     '"' + " ".join(["w"] * (MAX_WORDS + 1)) + '"'):
            with self.subTest(text=text):
                with self.assertRaises(QueryError):
                    phrases(text)
        self.assertEqual(len(phrases(" ".join(["w"] * MAX_WORDS))), MAX_WORDS)


class ExpressionTest(unittest.TestCase):
    def test_every_client_string_is_quoted(self):
        hostile = ['a" OR "b', 'x NEAR(y z)', 'NOT secret', 'word*', '-minus', '^start',
                   'text:foo', '(a OR b)', 'scope : "c23"', '"unbalanced', 'a AND', '"" ""x']
        for text in hostile:
            with self.subTest(text=text):
                try:
                    found = phrases(text)
                except QueryError:
                    continue
                expression = match_expression(found, ["#c"], [], None)
                # Outside quoted strings only our own syntax is left.
                outside = re.sub(r'"(?:[^"]|"")*"', "S", expression)
                self.assertRegex(outside, r"^scope : \(S\)( AND text : \(S( AND S)*\))?$")

    def test_the_scope_and_sender_filters(self):
        expression = match_expression([["deploy"]], ["#ops", "#dev"], ["~alice"], "Bob")
        self.assertEqual(
            expression,
            f'scope : ("{timeline_term("#ops")}" OR "{timeline_term("#dev")}" OR'
            f' "o{"~alice".encode().hex()}") AND scope : "{sender_term("bob")}"'
            ' AND text : ("deploy")')
        with self.assertRaises(ValueError):
            match_expression([["x"]], [], [], None)  # nowhere to look: a bug, not a query

    def test_scope_text_of_channel_and_private_messages(self):
        self.assertEqual(scope_text(["#ops"], "Alice"),
                         f"{timeline_term('#ops')} {sender_term('alice')}")
        convs = events.private_timelines("~alice", "alice", "!5.7", "bob")
        terms = scope_text(convs, "alice").split()
        self.assertEqual(terms, [timeline_term("~alice bob"), "o" + "~alice".encode().hex(),
                                 timeline_term("!5.7 alice"), "o" + "!5.7".encode().hex(),
                                 sender_term("alice")])
        # to oneself: one timeline, its owner once
        self.assertEqual(len(scope_text(events.private_timelines("~a", "a", "~a", "a"),
                                        "a").split()), 3)


class AttributesTest(unittest.TestCase):
    def test_attributes(self):
        cases = [
            ("in=#chan", Query(target="#chan")),
            ("from=jackie;in=#chan", Query(target="#chan", sender="jackie")),
            (r"text=deploy\sfriday;limit=2", Query(text=(("deploy",), ("friday",)), limit=2)),
            (r'text=\"on\sfire\";in=bob', Query(target="bob", text=(("on", "fire"),))),
            ("limit=100000", Query(limit=SEARCH_MAX)),
            ("after=2019-01-04T14:33:26.123Z", Query(after_ms=1546612406123)),
            ("before=2010-01-01T00:00:00.000Z", Query(before_ms=1262304000000)),
            ("in=;text=;from=", Query()),  # empty values: absent
            ("color=blue;in=#c", Query(target="#c")),  # unknown attributes are ignored
            ("", Query()),
        ]
        for attributes, expected in cases:
            with self.subTest(attributes=attributes):
                self.assertEqual(parse_query(attributes), expected)

    def test_malformed_attributes_name_the_culprit(self):
        cases = [
            ("limit=0", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"),
            ("limit=\u0663", "limit"), ("before=yesterday", "before"),
            ("after=2019-13-40T00:00:00.000Z", "after"), ("from=no*nick", "from"),
            ("from=#chan", "from"), ("text=!!!", "text"),
            ("text=" + r"\s".join(["w"] * (MAX_WORDS + 1)), "text"),
        ]
        for attributes, culprit in cases:
            with self.subTest(attributes=attributes):
                with self.assertRaises(Fail) as caught:
                    parse_query(attributes)
                self.assertEqual(caught.exception.code, "INVALID_PARAMS")
                self.assertEqual(caught.exception.context, (culprit,))
        with self.assertRaises(Fail):
            parse_query("=value")  # a tag without a key


def row(event_id, kind, source, target, text, convs, account=""):
    return (event_id, TS + event_id, kind, source, target, text, "", convs, account)


class SearchCommandTest(unittest.TestCase):
    """SEARCH through a Session: what it may search and how the answer is framed."""

    def setUp(self):
        owner = events.history_owner(None, 0, CONN)  # this session's (boot 0)
        self.history = FakeHistory([
            row(1, "PRIVMSG", "bob!b@h", "#mine", "deploy on friday", ("#mine",)),
            row(2, "PRIVMSG", "bob!b@h", "#theirs", "deploy on monday", ("#theirs",)),
            row(3, "PRIVMSG", "bob!b@h", "alice", "deploy privately",
                events.private_timelines("~bob", "bob", owner, "alice")),
            row(4, "PRIVMSG", "bob!b@h", "carol", "deploy to carol",
                events.private_timelines("~bob", "bob", "~carol", "carol")),
            row(5, "JOIN", "bob!b@h", "#mine", "", ("#mine",)),
            row(6, "NOTICE", "carol!c@h", "#mine", "Deploy later", ("#mine",)),
        ])
        self.session = make_session()
        self.session.history = self.history
        register(self.session, "alice")
        self.session.channels.add("#mine")
        self.session.caps = frozenset({"batch", "message-tags", "server-time"})
        take_out(self.session)

    def search(self, attributes: str) -> list:
        feed(self.session, f"SEARCH {attributes}")
        return take_out(self.session)

    def found_ids(self, attributes: str) -> list[str]:
        out = self.search(attributes)
        self.assertEqual((out[0].command, out[0].params[1]), ("BATCH", "draft/search"), out)
        self.assertEqual(out[-1].command, "BATCH", out)
        return [m.tags["msgid"] for m in out[1:-1] if m.command != "NOTE"]

    def test_without_in_it_searches_my_channels_and_my_private_conversations(self):
        self.assertEqual(self.found_ids("text=deploy"), ["1", "3", "6"])

    def test_in_a_channel_or_conversation(self):
        self.assertEqual(self.found_ids("text=deploy;in=#MINE"), ["1", "6"])
        self.assertEqual(self.found_ids("in=bob"), ["3"])
        self.assertEqual(self.found_ids("in=carol"), [])  # bob and carol's is not mine
        self.assertEqual(self.found_ids("from=Carol;in=#mine"), ["6"])
        self.assertEqual(self.found_ids('text="on friday"'), ["1"])
        self.assertEqual(self.found_ids("text=deploy;limit=1"), ["6"])  # the newest

    def test_a_channel_i_am_not_in_is_refused_alike_whether_it_exists(self):
        for target in ("#theirs", "#nowhere", "no*such"):
            with self.subTest(target=target):
                [fail] = self.search(f"in={target};text=deploy")
                self.assertEqual(fail.command, "FAIL")
                self.assertEqual(fail.params[:3], ("SEARCH", "INVALID_TARGET", target))

    def test_malformed_queries_are_fail_invalid_params(self):
        [fail] = self.search("text=***")
        self.assertEqual(fail.params[:3], ("SEARCH", "INVALID_PARAMS", "text"))
        self.assertNotIn("search", self.history.calls)

    def test_a_redacted_message_is_not_found(self):
        self.history.redact(1)
        self.assertEqual(self.found_ids("text=friday"), [])

    def test_it_says_when_older_messages_are_not_indexed_yet(self):
        self.history._unindexed = 3
        out = self.search("text=deploy")
        notes = [m.params[1] for m in out if m.command == "NOTE"]
        self.assertEqual(notes, ["INDEXING"])
        self.assertEqual([m.tags.get("msgid") for m in out[1:-1] if m.command != "NOTE"],
                         ["6"])
        # ... but not when the answer is full before reaching them
        self.assertEqual([m.command for m in self.search("text=deploy;limit=1")[1:-1]],
                         ["NOTICE"])

    def test_soju_name_gets_its_batch_type_and_no_batch_without_the_cap(self):
        self.session.caps = frozenset({"batch", "soju.im/search"})
        out = self.search("text=friday")
        self.assertEqual(out[0].params[1], "soju.im/search")
        self.session.caps = frozenset()
        [line] = self.search("text=friday")
        self.assertEqual(line.command, "PRIVMSG")
        self.assertRegex(line.params[1], r"^\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] deploy on friday$")

    def test_without_an_index_search_is_an_unknown_command(self):
        self.history.searchable = lambda: False
        [reply] = self.search("text=deploy")
        self.assertEqual(reply.command, "421")


if __name__ == "__main__":
    unittest.main()
