"""LaTeX printing: golden strings for the worked example (reference §5.2) and every printer path."""

import shutil
import subprocess
from fractions import Fraction

import flint
import pytest
import sympy

import symtrunc
from symtrunc.constructions.clustered import check_clustered
from symtrunc.exact.lp import Separator
from symtrunc.exact.matrix import identity, qmatrix, qvector
from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap
from symtrunc.latex import (
    Fragment,
    LatexOptions,
    SymtruncLatexPrinter,
    claims_table,
    latex_matrix,
    latex_number,
    latex_vector,
    network_expression,
    register_latex,
    relu,
    tex_escape,
    to_latex,
    to_markdown,
)
from symtrunc.latex.report import document


@pytest.fixture(scope="module")
def data(worked_data):
    return worked_data  # the dossier's worked example (tests/conftest.py)


@pytest.fixture(scope="module")
def net(worked_net):
    return worked_net


@pytest.fixture
def paper_net(data, worked_choices):
    return symtrunc.construct(data, cone="paper", angles=["3/2", "3/2"], **worked_choices)


# ------------------------------------------------------------------ golden: worked example §5.2
GOLDEN_CUMULATIVE = [
    (r"\begin{bmatrix}0 & 1\\-1 & 2\end{bmatrix}", r"\begin{bmatrix}-\frac{5}{4}\\-\frac{3}{4}\end{bmatrix}"),
    (r"\begin{bmatrix}2 & -1\\1 & 0\end{bmatrix}", r"\begin{bmatrix}-\frac{3}{4}\\-\frac{5}{4}\end{bmatrix}"),
    (
        r"\begin{bmatrix}\frac{7}{6} & -\frac{5}{6}\\-\frac{5}{6} & \frac{7}{6}\end{bmatrix}",
        r"\begin{bmatrix}0\\0\end{bmatrix}",
    ),
]
GOLDEN_LAYERS = [
    (r"\begin{bmatrix}0 & 1\\-1 & 2\end{bmatrix}", r"\begin{bmatrix}-\frac{5}{4}\\-\frac{3}{4}\end{bmatrix}"),
    (r"\begin{bmatrix}3 & -2\\2 & -1\end{bmatrix}", r"\begin{bmatrix}\frac{3}{2}\\\frac{1}{2}\end{bmatrix}"),
    (
        r"\begin{bmatrix}\frac{5}{6} & -\frac{1}{2}\\-\frac{7}{6} & \frac{3}{2}\end{bmatrix}",
        r"\begin{bmatrix}0\\1\end{bmatrix}",
    ),
]


def test_golden_cumulative_and_layer_parameters(net):
    for (W, b), (gW, gb) in zip(net.cumulative(), GOLDEN_CUMULATIVE):
        assert to_latex(W) == gW
        assert to_latex(b) == gb
    for layer, (gW, gb) in zip(net.layers, GOLDEN_LAYERS):
        assert to_latex(layer.W) == gW
        assert to_latex(layer.b) == gb


def test_golden_paper_recipe(paper_net):
    (W1, b1), _, _ = paper_net.cumulative()
    assert to_latex(W1) == r"\begin{bmatrix}-1 & 0\\0 & 1\end{bmatrix}"
    assert to_latex(b1) == r"\begin{bmatrix}\frac{7}{4}\\-\frac{5}{4}\end{bmatrix}"
    assert to_latex(paper_net.layers[1].W) == r"\begin{bmatrix}-1 & 0\\0 & -1\end{bmatrix}"
    assert (
        to_latex(paper_net.layers[2].W)
        == r"\begin{bmatrix}\frac{7}{6} & \frac{5}{6}\\-\frac{5}{6} & -\frac{7}{6}\end{bmatrix}"
    )


def test_golden_network_fragment(net):
    tex = to_latex(net)
    for k, (gW, gb) in enumerate(GOLDEN_LAYERS, 1):
        assert rf"W_{{{k}}} = {gW}" in tex and rf"b_{{{k}}} = {gb}" in tex
    for k, (gW, gb) in enumerate(GOLDEN_CUMULATIVE, 1):
        assert rf"W^{{({k})}} = {gW}" in tex and rf"b^{{({k})}} = {gb}" in tex
    assert r"x^{(\ell)} = \sigma\left(W_\ell\, x^{(\ell-1)} + b_\ell\right)" in tex
    # the explicit formula of the small network: ReLU printed as σ(·)
    assert r"\sigma\left(- x_{1} + 2 x_{2} - \frac{3}{4}\right)" in tex
    assert r"\sigma\left(x_{2} - \frac{5}{4}\right)" in tex
    relu_tex = to_latex(net, relu="ReLU")
    assert r"\operatorname{ReLU}\left(x_{2} - \frac{5}{4}\right)" in relu_tex and r"\sigma" not in relu_tex


def test_golden_network_expression(net, worked_points, worked_labels):
    out = network_expression(net)
    x1, x2 = sympy.symbols("x_1 x_2")
    assert str(out[0]) == (
        "-relu(2*relu(x_2 - 5/4) - relu(-x_1 + 2*x_2 - 3/4) + 1/2)/2 + "
        "5*relu(3*relu(x_2 - 5/4) - 2*relu(-x_1 + 2*x_2 - 3/4) + 3/2)/6"
    )
    for p, lab in zip(worked_points, worked_labels):  # the expression evaluates exactly to the labels
        vals = [e.subs({x1: p[0], x2: p[1]}) for e in out]
        assert vals == ([1, 0] if lab == 1 else [0, 1])


def test_golden_truncation_map_and_cone(net):
    W, b = net.cumulative()[0]
    tex = to_latex(TruncationMap(W, b))
    assert r"\tau_{W,b}(x) = W^{-1}\left(\sigma(Wx + b) - b\right)" in tex
    assert r"p = \begin{bmatrix}\frac{7}{4}\\\frac{5}{4}\end{bmatrix}" in tex
    assert r"W^{-1} = \begin{bmatrix}2 & -1\\1 & 0\end{bmatrix}" in tex
    assert r"\theta = \arccos{\left(- \frac{2 \sqrt{5}}{5} \right)} \approx 2.677945" in tex
    cone_tex = to_latex(TruncationMap(W, b).cone())
    assert r"S_\pm = \left\{ p + V a : \pm a \ge 0 \right\}" in cone_tex


def test_golden_data_summary(data):
    tex = to_latex(data)
    assert (
        r"X_0^{\mathrm{red}} = \begin{bmatrix}\frac{5}{2} & \frac{1}{2}\\\frac{1}{2} & \frac{5}{2}\end{bmatrix}" in tex
    )
    assert r"\bar x = \begin{bmatrix}\frac{3}{2}\\\frac{3}{2}\end{bmatrix}" in tex
    assert r"\delta^2 = \frac{1}{2}, \qquad \delta = \frac{\sqrt{2}}{2}" in tex
    assert "$8$ points" in tex


def test_golden_sls_steps_and_separator(data):
    cert = symtrunc.find_sls(data)
    tex = to_latex(cert.steps[0])
    assert r"t = \frac{2}{3}" in tex
    assert r"p = \begin{bmatrix}\frac{11}{6}\\\frac{7}{6}\end{bmatrix}" in tex
    assert r"h = \begin{bmatrix}-1\\1\end{bmatrix}" in tex
    assert "Step 2" in to_latex(cert)
    sep = Separator(qvector([-1, 1]), flint.fmpq(-1, 2))
    stex = to_latex(sep)
    assert r"c = -\frac{1}{2}" in stex and r"H = \{x : \langle h, x\rangle = c\}" in stex


def test_golden_certificate(net, data):
    tex = to_latex(symtrunc.verify(net, data))
    assert "all $8$ points" in tex
    assert r"\begin{tabular}{rllrrl}" in tex
    assert "1 & truncation & 1 & 4 & 4 & -- \\\\" in tex
    assert "2 & truncation & 2 & 4 & 4 & 1 \\\\" in tex
    assert r"C_N = 0" in tex


# ------------------------------------------------------------------ printer paths
def test_printer_relu_styles():
    z = sympy.Symbol("z")
    p = SymtruncLatexPrinter()
    assert p.doprint(sympy.Max(0, z)) == r"\sigma\left(z\right)"
    assert p.doprint(sympy.Max(z, 0)) == r"\sigma\left(z\right)"
    assert p.doprint(relu(z) ** 2) == r"\sigma\left(z\right)^{2}"
    assert p.doprint(sympy.Max(0, z) ** 2) == r"\sigma\left(z\right)^{2}"
    assert p.doprint(sympy.Max(1, z, sympy.Symbol("w"))).startswith(r"\max")
    assert SymtruncLatexPrinter({"relu": "ReLU"}).doprint(relu(z)) == r"\operatorname{ReLU}\left(z\right)"
    assert to_latex(relu(-z + 1)) == r"\sigma\left(1 - z\right)"
    with pytest.raises(ValueError, match="relu must be"):
        SymtruncLatexPrinter({"relu": "tanh"})
    with pytest.raises(ValueError, match="relu must be"):
        LatexOptions(relu="tanh")
    with pytest.raises(ValueError):
        LatexOptions(max_rows=2)
    with pytest.raises(TypeError, match="unknown LaTeX option"):
        to_latex(1, colour="red")


def test_relu_function_evaluates():
    a = sympy.Symbol("a", nonnegative=True)
    b = sympy.Symbol("b", negative=True)
    assert relu(a) == a and relu(b) == 0 and relu(sympy.Rational(-3, 2)) == 0 and relu(2) == 2
    assert isinstance(relu(sympy.Symbol("c")), relu)


def test_numbers_fractions_radicals():
    assert to_latex(flint.fmpq(-5, 4)) == r"-\frac{5}{4}"
    assert to_latex(7) == "7" and to_latex(Fraction(1, 3)) == r"\frac{1}{3}"
    assert to_latex(sympy.Rational(-5, 4)) == r"-\frac{5}{4}"
    assert to_latex(sympy.sqrt(2) / 2) == r"\frac{\sqrt{2}}{2}"
    assert to_latex(sympy.sqrt(12)) == r"2 \sqrt{3}"
    assert to_latex(0.5) == "0.5"
    assert latex_number(flint.fmpz(3)) == "3"
    with pytest.raises(TypeError):
        latex_number("x")


def test_long_numbers_are_truncated_exactly():
    big = flint.fmpq(679789567, 804288)  # 845.2066...
    assert latex_number(big) == r"845.206\ldots"
    assert latex_number(big, {"full": True}) == r"\frac{679789567}{804288}"
    assert latex_number(big, {"digits": 3}) == r"845\ldots"
    assert latex_number(flint.fmpq(-(10**20) - 1, 3)) == r"-3.33333\ldots\times 10^{19}"
    assert latex_number(flint.fmpq(10**12)) == r"1\times 10^{12}"
    assert latex_number(flint.fmpq(1, 1024), {"max_digits": 3}) == r"0.000976562\ldots"
    assert latex_number(flint.fmpq(-1, 2 * 10**6), {"max_digits": 3}) == r"-5\times 10^{-7}"
    assert (
        latex_number(flint.fmpq(10**30 + 1, 10**6), {"full": True}, inline_fraction=True)
        == r"100000000000000000000000\allowbreak 0000001/1000000"
    )


def test_matrix_abbreviation_and_full():
    I12 = identity(12)
    short = latex_matrix(I12)
    assert short.count(r"\\") == 7 and r"\ddots" in short and r"\cdots" in short and r"\vdots" in short
    full = latex_matrix(I12, {"full": True})
    assert r"\cdots" not in full and full.count(r"\\") == 11
    small = latex_matrix(I12, {"max_rows": 3, "max_cols": 4})
    assert small.count(r"\\") == 2
    assert latex_matrix(sympy.Matrix([[sympy.sqrt(2), 0]])) == r"\begin{bmatrix}\sqrt{2} & 0\end{bmatrix}"
    assert latex_matrix([[1, Fraction(1, 2)]]) == r"\begin{bmatrix}1 & \frac{1}{2}\end{bmatrix}"
    assert latex_matrix(flint.fmpq_mat(0, 0)) == r"\begin{bmatrix}\end{bmatrix}"
    assert to_latex(sympy.Matrix([[1, 2]])) == r"\begin{bmatrix}1 & 2\end{bmatrix}"


def test_vectors():
    v = qvector(["7/4", "5/4", 1])
    assert latex_vector(v, row=True) == r"\begin{bmatrix}\frac{7}{4} & \frac{5}{4} & 1\end{bmatrix}^{\top}"
    assert latex_vector(v) == r"\begin{bmatrix}\frac{7}{4}\\\frac{5}{4}\\1\end{bmatrix}"
    assert latex_vector(v.transpose()) == latex_vector(v)
    with pytest.raises(ValueError, match="single row or column"):
        latex_vector(identity(2))


def test_cones_opening_angles():
    # 2-D: the angle between the edges, exactly; the quadrant has angle π/2
    q = PolyhedralCone(qvector([0, 0]), identity(2))
    assert r"\theta = \frac{\pi}{2}" in to_latex(q)
    # 3-D: the largest circular cone about the equiangular axis; for the orthant, θ_3
    o = to_latex(PolyhedralCone(qvector([0, 0, 0]), identity(3)))
    assert r"equiangular" in o and r"\theta \approx 1.230959" in o
    # lower-dimensional cone: no opening angle
    flat = PolyhedralCone(qvector([0, 0, 0]), qmatrix([[1, 0], [0, 1], [0, 0]]))
    assert "no opening angle" in to_latex(flat)


def test_non_square_truncation_map():
    tau = TruncationMap(qmatrix([[1, 0, 0], [0, 1, 0]]), qvector([0, 0]))
    tex = to_latex(tau)
    assert r"W^{+}\left(\sigma(Wx + b) - b\right)" in tex and r"W^+W p" in tex


def test_clustered_hypotheses_fragment():
    d = symtrunc.LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], ["a", "a", "b", "b"])
    tex = to_latex(check_clustered(d))
    assert r"\delta^2 = \frac{1}{4}" in tex and "(4.2)" in tex and "holds" in tex


def test_proof_result_fragment():
    from symtrunc import proofs

    r = proofs.run("rational_cone")
    tex = to_latex(r)
    assert r"\textbf{proved}" in tex and "Claim." in tex
    md = to_markdown(r)
    assert "**proved**" in md and "\\textbf" not in md.split("Claim")[0]


def test_markdown_rendering(net):
    md = to_markdown(net)
    assert "$$ W_{1} = " in md and r"\fitmath" not in md
    assert "**Layerwise parameters**" in md
    assert to_markdown(flint.fmpq(1, 2)) == r"$$\frac{1}{2}$$"


def test_fragment_rendering():
    f = (
        Fragment()
        .heading(1, "H")
        .text(r"a \emph{b} \texttt{c} 5\% x\_y")
        .math("x = 1", wide=True)
        .table(["a", "b|c"], [["$1$", "$x|y$"]])
        .listing("L:", ["$(1,\\allowbreak 2)$"])
        .raw("RAW", "MD")
    )
    tex = f.render("latex", fit=True)
    assert r"\section*{H}" in tex and r"\fitmath{x = 1}" in tex and r"\begin{tabular}{ll}" in tex and "RAW" in tex
    md = f.render("markdown")
    assert "## H" in md and "a *b* `c` 5% x_y" in md and "| a | b\\vert c |" in md and "MD" in md
    assert r"$(1,2)$" in md
    long = Fragment().table(["a"], [[str(i)] for i in range(25)]).render("latex")
    assert r"\begin{longtable}{l}" in long and r"\endhead" in long
    with pytest.raises(ValueError, match="unknown format"):
        f.render("html")


def test_tex_escape():
    assert tex_escape("a_b & c%") == r"a\_b \& c\%"
    assert tex_escape("x{y}$#^~\\<>") == r"x\{y\}\$\#\^{}\~{}\textbackslash{}$<$$>$"
    assert tex_escape("Muñoz → θ") == "Muñoz [U+2192] [U+03B8]"
    assert tex_escape("a\tb") == "a b"


def test_register_and_claims_table():
    class Claim:
        pass

    @register_latex(Claim)
    def _claim(obj, options):
        return Fragment().text("a claim")

    assert to_latex(Claim()) == "a claim"

    class Duck:
        def __symtrunc_latex__(self, options):
            return r"\mathrm{duck}"

    assert to_latex(Duck()) == r"\mathrm{duck}"
    with pytest.raises(TypeError, match="no LaTeX printer"):
        to_latex(object())
    rows = [
        {"id": "I7", "value": flint.fmpq(1, 2), "holds": True, "note": "$x$", "txt": "a_b"},
        {"id": "I8", "value": sympy.sqrt(2), "holds": False},
    ]
    f = claims_table(
        rows,
        [("id", "claim"), ("value", "value"), ("holds", "holds"), ("note", "note"), ("txt", "text")],
        title="L2 claims",
    )
    tex = f.render("latex")
    assert r"I7 & $\frac{1}{2}$ & yes & $x$ & a\_b \\" in tex and r"$\sqrt{2}$ & no" in tex
    assert tex.startswith("L2 claims")


@pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex not on PATH (CI installs texlive-latex-base); compile test skipped",
)
def test_every_fragment_compiles(tmp_path, net, data, paper_net):
    d3 = symtrunc.LabeledData.from_arrays([[10, 0, 0], [11, 0, 0], [0, 10, 0], [0, 11, 0]], ["a", "a", "b", "b"])
    body = Fragment()
    W, b = net.cumulative()[0]
    for obj in (
        data,
        net,
        paper_net,
        TruncationMap(W, b),
        TruncationMap(W, b).cone(),
        symtrunc.find_sls(data),
        symtrunc.verify(net, data),
        check_clustered(d3),
        PolyhedralCone(qvector([0, 0, 0]), identity(3)),
    ):
        body.raw(to_latex(obj, relu="ReLU"))
    for M in (identity(12), qmatrix([["4330986295811/804288000000", 1]])):
        body.raw(rf"\[ {to_latex(M)} \]")
    tex = document("printer paths", body)
    (tmp_path / "paths.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paths.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "paths.pdf").stat().st_size > 1000
    log = (tmp_path / "paths.log").read_text(encoding="latin-1")
    assert ".600pk" not in log and "tcrm" not in log, "a bitmap (METAFONT) font was needed"
