"""chatd.hub.addresses: the key an address is counted under (IPv4, IPv6 /64, IPv4-mapped,
exempt networks), the counts the Hub keeps (opened, registered, closed), and the decision to
refuse a connection: clients per address, unregistered per address, the server-wide share and
connections per minute over a sliding window, with an injected clock."""

from __future__ import annotations

import ipaddress
import unittest

from chatd.hub.addresses import (CONNECT_WINDOW_S, TOO_MANY, AddressBook, AddressLimits,
                                 address_key, share_of)

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1"))


def book(clients: int = 10, unregistered: int = 3, per_minute: int = 0,
         exempt: tuple = LOOPBACK) -> AddressBook:
    return AddressBook(AddressLimits(clients, unregistered, per_minute, exempt))


class AddressKeyTest(unittest.TestCase):
    def test_keys(self) -> None:
        cases = [
            ("192.0.2.1", "192.0.2.1"),
            ("192.0.2.2", "192.0.2.2"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
            ("0::2", "::/64"),  # as client_host writes an address starting with ':'
            ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4-mapped: a dual-stack listener
            ("127.0.0.1", None),  # exempt
            ("127.9.9.9", None),
            ("::1", None),
            ("0::1", None),
            ("::ffff:127.0.0.1", None),
            ("localhost", None),  # not an IP address (a Unix socket)
        ]
        for host, key in cases:
            with self.subTest(host=host):
                self.assertEqual(key, address_key(host, LOOPBACK))

    def test_nothing_exempt(self) -> None:
        self.assertEqual("127.0.0.1", address_key("127.0.0.1"))
        self.assertEqual("::/64", address_key("::1"))

    def test_exempt_networks(self) -> None:
        exempt = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
        self.assertIsNone(address_key("10.200.0.1", exempt))
        self.assertEqual("11.0.0.1", address_key("11.0.0.1", exempt))
        self.assertIsNone(address_key("2001:db8:ffff::1", exempt))
        self.assertEqual("2001:db9::/64", address_key("2001:db9::1", exempt))


class CountsTest(unittest.TestCase):
    def test_clients_per_address_count_unregistered_ones(self) -> None:
        addresses = book(clients=4, unregistered=0)
        for conn_id in range(1, 5):
            self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))
            addresses.opened(conn_id, "192.0.2.1")
            if conn_id % 2:
                addresses.registered(conn_id)
        self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", 0.0))
        self.assertIsNone(addresses.refusal("192.0.2.2", 0.0))  # another address
        addresses.closed(2)
        self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))

    def test_ipv6_addresses_in_one_64_share_a_count(self) -> None:
        addresses = book(clients=2, unregistered=0)
        addresses.opened(1, "2001:db8::1")
        addresses.opened(2, "2001:db8::ffff:2")
        self.assertEqual(TOO_MANY, addresses.refusal("2001:db8::3", 0.0))
        self.assertIsNone(addresses.refusal("2001:db8:0:1::3", 0.0))

    def test_unregistered_limit_while_registered_ones_count_elsewhere(self) -> None:
        addresses = book(clients=10, unregistered=3)
        for conn_id in (1, 2):
            addresses.opened(conn_id, "192.0.2.1")
            addresses.registered(conn_id)
        for conn_id in (3, 4, 5):
            self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))
            addresses.opened(conn_id, "192.0.2.1")
        self.assertEqual((5, 3), addresses.held("192.0.2.1"))
        self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", 0.0))
        addresses.registered(3)
        addresses.registered(3)  # a repeated Registered counts once
        self.assertEqual((5, 2), addresses.held("192.0.2.1"))
        self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))

    def test_counts_return_to_zero(self) -> None:
        addresses = book()
        for conn_id in range(1, 7):
            addresses.opened(conn_id, f"192.0.2.{conn_id % 3}")
            if conn_id % 2:
                addresses.registered(conn_id)
        for conn_id in range(1, 7):
            addresses.closed(conn_id)
            addresses.closed(conn_id)  # a second close is a no-op
        self.assertEqual(0, len(addresses))
        self.assertEqual((0, 0), addresses.held("192.0.2.1"))

    def test_exempt_addresses_are_neither_limited_nor_tracked(self) -> None:
        addresses = book(clients=1, unregistered=1, per_minute=1)
        for conn_id in range(1, 50):
            self.assertIsNone(addresses.refusal("127.0.0.1", 0.0))
            addresses.opened(conn_id, "127.0.0.1")
        self.assertEqual(0, len(addresses))

    def test_zero_means_no_limit(self) -> None:
        addresses = book(clients=0, unregistered=0, per_minute=0)
        for conn_id in range(1, 100):
            self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))
            addresses.opened(conn_id, "192.0.2.1")

    def test_server_wide_share(self) -> None:
        for places, share in ((0, 0), (1, 1), (5, 1), (10, 1), (11, 2), (30, 3), (1000, 100)):
            with self.subTest(places=places):
                self.assertEqual(share, share_of(places))
        addresses = book(clients=10, unregistered=0)
        addresses.set_places(30)
        for conn_id in range(1, 4):
            self.assertIsNone(addresses.refusal("192.0.2.1", 0.0))
            addresses.opened(conn_id, "192.0.2.1")
        self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", 0.0))


class ConnectRateTest(unittest.TestCase):
    def test_sliding_window(self) -> None:
        addresses = book(per_minute=3)
        for now in (0.0, 10.0, 20.0):
            self.assertIsNone(addresses.refusal("192.0.2.1", now))
        self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", 30.0))
        self.assertIsNone(addresses.refusal("192.0.2.2", 30.0))  # another address
        # Refused attempts count: hammering keeps the window full...
        for now in (31.0, 32.0):
            self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", now))
        self.assertEqual(TOO_MANY, addresses.refusal("192.0.2.1", 30.0 + CONNECT_WINDOW_S - 1))
        # ...until it has been quiet for a whole window.
        self.assertIsNone(addresses.refusal("192.0.2.1", 89.0 + CONNECT_WINDOW_S))

    def test_attempts_count_even_without_connections_held(self) -> None:
        addresses = book(clients=0, unregistered=0, per_minute=2)
        self.assertIsNone(addresses.refusal("2001:db8::1", 0.0))
        self.assertIsNone(addresses.refusal("2001:db8::2", 1.0))  # the same /64
        self.assertEqual(TOO_MANY, addresses.refusal("2001:db8::3", 2.0))

    def test_quiet_addresses_are_forgotten(self) -> None:
        addresses = book(per_minute=5)
        for i in range(100):
            addresses.refusal(f"192.0.2.{i}", float(i) / 100)
        self.assertEqual(100, len(addresses._attempts))
        addresses.refusal("198.51.100.1", CONNECT_WINDOW_S + 1.0)
        self.assertEqual(1, len(addresses._attempts))


if __name__ == "__main__":
    unittest.main()
