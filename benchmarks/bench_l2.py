"""Benchmark: the exact L² claims tester (``symtrunc claims``) as Q and N grow.

Data: ``Q`` clusters around ``10·e_j + 1`` in ``R^Q`` (paper A needs ``M = Q``), rational noise
in ``[-1/2, 1/2]`` per coordinate, ``per`` points per class, seeded. Columns (seconds, wall):

* ``construct``: :func:`~symtrunc.constructions.deep_l2.construct_deep_l2` (Theorem 2.3, verified);
* ``1 config``: :func:`~symtrunc.claims.configurations.build_configuration` plus
  :func:`~symtrunc.claims.minimality.local_minimality` for one mixed configuration;
* ``deep claims``: :func:`~symtrunc.claims.testers.deep_claims` over all ``2^Q`` configurations;
* ``all families``: :func:`~symtrunc.claims.testers.check_claims` (deep, shallow, nonseparable,
  two_layer).

Run from the repository root::

    python -m benchmarks.bench_l2            # Q = 2..5 (about 1 min on one core)
    python -m benchmarks.bench_l2 --quick    # Q = 2, 3
    python -m benchmarks.bench_l2 --sizes 3:5,3:30 --probes 4
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction

from symtrunc.claims.configurations import build_configuration
from symtrunc.claims.minimality import local_minimality
from symtrunc.claims.testers import check_claims, deep_claims
from symtrunc.constructions.deep_l2 import construct_deep_l2
from symtrunc.data.labeled import LabeledData


def clustered(Q: int, per: int, seed: int = 2) -> LabeledData:
    """``Q`` exact clusters in ``R^Q`` (hypotheses of Theorem 2.3 hold for these sizes)."""
    rng = random.Random(seed)
    X, y = [], []
    for j in range(Q):
        for _ in range(per):
            X.append([Fraction(10 if k == j else 0) + 1 + Fraction(rng.randint(-8, 8), 16) for k in range(Q)])
            y.append(j)
    return LabeledData.from_arrays(X, y)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="2:4,3:5,4:5,5:3", help="Q:per pairs (default 2:4,3:5,4:5,5:3)")
    p.add_argument("--quick", action="store_true", help="Q:per = 2:4,3:5")
    p.add_argument("--probes", type=int, default=1, help="perturbation probes per configuration (default 1)")
    args = p.parse_args(argv)
    sizes = "2:4,3:5" if args.quick else args.sizes
    print(f"probes = {args.probes}; wall-clock seconds\n")
    print("| Q | N | 2^Q | construct | 1 config | deep claims | all families |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for item in sizes.split(","):
        Q, per = (int(v) for v in item.split(":"))
        d = clustered(Q, per)
        t_con = _time(lambda: construct_deep_l2(d))
        s = "1" * (Q - 1) + "0"
        t_one = _time(lambda: local_minimality(build_configuration(d, s).network, d, probes=args.probes))
        t_deep = _time(lambda: deep_claims(d, probes=args.probes, max_configurations=None))
        t_all = _time(lambda: check_claims(d, probes=args.probes, max_configurations=None))
        print(f"| {Q} | {d.N} | {2**Q} | {t_con:.2f} | {t_one:.2f} | {t_deep:.2f} | {t_all:.2f} |")


if __name__ == "__main__":
    main()
