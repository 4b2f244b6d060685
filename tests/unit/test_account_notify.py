"""IRCv3 account-notify in the pure cores: who the master tells (one Notify frame per
worker, for the clients sharing a channel with the user, and the user itself, that asked for
the capability) when a user logs in after registration or is logged out by the admin deleting
its account; and what the worker does with LoggedOut (forget the account, 901)."""

from __future__ import annotations

import unittest

from chatd.hub import account_requests
from chatd.hub.worker_frames import apply_worker_frame
from chatd.ipc import frames as ipc
from tests.unit.test_accounts import make_hub, make_session, open_client, out, to_worker

NOTIFY = frozenset({"account-notify"})


def notified(effects) -> dict[int, tuple[tuple[int, ...], str]]:
    """worker -> (conn ids, line) of the Notify frames among the effects."""
    return {e.worker: (e.frame.conn_ids, e.frame.line) for e in effects
            if isinstance(getattr(e, "frame", None), ipc.Notify)}


class WhoIsToldTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hub = hub = make_hub()
        # 1 logs in; 2 (worker 0) and 3 (worker 1) share #a with it and asked; 4 shares #a
        # and did not ask; 5 asked but shares no channel with it.
        self.clients = {}
        for conn_id, worker, caps, channels in ((1, 0, NOTIFY, ("#a", "#b")),
                                                (2, 0, NOTIFY, ("#a",)),
                                                (3, 1, NOTIFY, ("#b",)),
                                                (4, 1, frozenset(), ("#a",)),
                                                (5, 1, NOTIFY, ("#c",))):
            client = open_client(hub, conn_id, f"n{conn_id}")
            client.worker, client.caps = worker, caps
            for channel in channels:
                hub.join(client, channel)
            self.clients[conn_id] = client
        hub.take_effects()

    def log_in(self) -> list:
        client = self.clients[1]
        apply_worker_frame(self.hub, client, ipc.AuthRequest(1, "PLAIN", "henry", ""))
        self.hub.take_effects()
        apply_worker_frame(self.hub, client, ipc.AuthResult(1, "PLAIN", "henry", True, "", ""))
        return self.hub.take_effects()

    def test_login_tells_channel_peers_and_itself_that_asked(self) -> None:
        effects = self.log_in()
        self.assertEqual(to_worker(effects)[0], ipc.AuthOk(1, "henry"))  # 900 first
        self.assertEqual(notified(effects), {0: ((1, 2), ":n1!u@10.0.0.1 ACCOUNT henry"),
                                             1: ((3,), ":n1!u@10.0.0.1 ACCOUNT henry")})

    def test_nobody_that_asked_shares_a_channel(self) -> None:
        for client in self.clients.values():
            client.caps = frozenset()
        self.assertEqual(notified(self.log_in()), {})

    def test_deleting_the_account_logs_out_and_tells_the_peers(self) -> None:
        self.log_in()
        account_requests.admin(self.hub, 9, "delete", "henry", {})
        effects = self.hub.take_effects()
        self.assertIsNone(self.clients[1].account)
        logged_out = [f for f in to_worker(effects) if isinstance(f, ipc.LoggedOut)]
        self.assertEqual([f.conn_id for f in logged_out], [1])
        self.assertEqual(notified(effects), {0: ((1, 2), ":n1!u@10.0.0.1 ACCOUNT *"),
                                             1: ((3,), ":n1!u@10.0.0.1 ACCOUNT *")})

    def test_extended_monitor_tells_watchers_too(self) -> None:
        # 6 shares no channel and watches n1 with extended-monitor; 7 watches without it.
        for conn_id, caps in ((6, NOTIFY | {"extended-monitor"}), (7, NOTIFY)):
            watcher = open_client(self.hub, conn_id, f"n{conn_id}")
            watcher.caps = caps
            self.hub.monitors.add(watcher, "N1")
        self.hub.take_effects()
        self.assertEqual(notified(self.log_in())[0], ((1, 2, 6), ":n1!u@10.0.0.1 ACCOUNT henry"))

    def test_login_before_registration_tells_nobody(self) -> None:
        client = open_client(self.hub, 6, "n6", register=False)
        client.caps = NOTIFY
        apply_worker_frame(self.hub, client, ipc.AuthRequest(6, "PLAIN", "henry", ""))
        self.hub.take_effects()
        apply_worker_frame(self.hub, client, ipc.AuthResult(6, "PLAIN", "henry", True, "", ""))
        self.assertEqual(notified(self.hub.take_effects()), {})


class LoggedOutTest(unittest.TestCase):
    def test_worker_forgets_the_account_and_sends_901(self) -> None:
        session = make_session()
        session.nick, session.user, session.account = "ann", "a", "henry"
        session.on_account_frame(ipc.LoggedOut(1, "You are now logged out"))
        self.assertIsNone(session.account)
        self.assertEqual(out(session),
                         [":chat.example 901 ann ann!a@10.0.0.1 :You are now logged out"])


if __name__ == "__main__":
    unittest.main()
