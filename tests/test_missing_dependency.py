"""A missing optional package gives one error everywhere: MissingDependencyError naming the pip extra.

Each optional package is blocked with ``sys.modules[name] = None`` (then ``import name`` raises
``ImportError``, as when it is not installed); the library entry point that needs it must raise
:class:`~symtrunc.errors.MissingDependencyError` with ``pip install "symtrunc[extra]"``, and the
CLI must print exactly one line and exit with 2.
"""

from __future__ import annotations

import importlib
import pickle
import sys

import numpy as np
import pytest

import symtrunc
from symtrunc.cli.app import main
from symtrunc.errors import MissingDependencyError, SymtruncError, require
from symtrunc.network import ReLUNetwork

NET = ReLUNetwork.from_rows([([[1, "1/3"], [0, 1]], ["1/2", 0], "relu"), ([[1, -1]], [0], "identity")])


def _block(monkeypatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _pip(extra: str) -> str:
    return f'pip install "symtrunc[{extra}]"'


def test_error_type_and_message():
    e = MissingDependencyError("onnx", "onnx", "ONNX export and import")
    assert isinstance(e, SymtruncError) and isinstance(e, ImportError)
    assert str(e) == "ONNX export and import needs the 'onnx' package: " + _pip("onnx")
    assert (e.name, e.extra, e.feature) == ("onnx", "onnx", "ONNX export and import")
    again = pickle.loads(pickle.dumps(e))  # crosses process boundaries (dask workers) intact
    assert type(again) is MissingDependencyError and str(again) == str(e)
    assert symtrunc.MissingDependencyError is MissingDependencyError
    assert "MissingDependencyError" in symtrunc.__all__


def test_require(monkeypatch):
    assert require("json", "none", "JSON") is importlib.import_module("json")
    _block(monkeypatch, "safetensors", "safetensors.numpy")
    with pytest.raises(MissingDependencyError) as info:
        require("safetensors.numpy", "safetensors", "safetensors export")
    assert info.value.name == "safetensors" and str(info.value).endswith(_pip("safetensors"))
    _block(monkeypatch, "dask.distributed")
    with pytest.raises(MissingDependencyError, match=r"needs the 'distributed' package"):
        require("dask.distributed", "dask", "--dask", package="distributed")


# (modules to block, extra, suffix of the file) for every optional file format
FORMATS = [
    (("onnx",), "onnx", ".onnx"),
    (("safetensors", "safetensors.numpy"), "safetensors", ".safetensors"),
    (("torch",), "torch", ".pt"),
]


@pytest.mark.parametrize("blocked, extra, suffix", FORMATS, ids=[f[1] for f in FORMATS])
def test_export_and_import_without_the_package(monkeypatch, tmp_path, blocked, extra, suffix):
    _block(monkeypatch, *blocked)
    with pytest.raises(
        MissingDependencyError, match=rf"needs the '{blocked[0]}' package: pip install \"symtrunc\[{extra}\]\""
    ):
        symtrunc.export(NET, tmp_path / f"net{suffix}")
    assert not list(tmp_path.iterdir())  # nothing partial written
    path = tmp_path / f"other{suffix}"
    path.write_bytes(b"\x08\x01 any non-empty content")
    with pytest.raises(MissingDependencyError, match=rf"symtrunc\[{extra}\]"):
        symtrunc.import_network(path)


def test_onnx_model_and_torch_module_without_the_package(monkeypatch):
    from symtrunc.io import onnx, torch

    _block(monkeypatch, "onnx", "torch")
    with pytest.raises(MissingDependencyError, match=r"symtrunc\[onnx\]"):
        onnx.to_model(NET)
    with pytest.raises(MissingDependencyError, match=r"symtrunc\[torch\]"):
        torch.to_torch(NET)


def test_plot_without_matplotlib(monkeypatch):
    from symtrunc.plot.figures import plot_steps

    data = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
    net = symtrunc.construct(data)
    _block(monkeypatch, "matplotlib", "matplotlib.figure")
    with pytest.raises(
        MissingDependencyError, match=r"plotting needs the 'matplotlib' package: pip install \"symtrunc\[plot\]\""
    ):
        plot_steps(net, data)


@pytest.mark.parametrize(("blocked", "formulation"), [("clarabel", "working-set"), ("cvxpy", "cvxpy")])
def test_conic_solver_without_cvxpy_or_clarabel(monkeypatch, blocked, formulation):
    # the default route builds Clarabel's matrices itself; only the cvxpy route needs cvxpy
    from symtrunc.convex.program import ConvexProgram
    from symtrunc.convex.regression import RegressionData
    from symtrunc.convex.solvers import solve_conic

    program = ConvexProgram.create(RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [1, 2, 2]), "1/2")
    _block(monkeypatch, blocked)
    with pytest.raises(
        MissingDependencyError, match=rf"needs the '{blocked}' package: pip install \"symtrunc\[convex\]\""
    ):
        solve_conic(program, formulation=formulation)


def test_numba_engine_without_numba(monkeypatch):
    kernels = importlib.import_module("symtrunc.lowering.kernels")
    monkeypatch.setattr(kernels, "numba", None)
    with pytest.raises(
        MissingDependencyError, match=r"engine='numba' needs the 'numba' package: pip install \"symtrunc\[fast\]\""
    ):
        symtrunc.lower(NET).forward(np.zeros((3, 2)), engine="numba")


# ---------------------------------------------------------------------------- the CLI
def _cli_cases(tmp_path):
    net = tmp_path / "net.json"
    symtrunc.save_network(NET, net)
    data = tmp_path / "d.csv"
    data.write_text("2,0,a\n3,0,a\n0,2,b\n0,3,b\n", encoding="utf-8")
    plotted = tmp_path / "plotted.json"
    symtrunc.save_network(symtrunc.construct(symtrunc.load_data(data)), plotted)
    reg = tmp_path / "reg.csv"
    reg.write_text("x1,x2,y\n1,0,1\n0,1,2\n1,1,0\n2,1,1\n", encoding="utf-8")
    onnx_file = tmp_path / "some.onnx"
    onnx_file.write_bytes(b"\x08\x01 any non-empty content")
    return {
        "export onnx": (("onnx",), "onnx", ["export", str(net), "-o", str(tmp_path / "n.onnx")]),
        "export safetensors": (
            ("safetensors", "safetensors.numpy"),
            "safetensors",
            ["export", str(net), "--to", "safetensors", "-o", str(tmp_path / "n.safetensors")],
        ),
        "export torch": (("torch",), "torch", ["export", str(net), "-o", str(tmp_path / "n.pt")]),
        "import onnx": (("onnx",), "onnx", ["import", str(onnx_file), "-o", str(tmp_path / "i.json")]),
        "plot": (
            ("matplotlib", "matplotlib.figure"),
            "plot",
            ["plot", str(plotted), str(data), "-o", str(tmp_path / "p.png")],
        ),
        "convex fit": (("clarabel",), "convex", ["convex", "fit", str(reg), "--lam", "1/10"]),
        "verify --dask": (
            ("dask.distributed", "distributed"),
            "dask",
            ["verify", str(plotted), str(data), "--certified", "--dask", "tcp://127.0.0.1:1"],
        ),
    }


CLI = ["export onnx", "export safetensors", "export torch", "import onnx", "plot", "convex fit", "verify --dask"]


@pytest.mark.parametrize("case", CLI)
def test_cli_one_line_exit_2(monkeypatch, tmp_path, capsys, case):
    blocked, extra, argv = _cli_cases(tmp_path)[case]
    capsys.readouterr()
    _block(monkeypatch, *blocked)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("symtrunc: error: ") and err[0].endswith(_pip(extra)), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
