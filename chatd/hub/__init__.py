"""The master's state and decisions, pure: nicks, channels, sequencing, PING barriers, the commands that need global state. Runs in the master."""
