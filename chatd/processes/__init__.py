"""The master's process plumbing: the listening socket and accepting, forking, supervising and
stopping children, the writer watchdog, the descriptor limit. Runs in the master."""
