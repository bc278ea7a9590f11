"""Benchmark: float evaluation of a constructed network, naive numpy vs ``symtrunc.lower``.

The network is built by ``symtrunc.construct`` (Theorem 5.2, rational cone by default) on a
small synthetic SLS training set (``benchmarks/synthetic.py``: M=64 features in 0..16, Q=10
classes, N_train=2000). It is then evaluated on N = 10^4, 10^5, 10^6 points: a float64 array of
random integer features in 0..16 (drawn directly, no ``LabeledData``). Routes:

* ``naive``            -- ``H = max(H @ W.T + b, 0)`` on the whole array, fresh temporaries,
  default BLAS threads;
* ``dense f64``        -- ``lower(net, structure="dense").forward(X)``: chunked, ``out=``
  buffers, 1 BLAS thread;
* ``structured f64 numba`` -- ``lower(net).forward(X, engine="numba")``: the compiled fused
  kernel of ``symtrunc.lowering.kernels`` (one thread; skipped when numba is missing);
* ``structured f64 numpy`` -- ``lower(net).forward(X, engine="numpy")``: hidden layers as
  ``α x + (x V) Uᵀ + b`` with two skinny BLAS products each;
* ``dense f32`` / ``structured f32 ...`` -- the same in float32;
* ``onnxruntime f64/f32`` -- an in-memory Gemm+Relu ONNX graph (``onnx`` package, IR version
  10, opset 17), CPU provider, 1 intra-op thread (skipped if onnx/onnxruntime are missing).

Then M = 256 (and 512 without ``--quick``): dense vs structured (float64) on a network built on
a smaller training set. ``err`` is the max abs difference to the exact outputs
(``ReLUNetwork.forward``) on the first 100 points; ``speedup`` is relative to ``dense f64``.

The routes are timed **interleaved**: ``--reps`` rounds (default 5; 4 for N = 10^6, the naive
route once there), each running every route once on the same points, and the table keeps the
best wall time and the best CPU time (``time.process_time``) per route. On a shared machine
the CPU-time ratio is the more stable one (everything here is single-threaded). The header
prints the load average and the BLAS libraries (``threadpoolctl``).

Run from the repository root::

    python -m benchmarks.bench_lower            # about 3 minutes
    python -m benchmarks.bench_lower --quick    # N = 10^4, 10^5; M = 256 only with 10^4 points
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # allow ``python benchmarks/bench_lower.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import symtrunc
from benchmarks.synthetic import sls_data
from symtrunc.exact.matrix import to_float
from symtrunc.lowering.float_network import FloatNetwork, lower

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


# --------------------------------------------------------------------------- routes
def naive_forward(layers: list[tuple[np.ndarray, np.ndarray, str]], X: np.ndarray) -> np.ndarray:
    """Whole-array float forward pass with fresh temporaries (default threads)."""
    H = X
    for W, b, act in layers:
        H = H @ W.T + b
        if act == "relu":
            H = np.maximum(H, 0)
    return H


def onnx_session(f: FloatNetwork, dtype: str) -> Any | None:
    """An onnxruntime session for a Gemm(+Relu) chain, or None when onnx/onnxruntime are missing."""
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    nodes, inits, cur = [], [], "x"
    for k, (W, b, act) in enumerate(zip(f.weights, f.biases, f.activations)):
        inits += [numpy_helper.from_array(W.astype(dtype), f"W{k}"), numpy_helper.from_array(b.astype(dtype), f"b{k}")]
        nodes.append(helper.make_node("Gemm", [cur, f"W{k}", f"b{k}"], [f"z{k}"], transB=1))
        cur = f"z{k}"
        if act == "relu":
            nodes.append(helper.make_node("Relu", [cur], [f"h{k}"]))
            cur = f"h{k}"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    graph = helper.make_graph(
        nodes,
        "symtrunc",
        [helper.make_tensor_value_info("x", elem, ["N", f.input_dim])],
        [helper.make_tensor_value_info("y", elem, ["N", f.output_dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return lambda X: sess.run(None, {"x": X.astype(dtype, copy=False)})[0]


# --------------------------------------------------------------------------- tables
def build(M: int, Q: int, n_train: int, seed: int, cone: str) -> tuple[symtrunc.ReLUNetwork, float]:
    t = time.perf_counter()
    net = symtrunc.construct(sls_data(n_train, M, Q, seed), cone=cone)
    return net, time.perf_counter() - t


def routes_for(net: symtrunc.ReLUNetwork, full: bool) -> tuple[list[tuple[str, Callable]], list[str]]:
    info = []
    f64d = lower(net, "float64", structure="dense")
    t = time.perf_counter()
    f64s = lower(net, "float64", structure="structured")
    t_lower = time.perf_counter() - t
    ranks = [None if s is None else s.rank for s in f64s.layer_structures]
    info.append(
        f"lower(structured): {t_lower:.2f} s; structure ranks per layer {ranks}; "
        f"max_weight_error {f64s.max_weight_error:.2e}; numpy chunk {f64s.chunk_rows()} rows"
    )
    engines = ["numba", "numpy"] if HAVE_NUMBA else ["numpy"]
    if not HAVE_NUMBA:
        info.append("numba: not installed, the compiled kernel is skipped (pip install symtrunc[fast])")
    routes: list = []
    if full:
        layers = [(W, b, a) for W, b, a in zip(f64d.weights, f64d.biases, f64d.activations)]
        routes.append(("naive f64 (default threads)", lambda X: naive_forward(layers, X)))
    routes.append(("dense f64 (1 thread)", lambda X: f64d.forward(X)))
    for e in engines:
        routes.append((f"structured f64 {e}", lambda X, e=e: f64s.forward(X, engine=e)))
    if full:
        f32d = lower(net, "float32", structure="dense")
        f32s = lower(net, "float32", structure="structured")
        routes.append(("dense f32 (1 thread)", lambda X: f32d.forward(X)))
        for e in engines:
            routes.append((f"structured f32 {e}", lambda X, e=e: f32s.forward(X, engine=e)))
        for dt in ("float64", "float32"):
            run = onnx_session(f64d, dt)
            if run is None:
                info.append("onnxruntime: not installed, skipped")
                break
            routes.append((f"onnxruntime f{dt[5:]} (1 thread)", run))
    return routes, info


def run_table(
    net: symtrunc.ReLUNetwork, sizes: list[int], full: bool, seed: int, reps: int
) -> tuple[list[dict], list[str]]:
    """Every route on the same points, **interleaved** (route after route, ``reps`` rounds), so
    that a busy shared machine slows all of them alike; best wall and best CPU time per route."""
    M = net.input_dim
    rng = np.random.default_rng(seed + 1)
    X_all = rng.integers(0, 17, size=(max(sizes), M)).astype(np.float64)
    exact = to_float(net.forward(X_all[:100].astype(np.int64).tolist()))
    routes, info = routes_for(net, full)
    rows = []
    for N in sizes:
        X = X_all[:N]
        best = {name: [float("inf"), float("inf"), None] for name, _ in routes}
        for _, fn in routes:
            fn(X[: min(N, 2000)])  # warm-up (BLAS threads, buffers, loading the compiled kernel)
        for rnd in range(reps if N <= 10**5 else max(2, reps - 1)):
            for name, fn in routes:
                if name.startswith("naive") and rnd and N > 10**5:
                    continue
                w, c = time.perf_counter(), time.process_time()
                out = fn(X)
                w, c = time.perf_counter() - w, time.process_time() - c
                b = best[name]
                b[0], b[1], b[2] = min(b[0], w), min(b[1], c), out
        base = best["dense f64 (1 thread)"]
        for name, _ in routes:
            w, c, out = best[name]
            err = float(np.abs(out[:100].astype(np.float64) - exact).max())
            rows.append(
                {
                    "M": M,
                    "N": N,
                    "route": name,
                    "s": w,
                    "cpu": c,
                    "pts": N / w,
                    "err": err,
                    "base": base[0],
                    "base_cpu": base[1],
                }
            )
            print(
                f"  M={M} N={N:>8d} {name:30s} {w:8.3f} s (cpu {c:7.3f} s)  {N / w / 1e6:7.3f} M pts/s",
                file=sys.stderr,
                flush=True,
            )
    return rows, info


def format_table(rows: list[dict]) -> str:
    head = [
        "M",
        "N",
        "route",
        "seconds",
        "cpu s",
        "points/s",
        "speedup vs dense f64 (wall)",
        "speedup (cpu)",
        "max err vs exact",
    ]
    cells = []
    for r in rows:
        spd = f"{r['base'] / r['s']:.1f}x"
        spc = f"{r['base_cpu'] / r['cpu']:.1f}x" if r["cpu"] > 0 else "-"
        cells.append(
            [
                str(r["M"]),
                f"{r['N']:,}",
                r["route"],
                f"{r['s']:.3f}",
                f"{r['cpu']:.3f}",
                f"{r['pts']:,.0f}",
                spd,
                spc,
                f"{r['err']:.1e}",
            ]
        )
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]

    def line(vals):
        return (
            "| " + " | ".join(v.ljust(w) if i == 2 else v.rjust(w) for i, (v, w) in enumerate(zip(vals, widths))) + " |"
        )

    sep = "|" + "|".join(("-" * (w + 2)) if i == 2 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep] + [line(c) for c in cells])


def environment() -> str:
    import flint

    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, python-flint {flint.__version__}, "
        f"symtrunc {symtrunc.__version__}, {os.cpu_count()} cores ({platform.machine()}), "
        f"{datetime.date.today().isoformat()}, load average {os.getloadavg()[0]:.2f}"
    ]
    try:
        import scipy.linalg.blas  # noqa: F401
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            lines.append(
                f"  {lib.get('internal_api')} {lib.get('version')} {lib.get('architecture', '')} "
                f"threads={lib.get('num_threads')} ({Path(lib.get('filepath', '')).name})"
            )
    except ImportError:
        lines.append("  threadpoolctl not installed: BLAS threads are not limited")
    try:
        import onnxruntime

        lines.append(f"  onnxruntime {onnxruntime.__version__}")
    except ImportError:
        pass
    if HAVE_NUMBA:
        import llvmlite
        import numba

        lines.append(f"  numba {numba.__version__}, llvmlite {llvmlite.__version__}")
    lines.append(f"  OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 10^4, 10^5 at M = 64; M = 256 with 10^4 points")
    ap.add_argument("--cone", default="rational", choices=["rational", "paper"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train", type=int, default=2000, help="training points for the M = 64 network")
    ap.add_argument("--reps", type=int, default=5, help="interleaved rounds (best of; one fewer for N = 10^6)")
    args = ap.parse_args(argv)

    print(environment())
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    net, t = build(64, 10, args.train, args.seed, args.cone)
    print(f"\nM=64: construct ({args.cone} cone, N_train={args.train}) {t:.1f} s, widths {net.widths}")
    rows, info = run_table(net, sizes, True, args.seed, args.reps)
    print("\n".join("  " + i for i in info))
    wide = [(256, 10**4 if args.quick else 10**5)] + ([] if args.quick else [(512, 2 * 10**4)])
    for M, N in wide:
        netM, t = build(M, 10, 500, args.seed, args.cone)
        print(f"M={M}: construct ({args.cone} cone, N_train=500) {t:.1f} s, widths {netM.widths}")
        r, info = run_table(netM, [N], False, args.seed, args.reps)
        rows += r
        print("\n".join("  " + i for i in info))
    print()
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
