"""``python -m symtrunc.proofs [--write DIR] [NAME ...]``: run the proofs, print the table with
scopes and the summary line, and optionally write one LaTeX and one Markdown document per claim
(and an index ``README.md``) into ``DIR``. Exit code 1 if a claim does not hold."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from symtrunc.proofs import available, results_table, run_all, summary, write_documents


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m symtrunc.proofs", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help="proofs to run (default: all)")
    parser.add_argument("--write", metavar="DIR", help="write the proof documents into DIR (e.g. proofs/)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in available()]
    if unknown:
        print(f"unknown proof {unknown[0]!r}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    results = run_all(args.names or None)
    print(results_table(results))
    line, ok = summary(results)
    print(line)
    if args.write:
        paths = write_documents(results, args.write)
        print(f"wrote {len(paths)} files to {args.write}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
