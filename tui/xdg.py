"""Where tui keeps its files, after the XDG Base Directory specification: settings and saved
logins in `$XDG_CONFIG_HOME/tui` (default `~/.config/tui`), what it remembers between runs in
`$XDG_STATE_HOME/tui` (default `~/.local/state/tui`: "state data that should persist between
(application) restarts, but that is not important or portable enough" for the data home).
A relative path in those variables is ignored, as the specification says. Pure: the
environment and the home directory are arguments."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath

APP_DIR = "tui"


def _base(environ: Mapping[str, str], variable: str, home: str, default: str) -> PurePath:
    value = environ.get(variable, "")
    return PurePath(value) if value and PurePath(value).is_absolute() \
        else PurePath(home, default)


def config_dir(environ: Mapping[str, str], home: str) -> PurePath:
    """$XDG_CONFIG_HOME/tui, else ~/.config/tui."""
    return _base(environ, "XDG_CONFIG_HOME", home, ".config") / APP_DIR


def state_dir(environ: Mapping[str, str], home: str) -> PurePath:
    """$XDG_STATE_HOME/tui, else ~/.local/state/tui."""
    return _base(environ, "XDG_STATE_HOME", home, ".local/state") / APP_DIR
