"""Export to ONNX / safetensors / PyTorch / JAX / npz / JSON and import of trained networks.

Optional packages (onnx, onnxruntime, safetensors, torch) are skipped when missing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import warnings
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symtrunc
from symtrunc.cli import io as cli_io
from symtrunc.errors import DataError, FormatError, MissingDependencyError
from symtrunc.exact.rounding import round_q
from symtrunc.io.export import FORMATS, ExportReport, atomic_write, export, float_layers
from symtrunc.io.json import load_network
from symtrunc.io.network_files import read_float_network
from symtrunc.io.trained import import_network
from symtrunc.network import ReLUNetwork

SUFFIX = {"onnx": ".onnx", "safetensors": ".safetensors", "torch": ".pt", "jax": ".npz", "npz": ".npz", "json": ".json"}
NEEDS = {"onnx": "onnx", "safetensors": "safetensors", "torch": "torch"}


def _need(fmt: str) -> None:
    if fmt in NEEDS:
        pytest.importorskip(NEEDS[fmt])


def _has(mod: str) -> bool:
    try:
        __import__(mod)
    except ImportError:
        return False
    return True


def _dyadic_net(seed: int = 0, widths=(3, 4, 4, 2)) -> ReLUNetwork:
    """Weights k/4 and biases k/8 with small k: every float64 intermediate is exact."""
    rng = np.random.default_rng(seed)
    spec = []
    for k in range(len(widths) - 1):
        W = [[Fraction(int(v), 4) for v in row] for row in rng.integers(-8, 9, size=(widths[k + 1], widths[k]))]
        b = [Fraction(int(v), 8) for v in rng.integers(-8, 9, size=widths[k + 1])]
        spec.append((W, b, "relu" if k < len(widths) - 2 else "identity"))
    return ReLUNetwork.from_rows(spec)


def _dyadic_points(seed: int = 1, n: int = 40, dim: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-32, 33, size=(n, dim)) / 8.0


def _exact_rows(M: flint.fmpq_mat) -> list[list[Fraction]]:
    return [[Fraction(int(v.p), int(v.q)) for v in row] for row in M.tolist()]


def _as_fractions(A: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(v) for v in row] for row in A.astype(np.float64).tolist()]


@pytest.fixture(scope="module")
def wine():
    data = symtrunc.load_wine()
    return data, symtrunc.construct(data)


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_exact(tmp_path, wine, fmt, dtype):
    _need(fmt)
    data, net = wine
    path = tmp_path / f"net{SUFFIX[fmt]}"
    report = export(net, path, to=fmt, dtype=dtype)
    assert isinstance(report, ExportReport) and report.path == path and report.format == fmt
    assert report.exact and report.parameters == net.parameter_count().total
    back = import_network(path)
    assert back == net  # layers equal exactly
    assert back.classes == net.classes
    assert back.construction["order"] == net.construction["order"]
    if fmt != "json":
        assert report.dtype == dtype and report.max_weight_error > 0
        floats = import_network(path, exact=False)  # the float weights, rationalized
        arrays, err = float_layers(net, dtype)
        assert err == report.max_weight_error
        for layer, (W, b) in zip(floats.layers, arrays):
            assert _exact_rows(layer.W) == _as_fractions(W)
            assert _exact_rows(layer.b) == _as_fractions(b.reshape(-1, 1))
        assert floats.construction["rationalized"] and floats.construction["dtype"] == dtype
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_wine_rounding_errors(wine):
    """Measured: float64 keeps every weight to 9e-13, float32 only to 5e-4 (proline ~ 10^3)."""
    _, net = wine
    _, e64 = float_layers(net, "float64")
    _, e32 = float_layers(net, "float32")
    assert 0 < e64 < flint.fmpq(1, 10**12) and 0 < e32 < flint.fmpq(1, 10**3)


def test_dyadic_weights_round_exactly(tmp_path):
    report = export(_dyadic_net(), tmp_path / "d.npz", dtype="float32")
    assert report.max_weight_error == 0
    assert "every weight is representable" in str(report)


def test_export_infers_format_and_rejects_unknown(tmp_path, worked_net):
    assert export(worked_net, tmp_path / "n.npz").format == "npz"
    assert export(worked_net, tmp_path / "n.json").format == "json"
    assert load_network(tmp_path / "n.json") == worked_net
    with pytest.raises(FormatError, match="cannot tell the export format"):
        export(worked_net, tmp_path / "n.bin")
    with pytest.raises(FormatError, match="unknown export format 'keras'"):
        export(worked_net, tmp_path / "n.h5", to="keras")
    with pytest.raises(DataError, match="unsupported dtype"):
        export(worked_net, tmp_path / "n.npz", dtype="float16")
    with pytest.raises(FormatError, match="no such directory"):
        export(worked_net, tmp_path / "nope" / "n.npz")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "net.npz"
    path.write_bytes(b"old")
    big = ReLUNetwork.from_rows([([[10**40]], [0], "identity")])
    with pytest.raises(DataError, match="too large for float32"):
        export(big, path, dtype="float32")
    assert path.read_bytes() == b"old"
    assert atomic_write(path, "new").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]


def test_round_q_float32_is_correctly_rounded():
    assert round_q(flint.fmpq(1, 3), "float32") == float(np.float32(1 / 3))
    # 1 + 2^-24 + 2^-60 is just above a float32 tie: the float64 rounding (1 + 2^-24) would
    # then round to even (1.0) -- double rounding; the exact value rounds up.
    q = flint.fmpq(2**60 + 2**36 + 1, 2**60)
    assert round_q(q, "float32") == 1 + 2**-23
    assert round_q(flint.fmpq(-(2**24 + 1)), "float32") == -(2**24)


@settings(max_examples=80, deadline=None)
@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=10**9))
def test_round_q_is_nearest(fr):
    q = flint.fmpq(fr.numerator, fr.denominator)
    for dtype, ftype in (("float64", np.float64), ("float32", np.float32)):
        f = ftype(round_q(q, dtype))
        err = abs(Fraction(float(f)) - fr)
        for nb in (np.nextafter(f, ftype(-np.inf)), np.nextafter(f, ftype(np.inf))):
            assert err <= abs(Fraction(float(nb)) - fr)


# ------------------------------------------------------------------------------ running the files
def _ort_run(path: Path, X: np.ndarray) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": X})[0]


def test_onnx_model_structure(tmp_path, worked_net):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "n.onnx"
    export(worked_net, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 10 and model.opset_import[0].version == 17
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    assert [t.name for t in model.graph.initializer] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    assert all(
        n.attribute[0].name == "transB" and n.attribute[0].i == 1 for n in model.graph.node if n.op_type == "Gemm"
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_onnxruntime_is_bit_exact_on_dyadic_networks(tmp_path, seed):
    net = _dyadic_net(seed)
    X = _dyadic_points(seed + 10)
    path = tmp_path / "d.onnx"
    pytest.importorskip("onnx")
    export(net, path)
    y = _ort_run(path, X)
    assert y.dtype == np.float64
    assert _as_fractions(y) == _exact_rows(net.forward(X))  # bit for bit


def test_onnxruntime_on_constructed_networks(tmp_path, wine, worked_data, worked_net):
    """Non-dyadic weights: ORT agrees with the float network's own exact outputs and the labels."""
    pytest.importorskip("onnx")
    for data, net in [(worked_data, worked_net), wine]:
        path = tmp_path / "c.onnx"
        export(net, path)
        X = np.array([[float(v) for v in row] for row in data.X.tolist()])
        y = _ort_run(path, X)
        own = import_network(path, exact=False).forward(X)  # the float network, exactly
        diff = max(abs(Fraction(float(a)) - b) for ra, rb in zip(y.tolist(), _exact_rows(own)) for a, b in zip(ra, rb))
        assert diff < Fraction(1, 10**9)
        assert (y.argmax(axis=1) == np.array(data.y)).all()
        assert np.abs(y - np.eye(data.Q)[list(data.y)]).max() < 1e-9  # the exact outputs are one-hot


def test_onnxruntime_float32(tmp_path, worked_data, worked_net):
    pytest.importorskip("onnx")
    path = tmp_path / "f.onnx"
    export(worked_net, path, dtype="float32")
    y = _ort_run(path, np.array([[float(v) for v in r] for r in worked_data.X.tolist()], dtype=np.float32))
    assert y.dtype == np.float32 and (y.argmax(axis=1) == np.array(worked_data.y)).all()


def test_torch_module_and_state_dict(tmp_path, worked_data, worked_net):
    torch = pytest.importorskip("torch")
    from symtrunc.io.torch import to_torch

    net = _dyadic_net(3)
    X = _dyadic_points(4)
    model = to_torch(net)
    assert isinstance(model, torch.nn.Sequential) and len(model) == 5
    with torch.no_grad():
        y = model(torch.from_numpy(X)).numpy()
    assert _as_fractions(y) == _exact_rows(net.forward(X))  # bit for bit on dyadic data
    # the .pt file loads into a plain nn.Sequential
    path = tmp_path / "n.pt"
    export(worked_net, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sd = torch.load(path, weights_only=True)
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    m = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2)
    ).double()
    m.load_state_dict(sd)
    with torch.no_grad():
        out = m(torch.tensor([[float(v) for v in r] for r in worked_data.X.tolist()], dtype=torch.float64))
    assert (out.argmax(1).numpy() == np.array(worked_data.y)).all()


def test_torch_agrees_with_onnxruntime(tmp_path, wine):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from symtrunc.io.torch import to_torch

    data, net = wine
    X = np.array([[float(v) for v in row] for row in data.X.tolist()])
    export(net, tmp_path / "w.onnx")
    with torch.no_grad():
        yt = to_torch(net)(torch.from_numpy(X)).numpy()
    assert np.abs(yt - _ort_run(tmp_path / "w.onnx", X)).max() < 1e-9
    assert (yt.argmax(1) == np.array(data.y)).all()


def test_safetensors_layout(tmp_path, worked_net):
    pytest.importorskip("safetensors")
    from safetensors import safe_open

    path = tmp_path / "n.safetensors"
    export(worked_net, path)
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
        keys = sorted(f.keys())
    assert keys == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    assert meta["format"] == "pt" and json.loads(meta["symtrunc.network"])["format"] == "symtrunc.network"


def test_jax_and_npz_layouts(tmp_path, worked_net):
    export(worked_net, tmp_path / "j.npz", to="jax")
    export(worked_net, tmp_path / "n.npz", to="npz")
    with np.load(tmp_path / "j.npz") as z:
        W0 = z["layers/0/weight"]
        assert np.array_equal(z["params/Dense_0/kernel"], W0.T)
        assert list(z["widths"]) == [2, 2, 2, 2] and list(z["activations"]) == ["relu", "relu", "identity"]
    with np.load(tmp_path / "n.npz") as z:
        num, den = z["W0_num"], z["W0_den"]
        exact = [[Fraction(int(a), int(b)) for a, b in zip(r1, r2)] for r1, r2 in zip(num, den)]
        assert exact == _exact_rows(worked_net.layers[0].W)
        assert json.loads(str(z["symtrunc.meta"]))["activations"] == ["relu", "relu", "identity"]


def test_npz_big_rationals_are_strings(tmp_path, wine):
    _, net = wine
    export(net, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz") as z:
        assert z["W3_num"].dtype.kind == "U"  # 156-bit denominators do not fit int64
    assert import_network(tmp_path / "w.npz") == net


# ------------------------------------------------------------------------------ foreign files
def _random_layers(widths, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(widths[k + 1], widths[k])).astype(dtype), rng.normal(size=widths[k + 1]).astype(dtype))
        for k in range(len(widths) - 1)
    ]


def _check_floats(net: ReLUNetwork, layers) -> None:
    assert net.depth == len(layers)
    for layer, (W, b) in zip(net.layers, layers):
        assert _exact_rows(layer.W) == _as_fractions(W)
        assert _exact_rows(layer.b) == _as_fractions(np.asarray(b).reshape(-1, 1))
    assert [layer.activation for layer in net.layers] == ["relu"] * (len(layers) - 1) + ["identity"]


def test_import_plain_npz(tmp_path):
    layers = _random_layers((3, 5, 2))
    np.savez(tmp_path / "p.npz", **{f"{n}{k}": a for k, (W, b) in enumerate(layers) for n, a in (("W", W), ("b", b))})
    net = import_network(tmp_path / "p.npz")
    _check_floats(net, layers)
    assert net.construction["dtype"] == "float32"
    np.savez(
        tmp_path / "s.npz",
        **{f"net.{2 * k}.{n}": a for k, (W, b) in enumerate(layers) for n, a in (("weight", W), ("bias", b))},
    )
    _check_floats(import_network(tmp_path / "s.npz"), layers)


def test_import_flax_and_equinox_npz(tmp_path):
    layers = _random_layers((4, 3, 2), seed=1, dtype=np.float64)
    np.savez(
        tmp_path / "flax.npz",
        **{f"params/Dense_{k}/{n}": a for k, (W, b) in enumerate(layers) for n, a in (("kernel", W.T), ("bias", b))},
    )
    np.savez(
        tmp_path / "eqx.npz",
        **{f"layers/{k}/{n}": a for k, (W, b) in enumerate(layers) for n, a in (("weight", W), ("bias", b))},
    )
    _check_floats(import_network(tmp_path / "flax.npz"), layers)
    _check_floats(import_network(tmp_path / "eqx.npz"), layers)


def test_import_foreign_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    layers = _random_layers((3, 4, 4, 2), seed=2)
    st.save_file(
        {f"{2 * k}.{n}": a for k, (W, b) in enumerate(layers) for n, a in (("weight", W), ("bias", b))},
        str(tmp_path / "m.safetensors"),
    )
    _check_floats(import_network(tmp_path / "m.safetensors"), layers)
    with pytest.raises(FormatError, match="carries no exact rationals"):
        import_network(tmp_path / "m.safetensors", exact=True)


@pytest.mark.parametrize("length", [0x0980, 0x097B, 0x0A08])
def test_safetensors_whose_header_length_looks_like_a_pickle_or_json(tmp_path, length):
    """The 8-byte header length opens the file: low bytes 0x80 (a pickle's first byte) and 0x7b
    ("{") must not make it a torch or JSON file."""
    st = pytest.importorskip("safetensors.numpy")
    layers = _random_layers((3, 4, 2), seed=5)
    plain = tmp_path / "plain.safetensors"
    st.save_file(
        {f"{2 * k}.{n}": a for k, (W, b) in enumerate(layers) for n, a in (("weight", W), ("bias", b))}, str(plain)
    )
    raw = plain.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert n <= length
    padded = tmp_path / "m.safetensors"  # the same header, padded with spaces (allowed by the format)
    padded.write_bytes(length.to_bytes(8, "little") + raw[8 : 8 + n] + b" " * (length - n) + raw[8 + n :])
    assert padded.read_bytes()[0] == length & 0xFF
    _check_floats(import_network(padded), layers)
    fnet = read_float_network(padded)  # what verify and info read
    assert all((W == a).all() for W, (a, _) in zip(fnet.weights, layers))


def test_import_trained_torch_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    torch.save({"epoch": 3, "model_state_dict": model.state_dict()}, tmp_path / "ckpt.pt")
    net = import_network(tmp_path / "ckpt.pt")
    X = torch.tensor(_dyadic_points(5), dtype=torch.float32)
    with torch.no_grad():
        y = model(X).numpy().astype(np.float64)
    exact = np.array([[float(v) for v in r] for r in net.forward(X.numpy()).tolist()])
    assert np.abs(exact - y).max() < 1e-5  # float32 rounding only
    layers = [
        (model[0].weight.detach().numpy(), model[0].bias.detach().numpy()),
        (model[2].weight.detach().numpy(), model[2].bias.detach().numpy()),
    ]
    _check_floats(net, layers)


def test_import_onnx_written_by_torch(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    path = tmp_path / "torch.onnx"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated but needs no onnxscript
            torch.onnx.export(model, (torch.zeros(1, 3),), str(path), dynamo=False)
    except Exception as e:  # pragma: no cover - exporter API changes between torch releases
        pytest.skip(f"torch.onnx.export unavailable: {e}")
    net = import_network(path)
    _check_floats(
        net,
        [
            (model[0].weight.detach().numpy(), model[0].bias.detach().numpy()),
            (model[2].weight.detach().numpy(), model[2].bias.detach().numpy()),
        ],
    )


def _onnx_model(nodes, inits, d_in, d_out, out="y"):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", d_in])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", d_out])],
        initializer=[numpy_helper.from_array(a, name=n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    return onnx, model


def test_import_onnx_matmul_add_chain(tmp_path):
    from_onnx = pytest.importorskip("onnx")
    from onnx import helper

    (W0, b0), (W1, b1) = _random_layers((3, 4, 2), seed=3)
    nodes = [
        helper.make_node("MatMul", ["x", "K0"], ["m0"]),
        helper.make_node("Add", ["m0", "B0"], ["a0"]),
        helper.make_node("Relu", ["a0"], ["h0"]),
        helper.make_node("Gemm", ["h0", "K1", "B1"], ["y"], transB=0),
    ]
    onnx, model = _onnx_model(nodes, {"K0": W0.T.copy(), "B0": b0, "K1": W1.T.copy(), "B1": b1}, 3, 2)
    from_onnx.save(model, str(tmp_path / "mm.onnx"))
    net = import_network(tmp_path / "mm.onnx")
    _check_floats(net, [(W0, b0), (W1, b1)])
    X = _dyadic_points(6).astype(np.float32)
    y = _ort_run(tmp_path / "mm.onnx", X)
    exact = np.array([[float(v) for v in r] for r in net.forward(X).tolist()])
    assert np.abs(exact - y).max() < 1e-5


def test_import_onnx_scaled_gemm_and_identity_layers(tmp_path):
    pytest.importorskip("onnx")
    from onnx import helper

    W = np.array([[1.0, 2.0], [0.5, -1.0]], dtype=np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["g0"], transB=1, alpha=2.0, beta=0.5),
        helper.make_node("Gemm", ["g0", "W"], ["g1"], transB=1),
        helper.make_node("Relu", ["g1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "W"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["y"]),
    ]
    onnx, model = _onnx_model(nodes, {"W": W, "b": np.array([1.0, 0.0], dtype=np.float32)}, 2, 2)
    onnx.save(model, str(tmp_path / "c.onnx"))
    net = import_network(tmp_path / "c.onnx")
    assert [layer.activation for layer in net.layers] == ["identity", "relu", "identity"]
    Wq = flint.fmpq_mat([[1, 2], [flint.fmpq(1, 2), -1]])
    assert net.layers[0].W == Wq * 2 and net.layers[0].b == flint.fmpq_mat([[flint.fmpq(1, 2)], [0]])
    assert net.layers[1].W == Wq and net.layers[2].W == Wq.transpose()
    X = _dyadic_points(7, dim=2).astype(np.float32)
    assert (
        np.abs(
            _ort_run(tmp_path / "c.onnx", X) - np.array([[float(v) for v in r] for r in net.forward(X).tolist()])
        ).max()
        < 1e-4
    )


def test_mixed_activations_round_trip(tmp_path):
    """An identity hidden layer and a final ReLU survive every format (structure and values)."""
    net = ReLUNetwork.from_rows(
        [([[1, -1], [2, 0]], [0, "1/2"], "identity"), ([[1, 1]], [-1], "relu"), ([[2]], [0], "relu")]
    )
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])
    for fmt in ("onnx", "safetensors", "torch", "jax", "npz"):
        if fmt in NEEDS and not _has(NEEDS[fmt]):
            continue
        path = tmp_path / f"m{SUFFIX[fmt]}"
        export(net, path, to=fmt)
        assert import_network(path) == net
        assert import_network(path, exact=False).layers == net.layers  # dyadic: floats are exact
    if _has("onnx") and _has("onnxruntime"):
        assert _as_fractions(_ort_run(tmp_path / "m.onnx", X)) == _exact_rows(net.forward(X))
    if _has("torch"):
        import torch

        from symtrunc.io.torch import to_torch

        with torch.no_grad():
            y = to_torch(net)(torch.from_numpy(X)).numpy()
        assert _as_fractions(y) == _exact_rows(net.forward(X))


# ------------------------------------------------------------------------------ robustness
CORRUPTIONS = {
    "truncated": lambda b: b[: len(b) // 2],
    "header only": lambda b: b[:10],
    "garbage": lambda b: bytes((i * 37 + 11) % 256 for i in range(300)),
    "empty": lambda b: b"",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_files_give_one_line_errors(tmp_path, worked_net, fmt, kind):
    _need(fmt)
    good = tmp_path / f"good{SUFFIX[fmt]}"
    export(worked_net, good, to=fmt)
    bad = tmp_path / f"bad{SUFFIX[fmt]}"
    bad.write_bytes(CORRUPTIONS[kind](good.read_bytes()))
    with pytest.raises(FormatError) as e:
        import_network(bad)
    msg = str(e.value)
    assert str(bad) in msg and "\n" not in msg and len(msg) < 300


@pytest.mark.parametrize("suffix", [".pt", ".safetensors", ".npz"])
def test_text_under_a_binary_extension_is_not_called_onnx(tmp_path, suffix):
    if suffix == ".pt":  # without torch a .pt file asks for torch first (test_missing_dependency)
        pytest.importorskip("torch")
    bad = tmp_path / f"x{suffix}"
    bad.write_text("hello,world\n1,2\n")
    with pytest.raises(FormatError) as e:
        import_network(bad)
    assert "ONNX" not in str(e.value) and str(bad) in str(e.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        import_network(tmp_path / "none.onnx")
    with pytest.raises(FormatError, match="is a directory"):
        import_network(tmp_path)


def test_nan_weights_are_refused(tmp_path):
    W = np.array([[1.0, np.nan], [0.0, 1.0]])
    np.savez(tmp_path / "nan.npz", W0=W, b0=np.zeros(2), W1=np.ones((1, 2)), b1=np.zeros(1))
    with pytest.raises(FormatError, match=r"nan.npz: tensor 'W0' has a NaN or infinite entry at index \(0, 1\)"):
        import_network(tmp_path / "nan.npz")
    np.savez(tmp_path / "inf.npz", W0=np.eye(2), b0=np.array([0.0, np.inf]))
    with pytest.raises(FormatError, match="inf.npz: tensor 'b0' has a NaN or infinite entry at index 1"):
        import_network(tmp_path / "inf.npz")
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"0.weight": W}, str(tmp_path / "nan.safetensors"))
    with pytest.raises(FormatError, match="nan.safetensors: tensor '0.weight' has a NaN"):
        import_network(tmp_path / "nan.safetensors")


def test_wrong_shapes_are_refused(tmp_path):
    np.savez(tmp_path / "s.npz", W0=np.ones((3, 2)), b0=np.zeros(3), W1=np.ones((1, 4)))
    with pytest.raises(
        FormatError,
        match=r"s.npz: wrong shapes: layer 2 \('W1'\) takes 4 inputs but layer 1 "
        r"\('W0'\) has 3 outputs",
    ):
        import_network(tmp_path / "s.npz")
    np.savez(tmp_path / "b.npz", W0=np.ones((3, 2)), b0=np.zeros(2))
    with pytest.raises(FormatError, match="bias of layer 1"):
        import_network(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", **{"0.weight": np.ones((2, 2, 3))})
    with pytest.raises(FormatError, match="only Linear layers"):
        import_network(tmp_path / "c.npz")
    np.savez(tmp_path / "d.npz", X=np.ones((2, 2)), y=np.zeros(2))
    with pytest.raises(FormatError, match="no recognizable weights"):
        import_network(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", W0=np.ones((2, 2)), W2=np.ones((2, 2)))
    with pytest.raises(FormatError, match="without gaps"):
        import_network(tmp_path / "e.npz")


def test_object_arrays_are_refused(tmp_path):
    np.savez(tmp_path / "o.npz", W0=np.array([[Fraction(1, 3)]], dtype=object))
    with pytest.raises(FormatError, match="object arrays"):
        import_network(tmp_path / "o.npz")


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh", "Conv", "Softmax"])
def test_non_relu_graphs_are_refused(tmp_path, op):
    pytest.importorskip("onnx")
    from onnx import helper

    W = np.ones((2, 2), dtype=np.float32)
    attrs = {"axis": 1} if op == "Softmax" else {}
    nodes = [helper.make_node("Gemm", ["x", "W"], ["g"], transB=1), helper.make_node(op, ["g"], ["y"], **attrs)]
    if op == "Conv":
        nodes[1] = helper.make_node("Conv", ["g", "W"], ["y"])
    onnx, model = _onnx_model(nodes, {"W": W}, 2, 2)
    path = tmp_path / f"{op}.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(FormatError, match=f"{op}.onnx: unsupported operator '{op}'"):
        import_network(path)


def test_branching_graph_is_refused(tmp_path):
    pytest.importorskip("onnx")
    from onnx import helper

    W = np.ones((2, 2), dtype=np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["h"]),
        helper.make_node("Add", ["h", "g"], ["y"]),
    ]
    onnx, model = _onnx_model(nodes, {"W": W}, 2, 2)
    (tmp_path / "br.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(FormatError, match="does not continue the chain"):
        import_network(tmp_path / "br.onnx")


@pytest.mark.parametrize("fmt", ["onnx", "safetensors", "npz"])
def test_stale_exact_metadata_is_detected(tmp_path, worked_net, fmt):
    """Float weights edited after export (fine-tuning): the exact copy no longer applies."""
    _need(fmt)
    path = tmp_path / f"n{SUFFIX[fmt]}"
    export(worked_net, path, to=fmt)
    if fmt == "onnx":
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        t = model.graph.initializer[0]
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) + 1.0, name=t.name))
        path.write_bytes(model.SerializeToString())
    elif fmt == "safetensors":
        from safetensors import safe_open
        from safetensors.numpy import save_file

        with safe_open(str(path), framework="np") as f:
            meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
        tensors["0.weight"] = tensors["0.weight"] + 1.0
        save_file(tensors, str(path), metadata=meta)
    else:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["W0"] = arrays["W0"] + 1.0
        np.savez(path, **arrays)
    with pytest.raises(FormatError, match="float weights differ from the exact rationals"):
        import_network(path)
    edited = import_network(path, exact=False)
    W = worked_net.layers[0].W
    assert edited.layers[0].W[0, 1] == flint.fmpq(*(round_q(W[0, 1]) + 1.0).as_integer_ratio())
    assert edited.layers[1].W == worked_net.layers[1].W  # integer weights: exact in floats


def test_missing_optional_package_message(monkeypatch, tmp_path, worked_net):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"needs the 'onnx' package: pip install \"symtrunc\[onnx\]\""):
        export(worked_net, tmp_path / "n.onnx")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(MissingDependencyError, match=r"pip install \"symtrunc\[safetensors\]\""):
        export(worked_net, tmp_path / "n.safetensors")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"pip install \"symtrunc\[torch\]\""):
        export(worked_net, tmp_path / "n.pt")


def test_format_sniffing_without_suffix(tmp_path, worked_net):
    for fmt in ("npz", "json", "safetensors", "onnx", "torch"):
        _need(fmt)
        path = tmp_path / f"net_{fmt}.{fmt}"
        export(worked_net, path, to=fmt)
        plain = tmp_path / f"noext_{fmt}"
        plain.write_bytes(path.read_bytes())
        assert import_network(plain) == worked_net


# ------------------------------------------------------------------------------ CLI
def _cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="symtrunc")
    sub = p.add_subparsers()
    cli_io.register(sub)
    args = p.parse_args([str(a) for a in argv])
    return args.func(args)


def test_cli_export_import(tmp_path, capsys, worked_net):
    src = tmp_path / "net.json"
    symtrunc.save_network(worked_net, src)
    assert _cli(["export", src, "--to", "npz", "-o", tmp_path / "n.npz"]) == 0
    out = capsys.readouterr().out
    assert "npz float64" in out and "max weight rounding error" in out
    assert _cli(["export", src, "--to", "jax", "--dtype", "float32", "-o", tmp_path / "j.npz", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert _cli(["import", tmp_path / "n.npz", "-o", tmp_path / "back.json"]) == 0
    assert "recovered the exact rationals" in capsys.readouterr().out
    assert load_network(tmp_path / "back.json") == worked_net
    assert _cli(["import", tmp_path / "j.npz", "--floats", "-o", tmp_path / "f.json"]) == 0
    assert "rationalized float32 weights" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _cli(["export", src, "--to", "keras", "-o", tmp_path / "x"])
    with pytest.raises(FormatError, match="no such file"):
        _cli(["import", tmp_path / "missing.onnx", "-o", tmp_path / "m.json"])


def test_cli_export_onnx_from_any_format(tmp_path, capsys, worked_net):
    pytest.importorskip("onnx")
    export(worked_net, tmp_path / "n.npz")
    assert _cli(["export", tmp_path / "n.npz", "-o", tmp_path / "n.onnx"]) == 0
    assert import_network(tmp_path / "n.onnx") == worked_net
    capsys.readouterr()


def test_torch_load_without_weights_only_pickles_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), tmp_path / "module.pt")
    with pytest.raises(FormatError, match="module.pt: not a plain state dict of tensors"):
        import_network(tmp_path / "module.pt")
    torch.save({"0.weight": torch.ones(2, 2, dtype=torch.int64)}, tmp_path / "int.pt")
    with pytest.raises(FormatError, match="expected floats"):
        import_network(tmp_path / "int.pt")


def test_export_report_text(tmp_path, worked_net):
    r = export(worked_net, tmp_path / "n.json")
    assert "exact rationals" in str(r)
    buf = io.StringIO()
    print(export(worked_net, tmp_path / "n.npz", dtype="float32"), file=buf)
    assert "float32" in buf.getvalue()
