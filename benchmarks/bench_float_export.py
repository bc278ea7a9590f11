"""Benchmark: float exports in their own precision, data set × network × dtype × format.

For wine (``symtrunc.load_wine()``), breast cancer and digits (scikit-learn's bundled data), two
exact networks: ``default`` (``symtrunc.construct(data)``) and ``robust``
(``symtrunc.construct(data, robust="float32")``, the float-robust choice of the free parameters,
:mod:`symtrunc.constructions.float_robust`). Each is exported with ``symtrunc.export(..., data=...)`` in
float64 and float32 (``layers="auto"``: plain, or factored when only the factored floats can be
certified), forced when the certificate fails, and then run in

* ``onnx``        -- onnxruntime, CPU provider, one thread, on ``X.astype(dtype)``;
* ``torch``       -- ``symtrunc.io.torch.load_sequential`` of the ``.pt`` file (the file's dtype, one thread);
* ``safetensors`` -- the same from the ``.safetensors`` file;
* ``npz``         -- ``load_float_network`` of the ``.npz`` file (NumPy, dense; plain layout only);
* ``lower``       -- ``symtrunc.lower(net, dtype)``: the structured float network, certified on its own.

Columns: ``right`` -- training points whose argmax is their label in that runtime;
``certificate`` -- the certified margin (a lower bound of ``y_label - max_other y`` over every
IEEE evaluation, any summation order, with or without FMA) or how many points are not proved;
``cert / fwd`` -- time of the certification relative to one float forward pass of that runtime
on the training data (best of 3). The four file formats hold the same floats, certified once at
export (the onnx row); ``lower`` is certified separately.

Run from the repository root::

    python -m benchmarks.bench_float_export              # about 5 minutes on 2 cores
    python -m benchmarks.bench_float_export --quick      # wine and breast cancer only
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):  # allow ``python benchmarks/bench_float_export.py``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import symtrunc
from benchmarks.timing import best_of
from symtrunc.io.export import export
from symtrunc.io.trained import load_float_network
from symtrunc.lowering.float_network import lower

SUFFIX = {"onnx": ".onnx", "torch": ".pt", "safetensors": ".safetensors", "npz": ".npz"}


def datasets(quick: bool) -> dict[str, symtrunc.LabeledData]:
    from sklearn.datasets import load_breast_cancer, load_digits

    out = {"wine": symtrunc.load_wine()}
    d = load_breast_cancer()
    out["breast cancer"] = symtrunc.LabeledData.from_arrays(d.data, d.target.tolist())
    if not quick:
        d = load_digits()
        out["digits"] = symtrunc.LabeledData.from_arrays(d.data, d.target.tolist())
    return out


def runner(fmt: str, path: Path, dtype: str):
    """``X (float64) -> outputs`` of a file in its runtime."""
    if fmt == "onnx":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return lambda X: sess.run(None, {"x": X.astype(dtype)})[0]
    if fmt in ("torch", "safetensors"):
        import torch

        from symtrunc.io.torch import load_sequential

        torch.set_num_threads(1)
        model = load_sequential(path)

        def run(X):
            with torch.no_grad():
                return model(torch.from_numpy(X)).numpy()

        return run
    fnet = load_float_network(path)
    return lambda X: fnet.forward(X)


def cert_text(cert) -> str:
    if cert.certified:
        return f"margin ≥ {cert.margin:.3g}"
    return f"NOT certified ({cert.n_points - cert.n_certified} points)"


def rows_for(name: str, kind: str, net, data, tmp: Path) -> list[str]:
    X = np.array([[float(v) for v in r] for r in data.X.tolist()])
    labels = np.array([data.classes[j] for j in data.y])
    classes = np.array(net.classes)
    out = []
    for dtype in ("float64", "float32"):
        base = tmp / f"{name.replace(' ', '_')}_{kind}_{dtype}"
        report = export(net, base.with_suffix(".onnx"), dtype=dtype, data=data, force=True)
        cert, layout = report.certificate, "factored" if report.factored else "plain"
        for fmt in ("onnx", "torch", "safetensors", "npz", "lower"):
            if fmt == "lower":
                fnet = lower(net, dtype)
                c = fnet.certify(data)
                t_fwd, Y = best_of(functools.partial(fnet.forward, X), 3)
                lay, cert_s, ctext = "structured" if fnet.structured else "plain", c.seconds, cert_text(c)
            else:
                path = base.with_suffix(SUFFIX[fmt])
                if fmt == "npz" and layout == "factored":
                    continue
                if fmt != "onnx":
                    export(net, path, to=fmt, dtype=dtype, layers=layout)
                run = runner(fmt, path, dtype)
                t_fwd, Y = best_of(functools.partial(run, X), 3)
                lay, cert_s, ctext = layout, cert.seconds, cert_text(cert)
            right = int((classes[np.asarray(Y).argmax(axis=1)] == labels).sum())
            out.append(
                f"| {name} | {kind} | {dtype} | {fmt} | {lay} | {right}/{len(labels)} | {ctext} | "
                f"{cert_s / max(t_fwd, 1e-9):.0f}× ({cert_s:.2f} s) |"
            )
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="wine and breast cancer only")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    print("| data | network | dtype | format | layers | right | certificate | cert / fwd |")
    print("|---|---|---|---|---|---:|---|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in datasets(args.quick).items():
            for kind in ("default", "robust"):
                t = time.perf_counter()
                net = symtrunc.construct(data, robust=None if kind == "default" else "float32")
                print(f"<!-- {name} {kind}: constructed in {time.perf_counter() - t:.1f} s -->", flush=True)
                for row in rows_for(name, kind, net, data, Path(tmp)):
                    print(row, flush=True)


if __name__ == "__main__":
    main()
