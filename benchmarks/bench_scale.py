"""Benchmark: verifying a constructed network on 10^4 … 10^7 points, exact vs certified vs floats.

The network is built once by ``symtrunc.construct(data, cone="rational")`` on synthetic SLS
data (``benchmarks/synthetic.py``: N=2000 training points, M=64 features in 0..16, Q=10
classes). The evaluation sets are drawn from the training points (uniformly with
replacement, in random order), so that zero loss holds exactly: new points from the same
clusters need not satisfy the construction's invariants (a fresh point is not always inside
its cone), and the point of the benchmark is to verify, not to test generalization.

Routes, per evaluation size N:

* ``sympy*``: exact forward pass with ``sympy.Matrix`` on a few points, extrapolated linearly;
* ``exact eval``: :func:`symtrunc.exact.evaluate.exact_outputs` (integer scaling, float64 BLAS
  while provably exact, python-flint beyond), in chunks of 65536 points;
* ``exact verify``: ``symtrunc.verify(net, data)`` (``method="exact"``; building the
  ``LabeledData`` is timed separately);
* ``certified``: ``symtrunc.verify(net, X, method="certified", labels=y)``: float filter with
  rigorous error bounds plus exact fallback; ``cold`` is the first call in a fresh process
  (composing the exact maps included), ``warm`` a second call;
* ``dense f64`` / ``struct f64``: float64 forward passes of :func:`symtrunc.lowering.float_network.lower`
  (``structure="dense"`` / ``"structured"``), one thread, best of 3. ``struct f64`` uses the
  default engine (the compiled numba kernel when numba is installed), ``struct f64 numpy`` the
  NumPy/BLAS structured path. Each route runs in its own process, so their ratio
  (``dense / struct``) is not interleaved: for the speedup use ``benchmarks/bench_lower.py``;
* ``onnxruntime``: the ONNX export (``symtrunc.io.onnx``) in onnxruntime, one thread, chunks of
  65536, best of 3 (skipped when onnx/onnxruntime are missing).

Every measurement runs in a fresh Python process (``--child``), which reports its time and its
peak resident memory (``ru_maxrss``; the evaluation set itself is included). Measurements that
would take too long (exact routes above ``--exact-max`` points, sympy above 1000) are
extrapolated linearly from the largest measured size and marked ``*``.

Finally N = 10^7 points (``--stream``) are written to a uint8 ``.npy`` file in ``/tmp`` (last
column the label) and verified by the certified route *streamed* from the memory-mapped file.

Run from the repository root::

    python -m benchmarks.bench_scale                 # N = 10^4, 10^5, 10^6 and the 10^7 stream
    python -m benchmarks.bench_scale --quick         # N = 10^3, 10^4 and a 10^5 stream
    python -m benchmarks.bench_scale --sizes 10000 --stream 0
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_scale.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.timing import best_of

N_TRAIN, M, Q = 2000, 64, 10
CHUNK = 65536


# --------------------------------------------------------------------------- data
def evaluation_indices(N: int, n_train: int, seed: int, start: int = 0) -> np.ndarray:
    """Indices of training points for evaluation points ``start .. start+N-1`` (deterministic)."""
    rng = np.random.default_rng([seed, start])
    return rng.integers(0, n_train, size=N)


def evaluation_set(Xtr: np.ndarray, ytr: np.ndarray, N: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``N`` labeled uint8 points drawn from the training points (zero loss holds exactly)."""
    idx = evaluation_indices(N, len(Xtr), seed)
    return Xtr.astype(np.uint8)[idx], ytr[idx].astype(np.int64)


def write_stream_file(path: Path, Xtr: np.ndarray, ytr: np.ndarray, N: int, seed: int) -> None:
    """A uint8 ``.npy`` file of shape ``(N, M + 1)`` (last column the label), written chunk-wise."""
    table = np.column_stack([Xtr, ytr]).astype(np.uint8)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(N, table.shape[1]))
    step = 1 << 20
    for a in range(0, N, step):
        n = min(step, N - a)
        out[a : a + n] = table[evaluation_indices(n, len(Xtr), seed, start=a)]
    out.flush()
    del out


# --------------------------------------------------------------------------- routes (child side)
def _peak_mb() -> float:
    """Peak resident memory of this process in MB: ``VmHWM`` (Linux; ``ru_maxrss`` would also count
    the parent's memory at ``fork`` time), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(route: str, N: int, workdir: Path, seed: int) -> dict:
    import symtrunc

    with open(workdir / "net.pkl", "rb") as f:
        net = pickle.load(f)
    tr = np.load(workdir / "train.npz")
    Xtr, ytr = tr["X"], tr["y"]
    out: dict = {"route": route, "N": N}
    if route == "stream":
        path = workdir / "stream.npy"
        base = _peak_mb()
        t = time.perf_counter()
        cert = symtrunc.verify(net, str(path), method="certified")
        out["seconds"] = time.perf_counter() - t
        out["extra"] = {k: v for k, v in cert.extra.items() if k != "seconds"}
        out["peak_mb"], out["base_mb"] = _peak_mb(), base
        return out
    X, y = evaluation_set(Xtr, ytr, N, seed)
    base = _peak_mb()
    out["base_mb"] = base
    if route == "sympy":
        from benchmarks.bench_construct_verify import sympy_forward_point, to_sympy_layers

        layers = to_sympy_layers(net)
        t = time.perf_counter()
        for i in range(N):
            h = sympy_forward_point(layers, X[i].tolist())
            assert list(h) == [1 if r == y[i] else 0 for r in range(Q)]
        out["seconds"] = time.perf_counter() - t
    elif route == "exact_eval":
        from symtrunc.exact.evaluate import exact_outputs

        t = time.perf_counter()
        for a in range(0, N, CHUNK):
            Z = exact_outputs(net, X[a : a + CHUNK])
            assert Z.equals([1] + [0] * (Q - 1))[y[a : a + CHUNK] == 0].all()
        out["seconds"] = time.perf_counter() - t
    elif route == "exact_verify":
        t = time.perf_counter()
        data = symtrunc.LabeledData.from_arrays(X, y.tolist())
        out["load_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        assert symtrunc.verify(net, data).zero_loss
        out["seconds"] = time.perf_counter() - t
    elif route == "certified":
        t = time.perf_counter()
        cert = symtrunc.verify(net, X, method="certified", labels=y)
        out["seconds"] = time.perf_counter() - t  # cold: fresh process, exact maps composed here
        out["warm_seconds"] = best_of(lambda: symtrunc.verify(net, X, method="certified", labels=y), 2)[0]
        out["extra"] = {k: v for k, v in cert.extra.items() if k != "seconds"}
    elif route in ("dense", "structured", "structured_numpy"):
        from symtrunc.lowering.float_network import lower

        t = time.perf_counter()
        fnet = lower(net, "float64", structure=route.split("_")[0])
        out["lower_seconds"] = time.perf_counter() - t
        engine = "numpy" if route == "structured_numpy" else "auto"  # auto: the numba kernel when installed
        buf = np.empty((N, Q))
        fnet.forward(X[:4096], threads=1, engine=engine)  # warm-up (loads the compiled kernel)
        out["seconds"] = best_of(lambda: fnet.forward(X, threads=1, out=buf, engine=engine), 3)[0]
        out["argmax_ok"] = bool((buf.argmax(axis=1) == y).all())
    elif route == "onnxruntime":
        import onnxruntime as ort

        from symtrunc.io.onnx import to_model

        model, _ = to_model(net, "float64", exact=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        buf = np.empty((N, Q))

        def run():
            for a in range(0, N, CHUNK):
                buf[a : a + CHUNK] = sess.run(None, {"x": X[a : a + CHUNK].astype(np.float64)})[0]

        run()
        out["seconds"] = best_of(run, 3)[0]
        out["argmax_ok"] = bool((buf.argmax(axis=1) == y).all())
    else:
        raise SystemExit(f"unknown route {route!r}")
    out["peak_mb"] = _peak_mb()
    return out


# --------------------------------------------------------------------------- parent side
def run_child(route: str, N: int, workdir: Path, seed: int, timeout: float) -> dict | None:
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--child", route, str(N), str(workdir), "--seed", str(seed)]
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=str(Path(__file__).resolve().parents[1])
        )
    except subprocess.TimeoutExpired:
        return {"route": route, "N": N, "error": f"timeout after {timeout:.0f} s"}
    if res.returncode != 0:
        return {"route": route, "N": N, "error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def fmt_s(v: float | None, star: bool = False) -> str:
    if v is None:
        return "—"
    s = f"{v:.3g}" if v < 100 else f"{v:.0f}"
    return s + ("*" if star else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (10^3, 10^4; stream 10^5)")
    p.add_argument("--sizes", help="comma-separated evaluation sizes (default 10^4,10^5,10^6)")
    p.add_argument("--stream", type=int, default=None, help="points streamed from a .npy file (default 10^7; 0: skip)")
    p.add_argument("--exact-max", type=int, default=100_000, help="largest N for the exact routes")
    p.add_argument("--sympy-sample", type=int, default=20, help="points through the sympy route")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per measurement")
    p.add_argument("--keep", action="store_true", help="keep the work directory (and the stream file)")
    p.add_argument("--child", nargs=3, metavar=("ROUTE", "N", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        route, N, workdir = args.child
        print(json.dumps(child(route, int(N), Path(workdir), args.seed)))
        return 0

    sizes = (
        ([1000, 10_000] if args.quick else [10_000, 100_000, 1_000_000])
        if not args.sizes
        else [int(s) for s in args.sizes.split(",")]
    )
    stream_n = args.stream if args.stream is not None else (100_000 if args.quick else 10_000_000)
    exact_max = min(args.exact_max, 10_000) if args.quick else args.exact_max

    import symtrunc
    from benchmarks.synthetic import sls_arrays

    try:
        import threadpoolctl

        blas = [(i["internal_api"], i["version"], i["num_threads"]) for i in threadpoolctl.threadpool_info()]
    except ImportError:  # pragma: no cover
        blas = "threadpoolctl not installed"
    print(
        f"# bench_scale  python {platform.python_version()}, numpy {np.__version__}, "
        f"symtrunc {symtrunc.__version__}, {os.cpu_count()} cpus, BLAS {blas}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}"
    )
    t = time.perf_counter()
    Xtr, ytr = sls_arrays(N_TRAIN, M, Q, args.seed)
    data = symtrunc.LabeledData.from_arrays(Xtr, ytr.tolist())
    net = symtrunc.construct(data, cone="rational")
    print(
        f"# construct (N={N_TRAIN}, M={M}, Q={Q}, cone=rational): {time.perf_counter() - t:.2f} s, widths {net.widths}"
    )

    workdir = Path(tempfile.mkdtemp(prefix="symtrunc_bench_", dir="/tmp"))
    with open(workdir / "net.pkl", "wb") as f:
        pickle.dump(net, f)
    np.savez(workdir / "train.npz", X=Xtr, y=ytr)

    routes = ["sympy", "exact_eval", "exact_verify", "certified", "dense", "structured", "structured_numpy"]
    if _available("onnxruntime") and _available("onnx"):
        routes.append("onnxruntime")
    results: dict[tuple[str, int], dict] = {}
    for N in sizes:
        for route in routes:
            n_run, star = N, False
            if route == "sympy":
                n_run, star = min(N, args.sympy_sample), N > args.sympy_sample
            elif route in ("exact_eval", "exact_verify") and N > exact_max:
                prev = results.get((route, exact_max))
                if prev and "seconds" in prev:
                    results[(route, N)] = {
                        **prev,
                        "seconds": prev["seconds"] * N / exact_max,
                        "star": True,
                        "peak_mb": None,
                    }
                continue
            r = run_child(route, n_run, workdir, args.seed, args.timeout)
            if r and "seconds" in r and star:
                r = {**r, "seconds": r["seconds"] * N / n_run, "star": True, "peak_mb": None}
            results[(route, N)] = r
            msg = r.get("error") or (
                f"{r['seconds']:.3f} s" + (f", peak {r['peak_mb']:.0f} MB" if r.get("peak_mb") else " (extrapolated)")
            )
            print(f"#   N={N:>8} {route:<13} {msg}", flush=True)

    # ------------------------------------------------------------------ tables
    cols = [
        ("sympy", "sympy*"),
        ("exact_eval", "exact eval"),
        ("exact_verify", "exact verify"),
        ("certified", "certified cold"),
        ("certified_warm", "certified warm"),
        ("dense", "dense f64"),
        ("structured", "struct f64"),
        ("structured_numpy", "struct f64 numpy"),
        ("onnxruntime", "onnxruntime"),
    ]

    def get(route, N):
        if route == "certified_warm":
            r = results.get(("certified", N)) or {}
            return r.get("warm_seconds"), False
        r = results.get((route, N)) or {}
        return r.get("seconds"), bool(r.get("star"))

    print()
    print("Seconds (* extrapolated linearly)")
    print()
    print(
        "| N | "
        + " | ".join(c[1] for c in cols if c[0] != "onnxruntime" or "onnxruntime" in routes)
        + " | certified / dense | exact eval / certified | dense / struct |"
    )
    print("|---:|" + "---:|" * (len(cols) - (0 if "onnxruntime" in routes else 1) + 3))
    for N in sizes:
        cells = []
        for key, _ in cols:
            if key == "onnxruntime" and "onnxruntime" not in routes:
                continue
            v, star = get(key, N)
            cells.append(fmt_s(v, star))
        cw, _ = get("certified_warm", N)
        cc, _ = get("certified", N)
        dn, _ = get("dense", N)
        ex, exs = get("exact_eval", N)
        r1 = f"{cc / dn:.2f} (warm {cw / dn:.2f})" if cc and dn else "—"
        r2 = f"{ex / cc:.0f}x{'*' if exs else ''} (warm {ex / cw:.0f}x)" if ex and cc else "—"
        st, _ = get("structured", N)
        r3 = f"{dn / st:.1f}x" if dn and st else "—"
        print(f"| {N:,} | " + " | ".join(cells) + f" | {r1} | {r2} | {r3} |")
    print()
    print("Peak resident memory of the measuring process, MB (evaluation set included; — when extrapolated)")
    print()
    mem_routes = [r for r in routes if r != "sympy"]
    print("| N | " + " | ".join(mem_routes) + " |")
    print("|---:|" + "---:|" * len(mem_routes))
    for N in sizes:
        cells = []
        for route in mem_routes:
            r = results.get((route, N)) or {}
            cells.append(f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "—")
        print(f"| {N:,} | " + " | ".join(cells) + " |")
    for N in sizes:
        r = results.get(("certified", N)) or {}
        if "extra" in r:
            print(f"# certified N={N:,}: {r['extra']}")
        r = results.get(("exact_verify", N)) or {}
        if "load_seconds" in r and not r.get("star"):
            print(f"# exact verify N={N:,}: building LabeledData took {r['load_seconds']:.2f} s (not in the table)")

    if stream_n:
        path = workdir / "stream.npy"
        t = time.perf_counter()
        write_stream_file(path, Xtr, ytr, stream_n, args.seed)
        size_mb = path.stat().st_size / 2**20
        print(f"\n# stream: wrote {stream_n:,} points ({size_mb:.0f} MB uint8 .npy) in {time.perf_counter() - t:.1f} s")
        r = run_child("stream", stream_n, workdir, args.seed, args.timeout)
        if "error" in r:
            print(f"# stream: {r['error']}")
        else:
            ok_t = "ok" if r["seconds"] <= 60 else "ABOVE TARGET"
            ok_m = "ok" if r["peak_mb"] <= 2048 else "ABOVE TARGET"
            print(
                f"# stream N={stream_n:,}: certified {r['seconds']:.1f} s (target <= 60 s: {ok_t}), "
                f"peak RSS {r['peak_mb']:.0f} MB (target <= 2048 MB: {ok_m}; before the pass "
                f"{r['base_mb']:.0f} MB)"
            )
            print(f"# stream extra: {r['extra']}")
    if not args.keep:
        for f in workdir.iterdir():
            f.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
