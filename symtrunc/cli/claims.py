"""``symtrunc claims DATA``: test every applicable claim of the L² papers exactly.

Prints a table (claim, configuration ``s``, paper's value, exact value, verdict, witness) or,
with ``--json``, the list of :meth:`~symtrunc.claims.testers.Claim.to_json` records (exact
numbers as strings). Exit code 0 when the claims were tested (whatever the verdicts; a paper's
claim failing is a result, not an error), or with ``--strict`` 1 when some claim fails; bad
input exits 2 with one line on stderr. Progress (which family runs, how long it took) goes to
stderr unless ``--quiet``.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> sub = p.add_subparsers(dest="command")
>>> register(sub)
>>> args = p.parse_args(["claims", "data.csv", "--family", "deep", "--json", "--configurations", "11,01"])
>>> args.family, args.json, args.probes, args.configurations
(['deep'], True, 4, '11,01')
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from symtrunc.claims.record import FAMILIES, MAX_CONFIGURATIONS, VERDICTS
from symtrunc.claims.testers import check_claims, claims_table
from symtrunc.cli.app import add_command
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

__all__ = ["cmd_claims", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``claims`` subcommand to ``subparsers``."""
    cp = add_command(
        subparsers,
        "claims",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Test every claim of Chen & Muñoz Ewald's L2 papers that applies to DATA, exactly: "
        "Theorem 2.3 (deep global minima, M = Q), the 2^Q - 1 configurations of Theorems 2.4-2.5 with their "
        "values (2.71)/(2.85), the true minimum over the output layer and the bound ||Y Delta_1||, and exact "
        "local-minimality tests (gradient of the output-refitted cost, descent witnesses); the shallow "
        "bounds, non-separable binary data and the two-layer construction.",
        epilog="verdicts:\n"
        "  holds           the claim is true on DATA (exact proof or exact computation)\n"
        "  fails           the claim is false on DATA; the witness is exact (a value, a descent step, ...)\n"
        "  undecided       the exact test neither proves nor refutes it (e.g. a critical point outside\n"
        "                  the identity regime, or only some configurations tested)\n"
        "  not applicable  DATA do not meet the family's hypotheses (one record per family, the\n"
        "                  witness says why)\n"
        "cost: the deep family builds and tests all 2^Q configurations s (about 0.05-0.2 s each for small\n"
        "N; Q = 3: ~0.5 s, Q = 6: ~10 s); above --max-configurations it stops with a message unless\n"
        "--configurations picks some. Progress goes to stderr.\n"
        "exit codes: 0 claims tested (whatever the verdicts); 1 with --strict when a claim fails;\n"
        "2 usage or input error",
    )
    cp.add_argument(
        "data",
        help="training data (.csv with the label in the last column, or .npz); "
        "dependent class means (e.g. concentric binary data) are allowed",
    )
    cp.add_argument("--json", action="store_true", help="print the list of claim records as JSON")
    cp.add_argument(
        "--family", action="append", choices=FAMILIES, help="test only this family (repeatable; default: all)"
    )
    cp.add_argument(
        "--configurations",
        metavar="S,S,...",
        help="deep family: test only these configurations s, e.g. 111,101 (default: all 2^Q)",
    )
    cp.add_argument(
        "--max-configurations",
        type=int,
        default=MAX_CONFIGURATIONS,
        metavar="N",
        help=f"deep family: refuse to enumerate more than N = 2^Q configurations "
        f"(default {MAX_CONFIGURATIONS}, i.e. Q <= 6)",
    )
    cp.add_argument(
        "--probes", type=int, default=4, help="random exact perturbation directions per configuration (default 4)"
    )
    cp.add_argument("--seed", type=int, default=0, help="seed of the perturbation probes (default 0)")
    cp.add_argument(
        "--cone",
        choices=("paper", "rational"),
        default="paper",
        help="deep family: the paper's W_* R_l (default) or the rational cone variant",
    )
    cp.add_argument("--c0", help="deep family: test (2.14) with this constant 0 < c0 < 1/4 (exact rational)")
    cp.add_argument("--theta-star", help="deep family: the angle theta_* in radians (exact rational)")
    cp.add_argument("--strict", action="store_true", help="exit 1 when any claim fails")
    cp.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    cp.set_defaults(func=cmd_claims)


def cmd_claims(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc claims``."""
    if args.probes < 0:
        raise DataError("--probes must be >= 0")
    if args.max_configurations < 1:
        raise DataError("--max-configurations must be >= 1")
    data = load_data(args.data, check=False)
    options = {"cone": args.cone, "max_configurations": args.max_configurations}
    for name in ("c0", "theta_star"):  # a malformed number is a usage error, not a failed hypothesis
        text = getattr(args, name)
        if text is not None:
            try:
                options[name] = to_q(text)
            except DataError as e:
                raise DataError(f"--{name.replace('_', '-')}: {e}") from None
    if args.configurations is not None:
        options["configurations"] = [s.strip() for s in args.configurations.split(",") if s.strip()]
    families = list(dict.fromkeys(args.family or FAMILIES))
    _note(args, f"symtrunc claims: {data.summary()}; families {', '.join(families)}")
    claims = []
    for family in families:
        t0 = time.perf_counter()
        extra = ""
        if family == "deep" and data.M == data.Q:
            n = len(options["configurations"]) if "configurations" in options else 2**data.Q
            extra = f" (if its hypotheses hold: {n} configuration(s) s, each built and tested exactly)"
        _note(args, f"  {family}{extra} ...")
        found = check_claims(
            data,
            families=[family],
            probes=args.probes,
            seed=args.seed,
            progress=None if args.quiet else _ticker(),
            **options,
        )
        _note(args, f"  {family}: {len(found)} record(s) in {time.perf_counter() - t0:.1f} s")
        claims += found
    if args.json:
        print(json.dumps([c.to_json() for c in claims], indent=2, ensure_ascii=False))
    else:
        print(claims_table(claims))
        counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
        print(", ".join(f"{n} {v}" for v, n in counts.items() if n))
    if args.strict and any(c.verdict == "fails" for c in claims):
        return 1
    return 0


def _note(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _ticker():
    """Progress of the long deep family: one overwritten line on a terminal, silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def tick(message: str) -> None:
        if ": configuration " in message:
            k, n = message.split("configuration ")[1].split(":")[0].split("/")
            print(f"\r    {message}   ", end="\n" if k == n else "", file=sys.stderr, flush=True)

    return tick
