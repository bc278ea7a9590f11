"""Derivation reports: content, failure reporting, the `symtrunc latex` subcommand, pdflatex compile."""

import argparse
import re
import shutil
import subprocess
from dataclasses import replace

import flint
import pytest

import symtrunc
from symtrunc.cli import latex as cli_latex
from symtrunc.errors import DataError, FormatError
from symtrunc.io.json import save_network
from symtrunc.latex.report import PREAMBLE, build_report, document, write_report
from symtrunc.network import Layer, ReLUNetwork

HAVE_PDFLATEX = shutil.which("pdflatex") is not None
needs_pdflatex = pytest.mark.skipif(
    not HAVE_PDFLATEX, reason="pdflatex not on PATH (CI installs texlive-latex-base); compile test skipped"
)


@pytest.fixture(scope="module")
def data(worked_data):
    return worked_data  # the dossier's worked example (tests/conftest.py)


@pytest.fixture(scope="module")
def net(worked_net):
    return worked_net


@pytest.fixture(scope="module")
def wine():
    return symtrunc.load_wine()


@pytest.fixture(scope="module")
def wine_net(wine):
    return symtrunc.construct(wine)


def _parser():
    p = argparse.ArgumentParser(prog="symtrunc")
    sub = p.add_subparsers(dest="command")
    cli_latex.register(sub)
    return p


def _compile(tmp_path, name, tex):
    (tmp_path / f"{name}.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (tmp_path / f"{name}.log").read_text(encoding="latin-1")
    assert run.returncode == 0, log[-3000:]
    assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
    assert ".600pk" not in log and "tcrm" not in log, "a bitmap (METAFONT) font was needed"
    return log


def _worst_overfull(log):
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    return max(widths, default=0.0), ("Overfull \\vbox" in log)


# ------------------------------------------------------------------ content
def test_worked_example_report(net, data):
    rep = build_report(net, data)
    assert rep.ok and rep.problems == []
    tex = rep.text
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    for needle in (
        r"W^{(1)} = \begin{bmatrix}0 & 1\\-1 & 2\end{bmatrix}",
        r"b^{(1)} = \begin{bmatrix}-\frac{5}{4}\\-\frac{3}{4}\end{bmatrix}",
        r"W_{2} = \begin{bmatrix}3 & -2\\2 & -1\end{bmatrix}",
        r"W_{3} = \begin{bmatrix}\frac{5}{6} & -\frac{1}{2}\\-\frac{7}{6} & \frac{3}{2}\end{bmatrix}",
        r"W^{(3)} = \begin{bmatrix}\frac{7}{6} & -\frac{5}{6}\\-\frac{5}{6} & \frac{7}{6}\end{bmatrix}",
        r"p_{1} = \begin{bmatrix}\frac{7}{4}\\\frac{5}{4}\end{bmatrix}",
        r"\textbf{Theorem 5.2}",
        "Every condition holds",
        r"All 4 points of class $\text{1}$ have $W^{(1)}(x - p_{1}) \le 0$",
        r"W^{(3)}P + b^{(3)}u^\top = \begin{bmatrix}1 & 0\\0 & 1\end{bmatrix}",
        "These are exactly the targets",
        r"\textbf{Zero-loss certificate}",
    ):
        assert needle in tex, needle
    # the re-checked SLS table and the recipe table
    assert re.search(r"1 & \$\\text\{1\}\$ & \$\\frac\{3\}\{4\}\$ & 4 & \$-\\frac\{1\}\{2\}\$ & 5 &", tex)
    assert r"$\varepsilon = 1$, $s = 1$ & yes" in tex


def test_report_markdown(net, data):
    md = write_report(net, data, format="markdown")
    assert md.startswith("# Derivation report")
    assert "$$ W^{(1)} = \\begin{bmatrix}0 & 1\\\\-1 & 2\\end{bmatrix}" in md
    assert "\\fitmath" not in md and "\\begin{tabular}" not in md and "\\section" not in md
    assert "| $\\ell$ |" in md and "**Zero-loss certificate**" in md


def test_report_options(net, data):
    tex = write_report(net, data, relu="ReLU", full=True)
    assert r"\operatorname{ReLU}(z) = \max(z, 0)" in tex and r"\sigma" not in tex
    with pytest.raises(DataError, match="unknown report format"):
        write_report(net, data, format="html")
    with pytest.raises(DataError, match="unknown report format"):
        document("x", symtrunc.latex.Fragment(), "rst")


def test_report_without_data(wine_net):
    rep = build_report(wine_net)
    assert rep.ok
    assert "No training data were given" in rep.text and "Not re-checked: no data" in rep.text


def test_paper_cone_and_clustered_reports(data, worked_choices):
    paper = symtrunc.construct(data, cone="paper", angles=["3/2", "3/2"], **worked_choices)
    rep = build_report(paper, data)
    assert rep.ok and r"$\lambda = 1$" in rep.text and r"W_{\theta_\ell}R_\ell" in rep.text
    d3 = symtrunc.LabeledData.from_arrays(
        [[10, 0, 0], [11, 0, 0], [0, 10, 0], [0, 11, 0], [0, 0, 10], [0, 0, 11]], list("aabbcc")
    )
    rep = build_report(symtrunc.construct(d3, "clustered"), d3)
    assert rep.ok
    assert r"\textbf{Proposition 4.1}" in rep.text and "(4.2)" in rep.text and r"(\mu/\delta)^2 = \frac{" in rep.text


def shrinking_reports():
    d = symtrunc.LabeledData.from_arrays([[10, 0, 0], [11, 0, 0], [0, 10, 0], [0, 11, 0]], ["a", "a", "b", "b"])
    return [
        build_report(symtrunc.construct(d, "clustered", widths=[2, 2], cone=cone), d) for cone in ("rational", "paper")
    ]


def test_shrinking_width_report():
    for rep in shrinking_reports():
        assert rep.ok, rep.problems
        assert "The hidden widths shrink ($2, 2$)" in rep.text and "n/a" in rep.text


def test_report_records_failures(net, data):
    # a wrong output bias: verification fails, the report says so
    bad_layer = Layer(net.layers[2].W, net.layers[2].b * 2, "identity")
    bad = net.with_layer(2, bad_layer)
    rep = build_report(bad, data)
    assert not rep.ok and any("verification failed" in p for p in rep.problems)
    assert r"\textbf{Verification FAILED:}" in rep.text and "Problems found" in rep.text
    # tampered record: the recorded base point is not on the segment for the recorded t
    record = net.construction
    steps = (replace(record.steps[0], t=flint.fmpq(1, 2)),) + record.steps[1:]
    rep = build_report(ReLUNetwork(net.layers, net.classes, replace(record, steps=steps)), data)
    assert not rep.ok and any("SLS conditions" in p for p in rep.problems)
    # a recorded cone parameter that does not give the layer
    wrong = (replace(record.steps[0], recipe=replace(record.steps[0].recipe, epsilon=flint.fmpq(3))),)
    rep = build_report(ReLUNetwork(net.layers, net.classes, replace(record, steps=wrong + record.steps[1:])), data)
    assert not rep.ok and "layer 1: the cumulative parameters do not match the recorded recipe" in rep.problems
    # malformed metadata is a format error (the network refuses it)
    broken = record.to_json()
    broken["steps"][1]["base_point"] = ["1"]
    with pytest.raises(FormatError, match="step 2"):
        ReLUNetwork(net.layers, net.classes, broken)
    with pytest.raises(DataError, match="dimension"):
        build_report(net, symtrunc.LabeledData.from_arrays([[1, 0, 0], [0, 1, 0]], [1, 2]))
    odd = {**record.to_json(), "method": "magic"}
    assert any(
        "unknown construction method" in p
        for p in build_report(ReLUNetwork(net.layers, net.classes, odd), data).problems
    )
    # a plain network without construction metadata
    plain = ReLUNetwork(net.layers, net.classes)
    rep = build_report(plain, data)
    assert rep.ok and "no collapse order" in rep.text and "no construction recorded" in rep.text


def test_float_robust_report_states_the_scaled_cone(wine):
    net = symtrunc.construct(wine, robust="float32")
    rep = build_report(net, wine)
    assert rep.ok
    assert r"\varepsilon_\ell D + u h_\ell^\top" in rep.text and r"D = \operatorname{diag}(d)" in rep.text
    assert r"\varepsilon_\ell I + u h_\ell^\top\right)" not in rep.text  # the plain rational cone is not claimed
    # the recorded scaling is compared with the layers: a wrong d fails the recipe check
    record = net.construction
    st = record.steps[0]
    d = (st.recipe.diagonal[0] * 2,) + st.recipe.diagonal[1:]
    wrong = replace(record, steps=(replace(st, recipe=replace(st.recipe, diagonal=d)),) + record.steps[1:])
    rep = build_report(ReLUNetwork(net.layers, net.classes, wrong), wine)
    assert not rep.ok and "layer 1: the cumulative parameters do not match the recorded recipe" in rep.problems


# ------------------------------------------------------------------ CLI
def test_cli_latex_writes_reports(tmp_path, net, worked_csv, capsys):
    net_path, data_path = tmp_path / "net.json", worked_csv
    save_network(net, net_path)
    p = _parser()
    args = p.parse_args(["latex", str(net_path), str(data_path), "-o", str(tmp_path / "r.tex")])
    assert args.func(args) == 0
    assert "hypotheses and zero loss checked exactly" in capsys.readouterr().out
    assert (tmp_path / "r.tex").read_text().startswith(r"\documentclass")
    args = p.parse_args(["latex", str(net_path), str(data_path), "--format", "markdown", "--full", "--relu", "ReLU"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Derivation report") and r"\operatorname{ReLU}" in out
    args = p.parse_args(["latex", str(net_path), "-o", str(tmp_path / "n.tex")])
    assert args.func(args) == 0 and "not re-checked" in capsys.readouterr().out


def test_cli_latex_failures(tmp_path, net, worked_csv, capsys):
    p = _parser()
    bad = net.with_layer(2, Layer(net.layers[2].W, net.layers[2].b * 2, "identity"))
    save_network(bad, tmp_path / "bad.json")
    args = p.parse_args(["latex", str(tmp_path / "bad.json"), str(worked_csv), "-o", str(tmp_path / "b.tex")])
    assert args.func(args) == 1
    assert "failed checks" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text('{"format": "other"}')
    args = p.parse_args(["latex", str(tmp_path / "junk.json")])
    with pytest.raises(FormatError):
        args.func(args)
    args = p.parse_args(["latex", str(tmp_path / "bad.json"), str(tmp_path / "missing.csv")])
    with pytest.raises(DataError, match="no such file"):
        args.func(args)
    with pytest.raises(SystemExit):
        p.parse_args(["latex", "x.json", "--format", "html"])


# ------------------------------------------------------------------ compile
@needs_pdflatex
def test_wine_report_compiles(tmp_path, wine_net, wine):
    """The embedded demo network (Wine, 13 x 13 matrices with large rationals) compiles and fits the page."""
    rep = build_report(wine_net, wine)
    assert rep.ok
    log = _compile(tmp_path, "wine", rep.text)
    worst, vbox = _worst_overfull(log)
    assert worst < 20 and not vbox, f"overfull box of {worst}pt"
    full = write_report(wine_net, wine, full=True)
    log = _compile(tmp_path, "wine_full", full)
    worst, vbox = _worst_overfull(log)
    assert worst < 20 and not vbox, f"overfull box of {worst}pt in the --full report"


@needs_pdflatex
def test_small_reports_compile(tmp_path, net, data):
    tex = write_report(net, data, relu="ReLU")
    log = _compile(tmp_path, "small", tex)
    assert _worst_overfull(log)[0] < 20
    log = _compile(tmp_path, "shrink", shrinking_reports()[1].text)
    assert _worst_overfull(log)[0] < 20
    packages = set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", PREAMBLE))
    assert packages == {"geometry", "amsmath,amssymb", "graphicx", "array", "longtable"}
