"""``symtrunc landscape``: output formats and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest

from symtrunc.cli.app import main


def _params(tmp_path, doc, name="p.json"):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(p)


TV8 = {"w": ["1", "-1"], "b": ["-1/3", "2/3"], "v": ["2/3", "-2/3"], "c": "1/2", "activation": "relu"}


def test_json_output_schema(tmp_path, capsys):
    assert main(["landscape", _params(tmp_path, TV8), "--target", "1,0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["loss"] == "1/972" and out["gradient"] == ["0"] * 7
    assert out["critical"] is True and out["verdict"] == "saddle"
    assert [n["type"] for n in out["neurons"]] == ["semi-active", "semi-active"]
    assert out["certificate"]["kind"] == "descent_ray"
    assert all(isinstance(x, str) for x in out["certificate"]["polynomial"])


@pytest.mark.parametrize(
    "doc,target,interval,verdict",
    [
        ({"w": [1, -1], "b": [-2, "-1/2"], "v": [5, -7], "c": "1/2"}, "1,0", "0,1", "local_min"),
        ({"w": [1], "b": [1], "v": [3], "c": -5}, "3,-2", "0,1", "global_min"),
        ({"w": ["1"], "b": ["-1/2"], "v": ["1"], "c": "0"}, "2,1", "0,1", "not_critical"),
        ({"w": [2, -1], "b": [0, 1], "v": ["1/2", -1], "c": "5/4"}, "1.5,0.5", "-1,2", "saddle"),
    ],
)
def test_verdicts(tmp_path, capsys, doc, target, interval, verdict):
    assert main(["landscape", _params(tmp_path, doc), f"--target={target}", f"--interval={interval}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == verdict


def test_text_and_latex_output(tmp_path, capsys):
    path = _params(tmp_path, {"w": [0], "b": [0], "v": [1], "c": "1/2"})
    assert main(["landscape", path, "--target", "1,0"]) == 0
    out = capsys.readouterr().out
    assert "loss:        1/12" in out and "verdict:     saddle" in out and "differentiable: no" in out
    assert main(["landscape", path, "--target", "1,0", "--sigma-prime-at-zero", "1"]) == 0
    assert "verdict:     not_critical" in capsys.readouterr().out
    assert main(["landscape", path, "--target", "1,0", "--latex"]) == 0
    tex = capsys.readouterr().out
    assert r"\mathcal{L}(\varphi)" in tex and r"\nabla\mathcal{L}(\varphi)" in tex


def test_leaky_and_quadratic_from_json(tmp_path, capsys):
    doc = {"w": [0], "b": [0], "v": [0], "c": "1/2", "activation": "leaky_relu", "slope": "1/10"}
    assert main(["landscape", _params(tmp_path, doc), "--target", "1,0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "saddle" and "leaky_relu" in out["activation"]
    doc = {"w": [1, 1], "b": [1, 0], "v": ["1/2", "-1/2"], "c": 0, "activation": "quadratic"}
    assert main(["landscape", _params(tmp_path, doc), "--target", "1,1/2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "global_min"


@pytest.mark.parametrize(
    "doc,args,fragment",
    [
        ({"w": ["abc"], "b": [0], "v": [1], "c": 0}, [], "not a number"),
        ({"w": [1, 2], "b": [0], "v": [1, 1], "c": 0}, [], "same length"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--interval", "1,1"], "empty interval"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--interval", "2,1"], "need lo < hi"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--interval", "0"], "--interval must be two numbers"),
        ({"w": [1], "b": [0], "v": [1], "c": 0, "activation": "tanh"}, [], "unknown activation"),
        ("{not json", [], "not valid JSON"),
        ({"w": [1], "b": [0], "v": [1]}, [], "missing the key 'c'"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--target", "x,1"], "--target"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--target", "1"], "--target must be two numbers"),
        ({"w": [1], "b": [0], "v": [1], "c": 0}, ["--sigma-prime-at-zero", "q"], "not a number"),
        ({"w": [0.5], "b": [0], "v": [1], "c": 0}, [], "float"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, capsys, doc, args, fragment):
    argv = ["landscape", _params(tmp_path, doc)] + (["--target", "1,0"] if "--target" not in args else []) + args
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symtrunc: error:") and fragment in err


def test_missing_file(tmp_path, capsys):
    assert main(["landscape", str(tmp_path / "nope.json"), "--target", "1,0"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="needs pdflatex")
def test_latex_output_compiles(tmp_path, capsys):
    import subprocess

    body = []
    b4 = {
        "w": ["1", "-1", "1", "-1"],
        "b": ["-1/5", "2/5", "-3/5", "4/5"],
        "v": ["2/5", "-2/5", "2/5", "-2/5"],
        "c": "1/2",
    }
    leaky = {
        "w": [1, -1, 0, 0, 1],
        "b": ["-1/3", "2/3", 0, 1, 0],
        "v": [1, -1, 1, 0, 2],
        "c": "1/2",
        "activation": "leaky_relu",
    }
    for doc in (
        TV8,
        {"w": [0], "b": [0], "v": [1], "c": "1/2"},
        {"w": [1, -1], "b": [-2, "-1/2"], "v": [5, -7], "c": "1/2"},
        b4,
        leaky,
    ):
        assert main(["landscape", _params(tmp_path, doc), "--target", "1,0", "--latex"]) == 0
        body.append(capsys.readouterr().out)
    tex = tmp_path / "doc.tex"
    # the preamble a user would write: no MaxMatrixCols (a 13x13 Hessian is printed with \cdots)
    tex.write_text(
        "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n" + "\n".join(body) + "\n\\end{document}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]


def test_negative_values_need_no_equals_sign(tmp_path, capsys):
    """``--target -1,0`` and ``--interval -1,2`` are values, exactly like ``--target=-1,0``."""
    path = _params(tmp_path, TV8)
    outs = []
    for argv in (
        ["--target", "-3/2,1/5", "--interval", "-1,2"],
        ["--target=-3/2,1/5", "--interval=-1,2"],
        ["--interval", "-1,2", "--target", "-3/2,1/5", "--sigma-prime-at-zero", ".5"],
    ):
        assert main(["landscape", path, *argv, "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] and outs[0]["loss"] == "364091/72900"
    assert outs[2]["gradient"] == outs[0]["gradient"] and outs[2]["activation"].endswith("σ'(0) := 1/2")
    assert main(["landscape", path, "--target", "-1"]) == 2
    assert "--target must be two numbers" in capsys.readouterr().err
    assert main(["landscape", path, "--target", "-1,0", "-j"]) == 2  # an unknown option is still an option
    assert "unrecognized arguments: -j" in capsys.readouterr().err
