"""``python -m symtrunc``."""

import sys

from symtrunc.cli import main

if __name__ == "__main__":
    sys.exit(main())
