"""What a reload (SIGHUP, or systemd's ExecReload) changes: the new config's settings apply
live, except those bound to what is already running — the listening sockets, the number of
workers, the history file, the server's name (in every prefix clients hold) — which keep
their running values until a restart, each logged. Pure: the master reads the file and
carries the plan out (chatd/master.py), and hands workers and writer the result."""

from __future__ import annotations

import dataclasses
import pickle
from typing import NamedTuple

from chatd.config import Config

# Config fields a running chatd cannot change, and the key a person would look for.
RESTART_ONLY = {
    "listen_host": "[server] listen", "listen_port": "[server] listen",
    "workers": "[server] workers", "server_name": "[server] name",
    "history_path": "[history] path", "history_synchronous": "[history] synchronous",
    "tls_listen": "[tls] listen", "metrics_listen": "[metrics] listen",
}


class ReloadPlan(NamedTuple):
    config: Config  # what runs from now on
    changed: list[str]  # fields that change live
    needs_restart: list[str]  # keys that changed in the file but wait for a restart


def plan_reload(running: Config, loaded: Config) -> ReloadPlan:
    kept = {}
    needs_restart = []
    for field, key in RESTART_ONLY.items():
        if getattr(loaded, field) != getattr(running, field):
            kept[field] = getattr(running, field)
            if key not in needs_restart:
                needs_restart.append(key)
    config = dataclasses.replace(loaded, **kept)
    changed = [f.name for f in dataclasses.fields(Config)
               if f.compare and getattr(config, f.name) != getattr(running, f.name)]
    return ReloadPlan(config, changed, needs_restart)


def pack(settings: object) -> bytes:
    """A Config or ServerInfo for the Reconfigure frame (chatd/ipc/frames.py)."""
    return pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> object:
    return pickle.loads(data)  # only ever from our own master: see frames.Reconfigure
