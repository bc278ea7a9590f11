"""Tests of the command-line interface :mod:`symtrunc.cli` (run in-process through ``main``).

Exit codes: 0 success, 1 hypotheses not met or verification failed, 2 usage/input error; every
error is a single line on standard error, never a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from exact_reference import assert_interpolates
from synthetic import clustered_sls_arrays

from symtrunc.cli.app import build_parser, main
from symtrunc.datasets import wine_path
from symtrunc.io.json import load_network

# --------------------------------------------------------------------------- data
# Three small clusters in R^3 around 10 e_j (noise of size 1, means exactly 10 e_j, δ² = 2):
# (4.2) and (4.6) hold.
_NOISE = [(1, 0, 0), (-1, 0, 0), (0, 1, -1), (0, -1, 1)]


def _clusters(scale: int) -> str:
    lines = []
    for j, label in enumerate("abc"):
        for n in _NOISE:
            p = [scale * v for v in n]
            p[j] += 10
            lines.append(",".join(map(str, p)) + f",{label}")
    return "\n".join(lines) + "\n"


CLUSTERS = _clusters(1)
# The same means with noise of size 4 (δ² = 32): 16 δ² = 512 > min |x̄_j - x̄|² = 200/3, (4.2) fails.
WIDE_CLUSTERS = _clusters(4)

# XOR-like and not SLS: the segment (0,0)-(3,3) of class a passes through (1,1) = mean of class b,
# so the convex hulls meet and no class can be peeled first. The constant third coordinate and
# the extra point (3,3) make the class means (5/3, 5/3, 1), (1, 1, 1) linearly independent.
# (The symmetric XOR {(0,0),(1,1)} vs {(1,0),(0,1)} has equal means and is rejected earlier,
# with exit code 2, as linearly dependent means.)
NOT_SLS = "0,0,1,a\n2,2,1,a\n3,3,1,a\n2,0,1,b\n0,2,1,b\n"


def write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, code: int, expected_code: int) -> str:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("symtrunc")
    return lines[0]


@pytest.fixture
def squares(worked_csv: Path) -> Path:
    """The dossier's worked example (tests/conftest.py): classes 1 and 2 in R^2, SLS, order 1 -> 2."""
    return worked_csv


@pytest.fixture
def clusters(tmp_path: Path) -> Path:
    return write(tmp_path, CLUSTERS, "clusters.csv")


@pytest.fixture
def squares_net(tmp_path: Path, squares: Path, capsys) -> Path:
    net = tmp_path / "net.json"
    code, _, err = run(capsys, "construct", squares, "-o", net, "-q")
    assert code == 0, err
    return net


# --------------------------------------------------------------------------- construct / verify / info
def test_construct_verify_info(tmp_path, squares, worked_data, capsys):
    net = tmp_path / "net.json"
    code, out, err = run(capsys, "construct", squares, "-o", net)
    assert code == 0, err
    assert err == ""
    assert_interpolates(load_network(net), worked_data)
    doc = json.loads(net.read_text(encoding="utf-8"))
    assert doc["format"] == "symtrunc.network"
    assert doc["classes"] == [1, 2]
    assert "zero loss" in out
    assert "2 -> 2 -> 2 -> 2" in out
    assert str(net) in out

    code, out, err = run(capsys, "verify", net, squares)
    assert code == 0, err
    assert err == ""
    assert "zero loss" in out
    assert "half_squared = 0" in out
    assert "Theorem 5.2" in out

    code, out, err = run(capsys, "info", net)
    assert code == 0, err
    assert err == ""
    assert re.search(r"^widths:\s+2 -> 2 -> 2 -> 2$", out, re.M)
    assert "Theorem 5.2" in out
    assert "1 -> 2" in out
    assert "12 weights + 6 biases = 18" in out


def test_construct_quiet_prints_nothing(tmp_path, squares, capsys):
    code, out, err = run(capsys, "construct", squares, "-o", tmp_path / "n.json", "-q")
    assert (code, out, err) == (0, "", "")
    code, out, err = run(capsys, "verify", tmp_path / "n.json", squares, "-q")
    assert (code, out, err) == (0, "", "")


def test_verify_no_invariants(squares_net, squares, capsys):
    code, out, err = run(capsys, "verify", squares_net, squares, "--no-invariants")
    assert code == 0, err
    assert "zero loss" in out
    assert "every layer invariant" not in out


def test_clustered(tmp_path, clusters, capsys):
    net = tmp_path / "c.json"
    code, out, err = run(capsys, "construct", clusters, "-o", net, "--method", "clustered")
    assert code == 0, err
    assert "Proposition 4.1" in out
    doc = json.loads(net.read_text(encoding="utf-8"))
    assert doc["construction"]["method"] == "clustered"
    assert doc["construction"]["order"] == ["a", "b", "c"]
    code, out, err = run(capsys, "verify", net, clusters)
    assert code == 0, err
    assert "zero loss" in out
    code, out, err = run(capsys, "info", net)
    assert code == 0, err
    assert "3 -> 3 -> 3 -> 3 -> 3" in out
    assert "Proposition 4.1" in out


def test_clustered_constant_widths(tmp_path, clusters, capsys):
    net = tmp_path / "c.json"
    code, _, err = run(capsys, "construct", clusters, "-o", net, "--method", "clustered", "--widths", "3,3,3", "-q")
    assert code == 0, err
    assert load_network(net).widths == (3, 3, 3, 3, 3)
    code, _, err = run(capsys, "verify", net, clusters, "-q")
    assert code == 0, err


@pytest.mark.parametrize("method", ["sls", "clustered"])
def test_cone_paper(tmp_path, clusters, capsys, method):
    net = tmp_path / "p.json"
    code, _, err = run(capsys, "construct", clusters, "-o", net, "--method", method, "--cone", "paper", "-q")
    assert code == 0, err
    doc = json.loads(net.read_text(encoding="utf-8"))
    assert doc["construction"]["cone"] == "paper"
    assert doc["construction"]["method"] == method
    code, out, err = run(capsys, "verify", net, clusters)
    assert code == 0, err
    assert "zero loss" in out


def test_cone_paper_squares(tmp_path, squares, capsys):
    net = tmp_path / "p.json"
    code, _, err = run(capsys, "construct", squares, "-o", net, "--cone", "paper", "-q")
    assert code == 0, err
    code, _, err = run(capsys, "verify", net, squares, "-q")
    assert code == 0, err


@pytest.mark.parametrize("order", [[1, 2], [2, 1]])
def test_order(tmp_path, squares, capsys, order):
    net = tmp_path / "o.json"
    code, out, err = run(capsys, "construct", squares, "-o", net, "--order", ",".join(map(str, order)))
    assert code == 0, err
    assert f"order:     {' -> '.join(map(str, order))}" in out
    doc = json.loads(net.read_text(encoding="utf-8"))
    assert doc["construction"]["order"] == order
    assert [s["class"] for s in doc["construction"]["steps"]] == order
    code, _, err = run(capsys, "verify", net, squares, "-q")
    assert code == 0, err


def test_certificate(tmp_path, squares, capsys):
    net, cert = tmp_path / "n.json", tmp_path / "cert.json"
    code, _, err = run(capsys, "construct", squares, "-o", net, "--certificate", cert, "-q")
    assert code == 0, err
    doc = json.loads(cert.read_text(encoding="utf-8"))
    assert doc["format"] == "symtrunc.certificate"
    assert doc["version"] == 2 and doc["data_digest_version"] == 2
    assert doc["zero_loss"] is True
    assert doc["n_points"] == 8
    assert doc["widths"] == [2, 2, 2, 2]
    assert doc["costs"]["half_squared"] == "0"
    # verify can write one too
    cert2 = tmp_path / "cert2.json"
    code, _, err = run(capsys, "verify", net, squares, "--certificate", cert2, "-q")
    assert code == 0, err
    assert json.loads(cert2.read_text(encoding="utf-8"))["format"] == "symtrunc.certificate"


def test_label_matrix(tmp_path, squares, capsys):
    Y = write(tmp_path, "2,1\n1,1\n", "Y.csv")
    net = tmp_path / "y.json"
    code, _, err = run(capsys, "construct", squares, "-o", net, "--label-matrix", Y, "-q")
    assert code == 0, err
    doc = json.loads(net.read_text(encoding="utf-8"))
    assert doc["construction"]["label_matrix"] == [["2", "1"], ["1", "1"]]
    code, out, err = run(capsys, "verify", net, squares, "--label-matrix", Y)
    assert code == 0, err
    assert "zero loss" in out
    # default: the data's one-hot targets; the matrix recorded in the network is never the reference
    code, _, err = run(capsys, "verify", net, squares, "-q")
    assert "zero loss fails" in assert_one_line_error(err, code, 1)
    # the outputs are the columns of Y, exactly
    from symtrunc.data.labeled import load_data

    outputs = load_network(net).forward(load_data(squares)).tolist()
    assert [str(v) for v in outputs[0]] == ["2", "1"]
    assert [str(v) for v in outputs[-1]] == ["1", "1"]


def test_demo(tmp_path, capsys):
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "Wine" in out
    assert "zero loss" in out
    assert "saved" not in out


def test_demo_output_verifies(tmp_path, capsys):
    net = tmp_path / "wine.json"
    code, out, err = run(capsys, "demo", "-o", net)
    assert code == 0, err
    assert "Wine" in out and "zero loss" in out
    assert net.is_file()
    code, out, err = run(capsys, "verify", net, wine_path())
    assert code == 0, err
    assert "zero loss" in out
    assert "178 points" in out
    assert load_network(net).widths == (13, 13, 13, 13, 3)


# --------------------------------------------------------------------------- exit code 1
def test_not_sls(tmp_path, capsys):
    data = write(tmp_path, NOT_SLS)
    out_file = tmp_path / "x.json"
    code, out, err = run(capsys, "construct", data, "-o", out_file)
    line = assert_one_line_error(err, code, 1)
    assert "not sequentially linearly separable" in line
    assert out == ""
    assert not out_file.exists()


def test_clustered_violates_4_2(tmp_path, capsys):
    data = write(tmp_path, WIDE_CLUSTERS)
    code, _, err = run(capsys, "construct", data, "-o", tmp_path / "w.json", "--method", "clustered")
    line = assert_one_line_error(err, code, 1)
    assert "(4.2)" in line
    assert not (tmp_path / "w.json").exists()
    # the same data are SLS
    code, _, err = run(capsys, "construct", data, "-o", tmp_path / "s.json", "-q")
    assert code == 0, err


def _tamper(net: Path, layer: int, out: Path) -> Path:
    doc = json.loads(net.read_text(encoding="utf-8"))
    w = doc["layers"][layer]["W"]
    w[0][0] = str(Fraction(w[0][0]) + Fraction(1, 10**9))
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


@pytest.mark.parametrize("flags", [[], ["--no-invariants"]])
def test_verify_tampered_output_layer(tmp_path, squares, squares_net, capsys, flags):
    bad = _tamper(squares_net, -1, tmp_path / "bad.json")
    code, out, err = run(capsys, "verify", bad, squares, *flags)
    line = assert_one_line_error(err, code, 1)
    assert out == ""
    assert re.search(r"\bpoint \d+\b", line)
    assert re.search(r"\blayer 3\b", line)
    assert re.search(r"\bneuron \d+\b", line)
    assert "zero loss" in line


def test_verify_tampered_hidden_layer(tmp_path, squares, squares_net, capsys):
    doc = json.loads(squares_net.read_text(encoding="utf-8"))
    doc["layers"][0]["b"] = [str(Fraction(v) + 1) for v in doc["layers"][0]["b"]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = run(capsys, "verify", bad, squares)
    line = assert_one_line_error(err, code, 1)
    assert re.search(r"\bpoint \d+\b", line)
    assert re.search(r"\blayer \d+\b", line)
    assert re.search(r"\bneuron \d+\b", line)


def test_verify_other_data(tmp_path, squares, squares_net, capsys):
    # same dimension and classes, but a point the network does not map to its label
    data = write(tmp_path, squares.read_text(encoding="utf-8") + "5,5,1\n", "other.csv")
    code, _, err = run(capsys, "verify", squares_net, data, "--no-invariants")
    line = assert_one_line_error(err, code, 1)
    assert "point" in line and "layer" in line and "neuron" in line


# --------------------------------------------------------------------------- exit code 2
BAD_DATA = {
    "nan": ("2,0,a\n3,nan,a\n0,2,b\n0,3,b\n", "nan"),
    "ragged": ("2,0,a\n3,0,a\n0,2,b,7\n0,3,b\n", "ragged"),
    "non_numeric": ("2,0,a\n3,x,a\n0,2,b\n0,3,b\n", "not a number"),
    "single_class": ("2,0,a\n3,0,a\n0,2,a\n", "class"),
    "duplicate": ("2,0,a\n3,0,a\n0,2,b\n2,0,b\n", "two labels"),
    "q_gt_m": ("1,0,a\n0,1,b\n1,1,c\n", "Q <= M"),
    "dependent_means": ("1,1,a\n2,2,b\n", "linearly dependent"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data(tmp_path, capsys, case):
    text, phrase = BAD_DATA[case]
    data = write(tmp_path, text)
    out_file = tmp_path / "n.json"
    code, out, err = run(capsys, "construct", data, "-o", out_file)
    line = assert_one_line_error(err, code, 2)
    assert phrase.lower() in line.lower()
    assert out == ""
    assert not out_file.exists()


def test_missing_data_file(tmp_path, capsys):
    code, _, err = run(capsys, "construct", tmp_path / "nope.csv", "-o", tmp_path / "n.json")
    line = assert_one_line_error(err, code, 2)
    assert "no such file" in line.lower()


def test_missing_data_file_verify(tmp_path, squares_net, capsys):
    code, _, err = run(capsys, "verify", squares_net, tmp_path / "nope.csv")
    assert_one_line_error(err, code, 2)


def test_singular_label_matrix(tmp_path, squares, capsys):
    Y = write(tmp_path, "1,1\n1,1\n", "Y.csv")
    code, _, err = run(capsys, "construct", squares, "-o", tmp_path / "n.json", "--label-matrix", Y)
    line = assert_one_line_error(err, code, 2)
    assert "singular" in line


def test_missing_label_matrix(tmp_path, squares, capsys):
    code, _, err = run(capsys, "construct", squares, "-o", tmp_path / "n.json", "--label-matrix", tmp_path / "nope.csv")
    assert_one_line_error(err, code, 2)


def test_network_not_json(tmp_path, squares, capsys):
    bad = write(tmp_path, "this is not json {", "bad.json")
    for args in (["verify", bad, squares], ["info", bad]):
        code, _, err = run(capsys, *args)
        line = assert_one_line_error(err, code, 2)
        assert "JSON" in line


def test_network_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "info", tmp_path / "nope.json")
    line = assert_one_line_error(err, code, 2)
    assert "no such file" in line


@pytest.mark.parametrize(
    "edit, phrase",
    [
        (lambda d: d.__setitem__("format", "something.else"), "format"),
        (lambda d: d.__setitem__("version", 99), "version 99"),
        (lambda d: d.pop("layers"), "layers"),
        (lambda d: d["layers"][0]["W"][0].__setitem__(0, "x/y"), "not a number"),
    ],
    ids=["wrong_format", "version_99", "no_layers", "bad_number"],
)
def test_bad_network_json(tmp_path, squares, squares_net, capsys, edit, phrase):
    doc = json.loads(squares_net.read_text(encoding="utf-8"))
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    for args in (["verify", bad, squares], ["info", bad]):
        code, out, err = run(capsys, *args)
        line = assert_one_line_error(err, code, 2)
        assert phrase in line
        assert out == ""


def test_verify_wrong_dimension(tmp_path, squares_net, clusters, capsys):
    code, _, err = run(capsys, "verify", squares_net, clusters)
    line = assert_one_line_error(err, code, 2)
    assert "dimension" in line


def test_verify_unknown_class(tmp_path, squares, squares_net, capsys):
    data = write(tmp_path, squares.read_text(encoding="utf-8").replace(",2\n", ",z\n"), "z.csv")
    code, _, err = run(capsys, "verify", squares_net, data)
    line = assert_one_line_error(err, code, 2)
    assert "'z'" in line


def test_order_with_clustered(tmp_path, clusters, capsys):
    code, _, err = run(
        capsys, "construct", clusters, "-o", tmp_path / "n.json", "--method", "clustered", "--order", "a,b,c"
    )
    line = assert_one_line_error(err, code, 2)
    assert "--order" in line


def test_widths_with_sls(tmp_path, squares, capsys):
    code, _, err = run(capsys, "construct", squares, "-o", tmp_path / "n.json", "--widths", "2,2")
    line = assert_one_line_error(err, code, 2)
    assert "--widths" in line


def test_output_in_missing_directory(tmp_path, squares, capsys):
    code, _, err = run(capsys, "construct", squares, "-o", tmp_path / "nodir" / "n.json")
    assert_one_line_error(err, code, 2)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["construct"],
        ["construct", "data.csv"],  # -o is required
        ["verify", "net.json"],
        ["info"],
        ["construct", "d.csv", "-o", "n.json", "--method", "magic"],
        ["construct", "d.csv", "-o", "n.json", "--cone", "round"],
    ],
    ids=["nothing", "unknown", "construct", "construct_no_o", "verify_one", "info", "method", "cone"],
)
def test_argparse_errors(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "error:" in err.strip().splitlines()[-1]


# --------------------------------------------------------------------------- help and version
@pytest.mark.parametrize("sub", [[], ["construct"], ["verify"], ["info"], ["demo"]])
def test_help(capsys, sub):
    code, out, err = run(capsys, *sub, "--help")
    assert code == 0
    assert err == ""
    assert out.startswith("usage: symtrunc")


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("symtrunc ")


def test_parser_lists_subcommands():
    help_text = build_parser().format_help()
    for sub in ("construct", "verify", "info", "demo"):
        assert sub in help_text


def test_help_imports_no_command_module_and_no_sympy():
    """``symtrunc --help`` lists the commands from the registry: no sympy, no constructions."""
    code = (
        "import sys\nfrom symtrunc.cli.app import main\nassert main(['--help']) == 0\n"
        "print(sorted(m for m in sys.modules if m == 'sympy' or m.startswith(('symtrunc.cli.', "
        "'symtrunc.constructions', 'symtrunc.latex', 'matplotlib'))))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "['symtrunc.cli.app']"


def test_subcommand_help_loads_its_module_only(capsys):
    code, out, _ = run(capsys, "construct", "--help")
    assert code == 0 and "--method" in out and "--widths" in out
    code, out, _ = run(capsys, "info", "--help")
    assert code == 0 and "network file" in out


# --------------------------------------------------------------------------- paper parameter counts
# info prints the counts of the record (Theorem 5.2, Corollary 4.2, Theorem 2.3); each is checked
# against its formula in M, Q, L and, where the paper's widths are the network's, against the
# number of weights and biases counted here from the layer shapes of the JSON file.
PAIRS = "10,0,0,a\n11,0,0,a\n0,10,0,b\n0,11,0,b\n"
DEEP = "10,0,a\n11,0,a\n0,10,b\n0,11,b\n"


def _shape_counts(path: Path) -> tuple[int, int, int, int, int]:
    """``(M, Q, hidden layers, weights, weights + biases)`` from the layers of a network file."""
    layers = json.loads(path.read_text(encoding="utf-8"))["layers"]
    weights = sum(len(L["W"]) * len(L["W"][0]) for L in layers)
    return (
        len(layers[0]["W"][0]),
        len(layers[-1]["W"]),
        len(layers) - 1,
        weights,
        weights + sum(len(L["b"]) for L in layers),
    )


def _paper_line(out: str, formula: str) -> tuple[int, int | None]:
    m = re.search(rf"^paper:\s+{re.escape(formula)} = (\d+) .*?(?:; this network: (\d+))?$", out, re.M)
    assert m, out
    return int(m.group(1)), None if m.group(2) is None else int(m.group(2))


@pytest.mark.parametrize("case", ["sls", "clustered", "deep_l2"])
def test_info_prints_the_papers_parameter_counts(tmp_path, capsys, squares, case):
    text, options = {
        "sls": (None, []),
        "clustered": (PAIRS, ["--method", "clustered", "--widths", "2,2"]),
        "deep_l2": (DEEP, ["--method", "deep_l2", "--layers", "3"]),
    }[case]
    net = tmp_path / "n.json"
    data = squares if text is None else write(tmp_path, text)
    code, _, err = run(capsys, "construct", data, "-o", net, "-q", *options)
    assert code == 0, err
    code, out, err = run(capsys, "info", net)
    assert code == 0, err
    M, Q, L, weights, total = _shape_counts(net)
    if case == "sls":  # Q hidden layers of width M: Q(M+1)^2 weights and biases
        assert _paper_line(out, "Q(M+2)") == (Q * (M + 2), None)
        assert _paper_line(out, "Q(M+1)^2") == (Q * (M + 1) ** 2, total) and total == Q * (M + 1) ** 2
    elif case == "clustered":  # widths straight down to Q (Corollary 4.2)
        assert (M, Q) == (3, 2)
        assert _paper_line(out, "Q(M+Q^2)") == (Q * (M + Q * Q), weights) and weights == Q * (M + Q * Q)
        assert _paper_line(out, "Q(M+Q^2+Q+1)") == (Q * (M + Q * Q + Q + 1), total)
        assert total == Q * (M + Q * Q + Q + 1)
    else:  # L hidden layers of width Q = M
        assert L == 3
        assert _paper_line(out, "(L+1)Q(Q+1)") == ((L + 1) * Q * (Q + 1), total) and total == (L + 1) * Q * (Q + 1)


def test_python_m_help():
    r = subprocess.run([sys.executable, "-m", "symtrunc", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "construct" in r.stdout and "verify" in r.stdout
    assert "exit codes" in r.stdout


def test_console_script_help():
    script = Path(sys.executable).parent / "symtrunc"
    if not script.exists():
        pytest.skip("symtrunc console script not installed next to the interpreter")
    r = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: symtrunc")


# --------------------------------------------------------------------------- regressions
# Each of these once escaped as a traceback or was silently accepted; now a one-line error
# (exit 2, or exit 1 for the label matrix).
def _edited_net(squares_net: Path, tmp_path: Path, edit) -> Path:
    doc = json.loads(squares_net.read_text(encoding="utf-8"))
    edit(doc)
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    return bad


_KNOWN_BAD_NETWORKS = {
    # network_from_dict: tuple(5) -> TypeError
    "classes_number": lambda d: d.__setitem__("classes", 5),
    # network_from_dict stores any JSON value as metadata -> AttributeError in info / verify
    "construction_list": lambda d: d.__setitem__("construction", [1]),
    # verify.exact.collapse_plan: step["base_point"] -> KeyError
    "step_without_base_point": lambda d: [s.pop("base_point") for s in d["construction"]["steps"]],
    # verify.costs.targets_for: a 1x1 label matrix for 2 outputs -> IndexError
    "label_matrix_shape": lambda d: d["construction"].__setitem__("label_matrix", [["1"]]),
    # unhashable labels -> TypeError in targets_for
    "classes_unhashable": lambda d: d.__setitem__("classes", [["a"], ["b"]]),
}


@pytest.mark.parametrize("case", sorted(_KNOWN_BAD_NETWORKS))
def test_regression_malformed_network_traceback(tmp_path, squares, squares_net, capsys, case):
    bad = _edited_net(squares_net, tmp_path, _KNOWN_BAD_NETWORKS[case])
    code, _, err = run(capsys, "verify", bad, squares)
    assert_one_line_error(err, code, 2)


def test_regression_non_integer_widths(tmp_path, clusters, capsys):
    code, _, err = run(
        capsys, "construct", clusters, "-o", tmp_path / "n.json", "--method", "clustered", "--widths", "3,x,3"
    )
    assert_one_line_error(err, code, 2)


def test_regression_verify_ignores_label_matrix(tmp_path, squares, squares_net, capsys):
    # squares_net maps the classes to the identity columns; with Y = [[2,1],[1,1]] it cannot
    # have zero loss, yet verify reports success.
    Y = write(tmp_path, "2,1\n1,1\n", "Y.csv")
    code, _, err = run(capsys, "verify", squares_net, squares, "--label-matrix", Y)
    assert_one_line_error(err, code, 1)


# --------------------------------------------------------------------------- certified verification
def test_verify_certified_streams_npy_and_matches_exact(tmp_path, capsys):
    import numpy as np

    X, y = clustered_sls_arrays(300, 8, 3, 1)
    train = tmp_path / "train.npy"
    np.save(train, np.hstack([X, y[:, None]]).astype(np.int16))
    net = tmp_path / "net.json"
    assert main(["construct", str(train), "-o", str(net), "-q"]) == 0
    big = tmp_path / "big.npy"
    idx = np.random.default_rng(0).integers(0, 300, 5000)
    np.save(big, np.hstack([X[idx], y[idx, None]]).astype(np.uint8))
    capsys.readouterr()
    assert main(["verify", str(net), str(big), "--certified", "--chunk-size", "1000"]) == 0
    out = capsys.readouterr().out
    assert "5000 points" in out and "certified by rigorous float bounds" in out and "5 chunks" in out
    # the same file, exactly
    assert main(["verify", str(net), str(big), "-q"]) == 0
    # a wrong label somewhere in the stream: exit 1 with one line naming the point
    bad = np.load(big)
    bad[4321, -1] = (bad[4321, -1] + 1) % 3
    np.save(tmp_path / "bad.npy", bad)
    capsys.readouterr()
    assert main(["verify", str(net), str(tmp_path / "bad.npy"), "--certified", "-q"]) == 1
    err = capsys.readouterr().err
    assert "point 4321" in err and len(err.strip().splitlines()) == 1


def test_verify_labels_without_certified_is_a_usage_error(tmp_path, capsys):
    import numpy as np

    np.save(tmp_path / "d.npy", np.array([[0, 1, 0], [1, 0, 1]]))
    assert main(["construct", str(tmp_path / "d.npy"), "-o", str(tmp_path / "n.json"), "-q"]) == 0
    assert main(["verify", str(tmp_path / "n.json"), str(tmp_path / "d.npy"), "--labels", "y.npy"]) == 2


# --------------------------------------------------------------------------- deep_l2 layers, non-separable data

RING = (
    "x,y,label\n"
    + "".join(f"{x},{y},in\n" for x, y in [(1, 0), (-1, 0), (0, 1), (0, -1)])
    + "".join(f"{x},{y},out\n" for x, y in [(6, 0), (-6, 0), (0, 6), (0, -6), (5, 5), (-5, -5)])
)


def test_deep_l2_extra_layers_and_option_errors(tmp_path, capsys):
    d = write(tmp_path, "a,b,label\n10,0,p\n11,1,p\n0,10,q\n1,11,q\n")
    net = tmp_path / "deep.json"
    code, _, err = run(capsys, "construct", d, "--method", "deep_l2", "--layers", 4, "-o", net, "-q")
    assert code == 0, err
    assert len(load_network(net).layers) == 5
    assert run(capsys, "verify", net, d, "-q")[0] == 0
    code, _, err = run(capsys, "construct", d, "--method", "deep_l2", "--layers", 1, "-o", net)
    assert "L ≥ Q" in assert_one_line_error(err, code, 1)
    code, _, err = run(capsys, "construct", d, "--layers", 4, "-o", net)
    assert "--layers applies to --method deep_l2" in assert_one_line_error(err, code, 2)


def test_nonseparable_construct_and_verify_accept_dependent_class_means(tmp_path, capsys):
    d = write(tmp_path, RING, "ring.csv")
    net = tmp_path / "ring.json"
    code, _, err = run(capsys, "construct", d, "--method", "nonseparable", "-o", net, "-q")
    assert code == 0, err
    code, out, err = run(capsys, "verify", net, d)
    assert code == 0 and "zero loss" in out, err
