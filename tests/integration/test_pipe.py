"""chatd.ipc.pipe over a real local socketpair (no processes): frames, fd passing, EOF,
corruption and the send-queue limit. Waiting is done with select and a deadline."""

import os
import select
import socket
import subprocess
import sys
import textwrap
import time
import unittest
from pathlib import Path

from chatd.ipc import frames as ipc
from chatd.ipc.pipe import Pipe, PipeClosed, PipeOverflow

REPO = Path(__file__).resolve().parents[2]

# Run in a child process: it lowers its own RLIMIT_NOFILE and fills every free descriptor.
FULL_RECEIVER = textwrap.dedent("""
    import os, resource, select, socket
    from chatd.ipc import frames as ipc
    from chatd.ipc.pipe import LOST_FD, Pipe

    left, right = (Pipe(s) for s in socket.socketpair())
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))

    def send(conn_id, fd):
        left.send(ipc.NewConn(conn_id, "h"), fds=(fd,))
        assert left.flush()  # this closes our copy of fd: its number is free again

    def fill():  # take every free descriptor number under the limit
        taken = []
        while True:
            try:
                taken.append(os.dup(0))
            except OSError:
                return taken

    def receive():
        select.select([right.sock], [], [], 5)
        return right.receive()

    # No descriptor free: the kernel drops the passed fd, its place is held.
    send(1, r1)
    fillers = fill()
    assert receive() == [ipc.NewConn(1, "h")]
    assert right.take_fd() == LOST_FD
    # One free again: the next frame gets its own fd, not a shifted one.
    send(2, r2)
    fillers += fill()
    os.close(fillers.pop())
    assert receive() == [ipc.NewConn(2, "h")]
    fd = right.take_fd()
    os.write(w2, b"2")
    assert os.read(fd, 1) == b"2"
    print("ok")
""")

DEADLINE_S = 5.0


class ChannelTest(unittest.TestCase):
    def setUp(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.left, self.right = Pipe(a), Pipe(b)
        self.addCleanup(self.left.close)
        self.addCleanup(self.right.close)

    def pump(self, sender: Pipe, receiver: Pipe, count: int) -> list[tuple]:
        """Flush `sender` and read `receiver` until `count` frames arrived."""
        frames: list[tuple] = []
        deadline = time.monotonic() + DEADLINE_S
        done = False
        while len(frames) < count:
            self.assertLess(time.monotonic(), deadline, f"only {len(frames)} of {count} frames")
            if not done:
                done = sender.flush()
            wait_w = [sender.sock] if not done else []
            readable, _, _ = select.select([receiver.sock], wait_w, [], 0.5)
            if readable:
                frames += receiver.receive()
        return frames

    def test_frames_both_ways(self):
        frames = [ipc.Command(1, "JOIN", ("#a",), None, ""), ipc.Registered(1, "u", "Real", "h"),
                  ipc.ConnClosed(1, "Client Quit")]
        for frame in frames:
            self.left.send(frame)
        self.assertEqual(self.left.pending_bytes, sum(len(ipc.encode(f)) for f in frames))
        self.assertEqual(self.pump(self.left, self.right, 3), frames)
        self.assertEqual(self.left.pending_bytes, 0)
        self.right.send(ipc.NickOk(1, "alice"))
        self.assertEqual(self.pump(self.right, self.left, 1), [ipc.NickOk(1, "alice")])

    def test_one_receive_takes_every_queued_fd_frame(self):
        # recvmsg stops at each message that carries fds: receive() must loop, or a busy
        # worker takes one new connection per loop iteration.
        pipes = [os.pipe() for _ in range(10)]
        for index, (r, w) in enumerate(pipes):
            os.close(w)
            self.left.send(ipc.NewConn(index, "h"), fds=(r,))
        self.assertTrue(self.left.flush())
        select.select([self.right.sock], [], [], DEADLINE_S)
        frames = self.right.receive()
        self.assertEqual(frames, [ipc.NewConn(i, "h") for i in range(10)])
        fds = [self.right.take_fd() for _ in frames]
        self.addCleanup(lambda: [os.close(fd) for fd in fds])
        self.assertEqual(len(set(fds)), 10)

    def test_nothing_to_read(self):
        self.assertEqual(self.right.receive(), [])
        self.assertTrue(self.left.flush())

    def test_frame_larger_than_the_socket_buffer(self):
        payload = b"x" * (3 << 20)
        self.left.send(ipc.Reply(9, payload))
        self.left.send(ipc.Shutdown())
        self.assertFalse(self.left.flush())  # the kernel cannot take 3 MB at once
        self.assertEqual(self.pump(self.left, self.right, 2),
                         [ipc.Reply(9, payload), ipc.Shutdown()])

    def test_fd_passing(self):
        r, w = os.pipe()
        self.addCleanup(os.close, w)
        self.left.send(ipc.NewConn(5, "10.0.0.1"), fds=(r,))
        self.left.send(ipc.Shutdown())
        self.assertTrue(self.left.flush())
        with self.assertRaises(OSError):
            os.fstat(r)  # the sender's copy was closed once the kernel took it
        frames = self.pump(self.left, self.right, 2)
        self.assertEqual(frames, [ipc.NewConn(5, "10.0.0.1"), ipc.Shutdown()])
        received = self.right.take_fd()
        self.addCleanup(os.close, received)
        os.write(w, b"through the passed fd")
        self.assertEqual(os.read(received, 100), b"through the passed fd")

    def test_fds_arrive_in_order(self):
        pipes = [os.pipe() for _ in range(3)]
        for i, (r, w) in enumerate(pipes):
            self.addCleanup(os.close, w)
            self.left.send(ipc.NewConn(i, "h"), fds=(r,))
        self.pump(self.left, self.right, 3)
        for i, (_r, w) in enumerate(pipes):
            fd = self.right.take_fd()
            self.addCleanup(os.close, fd)
            os.write(w, bytes([i]))
            self.assertEqual(os.read(fd, 1), bytes([i]))

    def test_a_frame_carries_at_most_one_fd(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        with self.assertRaises(ValueError):
            self.left.send(ipc.NewConn(1, "h"), fds=(r, w))

    def test_an_fd_the_receiver_has_no_room_for_holds_its_place(self):
        done = subprocess.run([sys.executable, "-c", FULL_RECEIVER], check=False,
                              capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
        self.assertEqual((done.returncode, done.stdout), (0, "ok\n"), done.stderr)

    def test_eof_is_channel_closed(self):
        self.left.send(ipc.Shutdown())
        self.left.flush()
        self.left.sock.close()
        self.assertEqual(self.pump(self.left, self.right, 1), [ipc.Shutdown()])
        select.select([self.right.sock], [], [], DEADLINE_S)
        with self.assertRaises(PipeClosed):
            self.right.receive()

    def test_sending_to_a_closed_peer(self):
        self.right.sock.close()
        self.left.send(ipc.Shutdown())
        with self.assertRaises(PipeClosed):
            self.left.flush()

    def test_corrupt_frame_is_channel_closed(self):
        self.left.send_raw((ipc.MAX_FRAME_BYTES + 1).to_bytes(4, "big") + b"junk")
        self.left.flush()
        select.select([self.right.sock], [], [], DEADLINE_S)
        with self.assertRaises(PipeClosed):
            self.right.receive()

    def test_send_queue_limit(self):
        a, b = socket.socketpair()
        small = Pipe(a, max_pending_bytes=1000)
        self.addCleanup(small.close)
        self.addCleanup(b.close)
        small.send(ipc.Reply(1, b"x" * 500))
        with self.assertRaises(PipeOverflow):
            small.send(ipc.Reply(1, b"x" * 600))

    def test_close_closes_queued_fds(self):
        r, w = os.pipe()
        self.addCleanup(os.close, w)
        a, b = socket.socketpair()
        self.addCleanup(b.close)
        channel = Pipe(a)
        channel.send(ipc.NewConn(1, "h"), fds=(r,))
        channel.close()
        with self.assertRaises(OSError):
            os.fstat(r)


if __name__ == "__main__":
    unittest.main()
