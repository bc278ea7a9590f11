"""``symtrunc claims DATA``: test every applicable claim of the L² papers exactly.

Prints a table (claim, configuration ``s``, paper's value, exact value, verdict, witness) or,
with ``--json``, the list of :meth:`~symtrunc.verify.claims.Claim.to_json` records (exact
numbers as strings). Exit code 0 when the claims were tested (whatever the verdicts; a paper's
claim failing is a result, not an error); bad input exits 2 with one line on stderr.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> sub = p.add_subparsers(dest="command")
>>> register(sub)
>>> args = p.parse_args(["claims", "data.csv", "--family", "deep", "--json"])
>>> args.family, args.json, args.probes
(['deep'], True, 4)
"""

from __future__ import annotations

import argparse
import json

__all__ = ["cmd_claims", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``claims`` subcommand to ``subparsers``."""
    from symtrunc.verify.claims import FAMILIES

    cp = subparsers.add_parser(
        "claims", help="test the claims of the L2 papers exactly on DATA (table or --json)",
        description="Test every claim of Chen & Muñoz Ewald's L2 papers that applies to DATA, exactly: "
        "Theorem 2.3 (deep global minima, M = Q), the 2^Q - 1 configurations of Theorems 2.4-2.5 with their "
        "values (2.71)/(2.85), the true minimum over the output layer and the bound ||Y Delta_1||, and exact "
        "local-minimality tests (gradient of the output-refitted cost, descent witnesses); the shallow "
        "bounds, non-separable binary data and the two-layer construction. Families whose hypotheses fail "
        "are reported as 'not applicable' with the reason.")
    cp.add_argument("data", help="training data (.csv with the label in the last column, or .npz)")
    cp.add_argument("--json", action="store_true", help="print the list of claim records as JSON")
    cp.add_argument("--family", action="append", choices=FAMILIES,
                    help="test only this family (repeatable; default: all)")
    cp.add_argument("--probes", type=int, default=4,
                    help="random exact perturbation directions per configuration (default 4)")
    cp.add_argument("--seed", type=int, default=0, help="seed of the perturbation probes (default 0)")
    cp.add_argument("--cone", choices=("paper", "rational"), default="paper",
                    help="deep family: the paper's W_* R_l (default) or the rational cone variant")
    cp.add_argument("--c0", help="deep family: test (2.14) with this constant 0 < c0 < 1/4 (exact rational)")
    cp.add_argument("--theta-star", help="deep family: the angle theta_* in radians (exact rational)")
    cp.set_defaults(func=cmd_claims)


def cmd_claims(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc claims``."""
    from symtrunc.data import load_data
    from symtrunc.errors import DataError
    from symtrunc.verify.claims import check_claims, claims_table

    if args.probes < 0:
        raise DataError("--probes must be >= 0")
    data = load_data(args.data)
    options = {"cone": args.cone}
    if args.c0 is not None:
        options["c0"] = args.c0
    if args.theta_star is not None:
        options["theta_star"] = args.theta_star
    claims = check_claims(data, families=args.family, probes=args.probes, seed=args.seed, **options)
    if args.json:
        print(json.dumps([c.to_json() for c in claims], indent=2, ensure_ascii=False))
    else:
        print(claims_table(claims))
        counts = {v: sum(c.verdict == v for c in claims) for v in ("holds", "fails", "undecided", "not applicable")}
        print(", ".join(f"{n} {v}" for v, n in counts.items() if n))
    return 0
