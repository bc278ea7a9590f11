"""Float networks in their own precision: certificates, refusing exports, verifying what runs.

Every claim is checked independently: exact ``Fraction`` forward passes of the float weights,
and float32 evaluations in many summation orders (with and without a fused multiply-add)
that the certificate must cover.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symtrunc
from symtrunc.cli.app import main
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, FormatError, UncertifiedError
from symtrunc.io.export import export
from symtrunc.io.trained import import_network, load_float_network
from symtrunc.lowering.float_network import FloatNetwork, export_layers, lower
from symtrunc.network import Layer, ReLUNetwork

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ------------------------------------------------------------------------------ independent references
def _exact_float_forward(fnet: FloatNetwork, x: list[Fraction]) -> list[Fraction]:
    """The float network in exact arithmetic (its weights are the dyadic rationals they store)."""
    h = x
    for W, b, act in zip(fnet.weights, fnet.biases, fnet.activations):
        z = [
            sum((Fraction(float(w)) * v for w, v in zip(row, h)), Fraction(0)) + Fraction(float(bi))
            for row, bi in zip(W.tolist(), b.tolist())
        ]
        h = [max(v, Fraction(0)) for v in z] if act == "relu" else z
    return h


def _f32_sum(terms: list[tuple[np.float32, np.float32]], bias: np.float32, rng: random.Random, fma: bool) -> np.float32:
    """One IEEE float32 evaluation of ``Σ w x + b`` in a random order, with or without FMA."""
    items: list = list(terms) + [("bias", bias)]
    rng.shuffle(items)
    acc = None
    for item in items:
        if item[0] == "bias":
            val = item[1]
            acc = val if acc is None else np.float32(acc + val)
        else:
            w, x = item
            if acc is None:
                acc = np.float32(w * x)
            elif fma:  # the product is exact in float64, one rounding to float32 (up to a double rounding)
                acc = np.float32(np.float64(w) * np.float64(x) + np.float64(acc))
            else:
                acc = np.float32(acc + np.float32(w * x))
    return acc


def _f32_forward(fnet: FloatNetwork, x: np.ndarray, rng: random.Random, fma: bool) -> np.ndarray:
    h = x.astype(np.float32)
    for W, b, act in zip(fnet.weights, fnet.biases, fnet.activations):
        z = np.array([_f32_sum(list(zip(row, h)), bi, rng, fma) for row, bi in zip(W, b)], dtype=np.float32)
        h = np.maximum(z, np.float32(0)) if act == "relu" else z
    return h


def _cancelling_net() -> ReLUNetwork:
    """A zero-loss network on ``_CANCEL`` (outputs exactly one-hot) whose float32 version sees the
    first point rounded to ``(2^26, 2^26)`` and puts it in the other class; float64 is exact."""
    return ReLUNetwork.from_rows([([["1/2", "-1/2"], ["-1/2", "1/2"]], [0, 1], "identity")], classes=("a", "b"))


_CANCEL = LabeledData.from_arrays([[2**26 + 2, 2**26], [0, 0]], ["a", "b"], check=False)


# ------------------------------------------------------------------------------ the certificate
def test_certificate_fails_with_a_real_counterexample():
    fnet = lower(_cancelling_net(), "float32")
    cert = fnet.certify(_CANCEL)
    assert not cert.certified and cert.n_wrong == 1 and cert.n_certified == 1
    assert cert.failures[0].startswith("point 0 (label 'a'): an actual float32 evaluation")
    # independently: the float32 network in exact arithmetic on the rounded input ranks 'b' first
    x = [Fraction(float(np.float32(v))) for v in (2**26 + 2, 2**26)]
    y = _exact_float_forward(fnet, x)
    assert y[1] > y[0]
    assert symtrunc.verify(_cancelling_net(), _CANCEL).zero_loss  # the exact network is right
    assert lower(_cancelling_net(), "float64").certify(_CANCEL).certified  # float64 holds 2^26 + 2


def test_certificate_is_independent_of_summation_order_and_fma(worked_data, worked_net):
    """Every random-order float32 evaluation (with or without FMA) stays inside the certified bounds."""
    for structure in ("dense", "auto"):
        fnet = lower(worked_net, "float32", structure=structure)
        cert = fnet.certify(worked_data)
        assert cert.certified
        dense = lower(worked_net, "float32", structure="dense")  # what any runtime multiplies
        rng = random.Random(0)
        X = np.array([[float(v) for v in r] for r in worked_data.X.tolist()])
        for _ in range(20):
            for p, x in enumerate(X):
                y = _f32_forward(dense, x, rng, fma=rng.random() < 0.5).astype(np.float64)
                r = worked_data.y[p]
                assert y[r] - np.delete(y, r).max() >= cert.margin or structure == "auto"
                assert y.argmax() == r


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_certified_bounds_hold_for_random_networks(seed):
    """Random small float32 networks: where the certificate claims a margin and a distance to the
    labels, the exact value of the float network and every sampled evaluation respect them."""
    rng = np.random.default_rng(seed)
    widths = [3, 4, 4, 2]
    layers = []
    for k in range(3):
        W = rng.normal(size=(widths[k + 1], widths[k])) * 3
        b = rng.normal(size=widths[k + 1])
        layers.append(
            (
                [[Fraction(float(np.float32(v))) for v in row] for row in W],
                [Fraction(float(np.float32(v))) for v in b],
                "relu" if k < 2 else "identity",
            )
        )
    net = ReLUNetwork.from_rows(layers, classes=("u", "v"))
    X = rng.integers(-8, 9, size=(12, 3))
    fnet = lower(net, "float32", structure="dense")
    outs = [_exact_float_forward(fnet, [Fraction(int(v)) for v in x]) for x in X]
    labels = ["u" if y[0] > y[1] else "v" for y in outs]
    if len(set(labels)) < 2:
        return
    cert = fnet.certify(LabeledData.from_arrays(X, labels, check=False))
    r = random.Random(seed)
    for p, (x, y) in enumerate(zip(X, outs)):
        j = 0 if labels[p] == "u" else 1
        if cert.certified:
            assert float(y[j] - y[1 - j]) >= cert.margin
        assert max(abs(float(y[i] - (i == j))) for i in range(2)) <= cert.eps
        for _ in range(3):
            yf = _f32_forward(fnet, x.astype(np.float64), r, fma=r.random() < 0.5).astype(np.float64)
            assert np.abs(yf - np.array([float(i == j) for i in range(2)])).max() <= cert.eps
            if cert.certified:
                assert yf[j] - yf[1 - j] >= cert.margin


def test_inputs_rounded_twice_are_covered():
    """Decimal data read into float64 first, then cast to float32, round twice: still covered."""
    data = LabeledData.from_arrays([["0.1", "0.7"], ["0.9", "0.2"]], ["a", "b"])
    net = ReLUNetwork.from_rows([([[-1, 1], [1, -1]], [0, 0], "identity")], classes=("a", "b"))
    cert = lower(net, "float32").certify(data)
    assert cert.certified and cert.eps >= 0.6 - 1e-9


def test_certify_rejects_data_that_do_not_fit(worked_net):
    with pytest.raises(DataError, match="dimension"):
        lower(worked_net, "float32").certify(LabeledData.from_arrays([[1, 2, 3], [3, 2, 1]], [1, 2]))


def test_lower_with_data_certifies_or_refuses(worked_data, worked_net):
    f = lower(worked_net, "float32", data=worked_data)
    assert f.certificate.certified and f.certificate.data_sha256
    with pytest.raises(UncertifiedError, match="NOT certified float32"):
        lower(_cancelling_net(), "float32", data=_CANCEL)
    forced = lower(_cancelling_net(), "float32", data=_CANCEL, force=True)
    assert not forced.certificate.certified


# ------------------------------------------------------------------------------ export
def test_export_refuses_what_it_cannot_certify(tmp_path):
    path = tmp_path / "c.onnx"
    with pytest.raises(UncertifiedError, match=r"c\.onnx not written: NOT certified float32"):
        export(_cancelling_net(), path, dtype="float32", data=_CANCEL)
    assert not path.exists() and not list(tmp_path.iterdir())
    report = export(_cancelling_net(), path, dtype="float32", data=_CANCEL, force=True)
    assert "UNCERTIFIED file (written with --force)" in report.floats
    pytest.importorskip("onnx")
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["symtrunc.float_certificate"])["certified"] is False
    ok = export(_cancelling_net(), tmp_path / "c64.onnx", dtype="float64", data=_CANCEL)
    assert ok.certificate.certified and ok.floats.startswith("certified float64")
    assert "NOT certified: no training data" in export(_cancelling_net(), tmp_path / "n.onnx", dtype="float32").floats


@pytest.mark.parametrize("fmt", ["onnx", "safetensors", "torch", "jax", "npz"])
def test_every_format_stores_the_certificate_and_round_trips(tmp_path, worked_data, worked_net, fmt):
    suffix = {"onnx": ".onnx", "safetensors": ".safetensors", "torch": ".pt", "jax": ".npz", "npz": ".npz"}[fmt]
    if fmt == "torch":  # the "test" extra leaves torch out (CI installs it)
        pytest.importorskip("torch")
    path = tmp_path / f"w{suffix}"
    report = export(worked_net, path, to=fmt, dtype="float32", data=worked_data)
    assert report.certificate.certified and not report.factored
    assert import_network(path) == worked_net
    fnet = load_float_network(path)
    assert fnet.dtype == np.float32 and fnet.classes == worked_net.classes
    assert fnet.certify(worked_data) == report.certificate


def test_factored_layers_compute_the_same_function(tmp_path, worked_data, worked_net):
    split = export_layers(worked_net, "float64", factored=True)
    assert split.factored and len(split.layers) == worked_net.depth + sum(1 for k in split.factors if k)
    # exact arithmetic on the float factors (dyadic here) against the exact network
    fnet = split.network(worked_net.classes)
    for x, y in zip(worked_data.X.tolist(), worked_net.forward(worked_data).tolist()):
        got = _exact_float_forward(fnet, [Fraction(int(v.p), int(v.q)) for v in x])
        assert all(abs(g - Fraction(int(v.p), int(v.q))) < Fraction(1, 2**40) for g, v in zip(got, y))
    for fmt, suffix in (("onnx", ".onnx"), ("safetensors", ".safetensors"), ("torch", ".pt"), ("jax", ".npz")):
        if fmt == "onnx":
            pytest.importorskip("onnx")
        if fmt == "torch" and importlib.util.find_spec("torch") is None:
            continue  # the "test" extra leaves torch out (CI installs it); the other formats still run
        path = tmp_path / f"f{suffix}"
        report = export(worked_net, path, to=fmt, data=worked_data, layers="factored")
        assert report.factored and report.certificate.certified
        assert import_network(path) == worked_net  # the factors are checked exactly
        assert load_float_network(path).certify(worked_data).certified
    with pytest.raises(FormatError, match="npz layout"):
        export(worked_net, tmp_path / "f.npz", to="npz", layers="factored")


def test_huge_layer_scales_are_balanced_exactly(tmp_path, worked_data, worked_net):
    """A cone layer scaled by 2^1200 (the same function) fits no float type until it is rebalanced."""
    pytest.importorskip("onnx")
    s = flint.fmpq(2**1200)
    l0, l1 = worked_net.layers[0], worked_net.layers[1]
    net = ReLUNetwork(
        (Layer(l0.W * s, l0.b * s, "relu"), Layer(l1.W / s, l1.b, "relu")) + worked_net.layers[2:], worked_net.classes
    )
    assert net.forward(worked_data) == worked_net.forward(worked_data)
    path = tmp_path / "big.onnx"
    assert export(net, path, dtype="float32", data=worked_data).certificate.certified
    assert import_network(path) == net
    assert lower(net, "float32", data=worked_data).certificate.certified


# ------------------------------------------------------------------------------ verifying what runs
def _csv(tmp_path: Path, data: LabeledData) -> Path:
    p = tmp_path / "d.csv"
    p.write_text(
        "".join(
            ",".join([*(str(v) for v in row), str(data.classes[j])]) + "\n" for row, j in zip(data.X.tolist(), data.y)
        ),
        encoding="utf-8",
    )
    return p


def test_verify_checks_the_floats_in_the_file(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    csv = _csv(tmp_path, _CANCEL)
    exact = tmp_path / "net.json"
    symtrunc.save_network(_cancelling_net(), exact)
    good, bad = tmp_path / "good.onnx", tmp_path / "bad.onnx"
    assert main(["export", str(exact), "--dtype", "float32", "--data", str(csv), "-o", str(bad)]) == 1
    assert "bad.onnx not written" in capsys.readouterr().err and not bad.exists()
    assert main(["export", str(exact), "--dtype", "float32", "--data", str(csv), "--force", "-o", str(bad), "-q"]) == 0
    assert main(["info", str(bad)]) == 0  # info shows the floats that run, then the exact record
    out = capsys.readouterr().out
    assert out.startswith("floats:      float32 weights, what runs:") and "exact network recorded" in out
    # the exact rationals of the metadata pass; the floats that run do not
    assert main(["import", str(bad), "-o", str(tmp_path / "b.json")]) == 0
    assert "not the float weights that run" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "b.json"), str(csv), "-q"]) == 0
    cert = tmp_path / "cert.json"
    assert main(["verify", str(bad), str(csv), "--certificate", str(cert)]) == 1
    assert not cert.exists()  # nothing is written on failure
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.onnx: the float32 weights stored in the file (what runs)" in err[0]
    assert "misclassified by symtrunc's float32 evaluation" in err[0]
    # a float64 export is certified and verifies; a deliberately broken copy does not
    assert main(["export", str(exact), "--data", str(csv), "-o", str(good), "-q"]) == 0
    assert main(["verify", str(good), str(csv), "--certificate", str(cert)]) == 0
    assert "verified:  certified float64" in capsys.readouterr().out
    doc = json.loads(cert.read_text())
    assert doc["certified"] is True and len(doc["weights_sha256"]) == 64
    model = onnx.load(str(good))
    W = numpy_helper.to_array(model.graph.initializer[0]).copy()
    W[[0, 1]] = W[[1, 0]]  # swap the two outputs
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(W, name=model.graph.initializer[0].name))
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))
    assert main(["verify", str(broken), str(csv)]) == 1
    assert "broken.onnx: the float64 weights stored in the file" in capsys.readouterr().err
    with pytest.raises(FormatError, match="changed after export"):
        import_network(broken)


# ------------------------------------------------------------------------------ PyTorch and JAX
def test_torch_models_keep_the_file_dtype_and_accept_both_input_dtypes(tmp_path, worked_data, worked_net):
    torch = pytest.importorskip("torch")
    from symtrunc.io.torch import load_sequential, to_torch

    X = np.array([[float(v) for v in r] for r in worked_data.X.tolist()])
    for dtype, tdt in (("float64", torch.float64), ("float32", torch.float32)):
        for suffix in (".pt", ".safetensors"):
            path = tmp_path / f"m_{dtype}{suffix}"
            export(worked_net, path, dtype=dtype)
            model = load_sequential(path)
            assert isinstance(model, torch.nn.Sequential)
            assert all(p.dtype == tdt for p in model.parameters())
            with torch.no_grad():
                for x in (torch.from_numpy(X), torch.from_numpy(X.astype(np.float32))):
                    y = model(x)
                    assert y.dtype == tdt and (y.argmax(1).numpy() == np.array(worked_data.y)).all()
        model = to_torch(worked_net, dtype)
        with torch.no_grad():
            assert model(torch.from_numpy(X.astype(np.float32))).dtype == tdt
    with pytest.raises(FormatError, match="load_sequential reads"):
        load_sequential(tmp_path / "x.onnx")


def test_torch_loads_factored_files(tmp_path, worked_data, worked_net):
    torch = pytest.importorskip("torch")
    from symtrunc.io.torch import load_sequential

    path = tmp_path / "f.pt"
    export(worked_net, path, data=worked_data, layers="factored")
    model = load_sequential(path)
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in model)
    assert n_linear == len(export_layers(worked_net, factored=True).layers)
    with torch.no_grad():
        y = model(torch.tensor([[float(v) for v in r] for r in worked_data.X.tolist()]))
    assert (y.argmax(1).numpy() == np.array(worked_data.y)).all()


def test_jax_float64_needs_x64():
    from symtrunc.io.jax import check_x64

    check_x64("float32", False)
    with pytest.raises(DataError, match="jax_enable_x64"):
        check_x64("float64", False, "net.npz")


def test_load_jax_without_jax(tmp_path, worked_net, monkeypatch):
    from symtrunc.errors import MissingDependencyError
    from symtrunc.io.jax import load_jax

    monkeypatch.setitem(sys.modules, "jax", None)
    export(worked_net, tmp_path / "j.npz", to="jax")
    with pytest.raises(MissingDependencyError, match="jax"):
        load_jax(tmp_path / "j.npz")


# ------------------------------------------------------------------------------ the data sets of the issue
def _sk(name: str) -> LabeledData:
    datasets = pytest.importorskip("sklearn.datasets")
    d = getattr(datasets, name)()
    return LabeledData.from_arrays(d.data, d.target.tolist())


def _onnx_right(path: Path, data: LabeledData, classes: tuple, dtype: str) -> int:
    ort = pytest.importorskip("onnxruntime")
    X = np.array([[float(v) for v in r] for r in data.X.tolist()]).astype(dtype)
    y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    return int((np.array(classes)[y.argmax(1)] == np.array([data.classes[j] for j in data.y])).sum())


def test_wine_float32_export_is_certified_and_right_in_onnxruntime(tmp_path, wine_data, robust_wine):
    pytest.importorskip("onnx")
    path = tmp_path / "wine32.onnx"
    report = export(robust_wine, path, dtype="float32", data=wine_data)
    assert report.certificate.certified and report.certificate.margin > 0.5
    assert _onnx_right(path, wine_data, robust_wine.classes, "float32") == wine_data.N
    assert lower(robust_wine, "float32", data=wine_data).certificate.certified
    # whatever the default construction gives, a certificate never claims what onnxruntime denies
    net = symtrunc.construct(wine_data)
    report = export(net, tmp_path / "default32.onnx", dtype="float32", data=wine_data, force=True)
    if report.certificate.certified:
        assert _onnx_right(tmp_path / "default32.onnx", wine_data, net.classes, "float32") == wine_data.N


def test_breast_cancer_certificates_agree_with_onnxruntime(tmp_path):
    """The issue's network: float64 is certified; float32 is certified only if onnxruntime agrees,
    and an actual misclassification is reported as such."""
    pytest.importorskip("onnx")
    data = _sk("load_breast_cancer")
    net = symtrunc.construct(data)
    assert export(net, tmp_path / "bc64.onnx", data=data).certificate.certified
    assert _onnx_right(tmp_path / "bc64.onnx", data, net.classes, "float64") == data.N
    report = export(net, tmp_path / "bc32.onnx", dtype="float32", data=data, force=True)
    right = _onnx_right(tmp_path / "bc32.onnx", data, net.classes, "float32")
    cert = report.certificate
    assert right == data.N or not cert.certified
    if not cert.certified:
        with pytest.raises(UncertifiedError, match="bc32b.onnx not written"):
            export(net, tmp_path / "bc32b.onnx", dtype="float32", data=data)


@pytest.mark.slow
def test_digits_float32_export_is_certified_and_right_in_onnxruntime(tmp_path):
    pytest.importorskip("onnx")
    data = _sk("load_digits")
    net = symtrunc.construct(data, robust="float32")
    path = tmp_path / "digits32.onnx"
    report = export(net, path, dtype="float32", data=data)
    assert report.factored and report.certificate.certified
    assert _onnx_right(path, data, net.classes, "float32") == data.N
    assert import_network(path) == net


def test_weights_sha256_names_the_floats_that_run(tmp_path, capsys):
    """The float certificate's ``weights_sha256`` follows its documented format (recomputed here
    with hashlib from the arrays of the file), is the same for the same floats in two formats,
    and changes when one float does."""
    import hashlib

    pytest.importorskip("onnx")
    data = LabeledData.from_arrays([[2, 0], [3, 1], [0, 2], [1, 3]], ["a", "a", "b", "b"])
    exact, csv = tmp_path / "n.json", tmp_path / "d.csv"
    csv.write_text("x,y,label\n2,0,a\n3,1,a\n0,2,b\n1,3,b\n")
    symtrunc.save_network(symtrunc.construct(data), exact)
    digests = {}
    for name in ("f.onnx", "f.npz"):
        out, cert = tmp_path / name, tmp_path / f"{name}.cert.json"
        assert main(["export", str(exact), "--layers", "plain", "-o", str(out), "-q"]) == 0
        assert main(["verify", str(out), str(csv), "--certificate", str(cert), "-q"]) == 0
        digests[name] = json.loads(cert.read_text())["weights_sha256"]
    fnet = load_float_network(tmp_path / "f.npz")
    h = hashlib.sha256(b"symtrunc.float_weights/2 float64\n")
    for W, b, act in zip(fnet.weights, fnet.biases, fnet.activations):
        h.update(f"W {W.shape[0]} {W.shape[1]}\n".encode() + np.asarray(W, dtype="<f8").tobytes())
        h.update(f"b {b.shape[0]}\n".encode() + np.asarray(b, dtype="<f8").tobytes() + f"{act}\n".encode())
    assert digests["f.onnx"] == digests["f.npz"] == h.hexdigest()
    arrays = dict(np.load(tmp_path / "f.npz"))
    arrays["b0"] = arrays["b0"] + 2.0**-40  # one float moved; still certified
    np.savez(tmp_path / "g.npz", **arrays)
    cert = tmp_path / "g.cert.json"
    assert main(["verify", str(tmp_path / "g.npz"), str(csv), "--certificate", str(cert), "-q"]) == 0
    assert json.loads(cert.read_text())["weights_sha256"] != h.hexdigest()
