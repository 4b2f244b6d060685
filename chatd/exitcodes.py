"""Exit statuses shared by chatd's processes (documented in README)."""

EXIT_OK = 0
EXIT_RUNTIME = 1       # could not start or keep running (port in use, history unusable)
EXIT_CONFIG = 2        # bad configuration or command line
EXIT_BOOT_FAILED = 3   # a child failed while starting: the master stops instead of respawning
