"""``symtrunc convex`` CLI and bad inputs of the convex track."""

from __future__ import annotations

import json

import pytest

from symtrunc.cli import main
from symtrunc.convex import ConvexProgram, RegressionData
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


def test_fit_text_with_bias_says_so(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--bias", "--solver", "fista"])
    assert code == 0 and "column of ones was appended" in out and "certified optimal" in out


def test_prune_and_path(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "prune", str(csv_file), "--lam", "0.2", "--json"])
    d = json.loads(out)
    assert code == 0 and d["active_after"] <= 5 and d["fit_preserved"] and d["certified"]
    code, out, _ = _run(capsys, ["convex", "path", str(csv_file), "--lam", "0.5", "--n-lams", "4", "--json"])
    d = json.loads(out)
    assert code == 0 and len(d["points"]) == 4 and d["points"][0]["active_neurons"] == 0


def test_sampled_patterns_are_reported(capsys, csv_file):
    code, out, _ = _run(capsys, ["convex", "fit", str(csv_file), "--lam", "0.5", "--max-patterns", "3",
                                 "--gates", "20", "--json"])
    d = json.loads(out)
    assert code == 0 and d["pattern_method"] == "sampled" and d["global"] is False
    assert "sub-sampled" in d["statement"]


@pytest.mark.parametrize("content, lam, message", [
    ("x,y\n1,2\n", "0", "--lam must be positive"),
    ("x,y\n1,2\n", "-1", "--lam must be positive"),
    ("x,y\n1,2\n", "abc", "not a number"),
    ("a,b,y\n1,2,3\n2,4,5\n", "1", "rank 1 < d = 2"),
    ("a,y\n", "1", "empty data"),
    ("", "1", "empty data"),
    ("a,y\n1,x\n", "1", "row 2, column 2: not a number"),
    ("1,2\n3\n", "1", "row 2 has 1 columns"),
    ("1\n2\n", "1", "at least 2 columns"),
])
def test_bad_inputs_one_line_errors(capsys, tmp_path, content, lam, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    code, out, err = _run(capsys, ["convex", "fit", str(p), "--lam", lam])
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


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
