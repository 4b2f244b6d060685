"""The master's reload (SIGHUP; systemd's ExecReload sends it): read the config file again,
refuse it as a whole if anything in it is wrong (each problem logged on one line; the running
settings stay), else apply what may change live (chatd/reload.py) — to the master's rules, its
acceptor and its log level, and, in a Reconfigure frame, to every worker (which re-reads the
TLS certificate for new handshakes) and the writer. Nobody is disconnected. systemd hears
RELOADING=1 before and READY=1 after."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from chatd import config as config_module
from chatd import tls
from chatd.config import Config, log_level_number
from chatd.hub.hub import Hub
from chatd.ipc import frames
from chatd.processes.accepting import Acceptor
from chatd.processes.service import ServiceLink
from chatd.processes.supervision import WRITER, Child
from chatd.reload import ReloadPlan, pack, plan_reload
from chatd.serverinfo import ServerInfo, build_server_info, read_motd

log = logging.getLogger(__name__)


def reload_settings(running: ServerInfo, hub: Hub, acceptor: Acceptor, children: list[Child],
                    send: Callable[[Child, tuple], None],
                    service: ServiceLink) -> ServerInfo | None:
    """Reload; the new ServerInfo (its config included), or None when refused."""
    service.reloading()
    try:
        loaded = _load(running.config)
    finally:
        service.ready(hub.registry)  # the running settings, old or new, are in force
    if loaded is None:
        return None
    plan, motd = loaded
    info = dataclasses.replace(running, config=plan.config, generation=running.generation + 1,
                               motd_lines=tuple(motd.splitlines()) if motd is not None else None,
                               isupport=_isupport(running, plan.config))
    hub.reconfigure(plan.config)
    acceptor.max_clients = plan.config.max_clients
    logging.getLogger().setLevel(log_level_number(plan.config))
    for child in children:
        send(child, frames.Reconfigure(pack(plan.config if child.role == WRITER else info)))
    _log_plan(plan, running.config)
    return info


def _load(running: Config) -> tuple[ReloadPlan, str | None] | None:
    source = running.source_path
    try:
        loaded = (config_module.load(source) if source is not None
                  else config_module.defaults())
        if loaded.tls_cert is not None and loaded.tls_key is not None:
            tls.server_context(loaded.tls_cert, loaded.tls_key)  # usable, or refused now
        motd = read_motd(loaded)
    except config_module.ConfigError as exc:
        for problem in exc.problems:
            log.error("reload refused: %s", problem)
        log.error("reload refused: the running configuration stays in force")
        return None
    except (tls.TlsSetupError, OSError) as exc:
        log.error("reload refused: %s: %s; the running configuration stays in force",
                  source, exc)
        return None
    return plan_reload(running, loaded), motd


def _isupport(running: ServerInfo, config: Config) -> tuple[str, ...]:
    """The ISUPPORT tokens for `config`, built as at start."""
    return build_server_info(config, None, 0.0, running.tls_ports).isupport


def _log_plan(plan: ReloadPlan, old: Config) -> None:
    for key in plan.needs_restart:
        log.warning("reload: %s changed; it takes effect at the next restart", key)
    log.info("configuration reloaded from %s: %s", old.source_path or "built-in defaults",
             ", ".join(plan.changed) if plan.changed else "nothing changed")
