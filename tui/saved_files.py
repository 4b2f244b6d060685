"""The files the event loop writes when the app asks (`SaveCredentials`: a login kept;
`SaveIgnores`: the ignore list changed), with the outcome told back to the app. I/O, but no
terminal: the curses loop hands these actions here."""

from __future__ import annotations

from datetime import datetime

from tui import credentials_file, ignore_file
from tui.app import App, SaveCredentials
from tui.credentials import server_key
from tui.ignores import SaveIgnores


def save(app: App, action: object, now: datetime) -> bool:
    """Perform `action` if it is a file to write (True), else leave it (False)."""
    if isinstance(action, SaveCredentials):
        error = credentials_file.save_default(action.server, action.credentials)
        app.saved_credentials(action.credentials, error, now)
    elif isinstance(action, SaveIgnores):
        error = ignore_file.save_default(server_key(app.host, app.port), action.masks)
        if error:
            app.note_error(f"Could not keep the ignore list: {error}", now)
    else:
        return False
    return True
