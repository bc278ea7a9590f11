"""``symtrunc latex`` (derivation reports) and ``symtrunc prove`` (machine-checked proofs).

:func:`register` adds both subcommands to the ``symtrunc`` argument parser; each handler
returns the exit code: 0 success; 1 a re-checked hypothesis, the verification or a proof
failed; errors about files and options raise :class:`~symtrunc.errors.SymtruncError`
subclasses, which ``symtrunc.cli.main`` reports in one line (exit code 2).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> sub = p.add_subparsers(dest="command")
>>> register(sub)
>>> args = p.parse_args(["prove", "base_points"])
>>> args.func(args)                                  # doctest: +ELLIPSIS
proof        status  obligations  time    title
base_points  proved  ...
0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from symtrunc.errors import DataError

__all__ = ["cmd_latex", "cmd_prove", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``latex`` and ``prove`` subcommands to ``subparsers``."""
    lp = subparsers.add_parser(
        "latex", help="write a LaTeX (or Markdown) derivation report for a network",
        description="Write a standalone derivation report for NETWORK: the hypotheses of its theorem "
        "re-checked exactly on DATA, the theorem instantiated, every layer's cumulative and layerwise "
        "parameters and truncation map, the output layer and the exact zero-loss certificate. "
        "The LaTeX compiles with pdflatex (Debian: texlive-latex-base).")
    lp.add_argument("network", help="network JSON file")
    lp.add_argument("data", nargs="?", help="training data (.csv or .npz); without it nothing is re-checked")
    lp.add_argument("-o", "--output", help="file to write (default: standard output)")
    lp.add_argument("--format", choices=("latex", "markdown"), default="latex",
                    help="latex (standalone document, default) or markdown (KaTeX math, for notebooks)")
    lp.add_argument("--full", action="store_true", help="print every matrix entry exactly (no abbreviation)")
    lp.add_argument("--relu", choices=("sigma", "ReLU"), default="sigma",
                    help=r"write the rectifier as \sigma (default) or \operatorname{ReLU}")
    lp.set_defaults(func=cmd_latex)

    pp = subparsers.add_parser(
        "prove", help="run the machine-checked proofs of the lemmas and theorems",
        description="Prove the lemmas and theorems behind the constructions with sympy for symbolic "
        "parameters and print a pass/fail table. Exit code 1 if a claim is not proved (so also for "
        "--variant, whose claim is false); with --variants (self-test) exit code 0 means every claim "
        "was proved and every false variant refuted.")
    pp.add_argument("names", nargs="*", metavar="NAME", help="proofs to run (default: all)")
    pp.add_argument("--all", action="store_true", help="run every proof")
    pp.add_argument("--variant", help="run this deliberately false variant of NAME instead (it must fail)")
    pp.add_argument("--variants", action="store_true", help="also run every false variant (each must fail)")
    pp.add_argument("--list", action="store_true", help="list the proofs and their false variants")
    pp.add_argument("-o", "--output", help="also write the proofs as a document (LaTeX or Markdown)")
    pp.add_argument("--format", choices=("latex", "markdown"), default="latex",
                    help="format of the --output document (default: latex)")
    pp.set_defaults(func=cmd_prove)


def _write(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
        return
    Path(output).write_text(text, encoding="utf-8")


def cmd_latex(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc latex``."""
    from symtrunc.data.labeled import load_data
    from symtrunc.io.json import load_network
    from symtrunc.latex.report import build_report

    net = load_network(args.network)
    data = load_data(args.data) if args.data else None
    t0 = time.perf_counter()
    rep = build_report(net, data, args.format, full=args.full, relu=args.relu)
    _write(rep.text, args.output)
    if args.output not in (None, "-"):
        what = "checked exactly" if data is not None else "not re-checked (no data)"
        print(f"wrote {args.output} ({args.format}, {len(rep.text.splitlines())} lines, hypotheses and zero "
              f"loss {what}, {time.perf_counter() - t0:.2f} s)")
    if not rep.ok:
        print("symtrunc: the report records failed checks: " + "; ".join(rep.problems), file=sys.stderr)
        return 1
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc prove``."""
    from symtrunc import proofs

    scripts = proofs.available()
    if args.list:
        for name, mod in scripts.items():
            print(f"{name}: {mod.TITLE}")
            for v, what in mod.VARIANTS.items():
                print(f"    --variant {v}: {what}")
        return 0
    names = list(scripts) if (args.all or not args.names) else list(args.names)
    unknown = [n for n in names if n not in scripts]
    if unknown:
        raise DataError(f"unknown proof {unknown[0]!r}; available: {', '.join(scripts)}")
    if args.variant is not None:
        if len(names) != 1:
            raise DataError("--variant needs exactly one proof NAME")
        results = [proofs.run(names[0], args.variant)]
    else:
        results = proofs.run_all(names, variants=args.variants)
    print(proofs.results_table(results))
    # a claim must be proved; in the self-test (--variants) a false variant must be refuted
    bad = [r for r in results if (r.status != "failed" if (r.variant and args.variants) else r.status != "proved")]
    n_claims = sum(r.variant is None for r in results)
    n_vars = len(results) - n_claims
    summary = f"{sum(r.status == 'proved' for r in results if r.variant is None)} of {n_claims} claims proved"
    if n_vars:
        summary += f", {sum(r.status == 'failed' for r in results if r.variant)} of {n_vars} false variants refuted"
    print(summary + f" ({sum(r.seconds for r in results):.2f} s)")
    for r in results:
        if r.counterexample and r.variant is None:
            print(f"  {r.name}: counterexample to '{r.counterexample['obligation']}': {r.counterexample['values']}")
    if args.output:
        _write(proofs.proofs_document(results, args.format), args.output)
    return 1 if bad else 0
