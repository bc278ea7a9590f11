"""Benchmark: exact construction against N, M and Q, with LinearSVC and the naive reference.

The data come from ``benchmarks/synthetic.py``: ``sls_arrays(N, M, Q, seed)`` (integer features
in 0..16, ``Q`` clusters; Theorem 5.2, ``construct(data)``) and ``clustered_arrays`` (the same
clusters ``8×`` further apart; Proposition 4.1, ``construct(data, method="clustered")``), held
as ``int64`` arrays, and the bundled digits (1797 × 64, Q = 10) and breast cancer
(scikit-learn) and wine (its exact decimals, ``symtrunc.load_wine()``).

Every measurement runs in a fresh Python process that generates its data, imports
``symtrunc`` and ``scipy.optimize`` (not timed: start-up), then times

* ``load s``: ``symtrunc.LabeledData.from_arrays(X, y)`` (validation, class summaries);
* ``construct s``: ``symtrunc.construct(data[, method])``, which **includes the exact
  verification** of the new network (zero loss and layer invariants);
* ``verify s``: a second, separate ``symtrunc.verify(net, data)`` (the share of construct
  spent verifying);
* ``peak MB``: the process's peak resident memory (``VmHWM``; data included).

Baselines, also one process each, in the same run:

* ``LinearSVC s``: scikit-learn's ``LinearSVC()`` (one-vs-rest, float, no certificate) fitted
  on the same points (skipped above ``--svc-max`` points or without scikit-learn);
* ``naive s*``: ``benchmarks/naive_reference.py`` (the construction written straight from the
  paper in python-flint, no verification) on the first ``--naive-sample`` points of each
  class-balanced set, **extrapolated linearly to N** (``*``; it is linear in N).

Run from the repository root::

    python -m benchmarks.bench_construct_scale            # N = 10^3, 10^4, 10^5; M = 256, Q = 20; data sets
    python -m benchmarks.bench_construct_scale --big      # also N = 10^6 (both methods, about 4 GB)
    python -m benchmarks.bench_construct_scale --quick    # N = 10^3, 10^4 only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_construct_scale.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    """Peak resident memory of this process in MB (``VmHWM``, Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")  # pragma: no cover - not Linux


def _arrays(case: dict) -> tuple[np.ndarray, np.ndarray]:
    from benchmarks.synthetic import clustered_arrays, sls_arrays

    if case["data"] in ("digits", "breast_cancer"):
        import sklearn.datasets

        d = getattr(sklearn.datasets, f"load_{case['data']}")()
        return d.data, d.target
    if case["data"] == "wine":
        import symtrunc
        from symtrunc.exact.matrix import to_float

        w = symtrunc.load_wine()  # the exact decimals (the construct route reads them exactly)
        return to_float(w.X), np.asarray(w.y)
    gen = clustered_arrays if case["data"] == "clustered" else sls_arrays
    return gen(case["N"], case["M"], case["Q"], case["seed"])


def child(case: dict) -> dict:
    """One measurement (in a fresh process)."""
    X, y = _arrays(case)
    route = case["route"]
    if route == "svc":
        from sklearn.svm import LinearSVC

        t0 = time.perf_counter()
        LinearSVC().fit(X.astype(np.float64), y)
        return {"svc": time.perf_counter() - t0}
    if route == "naive":
        from benchmarks.naive_reference import naive_construct

        n = min(case["sample"], len(X))
        idx = np.concatenate([np.flatnonzero(y == j)[: max(1, n // case["Q"])] for j in np.unique(y)])
        Xs, ys = X[idx], np.unique(y[idx], return_inverse=True)[1]
        scale = 1 if np.issubdtype(X.dtype, np.integer) else 10**6  # naive takes integers
        t0 = time.perf_counter()
        naive_construct(np.rint(Xs * scale).astype(np.int64), ys)
        return {"naive": (time.perf_counter() - t0) * len(X) / len(idx), "naive_n": len(idx)}
    import scipy.optimize  # noqa: F401  (start-up, not timed)

    import symtrunc
    from symtrunc.constructions import construct  # noqa: F401  (start-up: symtrunc imports lazily)

    t0 = time.perf_counter()
    data = symtrunc.load_wine() if case["data"] == "wine" else symtrunc.LabeledData.from_arrays(X, y)
    t1 = time.perf_counter()
    net = symtrunc.construct(data, method=case["method"])
    t2 = time.perf_counter()
    symtrunc.verify(net, data)
    t3 = time.perf_counter()
    return {"load": t1 - t0, "construct": t2 - t1, "verify": t3 - t2, "peak": _peak_mb()}


def run(case: dict, timeout: float) -> dict:
    """``child(case)`` in a fresh process (``{"error": ...}`` when it fails or times out)."""
    cmd = [sys.executable, "-m", "benchmarks.bench_construct_scale", "--child", json.dumps(case)]
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"> {timeout:.0f} s"}
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:60]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(v: float | None, star: str = "") -> str:
    return "—" if v is None else f"{v:.2f}{star}" if v < 100 else f"{v:.0f}{star}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 10^3, 10^4 only")
    p.add_argument("--big", action="store_true", help="also N = 10^6")
    p.add_argument("--svc-max", type=int, default=100_000, help="largest N for LinearSVC")
    p.add_argument("--naive-sample", type=int, default=500, help="points through the naive reference")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000] + ([1_000_000] if args.big else [])
    cases = [("sls", n, 64, 10) for n in sizes] + [("clustered", n, 64, 10) for n in sizes]
    if not args.quick:
        cases += [("sls", 10_000, 256, 10), ("sls", 10_000, 64, 20), ("clustered", 10_000, 256, 10)]
    cases += [("digits", 1797, 64, 10), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)]
    print(f"# construct: 2 cores, seed {args.seed}; times in s (medians are not taken: one run each)")
    print()
    print(
        "| data | method | N | M | Q | load s | construct s | of which verify s | peak MB | LinearSVC s | naive s* | construct / LinearSVC |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, N, M, Q in cases:
        method = "clustered" if kind == "clustered" else "sls"
        base = {"data": kind, "N": N, "M": M, "Q": Q, "seed": args.seed}
        r = run({**base, "route": "construct", "method": method}, args.timeout)
        svc = run({**base, "route": "svc"}, args.timeout) if N <= args.svc_max and method == "sls" else {}
        naive = run({**base, "route": "naive", "sample": args.naive_sample}, args.timeout) if method == "sls" else {}
        if "error" in r:
            print(f"| {kind} | {method} | {N} | {M} | {Q} | {r['error']} | | | | | | |")
            continue
        ratio = f"{r['construct'] / svc['svc']:.2f}" if "svc" in svc else "—"
        print(
            f"| {kind} | {method} | {N} | {M} | {Q} | {_fmt(r['load'])} | {_fmt(r['construct'])} | "
            f"{_fmt(r['verify'])} | {r['peak']:.0f} | {_fmt(svc.get('svc'))} | {_fmt(naive.get('naive'), '*')} | {ratio} |",
            flush=True,
        )
    print()
    print("naive s*: the naive reference on a class-balanced sample, extrapolated linearly to N.")
    print("of which verify s: a separate exact verify of the same network (construct includes one).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
