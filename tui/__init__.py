"""tui: a terminal IRC client for chatd (and any IRC server).

`python3 -m tui HOST PORT` or the `tui` console script (entry point `tui.__main__:main`).
Only `tui.curses_client` touches the terminal and only `tui.connection` the network; the rest
is pure and unit-tested.
"""
