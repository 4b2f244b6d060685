"""chatd.ipc: the frame codec (4-byte big-endian length + marshalled tuple), without sockets."""

import struct
import unittest

from chatd.events import StoreRow
from chatd.ipc import frames as ipc

FRAMES = [
    ipc.NewConn(1, "127.0.0.1"),
    ipc.Event(42, 1_700_000_000_123, "PRIVMSG", "n!u@h", "#a", "caf\u00e9 \U0001f600",
     "+draft/react=\U0001f44d", 3, ("#a",), (3, 4), ""),
    ipc.Reply(7, b":irc.test 001 alice :Welcome\r\n"),
    ipc.LabelStart(7, "lbl;1"),
    ipc.LabelEnd(7),
    ipc.Command(7, "PRIVMSG", ("#a", "hi"), None, ""),
    ipc.Command(7, "TAGMSG", ("#a",), "lbl", "+typing=active"),
    ipc.ClaimNick(7, "bob", None),
    ipc.Caps(7, ("multi-prefix", "userhost-in-names")),
    ipc.store([StoreRow(1, 2, "JOIN", "s", "#a", "Real", "", ("#a",)),
               StoreRow(2, 3, "PRIVMSG", "s", "bob", "hi", "+x", ("!1.2 bob", "~bob s"), "sam")]),
    ipc.Shutdown(),
    ipc.DiskSpace(True, 99 << 20),
]


class CodecTest(unittest.TestCase):
    def test_store_rows_cross_as_plain_tuples_and_come_back_as_rows(self):
        rows = [StoreRow(event_id=7, ts_ms=9, kind="PRIVMSG", source="a!u@h", target="#c",
                         text="hi", tags="", convs=("#c",), account="al")]
        [frame] = ipc.decode_frames(bytearray(ipc.encode(ipc.store(rows))))
        self.assertEqual(ipc.stored_rows(frame), rows)
        self.assertEqual(ipc.stored_rows(frame)[0].account, "al")

    def test_round_trip_one_by_one(self):
        for frame in FRAMES:
            with self.subTest(frame=type(frame).__name__):
                data = ipc.encode(frame)
                self.assertEqual(struct.unpack(">I", data[:4])[0], len(data) - 4)
                buf = bytearray(data)
                self.assertEqual(ipc.decode_frames(buf), [frame])
                self.assertEqual(buf, bytearray())

    def test_many_frames_in_one_buffer(self):
        buf = bytearray(b"".join(ipc.encode(f) for f in FRAMES))
        self.assertEqual(ipc.decode_frames(buf), FRAMES)
        self.assertEqual(len(buf), 0)

    def test_partial_frames_stay_in_the_buffer(self):
        data = b"".join(ipc.encode(f) for f in FRAMES)
        for cut in (1, 3, 4, 5, len(ipc.encode(FRAMES[0])) - 1, len(ipc.encode(FRAMES[0])),
                    len(data) - 1):
            with self.subTest(cut=cut):
                buf = bytearray(data[:cut])
                first = ipc.decode_frames(buf)
                buf += data[cut:]
                self.assertEqual(first + ipc.decode_frames(buf), FRAMES)
                self.assertEqual(len(buf), 0)

    def test_byte_at_a_time(self):
        data = b"".join(ipc.encode(f) for f in FRAMES)
        buf, got = bytearray(), []
        for i in range(len(data)):
            buf += data[i:i + 1]
            got += ipc.decode_frames(buf)
        self.assertEqual(got, FRAMES)

    def test_corrupt_length(self):
        good = ipc.encode(FRAMES[0])
        buf = bytearray(good + struct.pack(">I", ipc.MAX_FRAME_BYTES + 1) + b"x")
        with self.assertRaises(ipc.FrameError):
            ipc.decode_frames(buf)

    def test_largest_length_is_only_waited_for(self):
        buf = bytearray(struct.pack(">I", ipc.MAX_FRAME_BYTES) + b"partial")
        self.assertEqual(ipc.decode_frames(buf), [])
        self.assertEqual(len(buf), 4 + len(b"partial"))

    def test_opcodes_are_distinct(self):
        names = [n for n in dir(ipc) if n.isupper() and isinstance(getattr(ipc, n), int)
                 and n not in ("MAX_FRAME_BYTES",)]
        values = [getattr(ipc, n) for n in names]
        self.assertEqual(len(values), len(set(values)), dict(zip(names, values)))


if __name__ == "__main__":
    unittest.main()
