"""`python3 -m chatd -c chatd.conf`."""

import sys

from chatd.cli import main

if __name__ == "__main__":
    sys.exit(main())
