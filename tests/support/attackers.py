"""Hostile clients for the attack tests (tests/integration/test_attacks.py), run as a separate
process so that their load never shares the test's interpreter (and GIL) with the bystander
whose PING round trip is measured:

    python3 -m tests.support.attackers MODE --port P [options]

Modes (each prints one JSON line of figures on stdout when its work is done):
  flood     register from --source, join --channel, then send --command lines (PRIVMSG to the
            channel, or NICK changes) at --rate lines/s until dropped, then again on a new
            connection, --connections times at most, for --duration s at most. Figures:
            lines sent, connections, "Excess Flood" errors seen.
  hold      open --count connections from --source and keep them, never reading after the
            start: unregistered, or (--register) registered and in --channel. With --probe,
            each is first asked for a PONG, which tells the ones chatd took from the ones it
            refused. Prints its figures, then holds until stdin closes.
  connects  --count connection attempts from --source, one after another, each probed with
            a PING (PONG: taken, ERROR: refused), then closed. Figures: taken, refused, time.
  talk      register from --source, join --channel, send --count PRIVMSGs of --size bytes in
            one write, then hold until stdin closes.

Only loopback addresses are used; every process started from a test is ended by its PID."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time

REFUSED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


def connect(port: int, source: str, rcvbuf: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # before connect: the window is set at the handshake
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.settimeout(10.0)
    sock.connect(("127.0.0.1", port))
    return sock


def read_until(sock: socket.socket, needles: tuple[bytes, ...], timeout_s: float = 10.0) -> bytes:
    """Read until one of `needles` arrives, the peer closes, or the time is up; return what
    was read."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while not any(needle in data for needle in needles):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, *REFUSED):
            break
        if not chunk:
            break
        data += chunk
    return data


def register(sock: socket.socket, nick: str, channel: str = "") -> None:
    """NICK/USER (and JOIN) and wait for the end of the welcome (and of NAMES)."""
    sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :attacker\r\n".encode())
    read_until(sock, (b" 376 ", b" 422 "))
    if channel:
        sock.sendall(f"JOIN {channel}\r\n".encode())
        read_until(sock, (b" 366 ",))


def probe(sock: socket.socket) -> bool:
    """Whether chatd took this connection: a PONG, not its refusal (ERROR, then closed)."""
    try:
        sock.sendall(b"PING :probe\r\n")
    except REFUSED:
        return False
    return b" PONG " in read_until(sock, (b" PONG ", b"ERROR "))


def flood(args: argparse.Namespace) -> dict:
    """Up to --connections connections one after another, each flooding until chatd drops it
    (or --duration is over)."""
    sent = connections = excess = 0
    end = time.monotonic() + args.duration
    while connections < args.connections and time.monotonic() < end:
        connections += 1
        with connect(args.port, args.source) as sock:
            try:
                register(sock, f"flood{connections}", args.channel)
                sock.setblocking(False)
                sent = flood_until_dropped(sock, args, sent, end)
            except (*REFUSED, BlockingIOError):
                pass  # dropped (or no longer read, which comes to the same)
            excess += count_excess(sock)
    return {"sent": sent, "connections": connections, "excess_flood": excess}


def flood_until_dropped(sock: socket.socket, args: argparse.Namespace, sent: int,
                        end: float) -> int:
    """Send lines at --rate (one write every 10 ms) until the peer is gone or `end`."""
    batch = max(1, int(args.rate / 100))
    started, first = time.monotonic(), sent
    while time.monotonic() < end:
        due = started + (sent - first) / args.rate
        if time.monotonic() < due:
            time.sleep(min(due - time.monotonic(), 0.01))  # pacing the load
            continue
        sock.sendall(b"".join(flood_line(args, sent + n) for n in range(batch)))
        sent += batch
        if count_excess(sock):
            break
    return sent


def flood_line(args: argparse.Namespace, n: int) -> bytes:
    if args.command == "NICK":
        return b"NICK f%d\r\n" % n
    return f"PRIVMSG {args.channel} :flood {n}\r\n".encode()


def count_excess(sock: socket.socket) -> int:
    """How many "Excess Flood" errors wait to be read (without blocking)."""
    try:
        data = sock.recv(65536, socket.MSG_DONTWAIT)
    except (BlockingIOError, *REFUSED):
        return 0
    return data.count(b"[Excess Flood]")


def hold(args: argparse.Namespace) -> dict:
    held, refused = [], 0
    for n in range(args.count):
        try:
            sock = connect(args.port, args.source, args.rcvbuf)
        except OSError:
            refused += 1
            continue
        if args.probe and not probe(sock):
            refused += 1
            sock.close()
            continue
        if args.register:
            sock.sendall(f"NICK {args.nick}{n}\r\nUSER u 0 * :never reads\r\n"
                         f"JOIN {args.channel}\r\n".encode())
        held.append(sock)
    report({"held": len(held), "refused": refused})
    sys.stdin.read()  # until the test closes our stdin (or ends us by PID)
    return {}


def connects(args: argparse.Namespace) -> dict:
    taken = refused = 0
    started = time.monotonic()
    for _ in range(args.count):
        try:
            sock = connect(args.port, args.source)
        except OSError:
            refused += 1
            continue
        with sock:
            if probe(sock):
                taken += 1
            else:
                refused += 1
    return {"taken": taken, "refused": refused, "seconds": time.monotonic() - started}


def talk(args: argparse.Namespace) -> dict:
    sock = connect(args.port, args.source)
    register(sock, args.nick, args.channel)
    text = "t" * args.size
    sock.sendall(b"".join(f"PRIVMSG {args.channel} :{n} {text}\r\n".encode()
                          for n in range(args.count)))
    report({"sent": args.count})
    sys.stdin.read()
    return {}


def report(figures: dict) -> None:
    print(json.dumps(figures), flush=True)


MODES = {"flood": flood, "hold": hold, "connects": connects, "talk": talk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--channel", default="#attack")
    parser.add_argument("--command", choices=("PRIVMSG", "NICK"), default="PRIVMSG")
    parser.add_argument("--rate", type=float, default=32000.0)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--connections", type=int, default=3)
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--nick", default="attacker")
    parser.add_argument("--register", action="store_true")
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--rcvbuf", type=int, default=0)
    args = parser.parse_args()
    figures = MODES[args.mode](args)
    if figures:
        report(figures)


if __name__ == "__main__":
    main()
