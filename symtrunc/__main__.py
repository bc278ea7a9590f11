"""``python -m symtrunc``."""

import sys

from symtrunc.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
