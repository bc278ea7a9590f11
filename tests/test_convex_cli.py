"""``symtrunc convex`` CLI and bad inputs of the convex track."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symtrunc.cli.app import main
from symtrunc.convex import (
    ConvexProgram,
    RegressionData,
    TwoLayerNetwork,
    certify_weights,
    from_network,
)
from symtrunc.errors import DataError


@pytest.fixture
def csv_file(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("x1,x2,y\n1,0,1\n0,1,2\n1,1,2\n2,-1,0\n-1,2,0.5\n")
    return p


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fit_json(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--json"])
    d = json.loads(out)
    assert code == 0
    assert d["certified"] is True and d["global"] is True and d["bias"] is False
    assert d["gap"] < 1e-6 and d["active_neurons"] == len(d["network"]["w2"])
    assert {"objective", "gap", "certified", "active_neurons", "optimal_set_dimension"} <= set(d)
    assert d["lambda_scnn"] == pytest.approx(0.5 / 5)
    # the optimal-set description is a float computation and says so
    assert d["optimal_set_dimension_certified"] is False and d["optimal_set_tolerance"] == 1e-5
    # the reported objective is the exact primal upper bound rounded up
    data = RegressionData.from_csv(csv_file)
    prog = ConvexProgram.create(data, "0.5")
    net = TwoLayerNetwork(np.array(d["network"]["W1"]), np.array(d["network"]["w2"]))
    assert net.objective(data, 0.5) == pytest.approx(d["objective"], rel=1e-9)
    assert float(certify_weights(prog, from_network(prog, net)).dual.value) <= d["objective"]
    # the printed float network itself is certified (read exactly, checked against the dual)
    assert d["network"]["certified"] is True and d["network"]["gap"] < 1e-6


def test_text_output_marks_the_float_optimal_set(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5"])
    line = next(ln for ln in out.splitlines() if ln.startswith("optimal_set_dimension"))
    assert code == 0 and "float computation" in line and "not certified" in line


def test_bias_is_explicit(capsys, csv_file):
    """No implicit bias: without --bias, d is the number of feature columns; with it, one more."""
    _, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--json"])
    _, out_b, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--json", "--bias"])
    a, b = json.loads(out), json.loads(out_b)
    assert (a["d"], a["bias"], b["d"], b["bias"]) == (2, False, 3, True)
    assert all(len(row) == 3 for row in b["network"]["W1"])


def test_fit_text_with_bias_says_so(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--bias", "--solver", "fista"])
    assert code == 0 and "column of ones was appended" in out and "certified optimal" in out


def test_prune_and_path(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "prune", str(csv_file), "--lam", "0.2", "--json"])
    d = json.loads(out)
    assert code == 0 and d["active_after"] <= 5 and d["certified"]
    assert d["activation_rank"] == d["active_after"] == len(d["network"]["w2"]) and d["minimal"] is True
    code, out, _ = _run(capsys, ["convex", "path", str(csv_file), "--lam", "0.5", "--n-lams", "4", "--json"])
    d = json.loads(out)
    assert code == 0 and len(d["points"]) == 4 and d["points"][0]["active_neurons"] == 0
    assert d["points"][0]["gap"] == 0 and d["points"][0]["lambda"] >= d["lambda_max"]  # w = 0 exactly optimal
    assert all(p["certified"] for p in d["points"]) and d["global"] is True
    assert d["points"][-1]["lambda"] == pytest.approx(0.5)


def test_path_min_norm_and_warm_starts(capsys, csv_file):
    argv = ["convex", "path", str(csv_file), "--lam", "0.3", "--n-lams", "3", "--json", "--gated", "--solver", "fista"]
    code, out, _ = _run(capsys, argv + ["--min-norm"])
    warm = json.loads(out)
    assert code == 0 and warm["warm_start"] is True
    assert all(p["min_norm_l2"] <= p["derivative"] + 1e-6 for p in warm["points"])  # ‖W‖_F <= Σ‖w_b‖
    code, out, _ = _run(capsys, argv + ["--no-warm-start"])
    cold = json.loads(out)
    assert code == 0 and cold["warm_start"] is False
    for a, b in zip(warm["points"], cold["points"]):
        assert a["objective"] == pytest.approx(b["objective"], rel=1e-6)
    code, out, _ = _run(capsys, ["convex", "path", str(csv_file), "--lam", "0.3", "--n-lams", "3", "--min-norm"])
    assert code == 0 and "min_norm_l2" in out and "lambda_max" in out


def test_sampled_patterns_are_reported(capsys, csv_file):
    code, out, _ = _run(
        capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--max-patterns", "3", "--gates", "20", "--json"]
    )
    d = json.loads(out)
    assert code == 0 and d["pattern_method"] == "sampled" and d["global"] is False
    assert "sub-sampled" in d["statement"]


@pytest.mark.parametrize(
    "content, lam, message",
    [
        ("x,y\n1,2\n", "0", "--lam must be positive"),
        ("x,y\n1,2\n", "-1", "--lam must be positive"),
        ("x,y\n1,2\n", "abc", "not a number"),
        ("a,b,y\n1,2,3\n2,4,5\n", "1", "rank 1 < d = 2"),
        ("a,y\n", "1", "empty data"),
        ("", "1", "empty data"),
        ("a,y\n1,x\n", "1", "row 2, column 2: not a number"),
        ("1,2\n3\n", "1", "row 2 has 1 columns"),
        ("1\n2\n", "1", "at least 2 columns"),
        ("a,b,y\n1,2,3\n", "1", "only n = 1 rows for d = 2 columns"),  # a single row, two features
        ("x,y\n1,2\n", "1e999", "outside [1e-100, 1e100]"),
        ("x,y\n1,nan\n", "1", "not a finite number"),
    ],
)
def test_bad_inputs_one_line_errors(capsys, tmp_path, content, lam, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    code, out, err = _run(capsys, ["convex", "fit", str(p), "--lam", lam])
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


def test_single_row_single_feature_is_fine(capsys, tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("x,y\n2,3\n")
    code, out, _ = _run(capsys, ["convex", "fit", str(p), "--lam", "1", "--json"])
    d = json.loads(out)
    assert code == 0 and d["n"] == 1 and d["certified"] and d["global"]


def test_non_utf8_file(capsys, tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe,1\n")
    code, out, err = _run(capsys, ["convex", "fit", str(p), "--lam", "1"])
    assert code == 2 and "not a UTF-8 CSV" in err and err.count("\n") == 1 and out == ""


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--tol", "-1"], "--tol"),
        (["--gates", "0"], "--gates"),
        (["--max-patterns", "-5"], "--max-patterns"),
        (["--seed", "-1"], "--seed"),
        (["--gates", "x"], "not an integer"),
    ],
)
def test_bad_options(capsys, csv_file, extra, message):
    code, out, err = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "1"] + extra)
    assert code == 2 and message in err and out == ""


def test_path_bad_options(capsys, csv_file):
    code, _, err = _run(capsys, ["convex", "path", str(csv_file), "--lam", "0.1", "--n-lams", "1"])
    assert code == 2 and "at least 2" in err
    code, _, err = _run(capsys, ["convex", "path", str(csv_file), "--lam", "100"])
    assert code == 2 and "lambda_max" in err


def test_missing_file(capsys, tmp_path):
    code, _, err = _run(capsys, ["convex", "fit", str(tmp_path / "nope.csv"), "--lam", "1"])
    assert code == 2 and "no such data file" in err


def test_decimals_read_exactly(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("0.1,0.2\n0.3,0.7\n")
    data = RegressionData.from_csv(p)
    assert str(data.X[0, 0]) == "1/10" and str(data.y[1, 0]) == "7/10"


def test_api_bad_lambda():
    data = RegressionData.from_arrays([[1], [2]], [1, 2])
    for lam in (0, -2, "-0.5"):
        with pytest.raises(DataError, match="lambda must be positive"):
            ConvexProgram.create(data, lam)


@pytest.mark.slow
def test_many_decimals_enumerate_exactly(capsys, tmp_path):
    """18-digit decimals become huge integers after clearing denominators; the exact enumeration
    (and the completeness proof) must still work and the certificate be global."""
    rng = np.random.default_rng(5)
    p = tmp_path / "long.csv"
    p.write_text("a,b,y\n" + "\n".join(",".join(f"{v:.18f}" for v in r) for r in rng.standard_normal((10, 3))) + "\n")
    code, out, err = _run(capsys, ["convex", "fit", str(p), "--lam", "0.1", "--bias", "--json"])
    d = json.loads(out)
    assert code == 0 and d["global"] and d["patterns_complete"] and d["certified"], err


def test_missing_clarabel_is_one_line(tmp_path, capsys, monkeypatch):
    import sys

    from symtrunc.cli.app import main

    p = tmp_path / "reg.csv"
    p.write_text("x1,x2,y\n1,0,1\n0,1,2\n1,1,0\n2,1,1\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "clarabel", None)
    assert main(["convex", "fit", str(p), "--lam", "1/10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "symtrunc[convex]"' in err[0]
