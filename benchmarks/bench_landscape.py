"""Benchmark: exact loss, gradient, Hessian and classification of shallow ReLU networks vs N.

Networks: the (B_k) sawtooth saddles of ``symtrunc.landscape.sawtooth`` with k = N knots
(one live neuron per knot, target f(x) = x on [0, 1]); every point is critical, so
``classify`` does the full work (Theorem R checks + an exact saddle certificate).
Routes:

* ``loss`` / ``gradient`` / ``hessian`` / ``classify`` -- symtrunc, exact (python-flint fmpq);
* ``sympy loss`` -- naive exact route: ``sympy.integrate`` of (c + Σ v_j Max(w_j x + b_j, 0) − x)²
  over [0, 1] with rational parameters (skipped above ``--sympy-max`` neurons);
* ``quad loss`` / ``quad grad`` -- float64 ``scipy.integrate.quad`` with the kinks as break
  points (the gradient: 3N+1 integrals); ``err`` is the largest relative difference of the
  float loss and gradient to the exact ones.

Timings are the best of ``--repeat`` runs, in milliseconds. Run from the repository root::

    python -m benchmarks.bench_landscape             # N = 2, 4, 8, 16, 32 (about 1 min)
    python -m benchmarks.bench_landscape --quick     # N = 2, 4, 8

A second table times the exact loss and gradient for input dimension d = 2, 3 (random integer
weights, biases in quarters, on [0, 1]^d), with the number of cells of the arrangement.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # allow ``python benchmarks/bench_landscape.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import best_of  # noqa: E402


def _ms(f, repeat: int):
    """:func:`benchmarks.timing.best_of` in milliseconds."""
    seconds, out = best_of(f, repeat)
    return seconds * 1e3, out


def _sympy_loss(phi):
    import sympy

    from symtrunc.exact.rational import q_to_sympy as R

    x = sympy.Symbol("x", real=True)
    N = R(phi.c) + sum(R(v) * sympy.Max(R(w) * x + R(b), 0) for w, b, v in zip(phi.w, phi.b, phi.v))
    return sympy.integrate(sympy.expand((N - x) ** 2), (x, 0, 1))


def _quad(phi):
    from scipy.integrate import quad

    w = [float(a) for a in phi.w]
    b = [float(a) for a in phi.b]
    v = [float(a) for a in phi.v]
    c = float(phi.c)
    pts = sorted({-bj / wj for wj, bj in zip(w, b) if wj != 0 and 0 < -bj / wj < 1}) or None
    n = len(w)

    def r(x):
        return c + sum(vj * max(wj * x + bj, 0.0) for wj, bj, vj in zip(w, b, v)) - x

    def integral(g):
        return quad(g, 0, 1, points=pts, epsabs=1e-14, epsrel=1e-12, limit=400)[0]

    L = integral(lambda x: r(x) ** 2)

    def grad():
        out = []
        for j in range(n):
            out.append(integral(lambda x, j=j: 2 * r(x) * v[j] * x * (w[j] * x + b[j] > 0)))
        for j in range(n):
            out.append(integral(lambda x, j=j: 2 * r(x) * v[j] * (w[j] * x + b[j] > 0)))
        for j in range(n):
            out.append(integral(lambda x, j=j: 2 * r(x) * max(w[j] * x + b[j], 0.0)))
        out.append(integral(lambda x: 2 * r(x)))
        return out

    return L, grad


def main(argv: list[str] | None = None) -> int:
    from symtrunc.landscape import Target, sawtooth

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 2, 4, 8 only")
    ap.add_argument("--sizes", help="comma-separated even N (default 2,4,8,16,32)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--sympy-max", type=int, default=2, help="largest N for the naive sympy route (N = 4 did not finish in 4 min)"
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([2, 4, 8] if args.quick else [2, 4, 8, 16, 32])
    t = Target(1, 0)
    print(
        f"# bench_landscape: (B_k) saddles with k = N, f(x) = x on [0, 1]; best of {args.repeat}, ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("| N | loss | gradient | hessian | classify | sympy loss | quad loss | quad grad | float err |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        _row(n, sawtooth(t, n), t, args)
    _multivariate(args)
    return 0


def _multivariate(args: argparse.Namespace) -> None:
    """d > 1: random integer network on [0, 1]^d, f(x) = Σ x_k; exact loss and gradient."""
    import random

    from symtrunc.landscape.multivariate import (
        MultiParams,
        box,
        box_gradient,
        box_loss,
        cells,
    )

    print("\n| d | N | cells | loss (ms) | gradient (ms) |")
    print("|---|---|---|---|---|")
    rng = random.Random(0)
    for d, n in ((2, 4), (2, 8), (2, 16), (3, 4), (3, 8)) if not args.quick else ((2, 4), (3, 4)):
        W = [[rng.randint(-3, 3) or 1 for _ in range(d)] for _ in range(n)]
        phi = MultiParams.from_values(
            W, [f"{rng.randint(-3, 3)}/4" for _ in range(n)], [rng.randint(-3, 3) for _ in range(n)], 1
        )
        lo, hi, al = [0] * d, [1] * d, [1] * d
        ncells = len(cells(box(lo, hi), list(zip(phi.W, phi.b))))
        tl, _ = _ms(lambda: box_loss(phi, al, 0, lo, hi), args.repeat)  # noqa: B023
        tg, _ = _ms(lambda: box_gradient(phi, al, 0, lo, hi), args.repeat)  # noqa: B023
        print(f"| {d} | {n} | {ncells} | {tl:.1f} | {tg:.1f} |")


def _row(n: int, phi: Any, t: Any, args: argparse.Namespace) -> None:
    import warnings

    from scipy.integrate import IntegrationWarning

    from symtrunc.exact.rational import q_to_sympy
    from symtrunc.landscape import classify, gradient, hessian, loss

    tl, L = _ms(lambda: loss(phi, t), args.repeat)
    tg, G = _ms(lambda: gradient(phi, t), args.repeat)
    th, _ = _ms(lambda: hessian(phi, t), args.repeat)
    tc, res = _ms(lambda: classify(phi, t), 1)
    assert res.verdict == "saddle", res.verdict
    if n <= args.sympy_max:
        ts, Ls = _ms(lambda: _sympy_loss(phi), 1)
        assert Ls == q_to_sympy(L), (Ls, L)
        sym = f"{ts:.1f}"
    else:
        sym = "-"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        tq, (Lq, gradf) = _ms(lambda: _quad(phi), args.repeat)
        tqg, Gq = _ms(gradf, 1)
    err = max([abs(Lq - float(L)) / float(L)] + [abs(a - float(b)) for a, b in zip(Gq, G)])
    print(f"| {n} | {tl:.2f} | {tg:.2f} | {th:.1f} | {tc:.0f} | {sym} | {tq:.2f} | {tqg:.1f} | {err:.1e} |")


if __name__ == "__main__":
    sys.exit(main())
