"""Benchmark: the convex reformulation of two-layer ReLU networks (``symtrunc convex fit``).

For each size (synthetic data: Gaussian inputs rounded to 3 decimals and read exactly, the last
input coordinate a bias column of ones, targets from a planted 3-neuron ReLU network plus noise;
λ = 0.05 n, i.e. scnn's λ = 0.05) the program on ``--gates`` sampled gates (the CLI default is
200) is solved by each route and certified:

* ``working-set``  :func:`symtrunc.convex.solve_conic` (Clarabel on compact restricted programs
  built directly, blocks and cone rows added until the whole program is feasible and dual
  feasible);
* ``cvxpy``        the previous route: the whole program written with cvxpy, solved by Clarabel.

Columns: ``solve s`` the solver's wall-clock time, ``cert s`` the rigorous certificate (exact
rational primal value, exact dual multipliers, outward-rounded square roots), ``status``
Clarabel's status, ``gap`` the certified duality-gap bound (``certified``: ``<= 1e-6 ·
max(1, objective)``), ``peak MB`` the peak resident memory of a fresh process running the case
(includes the Python interpreter and the imports, about 150 MB).

Run from the repository root::

    python -m benchmarks.bench_convex                  # both routes, n = 200 and 1000 (minutes)
    python -m benchmarks.bench_convex --quick          # n = 200 only
    python -m benchmarks.bench_convex --routes working-set
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_convex.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from symtrunc.convex import ConvexProgram, RegressionData, certify, sample_patterns, solve_conic


def synthetic(n: int, d: int, seed: int = 0) -> RegressionData:
    """Gaussian inputs (3 decimals) with a bias column, targets of a planted ReLU network + noise."""
    rng = np.random.default_rng(seed)
    Z = np.round(rng.standard_normal((n, d - 1)), 3)
    W = rng.standard_normal((3, d - 1))
    y = np.maximum(Z @ W.T + 0.3, 0) @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    X = [[f"{v:.3f}" for v in row] + ["1"] for row in Z]
    return RegressionData.from_arrays(X, [f"{v:.3f}" for v in y])


def bench(n: int, d: int, gates: int, route: str) -> dict:
    """One case, solved and certified (run in a fresh process for the peak memory)."""
    data = synthetic(n, d)
    prog = ConvexProgram.create(data, f"{0.05 * n:g}", sample_patterns(data, gates, seed=0))
    sol = solve_conic(prog, formulation=route)
    t0 = time.perf_counter()
    cert = certify(sol)
    cert.check(prog)
    return {
        "n": n,
        "d": d,
        "gates": gates,
        "route": route,
        "solve": f"{sol.seconds:.2f}",
        "cert": f"{time.perf_counter() - t0:.2f}",
        "status": sol.solver.replace("clarabel", "").strip(" ()") or "optimal",
        "gap": f"{float(cert.gap_bound):.1e}",
        "certified": "yes" if cert.certified(1e-6) else "NO",
        "peak": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 200 only")
    ap.add_argument("--gates", type=int, default=200, help="sampled gate vectors (default 200, as the CLI)")
    ap.add_argument("--routes", nargs="+", default=["working-set", "cvxpy"], choices=["working-set", "cvxpy"])
    args = ap.parse_args(argv)
    sizes = [(200, 10)] if args.quick else [(200, 10), (1000, 2), (1000, 10)]
    print(f"# bench_convex  (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    cols = ["n", "d", "gates", "route", "solve", "cert", "status", "gap", "certified", "peak"]
    heads = ["n", "d", "gates", "route", "solve s", "cert s", "status", "certified gap", "certified", "peak MB"]
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    ctx = mp.get_context("spawn")
    for n, d in sizes:
        for route in args.routes:
            with ctx.Pool(1, maxtasksperchild=1) as pool:
                row = pool.apply(bench, (n, d, args.gates, route))
            print("| " + " | ".join(str(row[c]) for c in cols) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
