"""One client connection's protocol as its worker sees it, pure: registration, CAP, the commands a worker answers alone, CHATHISTORY, labels. Runs in the workers."""
