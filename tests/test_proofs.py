"""The machine-checked proofs: every claim is proved, every deliberately false variant fails with an
exact counterexample, an undecidable obligation is "not settled", and `symtrunc prove` works."""

import argparse
import shutil
import subprocess
import time

import pytest
import sympy

from symtrunc import proofs
from symtrunc.cli import latex as cli_latex
from symtrunc.errors import DataError
from symtrunc.proofs._core import Algebra, Domain, Prover, _poly_sign, psd_decomposition

NAMES = list(proofs.available())
VARIANTS = [(name, v) for name, mod in proofs.available().items() for v in mod.VARIANTS]
REQUIRED = {"truncation_map", "proposition_3_2", "cone_lemma", "rational_cone", "theorem_5_2", "base_points",
            "l2_identities"}


def _parser():
    p = argparse.ArgumentParser(prog="symtrunc")
    sub = p.add_subparsers(dest="command")
    cli_latex.register(sub)
    return p


@pytest.fixture(scope="module")
def results():
    t0 = time.perf_counter()
    out = {name: proofs.run(name) for name in NAMES}
    return out, time.perf_counter() - t0


def test_the_required_proofs_exist():
    assert REQUIRED <= set(NAMES)
    for mod in proofs.available().values():
        assert mod.VARIANTS, f"{mod.NAME} has no false variant"


@pytest.mark.parametrize("name", NAMES)
def test_claim_is_proved_symbolically(results, name):
    r = results[0][name]
    assert r.status == "proved", [s for s in r.steps if s.status != "proved"][:1]
    assert r.steps and all(s.status == "proved" for s in r.steps)
    assert all(s.method in ("identity", "sign", "certificate", "sum of squares", "fact") for s in r.steps)
    assert r.counterexample is None and r.variant is None
    assert r.claim and "Proof sketch" in r.latex and "Machine-checked obligations" in r.latex
    assert "**Proof sketch.**" in r.markdown


def test_all_proofs_are_fast(results):
    assert results[1] < 60


@pytest.mark.parametrize(("name", "variant"), VARIANTS)
def test_false_variant_fails_with_counterexample(name, variant):
    r = proofs.run(name, variant)
    assert r.status == "failed"
    assert r.variant == variant and "Deliberately false variant" in r.claim
    failed = [s for s in r.steps if s.status == "failed"]
    assert failed and failed[0].method == "counterexample" and "Counterexample" in failed[0].detail
    assert r.counterexample["values"] and r.counterexample["obligation"] == failed[0].description


def test_unknown_names():
    with pytest.raises(DataError, match="unknown proof"):
        proofs.run("no_such_proof")
    with pytest.raises(DataError, match="has no variant"):
        proofs.run("base_points", "no_such_variant")


# ------------------------------------------------------------------ the engine
def test_not_settled_is_reported_never_guessed():
    x = sympy.Symbol("x", real=True)
    P = Prover("demo", "Demo", "claim")
    # sin² + cos² = 1 is true, but not a rational-function identity: no proof, no counterexample
    assert not P.identity("Pythagoras", sympy.sin(x) ** 2 + sympy.cos(x) ** 2, 1, Domain({x: "real"}))
    assert P.steps[-1].status == "not settled" and P.steps[-1].method == "unsettled"
    # a sign that the coefficient test cannot decide and no rational point refutes
    assert not P.sign("x^2 - 2x + 1 >= 0", x**2 - 2 * x + 1, ">=", Domain({x: "real"}))
    assert P.steps[-1].status == "not settled"
    r = P.finish()
    assert r.status == "not settled" and r.counterexample is None
    assert Prover("e", "E", "c").finish().status == "not settled"  # nothing proved is not a proof


def test_prover_identities_and_signs():
    a, b = sympy.symbols("a b", real=True)
    s, t = sympy.symbols("s t", nonnegative=True)
    P = Prover("demo", "Demo", "claim")
    assert P.identity("rational", (a**2 - b**2) / (a - b), a + b, Domain({a: "real", b: "real"}, nonzero=[a - b]))
    assert P.identity("radicals", (sympy.sqrt(2) + 1) * (sympy.sqrt(2) - 1), 1, Domain({}))
    assert P.identity("matrices", sympy.Matrix([[a, 0]]) * 2, sympy.Matrix([[2 * a, 0]]), Domain({a: "real"}))
    assert P.sign("s t + s + 1 > 0", s * t + s + 1, ">", Domain({s: "nonnegative", t: "nonnegative"}))
    assert P.sign("-(s+1)/(t+2) < 0", -(s + 1) / (t + 2), "<", Domain({s: "nonnegative", t: "nonnegative"}))
    assert P.sum_of_squares("x^2 - 2xy + 3y^2", a**2 - 2 * a * b + 3 * b**2, [a, b], Domain({a: "real", b: "real"}))
    assert not P.sum_of_squares("indefinite", a**2 - 3 * a * b + b**2, [a, b], Domain({a: "real", b: "real"}))
    assert P.steps[-1].status == "failed"
    with pytest.raises(ValueError, match="shapes differ"):
        P.identity("bad", sympy.Matrix([a, b]), sympy.Matrix([a]), Domain({}))
    with pytest.raises(ValueError, match="unknown symbol kind"):
        Domain({a: "complex"})


def test_counterexamples_respect_the_hypotheses():
    x = sympy.Symbol("x", real=True)
    dom = Domain({x: "real"}, conditions=[x - 10])  # only x >= 10 is admissible
    P = Prover("demo", "Demo", "claim")
    assert not P.sign("x - 20 >= 0", x - 20, ">=", dom)
    assert P.steps[-1].status in ("failed", "not settled")
    if P.steps[-1].status == "failed":
        assert sympy.Rational(P.counterexample["values"]["x"]) >= 10
    P2 = Prover("demo", "Demo", "claim")
    dom2 = Domain({x: "real"}, conditions=[x - 10], samples=lambda rng: iter([{x: 12}, {x: 5}]))
    assert not P2.sign("x - 20 >= 0", x - 20, ">=", dom2)
    assert P2.counterexample["values"] == {"x": "12"}


def test_poly_sign_and_psd():
    p, q = sympy.symbols("p q", positive=True)
    z = sympy.Symbol("z", nonnegative=True)
    n = sympy.Symbol("n", negative=True)
    kinds = {p: "positive", q: "positive", z: "nonnegative", n: "negative"}
    assert _poly_sign(p + q * z, kinds) == "positive"
    assert _poly_sign(z, kinds) == "nonnegative"
    assert _poly_sign(-z - p, kinds) == "negative"
    assert _poly_sign(n * p, kinds) == "negative"
    assert _poly_sign(p - q, kinds) is None
    x, y = sympy.symbols("x y")
    assert psd_decomposition(x**2 - 2 * x * y + 3 * y**2, [x, y]) == [(1, x - y), (2, y)]
    assert psd_decomposition(x * y, [x, y]) is None
    assert psd_decomposition(x**3, [x, y]) is None
    assert psd_decomposition(x**2 + 1, [x, y]) is None
    assert psd_decomposition(sympy.S.Zero * x, [x, y]) == []


def test_algebra():
    x, y = sympy.symbols("x y")
    A = Algebra([x, y])
    M = A.mat([[x, 1], [0, y]])
    assert (M.inv() * M).exact().sym() == sympy.eye(2)
    assert (M + M).equals(M * 2) and (2 * M).equals(M * 2)
    assert (M - M).equals(A.mat(sympy.zeros(2, 2)))
    assert M.det() == x * y and M.trace().sym()[0, 0] == x + y and M.T().sym() == sympy.Matrix([[x, 0], [1, y]])
    half = M.inv()
    assert (half + A.eye(2)).equals(A.eye(2) + half)
    assert A.apply(A.mat([[x]]), lambda e: sympy.Max(0, e)).__class__.__name__ == "MutableDenseMatrix"


# ------------------------------------------------------------------ runner and CLI
def test_results_table_and_documents():
    rs = proofs.run_all(["base_points"], variants=True)
    table = proofs.results_table(rs)
    assert "base_points [closed_interval]" in table and "proved" in table and "failed" in table
    tex = proofs.proofs_document(rs)
    assert tex.startswith(r"\documentclass") and "1 of 1 claims proved" in tex and "2 of 2 deliberately false" in tex
    md = proofs.proofs_document(rs, "markdown")
    assert md.startswith("# symtrunc: machine-checked proofs")


def test_cli_prove(tmp_path, capsys):
    p = _parser()
    args = p.parse_args(["prove"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"{len(NAMES)} of {len(NAMES)} claims proved" in out and "truncation_map" in out
    args = p.parse_args(["prove", "--all", "--variants", "-o", str(tmp_path / "proofs.tex")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"{len(VARIANTS)} of {len(VARIANTS)} false variants refuted" in out
    assert (tmp_path / "proofs.tex").read_text().startswith(r"\documentclass")
    args = p.parse_args(["prove", "base_points", "--variant", "closed_interval"])
    assert args.func(args) == 1  # the claim run is false: exit code 1
    assert "failed" in capsys.readouterr().out
    args = p.parse_args(["prove", "--list"])
    assert args.func(args) == 0 and "--variant closed_interval" in capsys.readouterr().out
    args = p.parse_args(["prove", "l2_identities", "-o", str(tmp_path / "p.md"), "--format", "markdown"])
    assert args.func(args) == 0 and (tmp_path / "p.md").read_text().startswith("# symtrunc")
    for argv, msg in ((["prove", "nope"], "unknown proof"),
                      (["prove", "base_points", "cone_lemma", "--variant", "x"], "exactly one proof"),
                      (["prove", "base_points", "--variant", "x"], "has no variant")):
        args = p.parse_args(argv)
        with pytest.raises(DataError, match=msg):
            args.func(args)


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex not on PATH (CI installs texlive-latex-base); compile test skipped")
def test_proofs_document_compiles(tmp_path):
    tex = proofs.proofs_document(proofs.run_all(variants=True))
    (tmp_path / "proofs.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "proofs.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    log = (tmp_path / "proofs.log").read_text(encoding="latin-1")
    assert "Overfull \\vbox" not in log
    assert ".600pk" not in log and "tcrm" not in log, "a bitmap (METAFONT) font was needed"
