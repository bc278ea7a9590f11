"""Tests of the float-robust Theorem 5.2 construction (:mod:`symtrunc.constructions.float_robust`):
``symtrunc.construct(data, robust="float32")`` and ``symtrunc construct --robust float32``.

The exact network is verified exactly (zero loss, layer invariants) like every construction; its
floats are certified by :mod:`symtrunc.lowering.float_certificate`, and what onnxruntime computes
is checked independently of that certificate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import symtrunc
from symtrunc.cli.app import main
from symtrunc.data.labeled import LabeledData
from symtrunc.datasets import wine_path
from symtrunc.errors import DataError, FormatError, UncertifiedError, VerificationError
from symtrunc.io.json import dumps_network, loads_network
from symtrunc.lowering.float_network import lower
from symtrunc.records import RationalRecipe

# Two classes 2^-20 apart near (1, 1): exact and SLS, certified in float64 but too thin for a
# float32 certificate (each float32 rounding is 2^-24 of the sums).
_E = 2.0**-20
_THIN = LabeledData.from_arrays(
    [[1, 1], [1 + _E, 1], [1, 1 + _E], [1 + 3 * _E, 1 + 2 * _E], [1 + 4 * _E, 1 + 2 * _E], [1 + 3 * _E, 1 + 3 * _E]],
    list("aaabbb"),
)


def _float_rows(data: LabeledData) -> np.ndarray:
    return np.array([[float(v) for v in r] for r in data.X.tolist()])


def test_wine_robust_float32_is_exact_and_certified(wine_data, robust_wine):
    report = symtrunc.verify(robust_wine, wine_data)
    assert report.zero_loss and report.invariants_checked
    record = robust_wine.construction
    assert record.hyperplanes == "robust float32"
    assert all(isinstance(s.recipe, RationalRecipe) and s.recipe.diagonal for s in record.steps)
    cert = lower(robust_wine, "float32", data=wine_data).certificate
    assert cert.certified and cert.n_certified == wine_data.N and cert.margin > 0.5
    # failing case: the same floats on data with two labels swapped are not certified
    y = [wine_data.classes[j] for j in wine_data.y]
    y[0], y[-1] = y[-1], y[0]
    swapped = LabeledData.from_arrays(wine_data.X, y, classes=wine_data.classes)
    with pytest.raises(UncertifiedError):
        lower(robust_wine, "float32", data=swapped)
    with pytest.raises(VerificationError):
        symtrunc.verify(robust_wine, swapped)


def test_wine_robust_float32_onnx_is_right_in_onnxruntime(tmp_path, wine_data, robust_wine):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "wine32.onnx"
    assert symtrunc.export(robust_wine, path, dtype="float32", data=wine_data).certificate.certified
    # independently of the certificate: run the file in onnxruntime in float32
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _float_rows(wine_data).astype(np.float32)
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert y.dtype == np.float32
    predicted = np.array(robust_wine.classes)[y.argmax(axis=1)]
    assert (predicted == np.array([wine_data.classes[j] for j in wine_data.y])).all()


def test_record_round_trips_through_json(tmp_path, wine_data, robust_wine, capsys):
    text = dumps_network(robust_wine)
    back = loads_network(text)
    assert back.construction == robust_wine.construction and back.layers == robust_wine.layers
    steps = json.loads(text)["construction"]["steps"]
    assert all("diagonal" in s for s in steps)
    # the recorded cone is the first layer, exactly: W^(1) = s (ε diag(d) + u hᵀ)
    first = back.construction.steps[0]
    assert first.recipe.matrix(first.normal) == robust_wine.layers[0].W
    path = tmp_path / "wine.json"
    path.write_text(text)
    assert main(["verify", str(path), str(wine_path()), "-q"]) == 0
    # older files (no diagonal) still load; a non-positive diagonal is refused
    for s in steps:
        del s["diagonal"]
    old = json.loads(text)
    old["construction"]["steps"] = steps
    assert loads_network(json.dumps(old)).construction.steps[0].recipe.diagonal is None
    bad = json.loads(text)
    bad["construction"]["steps"][0]["diagonal"][0] = "-1"
    with pytest.raises(FormatError, match="must be positive"):
        loads_network(json.dumps(bad))


def test_cli_robust_writes_a_certified_float32_file(tmp_path, capsys):
    pytest.importorskip("onnx")
    import onnx

    out = tmp_path / "wine32.onnx"
    assert main(["construct", str(wine_path()), "-o", str(out), "--robust", "float32"]) == 0
    printed = capsys.readouterr().out
    assert "certified float32" in printed and "chosen for float32 evaluation" in printed
    weights = onnx.load(str(out)).graph.initializer
    assert weights and all(w.data_type == onnx.TensorProto.FLOAT for w in weights)


def test_cli_robust_refuses_uncertified_floats(tmp_path, capsys):
    csv = tmp_path / "thin.csv"
    csv.write_text("".join(f"{float(r[0])!r},{float(r[1])!r},{c}\n" for r, c in zip(_float_rows(_THIN), "aaabbb")))
    out = tmp_path / "thin32.npz"
    assert main(["construct", str(csv), "-o", str(out), "--robust", "float32", "-q"]) == 1
    err = capsys.readouterr().err
    assert not out.exists() and len(err.strip().splitlines()) == 1 and "not written" in err
    # the exact network and its float64 floats are fine
    assert main(["construct", str(csv), "-o", str(tmp_path / "thin.json"), "--robust", "float32", "-q"]) == 0
    assert main(["construct", str(csv), "-o", str(tmp_path / "thin64.npz"), "--robust", "float64", "-q"]) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"robust": "float16"}, "robust='float16': use one of float32, float64"),
        ({"robust": "float32", "method": "clustered"}, "applies to method 'sls'"),
        ({"robust": "float32", "cone": "paper"}, "uses the rational cone"),
        ({"robust": "float32", "t": ["1/2", "1/2"]}, "does not take t"),
        ({"robust": "float32", "order": ["a", "z"]}, "unknown class 'z'"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
    with pytest.raises(DataError, match=message) as info:
        symtrunc.construct(d, **options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--robust", "float32", "--method", "clustered"], "--robust applies to --method sls"),
        (["--robust", "float32", "--cone", "paper"], "--robust uses the rational cone"),
    ],
)
def test_cli_bad_robust_options(tmp_path, capsys, args, message):
    code = main(["construct", str(wine_path()), "-o", str(tmp_path / "n.json"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not Path(tmp_path / "n.json").exists()
