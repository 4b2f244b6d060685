"""Steps a person takes in a real tui (in tmux) that several end-to-end tests share: answering
the name prompt, and claiming that name as an account with /register and keeping the login."""

from __future__ import annotations

from tests.support.tmux import Tmux


def enter_name(pane: Tmux, name: str, timeout_s: float) -> None:
    """Answer the first prompt (it offers the login name, `tester` in the tests) with `name`."""
    pane.wait_for(r"Your name: ", timeout_s)
    pane.send_keys("C-u")
    pane.type(name)
    pane.send_keys("Enter")


def register_and_keep(pane: Tmux, name: str, password: str, timeout_s: float) -> list[str]:
    """From the name prompt: take `name`, claim it with /register and `password` (typed in the
    hidden prompt), and keep the login. Returns the screens seen while the password was typed
    and after it was kept, for the caller to check that the password never shows."""
    enter_name(pane, name, timeout_s)
    pane.wait_for(r"You joined #lobby", timeout_s)
    pane.type_line("/register")
    pane.wait_for(rf"Choose a password for the name {name}", timeout_s)
    pane.type(password)
    typed = pane.wait_for(r"\*{%d}" % len(password), timeout_s)
    pane.send_keys("Enter")
    pane.wait_for(rf"Keep the password for {name}", timeout_s)
    pane.type_line("y")
    kept = pane.wait_for(rf"logs in as {name} by itself", timeout_s)
    return [typed, kept]
