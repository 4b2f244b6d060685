"""A worker's pure side: one client connection's protocol (registration, CAP, the commands a
worker answers alone, CHATHISTORY, labels), the table of this worker's connections
(switchboard) and the fan-out of committed events to them (delivery). Runs in the workers."""
