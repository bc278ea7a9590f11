"""Benchmark: exact verification, generic and structured paths, vs a plain per-point flint pass.

For each case it times, in one run:

* ``generic s``    -- ``symtrunc.verify(net, data, invariants=False)``: the exact forward pass of
  every point (float64 BLAS while provably exact, then one python-flint product per layer and
  block of points, reduced to the least common denominator);
* ``per-point s``  -- the plain python-flint baseline: per point an ``fmpq_mat`` column,
  ``W x + b`` and ReLU layer by layer, then a comparison with the target (on a subsample of
  ``--sample`` points, extrapolated linearly to N and marked ``*`` when N is larger);
* ``structured s`` -- ``symtrunc.verify(net, data)``: the collapse structure proved with the
  cumulative integer maps (exact or certified-filter float64 BLAS signs, exact fallback);

and the ratios ``generic / per-point`` and ``structured / per-point`` (below 1: faster).

Cases: ``digits`` -- scikit-learn's digits (1797 x 64, Q = 10) with the network of the naive
reference construction (``benchmarks/naive_reference.py``, huge rationals); ``sls N`` --
synthetic SLS data (``benchmarks/synthetic.py``, M = 64, Q = 10) with ``symtrunc.construct``.
Building the networks is not timed.

Run from the repository root::

    python -m benchmarks.bench_exact_verify                    # digits, sls 1e4, sls 1e5
    python -m benchmarks.bench_exact_verify --quick            # digits, sls 1e4
    python -m benchmarks.bench_exact_verify --sizes 10000 --reps 3 --no-digits
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # allow ``python benchmarks/bench_exact_verify.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flint
import numpy as np

import symtrunc
from benchmarks.naive_reference import naive_construct
from benchmarks.synthetic import sls_arrays


def median_time(fn: Callable[[Any], Any], reps: int, setup: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time (seconds) of ``reps`` runs of ``fn(setup())`` (``setup`` not timed), and
    the result of the last run."""
    times, out = [], None
    for _ in range(reps):
        arg = setup()
        t = time.perf_counter()
        out = fn(arg)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def per_point(net: symtrunc.ReLUNetwork, data: symtrunc.LabeledData, n: int) -> None:
    """The plain baseline on the first ``n`` points: fmpq_mat per point, ``W x + b``, ReLU."""
    A, s, _ = data.scaled_rows
    layers = [(L.W, L.b, L.activation) for L in net.layers]
    Y = data.Y.tolist()
    targets = [flint.fmpq_mat(data.Q, 1, [row[j] for row in Y]) for j in range(data.Q)]
    zero = flint.fmpq(0)
    for i in range(n):
        x = flint.fmpq_mat(data.M, 1, [flint.fmpq(int(v), s) for v in A[i].tolist()])
        for W, b, act in layers:
            x = W * x + b
            if act == "relu":
                x = flint.fmpq_mat(x.nrows(), 1, [v if v > 0 else zero for v in x.entries()])
        if x != targets[data.y[i]]:
            raise AssertionError(f"point {i} is not interpolated")


def digits_case() -> tuple[str, symtrunc.ReLUNetwork, symtrunc.LabeledData]:
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data.astype(np.int64), d.target.astype(np.int64)
    cumulative = naive_construct(X, y)
    pairs = [(flint.fmpq_mat(W), flint.fmpq_mat(len(b), 1, b)) for W, b in cumulative]
    net = symtrunc.ReLUNetwork.from_cumulative(pairs, classes=tuple(range(10)))
    return "digits (naive net)", net, symtrunc.LabeledData.from_arrays(X, y.tolist())


def sls_case(N: int) -> tuple[str, symtrunc.ReLUNetwork, symtrunc.LabeledData]:
    X, y = sls_arrays(N, 64, 10, seed=0)
    data = symtrunc.LabeledData.from_arrays(X, y.tolist())
    return f"sls N={N:,}", symtrunc.construct(data), data


def run_case(name: str, net: symtrunc.ReLUNetwork, data: symtrunc.LabeledData, reps: int, sample: int) -> dict:
    """Time the three routes; each verification gets fresh data (no cached derived arrays)."""
    ints = data.integer_array
    points = ints[0] if ints is not None and ints[1] == 1 else data.X
    y = [data.classes[j] for j in data.y]

    def fresh() -> symtrunc.LabeledData:
        return symtrunc.LabeledData.from_arrays(points, y, classes=data.classes)

    row: dict[str, Any] = {"case": name, "N": data.N}
    row["generic"], _ = median_time(lambda d: symtrunc.verify(net, d, invariants=False), reps, fresh)
    n = min(sample, data.N)
    row["per_point"] = median_time(lambda d: per_point(net, d, n), reps, fresh)[0] * data.N / n
    row["extrapolated"] = n < data.N
    row["structured"], cert = median_time(lambda d: symtrunc.verify(net, d), reps, fresh)
    row["invariants"] = cert.invariants_checked
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="synthetic SLS sizes (comma separated)")
    ap.add_argument("--quick", action="store_true", help="sizes 10000 only")
    ap.add_argument("--no-digits", action="store_true", help="skip the digits case")
    ap.add_argument("--reps", type=int, default=1, help="runs per timing (median); default 1")
    ap.add_argument("--sample", type=int, default=2000, help="points of the per-point baseline")
    args = ap.parse_args(argv)
    sizes = [10000] if args.quick else [int(v) for v in args.sizes.split(",") if v]
    print(f"# python {platform.python_version()}, python-flint {flint.__version__}, numpy {np.__version__}")
    print(f"# {platform.processor() or platform.machine()}, reps={args.reps} (median), per-point sample={args.sample}")
    cases = ([digits_case] if not args.no_digits else []) + [lambda n=n: sls_case(n) for n in sizes]
    rows = []
    for make in cases:
        name, net, data = make()
        rows.append(run_case(name, net, data, args.reps, args.sample))
        r = rows[-1]
        print(f"# done {r['case']}: generic {r['generic']:.2f} s", file=sys.stderr, flush=True)
    head = (
        f"{'case':<20} {'N':>8} {'generic s':>10} {'per-point s':>12} {'structured s':>13} {'gen/pp':>7} {'str/pp':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        pp = f"{r['per_point']:.2f}{'*' if r['extrapolated'] else ' '}"
        st = f"{r['structured']:.2f}{'' if r['invariants'] else ' (no structure)'}"
        print(
            f"{r['case']:<20} {r['N']:>8,} {r['generic']:>10.2f} {pp:>12} {st:>13}"
            f" {r['generic'] / r['per_point']:>7.3f} {r['structured'] / r['per_point']:>7.3f}"
        )
    print("* extrapolated linearly from the per-point sample")


if __name__ == "__main__":
    main()
