"""The master's state and decisions, pure: nicks, channels, sequencing, PING barriers,
backpressure, the commands that need global state and the boundary that answers their errors.
Runs in the master."""
