"""End to end with real third-party programs (Debian packages, installed by .ci/run):

- irssi and WeeChat in tmux against chatd: connect, join #lobby, see the history sent before they
  came (with its original time: server-time tags, or the "[YYYY-MM-DD HH:MM UTC] " prefix for a
  client that did not negotiate it), and chat both ways with a tui user in another tmux.
- tui against ngIRCd, a stock IRC server started with a config the test writes: tui must work
  on any IRC server, not only on chatd (no autojoin, no server-time, no history).

Each program runs in its own private tmux server (killed at cleanup); servers are stopped by
PID. Every wait is a deadline-bounded poll of a screen or a socket.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import unittest
from datetime import UTC, datetime, timedelta

from tests.support.chatd_process import REPO, start_chatd
from tests.support.irc_client import IRCClient
from tests.support.ngircd_process import ngircd_available, start_ngircd
from tests.support.tmux import Tmux, start_tmux, tmux_available
from tests.support.wait import wait_until

TIMEOUT_S = 15.0
TIME = r"\d\d:\d\d"  # tui's time column
# Every program gets the same clock zone, so the times they print can be compared with the
# server-time of a message.
ENV = {"TZ": "UTC", "USER": "tester", "LOGNAME": "tester"}


def irssi_config(nick: str) -> str:
    """A whole irssi config: no networks or servers of its own (nothing to auto-connect to),
    seconds in timestamps, a message's server-time as its time (off by default), nothing saved
    on exit, and no flood queue (by default irssi sends at most 5 commands at once, then one
    every 2.2 s, and drops a channel's queued lines when it parts: slow, and lossy)."""
    return f"""\
settings = {{
  core = {{
    real_name = "{nick} (irssi)";
    user_name = "{nick}";
    nick = "{nick}";
    settings_autosave = "no";
    timestamp_format = "%H:%M:%S";
  }};
  "fe-text" = {{
    show_server_time = "yes";
  }};
  "irc/core" = {{
    cmds_max_at_once = "1000";
    cmd_queue_speed = "0msec";
  }};
}};
"""


def weechat_commands(port: int, nick: str, caps: bool) -> str:
    """WeeChat's startup commands (-r; ';' separates them): one plain-TCP server on 127.0.0.1
    that auto-joins #lobby. With `caps` false it requests no IRCv3 capability at all."""
    options = [f"-nicks={nick}", f"-username={nick}", f"-realname={nick}",
               "-autojoin=#lobby", "-notls",
               # WeeChat's anti-flood queue would space our lines two seconds apart.
               "-anti_flood_prio_high=0", "-anti_flood_prio_low=0"]
    if not caps:
        options.append("-capabilities=")
    return ";".join([
        "/set weechat.look.buffer_time_format %H:%M:%S",
        "/set weechat.look.save_config_on_exit off",
        f"/server add chatd 127.0.0.1/{port} " + " ".join(options),
        "/connect chatd",
    ])


def parse_server_time(server_time: str) -> datetime:
    """'2026-11-25T18:57:25.123Z' (IRCv3 server-time) -> an aware UTC datetime."""
    return datetime.strptime(server_time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def hhmmss(server_time: str) -> str:
    return parse_server_time(server_time).strftime("%H:%M:%S")


def replay_prefix(server_time: str) -> str:
    """The text chatd puts in front of a replayed message for a client without server-time."""
    return parse_server_time(server_time).strftime("[%Y-%m-%d %H:%M UTC] ")


@unittest.skipUnless(tmux_available(), "tmux is not installed (.ci/run installs it)")
class InteropTest(unittest.TestCase):
    # programs -------------------------------------------------------------------------------
    def home(self) -> str:
        # A client killed with its tmux (after a failure) may still be writing as it goes.
        tmp = tempfile.TemporaryDirectory(prefix="interop-home-", ignore_cleanup_errors=True)
        self.addCleanup(tmp.cleanup)
        return tmp.name

    def tui(self, host_port: tuple[str, int], nick: str, *args: str) -> Tmux:
        env = {**ENV, "PYTHONPATH": str(REPO)}
        host, port = host_port
        return start_tmux(self, [sys.executable, "-m", "tui", host, str(port), "--nick", nick,
                                 *args], 100, 30, env)

    def tui_in_lobby(self, port: int, nick: str) -> Tmux:
        term = self.tui(("127.0.0.1", port), nick)
        term.wait_for(r"You joined #lobby", TIMEOUT_S)
        term.wait_for(rf"connected \| {nick} \| 2:#lobby", TIMEOUT_S)
        return term

    def irssi(self, port: int, nick: str) -> Tmux:
        home = self.home()
        with open(f"{home}/config", "w", encoding="utf-8") as fh:
            fh.write(irssi_config(nick))
        return start_tmux(self, ["irssi", f"--home={home}", "-c", "127.0.0.1", "-p", str(port),
                                 "-n", nick], 120, 30, ENV)

    def weechat(self, port: int, nick: str, caps: bool = True) -> Tmux:
        # -a: no auto-connect from config; -s: no scripts; -P irc: only the IRC plugin (no
        # script downloads, no relay, no spell checker, no logger, no side bars).
        return start_tmux(self, ["weechat", "-d", self.home(), "-a", "-s", "-P", "irc",
                                 "-r", weechat_commands(port, nick, caps)], 120, 30, ENV)

    def observer(self, port: int) -> IRCClient:
        """A raw client with server-time in #lobby (chatd's autojoin): tells the exact time
        the server stored a message with."""
        client = IRCClient(port)
        self.addCleanup(client.close)
        client.register("olga", caps=("server-time",))
        client.answer_pings = True
        return client

    def post_history(self, port: int, alice: Tmux, text: str) -> str:
        """alice (tui) says `text` before the client under test connects; return its time."""
        olga = self.observer(port)
        alice.type_line(text)
        stored_at = olga.expect_msg(rf"PRIVMSG #lobby :{re.escape(text)}$").tags["time"]
        # Let the clock pass the stored second, so that a client showing the time the replay
        # arrived (instead of the stored time) shows a different time and fails the test.
        next_second = parse_server_time(stored_at).replace(microsecond=0) + timedelta(seconds=1)
        wait_until(lambda: datetime.now(UTC) >= next_second, 3.0,
                   message="the clock to pass the stored second")
        return stored_at

    # scenario ---------------------------------------------------------------------------------
    def chat_both_ways(self, alice: Tmux, other: Tmux, nick: str, shows: str,
                       action: str) -> None:
        """Messages both ways between alice (tui) and `other` (nick `nick`), whose display of a
        channel message (`shows`) or action (`action`) by N saying T is that regex formatted
        with nick=N, text=T."""
        said = f"hello alice, from {nick}: ça va? 日本語"
        other.type_line(said)
        alice.wait_for(rf"{TIME} {nick}: {re.escape(said)}", TIMEOUT_S)
        alice.type_line(f"hi {nick}, from tui")
        other.wait_for(shows.format(nick="alice", text=f"hi {nick}, from tui"), TIMEOUT_S)
        # The reply was sent after our message was stored, so an echo of ours (echo-message)
        # would already be here: our own line is on the screen exactly once.
        screen = other.wait_for(shows.format(nick=nick, text=re.escape(said)), TIMEOUT_S)
        self.assertEqual(screen.count(said), 1, screen)

        other.type_line("/me waves")
        alice.wait_for(rf"\* {nick} waves", TIMEOUT_S)
        alice.type_line("/me waves back")
        other.wait_for(action.format(nick="alice", text="waves back"), TIMEOUT_S)

    def quit(self, alice: Tmux, other: Tmux, nick: str) -> None:
        other.type_line("/quit see you")
        self.assertEqual(other.wait_exit(TIMEOUT_S), 0)
        alice.wait_for(rf"<-- {nick} quit", TIMEOUT_S)

    # tests ------------------------------------------------------------------------------------
    @unittest.skipUnless(shutil.which("irssi"), "irssi is not installed (.ci/run installs it)")
    def test_irssi_with_tui_on_chatd(self) -> None:
        server = start_chatd(self)
        alice = self.tui_in_lobby(server.port, "alice")
        stored_at = self.post_history(server.port, alice, "said before ivan came")

        ivan = self.irssi(server.port, "ivan")
        ivan.wait_for(r"Welcome to the .* ivan!", TIMEOUT_S)
        ivan.type_line("/join #lobby")  # already joined by the server: shows its window
        # irssi negotiates server-time: the replayed line carries its stored time, no prefix.
        screen = ivan.wait_for(rf"{hhmmss(stored_at)} <[ @+]?alice> said before ivan came",
                               TIMEOUT_S)
        self.assertNotIn("UTC]", screen)
        self.assertRegex(screen, r"ivan .*has joined #lobby")
        alice.wait_for(r"--> ivan joined #lobby", TIMEOUT_S)

        self.chat_both_ways(alice, ivan, "ivan", r"<[ @+]?{nick}> {text}", r" \* {nick} {text}")
        self.quit(alice, ivan, "ivan")

    @unittest.skipUnless(shutil.which("weechat"),
                         "weechat is not installed (.ci/run installs weechat-curses)")
    def test_weechat_with_tui_on_chatd(self) -> None:
        server = start_chatd(self)
        alice = self.tui_in_lobby(server.port, "alice")
        stored_at = self.post_history(server.port, alice, "said before wendy came")
        for caps in (True, False):
            with self.subTest(server_time=caps):
                nick = "wendy" if caps else "walt"
                term = self.weechat(server.port, nick, caps)
                # WeeChat shows the channel buffer it auto-joined; the history is in it with
                # its stored time: as the line's time (server-time) or written in the text.
                if caps:
                    history = rf"{hhmmss(stored_at)} +[@+]?alice \| said before wendy came"
                else:
                    history = rf"[@+]?alice \| {re.escape(replay_prefix(stored_at))}said before"
                screen = term.wait_for(history, TIMEOUT_S)
                # With extended-join (WeeChat asks for it) the realname is shown too.
                self.assertRegex(screen, rf"{nick} (\(\S+\) )?\({nick}@127\.0\.0\.1\) has joined"
                                         " #lobby")
                if caps:
                    self.assertNotIn("UTC]", screen)
                alice.wait_for(rf"--> {nick} joined #lobby", TIMEOUT_S)

                self.chat_both_ways(alice, term, nick, r"[@+]?{nick} \| {text}",
                                    r"\* \| {nick} {text}")
                self.quit(alice, term, nick)

    @unittest.skipUnless(ngircd_available(), "ngircd is not installed (.ci/run installs it)")
    def test_tui_on_ngircd(self) -> None:
        server = start_ngircd(self)
        # No autojoin there: tui joins #lobby itself.
        alice = self.tui(("127.0.0.1", server.port), "alice")
        alice.wait_for(r"You joined #lobby", TIMEOUT_S)
        alice.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)

        bob = IRCClient(server.port)
        self.addCleanup(bob.close)
        bob.answer_pings = True
        bob.register("bob")
        bob.send("JOIN #lobby")
        bob.expect(r" 366 bob #lobby ")
        alice.wait_for(r"--> bob joined #lobby", TIMEOUT_S)

        bob.send("PRIVMSG #lobby :hello alice, ça va? 日本語")
        alice.wait_for(rf"{TIME} bob: hello alice, ça va\? 日本語", TIMEOUT_S)
        alice.type_line("hi bob, from tui")
        bob.expect(r"^:alice!\S+ PRIVMSG #lobby :hi bob, from tui$")
        alice.type_line("/me waves")
        bob.expect(r"^:alice!\S+ PRIVMSG #lobby :\x01ACTION waves\x01$")

        bob.send("PRIVMSG alice :just between us")
        alice.wait_for(r"act: 3:bob", TIMEOUT_S)  # a new buffer for the conversation
        alice.type_line("/win 3")
        alice.wait_for(r"bob: just between us", TIMEOUT_S)
        alice.type_line("private reply")
        bob.expect(r"^:alice!\S+ PRIVMSG bob :private reply$")

        alice.type_line("/win 2")
        alice.wait_for(r"connected \| alice \| 2:#lobby", TIMEOUT_S)
        bob.send("QUIT :bye")
        alice.wait_for(r"<-- bob quit", TIMEOUT_S)
        alice.send_keys("C-c")
        self.assertEqual(alice.wait_exit(TIMEOUT_S), 0)


if __name__ == "__main__":
    unittest.main()
