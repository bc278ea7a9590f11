"""Issue 18: one reader and writer for network files (by extension) used by every command, and
progress reporting of long steps (tqdm bar on a terminal, ``-v`` lines, quiet otherwise).

Every command runs in-process through :func:`symtrunc.cli.app.main`; networks read back are
checked with an independent ``Fraction`` forward pass (:mod:`exact_reference`).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from exact_reference import assert_interpolates, fraction_forward

import symtrunc.io.network_files as network_files
from symtrunc.cli.app import main
from symtrunc.data.labeled import load_data
from symtrunc.errors import MissingDependencyError
from symtrunc.io.network_files import read_network

# three clusters around 10 e_j in R^3 (SLS, and (4.2)/(4.6) hold for --method clustered)
_NOISE = [(1, 0, 0), (-1, 0, 0), (0, 1, -1), (0, -1, 1)]
CSV = "".join(
    ",".join(str(v + (10 if i == j else 0)) for i, v in enumerate(n)) + f",{label}\n"
    for j, label in enumerate("abc")
    for n in _NOISE
)
_EXTRA = {"onnx": "onnx", "safetensors": "safetensors", "pt": "torch", "npz": None, "json": None}
EXTENSIONS = [
    pytest.param(
        ext,
        marks=pytest.mark.skipif(
            mod is not None and importlib.util.find_spec(mod) is None, reason=f"{mod} not installed"
        ),
    )
    for ext, mod in _EXTRA.items()
]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    p = tmp_path / "d.csv"
    p.write_text(CSV)
    return p


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str, name: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert name in lines[0] and "Traceback" not in err


# ----------------------------------------------------------------------------- formats
@pytest.mark.parametrize("ext", EXTENSIONS)
def test_construct_writes_every_format_and_every_command_reads_it(ext, tmp_path, data_file, capsys):
    net_path = tmp_path / f"net.{ext}"
    code, out, err = _run(capsys, "construct", data_file, "-o", net_path)
    assert code == 0, err
    assert net_path.exists()
    data = load_data(data_file)
    net = read_network(net_path)  # the exact network: written exactly (JSON) or carried in the metadata
    assert_interpolates(net, data)
    if ext != "json":
        assert not net_path.read_bytes().lstrip().startswith(b"{")  # a real float file, not JSON
        assert "floats:" in out and "certified" in out
    code, out, err = _run(capsys, "info", net_path)
    assert code == 0, err
    assert "3 -> 3 -> 3 -> 3 -> 3" in out
    code, out, err = _run(capsys, "verify", net_path, data_file)
    assert code == 0, err
    assert "verified:" in out
    code, out, err = _run(capsys, "latex", net_path, data_file, "-o", tmp_path / "r.tex")
    assert code == 0, err
    assert (tmp_path / "r.tex").read_text().startswith("\\documentclass")
    code, out, err = _run(capsys, "explain", net_path, data_file)
    assert code == 0, err
    assert "collapse" in out
    code, out, err = _run(capsys, "export", net_path, "-o", tmp_path / "back.json", "-q")
    assert code == 0, err
    assert read_network(tmp_path / "back.json") == net
    if importlib.util.find_spec("matplotlib") is not None:
        code, out, err = _run(capsys, "plot", net_path, data_file, "-o", tmp_path / "p.png")
        assert code == 0, err
        assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None, reason="onnx not installed")
def test_construct_onnx_is_a_real_onnx_model(tmp_path, data_file, capsys):
    import onnx

    p = tmp_path / "out.onnx"
    assert _run(capsys, "construct", data_file, "-o", p, "-q")[0] == 0
    model = onnx.load(str(p))
    onnx.checker.check_model(model, full_check=True)
    assert "symtrunc.network" in {m.key for m in model.metadata_props}
    if importlib.util.find_spec("onnxruntime") is None:
        return
    import onnxruntime as ort

    data = load_data(data_file)
    X = np.array([[float(Fraction(str(v))) for v in row] for row in data.X.tolist()])
    y = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    assert list(np.argmax(y, axis=1)) == list(data.y)


def test_demo_and_import_write_by_extension(tmp_path, capsys):
    p = tmp_path / "wine.npz"
    code, out, err = _run(capsys, "demo", "-o", p)
    assert code == 0, err
    assert p.read_bytes().startswith(b"PK")
    q = tmp_path / "again.json"
    assert _run(capsys, "import", p, "-o", q, "-q")[0] == 0
    assert read_network(q) == read_network(p)


@pytest.mark.parametrize("command", ["info", "verify", "latex", "explain", "export", "plot", "verify-certificate"])
def test_mismatched_extension_is_one_line_naming_the_file(command, tmp_path, data_file, capsys):
    assert _run(capsys, "construct", data_file, "-o", tmp_path / "net.json", "-q")[0] == 0
    wrong = tmp_path / "net.onnx"
    wrong.write_bytes((tmp_path / "net.json").read_bytes())  # JSON in an .onnx file (the case)
    argv = {
        "info": [wrong],
        "verify": [wrong, data_file],
        "latex": [wrong, data_file],
        "explain": [wrong, data_file],
        "export": [wrong, "-o", tmp_path / "x.npz"],
        "plot": [wrong, data_file, "-o", tmp_path / "p.png"],
        "verify-certificate": [tmp_path / "cert.json", wrong, data_file],
    }[command]
    if command == "plot" and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib not installed")
    if command == "verify-certificate":
        assert (
            _run(capsys, "verify", tmp_path / "net.json", data_file, "--certificate", tmp_path / "cert.json", "-q")[0]
            == 0
        )
    code, out, err = _run(capsys, command, *argv)
    assert code == 2
    _one_line_error(err, str(wrong))
    assert "holds exact JSON" in err and ".json" in err
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "p.png").exists()


def test_float_file_named_json_and_unknown_extensions(tmp_path, data_file, capsys):
    assert _run(capsys, "construct", data_file, "-o", tmp_path / "net.npz", "-q")[0] == 0
    disguised = tmp_path / "net.json"
    disguised.write_bytes((tmp_path / "net.npz").read_bytes())
    code, _, err = _run(capsys, "info", disguised)
    assert code == 2
    _one_line_error(err, str(disguised))
    assert "holds npz" in err
    for bad in ("net.txt", "net"):
        code, _, err = _run(capsys, "construct", data_file, "-o", tmp_path / bad)
        assert code == 2
        _one_line_error(err, str(tmp_path / bad))
        assert "unknown network file extension" in err
        assert not (tmp_path / bad).exists()
    (tmp_path / "net.txt").write_text(CSV)
    code, _, err = _run(capsys, "info", tmp_path / "net.txt")
    assert code == 2
    _one_line_error(err, str(tmp_path / "net.txt"))


def test_missing_extra_refuses_before_any_work(tmp_path, data_file, capsys, monkeypatch):
    def missing(module, extra, feature, **_):
        raise MissingDependencyError(module, extra, feature)

    monkeypatch.setattr(network_files, "require", missing)
    out = tmp_path / "out.onnx"
    code, stdout, err = _run(capsys, "construct", data_file, "-o", out)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and 'pip install "symtrunc[onnx]"' in err
    assert stdout == "" and not out.exists()


def test_construct_with_certificate_writes_both_or_neither(tmp_path, data_file, capsys):
    net, cert = tmp_path / "n.safetensors", tmp_path / "c.json"
    if importlib.util.find_spec("safetensors") is None:
        pytest.skip("safetensors not installed")
    assert _run(capsys, "construct", data_file, "-o", net, "--certificate", cert, "-q")[0] == 0
    assert net.exists() and cert.read_text().lstrip().startswith("{")
    code, _, err = _run(capsys, "verify-certificate", cert, net, data_file, "-q")
    assert code == 0, err


# ----------------------------------------------------------------------------- progress
_STEP = re.compile(r"^symtrunc: (.+) (\d+)/(\d+)(: .*)? \((\d+\.\d\d) s\)$")


@pytest.mark.parametrize("method", ["sls", "clustered"])
def test_verbose_prints_one_line_per_step_with_its_time(method, tmp_path, data_file, capsys):
    code, out, err = _run(capsys, "construct", data_file, "-o", tmp_path / "n.json", "--method", method, "-v", "-q")
    assert code == 0
    assert out == ""
    lines = err.strip().splitlines()
    assert lines and all(_STEP.match(line) for line in lines), err
    cones = [line for line in lines if f"{method}: cones" in line]
    assert len(cones) == 3  # one line per collapse step (Q = 3 hidden layers)
    assert [_STEP.match(line).group(2) for line in cones] == ["1", "2", "3"]
    assert any("verify:" in line for line in lines)  # the exact verification inside construct, per layer


def test_progress_bar_only_on_a_terminal(tmp_path, data_file, capsys, monkeypatch):
    code, out, err = _run(capsys, "construct", data_file, "-o", tmp_path / "a.json", "-q")
    assert code == 0 and out == "" and err == ""  # not a terminal: nothing
    code, out, err = _run(capsys, "construct", data_file, "-o", tmp_path / "b.json")
    assert code == 0 and err == ""  # not a terminal, not quiet: the summary only
    if importlib.util.find_spec("tqdm") is None:
        pytest.skip("tqdm not installed (extra 'progress')")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = _run(capsys, "construct", data_file, "-o", tmp_path / "c.json")
    assert code == 0
    assert "sls: order search" in err and "sls: cones" in err and "/3 [" in err  # tqdm bars on standard error
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = _run(capsys, "construct", data_file, "-o", tmp_path / "d.json", "-q")
    assert code == 0 and err == ""  # -q: no bar even on a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = _run(capsys, "verify", tmp_path / "c.json", data_file)
    assert code == 0 and "verify: exact" in err


def test_library_is_silent_without_a_reporter(tmp_path, data_file, capsys, monkeypatch):
    import symtrunc

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    symtrunc.construct(load_data(data_file))
    assert capsys.readouterr().err == ""


def test_fraction_reference_agrees_on_float_file(tmp_path, data_file, capsys):
    """The exact network recovered from an .npz equals the JSON one entry by entry (reference pass)."""
    assert _run(capsys, "construct", data_file, "-o", tmp_path / "a.json", "-q")[0] == 0
    assert _run(capsys, "construct", data_file, "-o", tmp_path / "a.npz", "-q")[0] == 0
    X = [[1, 2, 3], [10, 0, 0]]
    assert fraction_forward(read_network(tmp_path / "a.json"), X) == fraction_forward(
        read_network(tmp_path / "a.npz"), X
    )
