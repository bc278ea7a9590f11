"""Benchmark: the convex reformulation of two-layer ReLU networks (``symtrunc.convex``).

For n ∈ {50, 200, 1000} and d ∈ {2, 10} (synthetic data: Gaussian inputs rounded to 3
decimals and read exactly, the last input coordinate a bias column of ones, targets from a
planted 3-neuron ReLU network plus noise; λ = 0.05 n, i.e. scnn's λ = 0.05):

* ``patterns``   the number of non-zero activation patterns: exact enumeration for d = 2
  (angular sweep; ``enum s`` its time), Cover's count minus one for d = 10 (exact for data in
  general position, far too many to enumerate);
* the program is then solved on ``--gates`` sampled patterns (as scnn does): ``p`` patterns,
  ``2p`` blocks;
* ``solve s``    cvxpy + Clarabel (interior point, tolerance 1e-10);
* ``cert s``     the rigorous certificate (exact rational primal repair and value, exact dual
  multipliers, outward-rounded square roots); ``gap`` is the certified gap bound;
* ``prune s``    optimal pruning (Algorithm 1, float) and the number of active blocks
  before → after;
* ``scnn s``     scnn (PyPI ``pyscnn``) on the same patterns with its CVXPY interface and ECOS
  (Clarabel is not on scnn's solver list), λ_scnn = λ/n; ``Δobj`` is scnn's objective minus ours
  (both in our scaling); ``scnn gap`` is our rigorous certificate's gap bound for scnn's
  weights. ``-`` when scnn or ecos is not installed.

Run from the repository root::

    python -m benchmarks.bench_convex            # all six sizes (a few minutes)
    python -m benchmarks.bench_convex --quick    # n = 50, 200 only
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_convex.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from symtrunc.convex import (
    ConvexProgram,
    RegressionData,
    certify,
    certify_weights,
    cover_count,
    enumerate_patterns,
    prune_float,
    sample_patterns,
    solve_conic,
)
from symtrunc.convex.scnn_bridge import scnn_available, solve_with_scnn


def synthetic(n: int, d: int, seed: int = 0) -> RegressionData:
    """Gaussian inputs (3 decimals) with a bias column, targets of a planted ReLU network + noise."""
    rng = np.random.default_rng(seed)
    Z = np.round(rng.standard_normal((n, d - 1)), 3)
    W = rng.standard_normal((3, d - 1))
    y = np.maximum(Z @ W.T + 0.3, 0) @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    X = [[f"{v:.3f}" for v in row] + ["1"] for row in Z]
    return RegressionData.from_arrays(X, [f"{v:.3f}" for v in y])


def bench(n: int, d: int, gates: int) -> dict:
    data = synthetic(n, d)
    row = {"n": n, "d": d}
    if d == 2:
        t0 = time.perf_counter()
        row["patterns"] = str(len(enumerate_patterns(data, limit=10**6)))
        row["enum"] = f"{time.perf_counter() - t0:.2f}"
    else:
        row["patterns"] = f"{cover_count(n, d) - 1:.2e}"
        row["enum"] = "-"
    pats = sample_patterns(data, gates, seed=1)
    prog = ConvexProgram.create(data, f"{0.05 * n:g}", pats)
    row["p"] = len(pats)
    sol = solve_conic(prog)
    row["solve"] = f"{sol.seconds:.2f}"
    t0 = time.perf_counter()
    cert = certify(sol)
    row["cert"] = f"{time.perf_counter() - t0:.2f}"
    row["gap"] = f"{float(cert.gap_bound):.1e}"
    t0 = time.perf_counter()
    res = prune_float(prog, sol.weights)
    row["prune"] = f"{time.perf_counter() - t0:.3f}"
    row["active"] = f"{len(sol.active)}→{len(res.active)}"
    if scnn_available():
        try:
            theirs = solve_with_scnn(prog, solver="ecos")
            row["scnn"] = f"{theirs.seconds:.2f}"
            row["dobj"] = f"{theirs.objective - sol.objective:+.1e}"
            row["sgap"] = f"{float(certify_weights(prog, theirs.weights).gap_bound):.1e}"
        except ImportError:
            row["scnn"] = row["dobj"] = row["sgap"] = "-"
    else:
        row["scnn"] = row["dobj"] = row["sgap"] = "-"
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 50, 200 only")
    ap.add_argument("--gates", type=int, default=32, help="sampled gate vectors (default 32)")
    args = ap.parse_args(argv)
    sizes = (50, 200) if args.quick else (50, 200, 1000)
    print(f"# bench_convex  (load average {os.getloadavg()[0]:.2f}, scnn {'yes' if scnn_available() else 'no'})")
    cols = ["n", "d", "patterns", "enum", "p", "solve", "cert", "gap", "prune", "active", "scnn", "dobj", "sgap"]
    heads = [
        "n",
        "d",
        "patterns",
        "enum s",
        "p",
        "solve s",
        "cert s",
        "gap",
        "prune s",
        "active",
        "scnn s",
        "Δobj",
        "scnn gap",
    ]
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    for n in sizes:
        for d in (2, 10):
            row = bench(n, d, args.gates)
            print("| " + " | ".join(str(row[c]) for c in cols) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
