"""tui.caps: CAP LS 302 / REQ / ACK / NAK / NEW / DEL from the client's side."""

import unittest

from ircproto.message import parse
from tui.caps import WANTED, CapNegotiation

EVERYTHING = " ".join(WANTED)


def run(lines: list[str]) -> tuple[list[str], CapNegotiation]:
    cap = CapNegotiation()
    out = cap.start()
    for line in lines:
        out += cap.on_cap(parse(line))[0]
    return out, cap


class NegotiationTest(unittest.TestCase):
    def test_table(self) -> None:
        cases = [
            # (server lines, lines sent after CAP LS 302, enabled, negotiation ended)
            ([":s CAP * LS :sasl=EXTERNAL chghost"], ["CAP END"], set(), True),
            ([":s CAP * LS :server-time chghost"], ["CAP REQ server-time"], set(), False),
            ([":s CAP * LS :server-time", ":s CAP * ACK :server-time"],
             ["CAP REQ server-time", "CAP END"], {"server-time"}, True),
            ([f":s CAP * LS :{EVERYTHING} chghost", f":s CAP * ACK :{EVERYTHING}"],
             [f"CAP REQ :{EVERYTHING}", "CAP END"], set(WANTED), True),
            # multi-line LS (302): nothing is requested before the last line
            ([":s CAP * LS * :batch chghost", ":s CAP * LS :echo-message"],
             ["CAP REQ :batch echo-message"], set(), False),
            # NAK of several: each is asked for alone, once; END after the last answer
            ([":s CAP * LS :batch echo-message", ":s CAP * NAK :batch echo-message",
              ":s CAP * ACK :batch", ":s CAP * NAK :echo-message"],
             ["CAP REQ :batch echo-message", "CAP REQ batch", "CAP REQ echo-message",
              "CAP END"], {"batch"}, True),
            ([":s CAP * LS :server-time", ":s CAP * NAK :server-time"],
             ["CAP REQ server-time", "CAP END"], set(), True),
            # values are not part of the name
            ([":s CAP * LS :draft/chathistory=100 server-time"],
             ["CAP REQ :draft/chathistory server-time"], set(), False),
        ]
        for lines, expected, enabled, ended in cases:
            with self.subTest(lines=lines):
                out, cap = run(lines)
                self.assertEqual(out, ["CAP LS 302", *expected])
                self.assertEqual(cap.enabled, enabled)
                self.assertEqual(cap.ended, ended)

    def test_ack_with_minus_disables(self) -> None:
        _, cap = run([":s CAP * LS :batch echo-message", ":s CAP * ACK :batch echo-message",
                      ":s CAP * ACK :-echo-message"])
        self.assertEqual(cap.enabled, {"batch"})

    def test_give_up_ends_once(self) -> None:
        cap = CapNegotiation()
        cap.start()
        self.assertEqual(cap.give_up(), ["CAP END"])
        self.assertEqual(cap.give_up(), [])

    def test_sasl_only_with_a_mechanism_we_speak(self) -> None:
        cases = [("sasl=PLAIN,EXTERNAL,SCRAM-SHA-256", ["CAP REQ sasl"]),
                 ("sasl", ["CAP REQ sasl"]),  # no list (SASL 3.1): try ours
                 ("sasl=EXTERNAL", ["CAP END"])]
        for offer, expected in cases:
            with self.subTest(offer=offer):
                self.assertEqual(run([f":s CAP * LS :{offer}"])[0], ["CAP LS 302", *expected])

    def test_end_waits_for_a_held_capability(self) -> None:
        cases = [(frozenset({"sasl"}), ["CAP REQ :sasl server-time"], True),
                 (frozenset(), ["CAP REQ :sasl server-time", "CAP END"], False)]
        for hold, expected, holding in cases:
            with self.subTest(hold=hold):
                cap = CapNegotiation()
                cap.hold_end_for = hold
                out = cap.start()
                for line in (":s CAP * LS :sasl=PLAIN server-time",
                             ":s CAP * ACK :sasl server-time"):
                    out += cap.on_cap(parse(line))[0]
                self.assertEqual(out, ["CAP LS 302", *expected])
                self.assertEqual(cap.holding, holding)
                self.assertEqual(cap.release_end(), ["CAP END"] if holding else [])
                self.assertTrue(cap.ended)
                self.assertEqual(cap.release_end(), [])

    def test_a_new_connection_starts_over(self) -> None:
        _, cap = run([":s CAP * LS :batch", ":s CAP * ACK :batch"])
        self.assertEqual(cap.start(), ["CAP LS 302"])
        self.assertEqual((cap.enabled, cap.offered, cap.ended), (set(), {}, False))


class CapNotifyTest(unittest.TestCase):
    def setUp(self) -> None:
        _, self.cap = run([":s CAP * LS :batch server-time", ":s CAP * ACK :batch server-time"])

    def test_new_requests_only_what_we_want(self) -> None:
        out, changed = self.cap.on_cap(parse(":s CAP alice NEW :echo-message account-notify"))
        self.assertEqual((out, changed), (["CAP REQ echo-message"], False))
        out, changed = self.cap.on_cap(parse(":s CAP alice ACK :echo-message"))
        self.assertEqual((out, changed), ([], True))  # registration is over: no second END
        self.assertIn("echo-message", self.cap.enabled)

    def test_new_of_something_we_have_or_do_not_want(self) -> None:
        for line in (":s CAP alice NEW :batch", ":s CAP alice NEW :sasl=EXTERNAL"):
            with self.subTest(line=line):
                self.assertEqual(self.cap.on_cap(parse(line)), ([], False))

    def test_del(self) -> None:
        self.assertEqual(self.cap.on_cap(parse(":s CAP alice DEL :batch")), ([], True))
        self.assertEqual(self.cap.enabled, {"server-time"})
        self.assertNotIn("batch", self.cap.offered)
        self.assertEqual(self.cap.on_cap(parse(":s CAP alice DEL :sasl")), ([], False))


if __name__ == "__main__":
    unittest.main()
