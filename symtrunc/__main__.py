"""``python -m symtrunc``."""

import sys

from symtrunc.cli import main

sys.exit(main())
