"""The error that stops chatd before it serves anyone (cannot listen, the writer did not
start): the master prints its one-line message and exits. Nothing else lives here."""

from __future__ import annotations


class StartupError(Exception):
    """chatd could not start; the message is the one line to show ("" when the failing child
    has said why on stderr already)."""
