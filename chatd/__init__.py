"""chatd: an IRC server with a preforking master, worker processes and one SQLite writer."""
