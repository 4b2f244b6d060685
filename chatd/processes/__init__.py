"""The master's process plumbing: forking children and decoding their exits, the descriptor limit. Runs in the master."""
