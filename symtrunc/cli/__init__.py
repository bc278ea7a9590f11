"""The ``symtrunc`` command line: :func:`main` and one module per command family."""

from symtrunc.cli.app import main

__all__ = ["main"]
