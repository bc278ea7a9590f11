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
proof        status  scope  ...  obligations  time    title
base_points  proved  all dimensions ...
1 claim: 1 proved for all dimensions, 0 verified at fixed sizes only, 0 not proved (...)
  base_points assumes: ...
0
"""

from __future__ import annotations

import argparse
import sys
import time

import symtrunc.proofs as proofs
from symtrunc.cli.app import add_command
from symtrunc.cli.files import check_outputs
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError
from symtrunc.files import atomic_write
from symtrunc.io.network_files import read_network
from symtrunc.latex.report import build_report

__all__ = ["cmd_latex", "cmd_prove", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``latex`` and ``prove`` subcommands to ``subparsers``."""
    lp = add_command(
        subparsers,
        "latex",
        description="Write a standalone derivation report for NETWORK: the hypotheses of its theorem "
        "re-checked exactly on DATA, the theorem instantiated, every layer's cumulative and layerwise "
        "parameters and truncation map, the output layer and the exact zero-loss certificate. "
        "The LaTeX compiles with pdflatex (Debian: texlive-latex-base).",
    )
    lp.add_argument("network", help="network file (.json, .onnx, .safetensors, .pt, .npz)")
    lp.add_argument("data", nargs="?", help="training data (.csv or .npz); without it nothing is re-checked")
    lp.add_argument("-o", "--output", help="file to write (default: standard output)")
    lp.add_argument(
        "--format",
        choices=("latex", "markdown"),
        default="latex",
        help="latex (standalone document, default) or markdown (KaTeX math, for notebooks)",
    )
    lp.add_argument("--full", action="store_true", help="print every matrix entry exactly (no abbreviation)")
    lp.add_argument(
        "--relu",
        choices=("sigma", "ReLU"),
        default="sigma",
        help=r"write the rectifier as \sigma (default) or \operatorname{ReLU}",
    )
    lp.set_defaults(func=cmd_latex)

    pp = add_command(
        subparsers,
        "prove",
        description="Prove the lemmas and theorems behind the constructions with sympy for symbolic "
        "parameters and print a table with each claim's scope: proved for all dimensions, or verified "
        "at fixed sizes only. Exit code 1 if a claim does not hold (so also for --variant, whose claim "
        "is false); with --variants (self-test) exit code 0 means every claim holds and every false "
        "variant was refuted.",
    )
    pp.add_argument("names", nargs="*", metavar="NAME", help="proofs to run (default: all)")
    pp.add_argument("--all", action="store_true", help="run every proof")
    pp.add_argument("--variant", help="run this deliberately false variant of NAME instead (it must fail)")
    pp.add_argument("--variants", action="store_true", help="also run every false variant (each must fail)")
    pp.add_argument("--list", action="store_true", help="list the proofs and their false variants")
    pp.add_argument("-o", "--output", help="also write the proofs as a document (LaTeX or Markdown)")
    pp.add_argument(
        "--format",
        choices=("latex", "markdown"),
        default="latex",
        help="format of the --output document (default: latex)",
    )
    pp.add_argument(
        "--write",
        metavar="DIR",
        help="write one LaTeX and one Markdown proof document per claim into DIR (e.g. proofs/)",
    )
    pp.set_defaults(func=cmd_prove)


def _write(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
        return
    atomic_write(output, text)


def cmd_latex(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc latex``."""
    check_outputs({"-o": args.output}, [args.network, args.data])
    net = read_network(args.network)
    data = load_data(args.data) if args.data else None
    t0 = time.perf_counter()
    rep = build_report(net, data, args.format, full=args.full, relu=args.relu)
    _write(rep.text, args.output)
    if args.output not in (None, "-"):
        what = "checked exactly" if data is not None else "not re-checked (no data)"
        print(
            f"wrote {args.output} ({args.format}, {len(rep.text.splitlines())} lines, hypotheses and zero "
            f"loss {what}, {time.perf_counter() - t0:.2f} s)"
        )
    if not rep.ok:
        print("symtrunc: the report records failed checks: " + "; ".join(rep.problems), file=sys.stderr)
        return 1
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc prove``."""
    check_outputs({"-o": args.output}, [])
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
    # a claim must hold; in the self-test (--variants) a false variant must be refuted
    line, ok = proofs.summary(results, self_test=args.variants)
    print(line)
    for note in proofs.notes(results):
        print("  " + note)
    if args.output:
        _write(proofs.proofs_document(results, args.format), args.output)
    if args.write:
        paths = proofs.write_documents(results, args.write)
        print(f"wrote {len(paths)} files to {args.write}")
    return 0 if ok else 1
