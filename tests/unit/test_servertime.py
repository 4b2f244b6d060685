"""ircproto.servertime: the IRCv3 server-time format, parsed and written the same way by the
server and the client."""

import unittest
from datetime import UTC, datetime

from ircproto.servertime import format_server_time, parse_server_time, server_time_datetime


class ServerTimeTest(unittest.TestCase):
    def test_server_time(self):
        cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (1_700_000_000_007, "2023-11-14T22:13:20.007Z"),
        ]
        for ts_ms, text in cases:
            with self.subTest(ts_ms=ts_ms):
                self.assertEqual(format_server_time(ts_ms), text)

    def test_parse_server_time(self):
        cases = [
            ("1970-01-01T00:00:00.000Z", 0),
            ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
            ("2023-11-14T22:13:20.007Z", 1_700_000_000_007),
            ("2023-11-14T22:13:20Z", 1_700_000_000_000),        # no fraction
            ("2023-11-14T22:13:20.1Z", 1_700_000_000_100),      # short fraction
            ("2023-11-14T22:13:20.123456Z", 1_700_000_000_123),  # longer: cut to ms
            ("", None),
            ("garbage", None),
            ("2023-11-14 22:13:20.123Z", None),                 # no T
            ("2023-11-14T22:13:20.123", None),                  # no Z
            ("2023-13-14T22:13:20.123Z", None),                 # month 13
            ("2023-11-14T22:13:20.1x3Z", None),
            ("2023-11-14T22:13:20.\u0663Z", None),
            ("2023-11-14T22:13:20.\u0663\u0663\u0663Z", None),  # non-ASCII digits
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(parse_server_time(text), expected)
        for ts in (0, 1_700_000_000_123, 1_999_999_999_999):
            with self.subTest(round_trip=ts):
                self.assertEqual(parse_server_time(format_server_time(ts)), ts)

    def test_as_datetime(self):
        cases = [("2026-11-25T18:57:25.123Z",
                  datetime(2026, 11, 25, 18, 57, 25, 123000, tzinfo=UTC)),
                 ("2026-11-25T18:57:25Z", datetime(2026, 11, 25, 18, 57, 25, tzinfo=UTC)),
                 ("garbage", None), ("", None), (None, None), ("2026-11-25T18:57:25", None)]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(server_time_datetime(value), expected)


if __name__ == "__main__":
    unittest.main()
