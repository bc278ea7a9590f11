"""Benchmark: certified verification (``verify --certified``) against float forward passes.

The network is built by ``symtrunc.construct`` (Theorem 5.2, rational cone) on 2000 points of
``benchmarks/synthetic.py`` (``sls_arrays``: M = 64, Q = 10, integer features in 0..16). The
verified points come from the same generator with the same seed and a larger ``N``: the cluster
centers are drawn first from the seeded generator and do not depend on ``N``, so the large sets
have the same clusters (only the noise differs). Whether the network maps every large point to
its label is reported (``verdict``): timings are meaningful either way. ``N = 10^7`` (with
``--big``) is the ``10^6`` set repeated ten times (the generator holds everything in memory).

Per ``N`` and input file -- uint8 ``.npy`` and float64 ``.npy`` (label in the last column) and
float64 ``.npz`` (``np.savez``: arrays ``X`` and ``y``) -- the table gives, in one run:

* ``certified s``: ``symtrunc.verify(net, path, method="certified")`` in this process (median of
  ``--reps`` runs, as every timing; a run over 5 s is not repeated; the compiled kernels are
  loaded before by a warm-up run);
* ``no-kernel s``: the same without the structured kernel (``tuning={"kernel": False}``: the
  general NumPy filter alone, the route before the kernel); at ``10^7`` only with
  ``--all-baselines``;
* ``digest s``: the SHA-256 data digest of the same file alone
  (``symtrunc.verification.digest.DataDigest`` over its chunks), which a certified run computes
  on a second thread: a lower bound of ``certified s`` on two cores;
* ``CLI s`` / ``peak MB``: one run of ``symtrunc verify NET FILE --certified -q`` in a fresh
  process (start-up and imports included; below ``kernel.COMPILED_FROM`` points it runs the
  NumPy version of the kernel instead of loading numba) and its peak resident memory (``wait4``
  in a small launcher process);
* the float forward passes of ``symtrunc.lower(net)`` on the same points as an in-memory
  contiguous array of the file's dtype (at ``10^7``: the memory-mapped ``.npy`` file):
  ``numba`` (the structured kernel, one thread, the default of ``forward``), ``numba 2t`` (the
  same on both cores, ``threads=2``: the pass the issue measured at 0.29 s per ``10^6``),
  ``numpy`` (the plain dense chunked NumPy pass, ``lower(net, structure="dense")``) and
  ``onnxruntime`` (Gemm+Relu graph, one thread; skipped when not installed); at ``10^7`` only
  the numba passes unless ``--all-baselines``;
* ``cert/numba``, ``cert/numba 2t``: the certified time over each numba pass (target: at most 2
  at ``10^6``; the certified pass uses both cores: one chunk per core, the digest beside them).

A second table compares, on the ``10^6`` uint8 points in a random order and sorted by class,
the certified pass with the kernel visiting each chunk's points class by class (the default: a
block of the kernel runs until its last point leaves) and in file order
(``tuning={"class_order": False}``).

Run from the repository root::

    python -m benchmarks.bench_certified_speed             # N = 10^5, 10^6 (about 10 minutes on 2 busy cores)
    python -m benchmarks.bench_certified_speed --big       # and 10^7 (writes ~11 GB of files)
    python -m benchmarks.bench_certified_speed --dir /tmp/certbench --reps 5 --no-cli
    python -m benchmarks.bench_certified_speed --order-only   # only the class-order table

Data files are written to ``--dir`` (default ``$TMPDIR/symtrunc-certbench``) and reused.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # allow ``python benchmarks/bench_certified_speed.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import symtrunc
from benchmarks.bench_lower import environment, onnx_session
from benchmarks.synthetic import sls_arrays
from symtrunc.data.stream import open_source
from symtrunc.errors import VerificationError
from symtrunc.lowering import lower
from symtrunc.verification.certified import verify_certified
from symtrunc.verification.digest import DataDigest

M, Q, N_TRAIN = 64, 10, 2000
HAVE_NUMBA = importlib.util.find_spec("numba") is not None
KINDS = ("uint8 .npy", "float64 .npy", "float64 .npz")
LONG = 5.0  # seconds: slower runs are timed once


# --------------------------------------------------------------------------- data
def network(folder: Path, seed: int) -> symtrunc.ReLUNetwork:
    """The network built on ``N_TRAIN`` points (cached as JSON in ``folder``)."""
    path = folder / f"net-M{M}-Q{Q}-n{N_TRAIN}-s{seed}.json"
    if path.exists():
        print(f"network: {path} (cached)")
        return symtrunc.load_network(path)
    X, y = sls_arrays(N_TRAIN, M, Q, seed)
    t = time.perf_counter()
    net = symtrunc.construct(symtrunc.LabeledData.from_arrays(X, y.tolist()))
    print(f"network: construct on {N_TRAIN} points {time.perf_counter() - t:.1f} s, widths {net.widths}")
    symtrunc.save_network(net, path)
    return net


def data_files(folder: Path, N: int, seed: int) -> dict[str, Path]:
    """The three files of ``N`` points (written once)."""
    stem = folder / f"sls-N{N}-s{seed}"
    files = {
        "uint8 .npy": Path(f"{stem}-u8.npy"),
        "float64 .npy": Path(f"{stem}-f64.npy"),
        "float64 .npz": Path(f"{stem}-f64.npz"),
    }
    if all(p.exists() for p in files.values()):
        return files
    t = time.perf_counter()
    base_n = min(N, 10**6)
    reps = N // base_n
    X, y = sls_arrays(base_n, M, Q, seed)
    A = np.column_stack([X, y])
    for kind, dt in (("uint8 .npy", np.uint8), ("float64 .npy", np.float64)):
        out = np.lib.format.open_memmap(files[kind], mode="w+", dtype=dt, shape=(N, M + 1))
        for r in range(reps):
            out[r * base_n : (r + 1) * base_n] = A
        out.flush()
        del out
    # np.savez layout (stored members X.npy, y.npy), written block by block
    with zipfile.ZipFile(files["float64 .npz"], "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in (("X", X.astype(np.float64)), ("y", y)):
            header: dict[str, Any] = {
                "descr": np.lib.format.dtype_to_descr(arr.dtype),
                "fortran_order": False,
                "shape": (N, M) if arr.ndim == 2 else (N,),
            }
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array_header_2_0(fh, header)
                for _ in range(reps):
                    fh.write(np.ascontiguousarray(arr).tobytes())
    print(f"data: wrote {N:,} points x 3 files in {time.perf_counter() - t:.1f} s ({folder})")
    return files


# --------------------------------------------------------------------------- routes
def median_time(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """Median wall time of up to ``reps`` runs (a run over :data:`LONG` seconds is not repeated)."""
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if times[-1] > LONG:
            break
    return statistics.median(times), out


def certified(net: symtrunc.ReLUNetwork, path: Path, tuning: dict | None = None) -> str:
    try:
        cert = verify_certified(net, str(path), tuning=tuning)
    except VerificationError as e:
        return f"fails at point {e.counterexample.point}"
    x = cert.extra
    return f"zero loss ({x['points_exact']} exact)"


def digest_only(path: Path) -> None:
    d = DataDigest()
    for chunk in open_source(str(path)).chunks(65536):
        d.update(chunk.X, chunk.labels)


# run in a small intermediate process: a child forked from this (large) process would report
# this process's resident memory as its own peak (Linux keeps the pre-exec high-water mark)
_LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(time.perf_counter() - t, usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def cli_run(net_path: Path, path: Path) -> tuple[float, float, int]:
    """Wall seconds, peak resident MB and exit code of one ``symtrunc verify --certified`` process."""
    cmd = [sys.executable, "-m", "symtrunc", "verify", str(net_path), str(path), "--certified", "-q"]
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], capture_output=True, text=True, check=True)
    wall, maxrss, code = out.stdout.split()
    return float(wall), int(maxrss) / 1024, int(code)


def forward_routes(net: symtrunc.ReLUNetwork) -> dict[str, Callable[[np.ndarray], Any] | None]:
    fs = lower(net)
    fd = lower(net, structure="dense")
    return {
        "numba": (lambda X: fs.forward(X, engine="numba")) if HAVE_NUMBA else None,
        "numba 2 threads": (lambda X: fs.forward(X, engine="numba", threads=2)) if HAVE_NUMBA else None,
        "numpy": lambda X: fd.forward(X),
        "onnxruntime": onnx_session(fd, "float64"),
    }


# --------------------------------------------------------------------------- table
def warm_up(net: symtrunc.ReLUNetwork, seed: int) -> np.ndarray:
    """Load numba's certified kernel (a run on so few points would take the NumPy version, so the
    compiled one is asked for) for uint8 and float64 inputs; the float64 points, for more warm-ups."""
    X0, y0 = sls_arrays(2000, M, Q, seed)
    for X0t in (X0.astype(np.uint8), X0.astype(np.float64)):
        symtrunc.verify(net, X0t, method="certified", labels=y0, tuning={"compiled": True})
    return X0.astype(np.float64)


def run(args: argparse.Namespace, folder: Path, net: symtrunc.ReLUNetwork, X0: np.ndarray) -> list[list[str]]:
    net_path = folder / f"net-M{M}-Q{Q}-n{N_TRAIN}-s{args.seed}.json"
    routes = forward_routes(net)
    for fn in routes.values():  # warm-up: the compiled forward passes
        if fn is not None:
            fn(X0)
    sizes = [10**5, 10**6] + ([10**7] if args.big else [])
    rows = []
    for N in sizes:
        files = data_files(folder, N, args.seed)
        big = N >= 10**7
        reps = 1 if big else args.reps
        fwd: dict[str, dict[str, float | None]] = {}
        for kind, dt in (("uint8", np.uint8), ("float64", np.float64)):
            path = files["uint8 .npy" if dt is np.uint8 else "float64 .npy"]
            mm = np.load(path, mmap_mode="r")[:, :M]
            X = mm if big else np.ascontiguousarray(mm)
            fwd[kind] = {}
            for name, fn in routes.items():
                if fn is None or (big and not name.startswith("numba") and not args.all_baselines):
                    fwd[kind][name] = None
                    continue
                fwd[kind][name] = median_time(functools.partial(fn, X), reps)[0]
                print(f"  N={N:>9,} {kind:8s} forward {name:12s} {fwd[kind][name]:8.3f} s", file=sys.stderr)
            del X, mm
        for kind in KINDS:
            path = files[kind]
            t_cert, verdict = median_time(functools.partial(certified, net, path), reps)
            t_gen = None
            if not big or args.all_baselines:
                t_gen = median_time(functools.partial(certified, net, path, {"kernel": False}), reps)[0]
            t_dig = median_time(functools.partial(digest_only, path), 1)[0]
            cli = cli_run(net_path, path) if args.cli else None
            f = fwd["uint8" if kind.startswith("uint8") else "float64"]
            nb, nb2 = f["numba"], f["numba 2 threads"]
            rows.append(
                [
                    f"{N:,}",
                    kind,
                    f"{t_cert:.3f}",
                    "-" if t_gen is None else f"{t_gen:.3f}",
                    f"{t_dig:.3f}",
                    "-" if cli is None else f"{cli[0]:.2f}",
                    "-" if cli is None else f"{cli[1]:.0f}",
                    *(
                        ("-" if f[r] is None else f"{f[r]:.3f}")
                        for r in ("numba", "numba 2 threads", "numpy", "onnxruntime")
                    ),
                    "-" if nb is None else f"{t_cert / nb:.2f}",
                    "-" if nb2 is None else f"{t_cert / nb2:.2f}",
                    verdict,
                ]
            )
            print(f"  N={N:>9,} {kind:13s} certified {t_cert:8.3f} s, digest {t_dig:.3f} s, {verdict}", file=sys.stderr)
    return rows


def shuffled(folder: Path, net: symtrunc.ReLUNetwork, seed: int, reps: int) -> str:
    """Certified verification of the ``10^6`` uint8 points in a random order (one fixed
    permutation), with the kernel visiting each chunk's points class by class (the default)
    and in file order (``tuning={"class_order": False}``); the class-sorted file for reference."""
    files = data_files(folder, 10**6, seed)
    path = folder / f"sls-N{10**6}-s{seed}-u8-shuffled.npy"
    if not path.exists():
        A = np.load(files["uint8 .npy"])
        np.save(path, A[np.random.default_rng(seed).permutation(len(A))])
    lines = ["| input | class order s | file order s | file / class |", "|---|---:|---:|---:|"]
    for name, p in (("uint8 .npy, shuffled", path), ("uint8 .npy, sorted by class", files["uint8 .npy"])):
        by_class = median_time(functools.partial(certified, net, p), reps)[0]
        as_read = median_time(functools.partial(certified, net, p, {"class_order": False}), reps)[0]
        lines.append(f"| {name} | {by_class:.3f} | {as_read:.3f} | {as_read / by_class:.2f} |")
        print(f"  N=1,000,000 {name}: class order {by_class:.3f} s, file order {as_read:.3f} s", file=sys.stderr)
    return "\n".join(lines)


def markdown(rows: list[list[str]]) -> str:
    head = [
        "N",
        "input",
        "certified s",
        "no-kernel s",
        "digest s",
        "CLI s",
        "peak MB",
        "numba fwd s",
        "numba 2t fwd s",
        "numpy fwd s",
        "onnxrt fwd s",
        "cert/numba",
        "cert/numba 2t",
        "verdict",
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

    def line(vals: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                v.ljust(w) if head[i] in ("input", "verdict") else v.rjust(w)
                for i, (v, w) in enumerate(zip(vals, widths))
            )
            + " |"
        )

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", action="store_true", help="also N = 10^7 (the 10^6 set ten times)")
    ap.add_argument("--all-baselines", action="store_true", help="numpy and onnxruntime at 10^7 too (slow)")
    ap.add_argument("--reps", type=int, default=3, help="runs per timing (median); one at 10^7")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "symtrunc-certbench"))
    ap.add_argument("--no-cli", dest="cli", action="store_false", help="skip the CLI runs (time, peak memory)")
    ap.add_argument("--order-only", action="store_true", help="only the class-order table (10^6 shuffled points)")
    args = ap.parse_args(argv)
    print(environment())
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    net = network(folder, args.seed)
    X0 = warm_up(net, args.seed)
    if not args.order_only:
        print()
        print(markdown(run(args, folder, net, X0)))
    print()
    print(shuffled(folder, net, args.seed, args.reps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
