"""A researcher's workflow without friction (issue 18): tab- and semicolon-separated files, pandas
``DataFrame``/``Series`` input, errors that name the file and say what to do, short reprs.

The classifier's part of the issue (scikit-learn's exceptions, ``feature_names_in_``, the
column-vector ``y`` warning, the estimator checks) is tested in ``tests/test_classifier.py``.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from exact_reference import assert_interpolates, fractions_of

import symtrunc
from symtrunc.cli.app import main
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.datasets import wine_path
from symtrunc.errors import DataError, FormatError
from symtrunc.io.json import load_network, save_network
from symtrunc.network import ReLUNetwork


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------ tab and semicolon files
def _wine_text() -> str:
    return wine_path().read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name, convert",
    [
        ("wine.tsv", lambda t: t.replace(",", "\t")),
        ("wine.tab", lambda t: t.replace(",", "\t")),
        ("wine.txt", lambda t: t.replace(",", "\t")),  # tabs found by sniffing
        ("semicolon.csv", lambda t: t.replace(",", ";")),
        ("decimal_commas.csv", lambda t: t.replace(",", ";").replace(".", ",")),  # 14,23 is 1423/100
        ("no_header.csv", lambda t: t.replace(",", ";").replace(".", ",").split("\n", 1)[1]),
    ],
)
def test_tab_and_semicolon_files_read_like_the_csv(tmp_path, name, convert):
    path = tmp_path / name
    path.write_text(convert(_wine_text()), encoding="utf-8")
    wine = symtrunc.load_wine()
    data = load_data(path)
    assert fractions_of(data.X) == fractions_of(wine.X) and data.y == wine.y and data.classes == wine.classes
    assert fractions_of(data.X)[0][0] == Fraction(1423, 100)
    names = None if name == "no_header.csv" else wine.feature_names
    assert data.feature_names == names and len(wine.feature_names) == 13


def test_semicolon_file_mixing_decimal_commas_and_points_is_refused(tmp_path):
    # in a file written with decimal commas, 2.5 could mean 25 (a thousands point): refused, not guessed
    path = tmp_path / "mixed.csv"
    path.write_text("u;v;label\n1,5;0;a\n0;2.5;b\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"mixed.csv, line 3, column 2: '2.5' has a decimal point"):
        load_data(path)
    ok = tmp_path / "ok.csv"
    ok.write_text("u;v;label\n1,5;0;a\n0;2,5;b\n", encoding="utf-8")
    assert fractions_of(load_data(ok).X) == [[Fraction(3, 2), 0], [0, Fraction(5, 2)]]


def test_cli_constructs_from_a_tsv_file(tmp_path, capsys, worked_data):
    rows = [[str(v) for v in r] + [str(worked_data.classes[j])] for r, j in zip(worked_data.X.tolist(), worked_data.y)]
    tsv = tmp_path / "worked.tsv"
    tsv.write_text("x1\tx2\tlabel\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = run(capsys, "construct", tsv, "-o", tmp_path / "n.json", "-q")
    assert code == 0, err
    assert_interpolates(load_network(tmp_path / "n.json"), worked_data)
    code, _, err = run(capsys, "construct", tmp_path / "d.xlsx", "-o", tmp_path / "m.json", "-q")
    assert code == 2 and "d.xlsx" in err


# ------------------------------------------------------------------------ pandas
def test_dataframe_and_series_in_from_arrays():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"alcohol": ["14.23", "13.2", "1"], "hue": [1, 0, 2], "ash": [0.5, 0.25, 3.0]})
    labels = pd.Series(["a", "b", "c"], dtype="category")
    data = LabeledData.from_arrays(frame, labels)
    assert data.feature_names == ("alcohol", "hue", "ash") and data.classes == ("a", "b", "c")
    assert fractions_of(data.X) == [
        [Fraction(1423, 100), 1, Fraction(1, 2)],
        [Fraction(132, 10), 0, Fraction(1, 4)],
        [1, 2, 3],
    ]
    assert data == LabeledData.from_arrays([["14.23", 1, "1/2"], ["13.2", 0, "1/4"], [1, 2, 3]], ["a", "b", "c"])
    # floats are their exact binary values (as for numpy arrays); explicit names win; integer column
    # names are not feature names
    assert fractions_of(LabeledData.from_arrays(pd.DataFrame({"u": [0.1, 0.0], "v": [0, 1]}), [0, 1]).X)[0][
        0
    ] == Fraction(0.1)
    assert LabeledData.from_arrays(frame, labels, feature_names=["p", "q", "r"]).feature_names == ("p", "q", "r")
    assert LabeledData.from_arrays(pd.DataFrame([[1, 0], [0, 1]]), [0, 1]).feature_names is None
    # each column keeps its own values: an int64 column next to a float column is not rounded to float64
    mixed = LabeledData.from_arrays(pd.DataFrame({"big": [2**60 + 1, 0], "half": [0.5, 1.0]}), [0, 1])
    assert fractions_of(mixed.X) == [[2**60 + 1, Fraction(1, 2)], [0, 1]]
    with pytest.raises(DataError, match="NaN"):
        LabeledData.from_arrays(pd.DataFrame({"u": [1.0, np.nan], "v": [0, 1]}), [0, 1])


def test_pandas_is_never_imported_by_symtrunc(tmp_path):
    code = f"""
import sys
import symtrunc
from symtrunc.data.labeled import load_data
load_data({str(wine_path())!r})
assert "pandas" not in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------------------------------ errors that name the file
def test_network_loader_names_the_file(tmp_path, capsys):
    wine = tmp_path / "wine.csv"
    wine.write_text(_wine_text(), encoding="utf-8")
    with pytest.raises(FormatError, match=r"wine.csv: not a symtrunc network file \(expected JSON; not valid JSON"):
        load_network(wine)
    for args in (("latex", wine), ("verify", wine, wine), ("info", wine)):
        code, out, err = run(capsys, *args)
        assert code == 2 and str(wine) in err and err.count("\n") == 1, (args, err)


def test_certified_npy_without_labels_says_the_last_column_was_the_label(tmp_path, capsys, worked_net, worked_data):
    net = tmp_path / "net.json"
    save_network(worked_net, net)
    X = np.array(fractions_of(worked_data.X), dtype=np.int64)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", np.array([worked_data.classes[j] for j in worked_data.y]))
    msg = (
        "the network expects inputs of dimension 2, the data have dimension 1: the last column of X.npy was "
        "taken as the label; if X.npy holds only the points, give the labels separately (--labels y.npy"
    )
    with pytest.raises(DataError) as e:
        symtrunc.verify(worked_net, str(tmp_path / "X.npy"), method="certified", progress=False)
    assert msg in str(e.value)
    code, _, err = run(capsys, "verify", net, tmp_path / "X.npy", "--certified", "-q")
    assert code == 2 and msg in err
    code, _, err = run(capsys, "verify", net, tmp_path / "X.npy", "--certified", "-q", "--labels", tmp_path / "y.npy")
    assert code == 0, err


@pytest.mark.parametrize("layers", ["-1", "0", "two"])
def test_layers_must_be_a_positive_number(tmp_path, capsys, worked_csv, layers):
    out = tmp_path / "n.json"
    code, _, err = run(capsys, "construct", worked_csv, "-o", out, "--method", "deep_l2", "--layers", layers)
    assert code == 2 and "argument --layers:" in err and not out.exists()
    assert ("at least 1" if layers != "two" else "whole number") in err


# ------------------------------------------------------------------------ short reprs
def test_short_reprs_and_full_str(worked_net, worked_data):
    assert repr(worked_net) == "ReLUNetwork(widths=(2, 2, 2, 2), classes=2, method='sls', theorem='Theorem 5.2')"
    assert repr(worked_data) == "LabeledData(N=8, M=2, Q=2, classes=(1, 2))"
    assert repr(worked_net.layers[0]) == "Layer(shape=(2, 2), activation='relu')"
    text = str(worked_net)
    assert worked_net.construction.theorem in text and "widths:      2 -> 2 -> 2 -> 2" in text
    assert [line.split()[0] for line in text.splitlines()[-3:]] == ["1", "2", "3"]
    assert str(worked_net.layers[2].W) in str(worked_net.layers[2])
    assert str(LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"], feature_names=["u", "v"])).splitlines() == [
        "2 points in R^2, 2 classes (a: 1, b: 1)",
        "features:     u, v",
        "label matrix: identity (one-hot labels)",
    ]
    # equality is unchanged (the construction record and the feature names do not take part)
    assert ReLUNetwork(worked_net.layers, worked_net.classes) == worked_net
    assert (
        LabeledData.from_arrays(
            worked_data.X, [worked_data.classes[j] for j in worked_data.y], feature_names=["a", "b"]
        )
        == worked_data
    )


def test_reprs_stay_short_for_big_objects():
    rng = np.random.default_rng(0)
    big = [[f"{rng.integers(10**12)}/{rng.integers(1, 10**12)}" for _ in range(13)] for _ in range(13)]
    net = ReLUNetwork.from_rows([(big, [0] * 13, "relu"), (big[:3], [0] * 3, "identity")], classes=("a", "b", "c"))
    assert repr(net) == "ReLUNetwork(widths=(13, 13, 3), classes=3)"
    wine = symtrunc.load_wine()
    assert repr(wine) == "LabeledData(N=178, M=13, Q=3, classes=('cultivar_1', 'cultivar_2', 'cultivar_3'))"
    many = LabeledData.from_arrays(np.eye(8, dtype=int), list("abcdefgh"))
    assert repr(many) == "LabeledData(N=8, M=8, Q=8, classes=('a', 'b', 'c', 'd', 'e', ...))"
