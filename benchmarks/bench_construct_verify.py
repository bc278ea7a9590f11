"""Benchmark: exact construction + verification of the Theorem 5.2 network vs naive routes.

For synthetic SLS data (``benchmarks/synthetic.py``, M=64 features in 0..16, Q=10 classes)
it times, per data size N:

* ``construct s``   -- ``symtrunc.construct(data)`` (includes one exact verification);
* ``verify s``      -- a separate ``symtrunc.verify(net, data)``;
* ``sympy naive s`` -- an exact forward pass of the same network with ``sympy.Matrix``
  (``W x + b`` then elementwise ``max(0, .)``) on a subsample of points, extrapolated
  linearly to N (marked ``*`` in the table);
* ``numpy float s`` -- a float64 NumPy forward pass of the same network (weights rounded to
  float), with its max abs error vs the exact labels.

Run from the repository root::

    python -m benchmarks.bench_construct_verify            # N = 200, 2000, 20000
    python -m benchmarks.bench_construct_verify --quick    # N = 200, 2000
    python -m benchmarks.bench_construct_verify --sizes 500,5000 --profile /tmp/prof

``--profile DIR`` writes a cProfile dump ``construct_verify_N{N}.prof`` of construct + verify
per size (inspect with ``python -m pstats`` or snakeviz) and prints the top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import os
import platform
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_construct_verify.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flint
import numpy as np

import symtrunc
from benchmarks.synthetic import sls_data


# --------------------------------------------------------------------------- routes
def to_float_layers(net: symtrunc.ReLUNetwork) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Weights and biases of every layer rounded to float64."""
    out = []
    for layer in net.layers:
        m, n = layer.shape
        W = np.array([float(v) for v in layer.W.entries()], dtype=np.float64).reshape(m, n)
        b = np.array([float(v) for v in layer.b.entries()], dtype=np.float64)
        out.append((W, b, layer.activation))
    return out


def numpy_forward(layers, X: np.ndarray) -> np.ndarray:
    """Float64 forward pass on points as rows; returns outputs as rows ``(N, Q)``."""
    H = X
    for W, b, act in layers:
        H = H @ W.T + b
        if act == "relu":
            np.maximum(H, 0.0, out=H)
    return H


def to_sympy_layers(net: symtrunc.ReLUNetwork):
    import sympy

    def q(v):
        return sympy.Rational(int(v.p), int(v.q))

    out = []
    for layer in net.layers:
        m, n = layer.shape
        W = sympy.Matrix(m, n, [q(v) for v in layer.W.entries()])
        b = sympy.Matrix(m, 1, [q(v) for v in layer.b.entries()])
        out.append((W, b, layer.activation))
    return out


def sympy_forward_point(layers, x):
    """Naive exact forward pass of one point with sympy matrices."""
    import sympy

    h = sympy.Matrix(len(x), 1, [sympy.Integer(int(v)) for v in x])
    for W, b, act in layers:
        h = W * h + b
        if act == "relu":
            h = h.applyfunc(lambda v: sympy.Max(0, v))
    return h


# --------------------------------------------------------------------------- one row
def run_size(N: int, M: int, Q: int, seed: int, sample: int, profile_dir: Path | None) -> dict:
    row: dict = {"N": N, "M": M, "Q": Q}
    t = time.perf_counter()
    data = sls_data(N, M, Q, seed)
    row["data"] = time.perf_counter() - t

    prof = cProfile.Profile() if profile_dir is not None else None
    if prof:
        prof.enable()
    t = time.perf_counter()
    net = symtrunc.construct(data)
    row["construct"] = time.perf_counter() - t
    t = time.perf_counter()
    cert = symtrunc.verify(net, data)
    row["verify"] = time.perf_counter() - t
    if prof:
        prof.disable()
        profile_dir.mkdir(parents=True, exist_ok=True)
        path = profile_dir / f"construct_verify_N{N}.prof"
        prof.dump_stats(str(path))
        row["profile"] = str(path)
    assert cert.zero_loss

    X_int, y = (np.array(v) for v in _arrays(data))
    targets = np.array(
        [[float(v) for v in data.Y.transpose().tolist()[j]] for j in range(Q)]
    )  # row j = target of class j

    # numpy float64 forward pass (weights converted outside the timing)
    flayers = to_float_layers(net)
    Xf = X_int.astype(np.float64)
    numpy_forward(flayers, Xf)  # warm-up (BLAS initialisation)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        out = numpy_forward(flayers, Xf)
        best = min(best, time.perf_counter() - t)
    row["numpy"] = best  # best of 5
    row["numpy_err"] = float(np.max(np.abs(out - targets[y])))
    row["numpy_wrong"] = int(np.sum(np.argmax(out, axis=1) != y))

    # naive sympy exact forward on a subsample, extrapolated to N
    import sympy  # noqa: F401  (import outside the timing)

    slayers = to_sympy_layers(net)
    rng = np.random.default_rng(seed)
    pick = rng.choice(N, size=min(sample, N), replace=False)
    t = time.perf_counter()
    for i in pick:
        o = sympy_forward_point(slayers, X_int[i])
        if list(o) != [int(v == y[i]) for v in range(Q)]:
            raise AssertionError(f"sympy forward pass disagrees with the label at point {i}")
    dt = time.perf_counter() - t
    row["sympy_sample"] = len(pick)
    row["sympy"] = dt / len(pick) * N
    row["speedup"] = row["sympy"] / row["verify"]
    return row


def _arrays(data: symtrunc.LabeledData):
    A, s = data.integer_points
    X = np.array(A.transpose().tolist(), dtype=object)
    if s != 1 or any(abs(int(v)) > 2**53 for v in X.flat):
        raise ValueError("benchmark expects integer features")
    return X.astype(np.int64), np.array(data.y)


# --------------------------------------------------------------------------- table
COLUMNS = [  # (key, format, header)
    ("N", "{:d}", "N"),
    ("M", "{:d}", "M"),
    ("Q", "{:d}", "Q"),
    ("construct", "{:.2f}", "construct s"),
    ("verify", "{:.2f}", "verify s"),
    ("sympy", "{:.1f}*", "sympy naive s (extrap.*)"),
    ("numpy", "{:.4f}", "numpy float s"),
    ("numpy_err", "{:.1e}", "numpy max err"),
    ("speedup", "{:.0f}x", "speedup verify vs sympy"),
]


def format_table(rows: list[dict]) -> str:
    cells = [[fmt.format(r[key]) for key, fmt, _ in COLUMNS] for r in rows]
    heads = [h for _, _, h in COLUMNS]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    line = lambda vals: "| " + " | ".join(v.rjust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(heads), sep] + [line(c) for c in cells])


def environment() -> str:
    return (
        f"python {platform.python_version()}, numpy {np.__version__}, python-flint {flint.__version__}, "
        f"symtrunc {symtrunc.__version__}, {os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"{datetime.date.today().isoformat()}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="200,2000,20000", help="comma-separated N values (default 200,2000,20000)")
    ap.add_argument("--quick", action="store_true", help="only N = 200, 2000")
    ap.add_argument("-M", type=int, default=64, help="input dimension (default 64)")
    ap.add_argument("-Q", type=int, default=10, help="number of classes (default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=int, default=20, help="points for the sympy forward pass (default 20)")
    ap.add_argument("--profile", metavar="DIR", help="dump cProfile stats of construct + verify into DIR")
    args = ap.parse_args(argv)
    sizes = [200, 2000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    profile_dir = Path(args.profile) if args.profile else None

    print(environment())
    print(
        f"synthetic SLS data: M={args.M}, Q={args.Q}, seed={args.seed}; "
        f"* = sympy time measured on {args.sample} points and extrapolated linearly to N"
    )
    t = time.perf_counter()
    import scipy.optimize  # noqa: F401  (one-time import cost kept out of the construct column)
    import sympy  # noqa: F401

    print(f"one-time import of scipy.optimize + sympy: {time.perf_counter() - t:.2f} s (not in the table)")
    rows = []
    for N in sizes:
        row = run_size(N, args.M, args.Q, args.seed, args.sample, profile_dir)
        rows.append(row)
        print(f"N={N}: construct {row['construct']:.2f} s, verify {row['verify']:.2f} s", flush=True)
    print()
    print(format_table(rows))
    print()
    for row in rows:
        extra = (
            f"N={row['N']}: data generation {row['data']:.2f} s, construct+verify "
            f"{row['construct'] + row['verify']:.2f} s, numpy argmax errors {row['numpy_wrong']}"
        )
        print(extra)
    if profile_dir is not None:
        for row in rows:
            print(f"\n--- cProfile N={row['N']} (construct + verify), top 25 by cumulative time: {row['profile']}")
            pstats.Stats(row["profile"]).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
