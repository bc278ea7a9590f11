"""Command-line interface: the parser, :func:`main`, error handling and the command registry.

Each subcommand lives in a module ``symtrunc.cli.<family>`` whose ``register(subparsers)``
adds its sub-parsers (:data:`COMMANDS` says which module registers which command). Only the
module of the command being run is imported: ``symtrunc --help`` lists the commands from the
registry alone, so it starts without sympy, the constructions or matplotlib.

Exit codes (:data:`EXIT_CODES`): 0 success; 1 the data do not meet a theorem's hypotheses or
verification failed; 2 usage or input error (also a file that cannot be written, or a lost Dask
cluster); 3 internal error, a bug in symtrunc (the one-line message asks to report it; set
``SYMTRUNC_TRACEBACK=1`` to see the traceback); 4 undecided, a user-set search limit was hit
(``construct --max-nodes``; not a proof either way); 130 interrupted. Errors are one line on
standard error.

Examples
--------
>>> sorted({c.module for c in COMMANDS.values()})
['certificate', 'claims', 'construct', 'convex', 'info', 'io', 'landscape', 'latex', 'plot', 'verify']
>>> build_parser(["info", "net.json"]).parse_args(["info", "net.json"]).network
'net.json'
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NamedTuple

from symtrunc.errors import HypothesisError, SymtruncError, UncertifiedError, VerificationError

__all__ = ["COMMANDS", "EXIT_CODES", "Command", "add_command", "build_parser", "main"]

#: What each exit code of :func:`main` means.
EXIT_CODES = {
    0: "success",
    1: "hypotheses not met or verification failed",
    2: "usage or input error",
    3: "internal error (a bug in symtrunc: please report it)",
    4: "undecided: a user-set search limit was hit (not a proof either way)",
    130: "interrupted",
}


class Command(NamedTuple):
    """A subcommand: the module ``symtrunc.cli.<module>`` that registers it and its one-line help."""

    module: str
    help: str


#: Every subcommand, in the order ``symtrunc --help`` lists them.
COMMANDS: dict[str, Command] = {
    "construct": Command("construct", "build an exactly verified zero-loss network for DATA"),
    "verify": Command("verify", "prove zero loss and the layer invariants exactly"),
    "verify-certificate": Command("certificate", "re-check a saved certificate against NETWORK and DATA"),
    "info": Command("info", "layers, widths, parameter counts and the theorem used"),
    "demo": Command("construct", "construct and verify a network for the embedded Wine data"),
    "export": Command("io", "write a network as ONNX, safetensors, PyTorch, JAX (.npz), npz or JSON"),
    "import": Command("io", "read a trained fully connected ReLU network exactly and save it as JSON"),
    "explain": Command("io", "which points each layer keeps, collapses or projects (truncation-map view)"),
    "latex": Command("latex", "write a LaTeX (or Markdown) derivation report for a network"),
    "prove": Command("latex", "run the machine-checked proofs of the lemmas and theorems"),
    "plot": Command("plot", "draw every truncation step of a network on its data (matplotlib)"),
    "landscape": Command("landscape", "exact loss, gradient, neuron types and critical-point verdict of a shallow net"),
    "claims": Command("claims", "test the claims of the L2 papers exactly on DATA (table or --json)"),
    "convex": Command("convex", "convex reformulation of two-layer ReLU networks (fit, prune, path)"),
}


def add_command(subparsers: argparse._SubParsersAction, name: str, **kwargs) -> argparse.ArgumentParser:
    """Add subcommand ``name`` with its one-line help from :data:`COMMANDS`."""
    return subparsers.add_parser(name, help=COMMANDS[name].help, **kwargs)


def _chosen_module(argv: Sequence[str]) -> str | None:
    """The module of the subcommand named in ``argv`` (the first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            command = COMMANDS.get(word)
            return command.module if command is not None else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser for ``argv`` (default ``sys.argv[1:]``).

    The command named in ``argv`` gets its full sub-parser (its module is imported); the other
    commands are listed with their one-line help only.
    """
    p = argparse.ArgumentParser(
        prog="symtrunc",
        description="Exact deep-learning theory for ReLU networks: the zero-loss networks of Chen & "
        "Muñoz Ewald (construct, verify exactly or certified at scale, inspect, plot, export and import, "
        "explain, LaTeX reports, proofs), an exact tester for their L2 claims, the loss landscape of "
        "shallow networks (Cheridito, Jentzen & Rossmannek) and the convex reformulation of two-layer "
        "networks (Mishkin & Pilanci).",
        epilog="exit codes: 0 ok, 1 hypotheses not met or verification failed, 2 usage/input error, "
        "3 internal error (please report it)",
    )
    p.add_argument("--version", action="version", version=f"symtrunc {__import__('symtrunc').__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = _chosen_module(sys.argv[1:] if argv is None else argv)
    for name, command in COMMANDS.items():
        if command.module != chosen:
            sub.add_parser(name, help=command.help)
        elif name not in sub.choices:
            # lazy: start-up time (one command module per run, the heavy ones import sympy)
            importlib.import_module(f"symtrunc.cli.{chosen}").register(sub)
    return p


def _one_line(e: BaseException) -> str:
    """The first non-empty line of an error message."""
    text = str(e).strip()
    return text.splitlines()[0].strip() if text else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (:data:`EXIT_CODES`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except Exception as e:  # a bug, not the user's fault: one line, its own exit code
        if os.environ.get("SYMTRUNC_TRACEBACK"):
            traceback.print_exc()
        detail = _one_line(e)
        print(
            f"symtrunc: internal error: {type(e).__name__}{': ' + detail if detail else ''} (a bug in "
            "symtrunc: please report it with the command line and the traceback that SYMTRUNC_TRACEBACK=1 "
            "prints)",
            file=sys.stderr,
        )
        return 3


def _run(argv: list[str]) -> int:
    """Parse ``argv`` and run the command; every error the user can cause becomes one line."""
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        return args.func(args)
    except (HypothesisError, VerificationError, UncertifiedError) as e:
        print(f"symtrunc: {_one_line(e)}", file=sys.stderr)
        return 1
    except SymtruncError as e:
        print(f"symtrunc: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        print(f"symtrunc: error: {e.strerror or _one_line(e)}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symtrunc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
