r"""Derivation reports: a standalone LaTeX document (or KaTeX-friendly Markdown) per network.

:func:`write_report` re-checks the hypotheses of the theorem the network was built by
(sequential linear separability, Definition 5.1, via :class:`~symtrunc.geometry.separability.SLSCertificate`
and :class:`~symtrunc.exact.lp.Separator`; for clustered data also (4.2) and (4.6) via
:func:`~symtrunc.constructions.clustered.check_clustered`), instantiates the theorem with the
data, shows every layer's cumulative and layerwise parameters and its truncation map (which
class collapses onto which point, which points stay), the output layer, and the exact
zero-loss certificate of :func:`symtrunc.verify`. The LaTeX compiles with ``pdflatex`` and the
packages of Debian's ``texlive-latex-base`` (``amsmath``, ``amssymb``, ``graphicx``,
``geometry``, ``array``, ``longtable``); wide displays are scaled to the line width and large matrices are
abbreviated (``full=True`` prints every entry, listing very wide matrices row by row).

Examples
--------
>>> import symtrunc
>>> data = symtrunc.LabeledData.from_arrays(
...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], [1, 1, 1, 1, 2, 2, 2, 2])
>>> net = symtrunc.construct(data, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])
>>> tex = write_report(net, data)
>>> tex.startswith("\\documentclass") and tex.rstrip().endswith("\\end{document}")
True
>>> "W^{(1)} = \\begin{bmatrix}0 & 1\\\\-1 & 2\\end{bmatrix}" in tex
True
>>> md = write_report(net, data, format="markdown")
>>> md.splitlines()[0]
'# Derivation report: a zero-loss ReLU network'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flint

from symtrunc.constructions.clustered import check_clustered
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.exact.lp import Separator
from symtrunc.exact.matrix import columns_matrix, exact_rows
from symtrunc.geometry.separability import SLSCertificate, SLSStep
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.objects import certificate_fragment as _certificate_fragment
from symtrunc.latex.objects import clustered_fragment as _clustered_fragment
from symtrunc.latex.objects import cone_fragment as _cone_fragment
from symtrunc.latex.objects import data_fragment as _data_fragment
from symtrunc.latex.printer import LatexOptions, latex_matrix, latex_number, matrix_fragment, matrix_pair
from symtrunc.latex.printer import latex_label as _label
from symtrunc.loss import targets_for
from symtrunc.network import ReLUNetwork
from symtrunc.records import ClusteredRecord, CollapseRecord, ConeStep, ConstructionRecord, UnrecognizedRecord
from symtrunc.verification import verify

__all__ = ["PREAMBLE", "Report", "build_report", "document", "write_report"]

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{array}
\usepackage{longtable}
\setcounter{MaxMatrixCols}{100}
\renewcommand{\arraystretch}{1.3}
\allowdisplaybreaks
\sloppy
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt plus 2pt}
% scale a box down to the line width when it is wider (large matrices, wide tables)
\newsavebox{\stfitbox}
\newcommand{\fitbox}[1]{\sbox{\stfitbox}{#1}%
  \ifdim\wd\stfitbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\stfitbox}}\else\usebox{\stfitbox}\fi}
\newcommand{\fitmath}[1]{\begin{center}\fitbox{$\displaystyle #1$}\end{center}}
"""


def document(title: str, body: Fragment, fmt: str = "latex") -> str:
    """Wrap a fragment into a standalone LaTeX document or a Markdown page.

    >>> print(document("T", Fragment().text("x"), "markdown"))
    # T
    <BLANKLINE>
    x
    <BLANKLINE>
    """
    if fmt == "markdown":
        return f"# {title}\n\n" + body.render("markdown") + "\n"
    if fmt != "latex":
        raise DataError(f"unknown report format {fmt!r}; use 'latex' or 'markdown'")
    text = body.render("latex", fit=True).replace(
        r"\begin{center}\begin{tabular}", r"\begin{center}\fitbox{\begin{tabular}"
    )
    text = text.replace(r"\end{tabular}\end{center}", r"\end{tabular}}\end{center}")
    return (
        PREAMBLE
        + "\\begin{document}\n"
        + rf"\begin{{center}}{{\Large\bfseries {tex_escape(title)}}}\end{{center}}"
        + "\n"
        + text
        + "\n\\end{document}\n"
    )


@dataclass
class Report:
    """A rendered report and the outcome of its checks.

    Attributes
    ----------
    text : str
        The document.
    ok : bool
        Every re-checked hypothesis holds and the network verifies exactly.
    problems : list of str
        One line per failed check.
    """

    text: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)


def write_report(network: ReLUNetwork, data: Any = None, format: str = "latex", **options: Any) -> str:
    """A standalone derivation report for ``network`` (and ``data``, when given).

    Parameters
    ----------
    network : ReLUNetwork
    data : LabeledData or path, optional
        The training data; without them the hypotheses and zero loss cannot be re-checked.
    format : {"latex", "markdown"}
    **options
        :class:`~symtrunc.latex.LatexOptions` fields (``full``, ``relu``, ``max_rows``, ...).

    Returns
    -------
    str
    """
    return build_report(network, data, format, **options).text


def build_report(network: ReLUNetwork, data: Any = None, format: str = "latex", **options: Any) -> Report:
    """Like :func:`write_report`, also returning whether every check passed."""
    if format not in ("latex", "markdown"):
        raise DataError(f"unknown report format {format!r}; use 'latex' or 'markdown'")
    opts = LatexOptions(**options)
    data = load_data(data) if data is not None else None
    if data is not None and data.M != network.input_dim:
        raise DataError(
            f"the network expects inputs of dimension {network.input_dim}, the data have dimension {data.M}"
        )
    rep = Report("")
    body = Fragment()
    record = network.construction
    body.text(_intro(network, data, record, opts.sigma))
    if record is not None and record.describe():
        body.table(
            ["recorded", "construction"],
            [[tex_escape(k), tex_escape(v)] for k, v in record.describe()],
            r"lp{0.75\linewidth}",
        )
    plan = _plan(network, data, record, rep)
    if data is not None:
        body.heading(1, "1. Data")
        body.extend(_data_section(data, opts, rep))
        body.heading(1, "2. Hypotheses, re-checked exactly")
        body.extend(_hypotheses(network, data, record, plan, opts, rep))
    body.heading(1, ("3. " if data is not None else "1. ") + "The theorem, instantiated")
    body.extend(_theorem(network, data, record, plan, opts, rep))
    cert, failure = None, ""
    if data is not None:
        try:
            cert = verify(network, data)
        except VerificationError as e:
            failure = f"verification failed: {e}"
            rep.ok = False
            rep.problems.append(failure)
    num = 4 if data is not None else 2
    body.heading(1, f"{num}. Layers and truncation maps")
    body.extend(_layers(network, data, plan, cert, opts))
    body.heading(1, f"{num + 1}. Output layer")
    body.extend(_output(network, data, record, plan, opts, rep))
    body.heading(1, f"{num + 2}. Zero-loss certificate")
    if data is None:
        body.text(
            "No training data were given, so zero loss was not re-checked. Run "
            r"\texttt{symtrunc latex NETWORK DATA} to include the exact certificate."
        )
    elif cert is None:
        body.text(r"\textbf{Verification FAILED:} " + tex_escape(failure))
    else:
        body.extend(_certificate_fragment(cert, opts))
    if isinstance(record, UnrecognizedRecord) and record.method:
        rep.problems.append(f"unknown construction method {record.method!r}: its hypotheses were not re-checked")
    elif record is not None and record.method and record.method not in ("sls", "clustered"):
        rep.problems.append(
            f"the report does not cover the construction method {record.method!r}: its hypotheses were not re-checked"
        )
    if rep.problems:
        body.heading(1, "Problems found")
        for p in rep.problems:
            body.text(tex_escape(p))
    rep.text = document("Derivation report: a zero-loss ReLU network", body, format)
    return rep


# ----------------------------------------------------------------------------- pieces
def _theorem_name(record: ConstructionRecord | None) -> str:
    method = record.method if record is not None else None
    if method == "sls":
        return "Theorem 5.2 of Chen \\& Muñoz Ewald (arXiv 2405.07098), sequentially linearly separable data"
    if method == "clustered":
        return "Proposition 4.1 of Chen \\& Muñoz Ewald (arXiv 2405.07098), clustered data"
    return "no construction recorded"


def _intro(net: ReLUNetwork, data: LabeledData | None, record: ConstructionRecord | None, sigma: str) -> str:
    count = net.parameter_count()
    widths = r" \to ".join(map(str, net.widths))
    s = (
        rf"This report derives an exact ReLU network with widths ${widths}$ ({count.weights} weights and "
        rf"{count.biases} biases, all exact rationals) from {_theorem_name(record)}"
    )
    if isinstance(record, CollapseRecord):
        s += rf", cone recipe \texttt{{{tex_escape(record.cone)}}}"
    s += f". Notation: ${sigma}(z) = \\max(z, 0)$ componentwise, $u = (1,\\dots,1)^\\top$, cumulative parameters "
    s += r"$W^{(\ell)} = W_\ell W^{(\ell-1)}$, $b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$, truncation maps "
    s += rf"$\tau_{{W,b}}(x) = W^{{+}}({sigma}(Wx + b) - b)$. "
    s += (
        r"A number printed as $d_1.d_2\ldots$ is the exact rational truncated to its leading digits; "
        r"matrices with dots show their corners only (\texttt{--full} prints everything)."
    )
    if data is None:
        s += " No training data were given: hypotheses and zero loss are not re-checked."
    return s


def _plan(net: ReLUNetwork, data: LabeledData | None, record: ConstructionRecord | None, rep: Report) -> list[dict]:
    """Per hidden layer: class label, data index, base point, normal, t, offset and the recorded step."""
    if not isinstance(record, CollapseRecord) or not record.steps:
        return []
    index = {c: j for j, c in enumerate(data.classes)} if data is not None else {}
    out = []
    for step in record.steps:
        if data is not None and step.label not in index:
            rep.ok = False
            rep.problems.append(f"class {step.label!r} of the network is not in the data")
        out.append(
            {
                "label": step.label,
                "j": index.get(step.label),
                "p": step.p,
                "h": step.h,
                "t": step.t,
                "c": step.hyperplane_offset,
                "step": step,
            }
        )
    return out


def _data_section(data: LabeledData, opts: LatexOptions, rep: Report) -> Fragment:

    frag = _data_fragment(data, opts)
    rank = data.means.rank()
    detY = data.Y.det()
    ok = rank == data.Q and data.Q <= data.M and detY != 0
    if not ok:
        rep.ok = False
        rep.problems.append("standing assumptions fail (Q <= M, linearly independent means, invertible Y)")
    frag.text(
        rf"Standing assumptions: $Q = {data.Q} \le M = {data.M}$, "
        rf"$\operatorname{{rank}} X_0^{{\mathrm{{red}}}} = {rank}$ (linearly independent means), "
        rf"$\det Y = {latex_number(detY, opts)} \ne 0$ (linearly independent labels): "
        + ("hold." if ok else r"\textbf{fail}.")
    )
    return frag


def _hypotheses(net, data, record, plan, opts, rep) -> Fragment:
    frag = Fragment()
    if not plan:
        frag.text(
            "The network records no collapse order, so no theorem's hypotheses apply; only zero loss is checked below."
        )
        return frag
    if isinstance(record, ClusteredRecord):
        hyp = check_clustered(data)
        frag.extend(_clustered_fragment(hyp, opts))
        if not hyp.holds:
            rep.ok = False
            rep.problems.append("the hypotheses (4.2)/(4.6) of Proposition 4.1 fail")
        frag.text(
            r"The proposition collapses class $\ell$ onto $p_\ell = \bar x_{0,\ell} + \mu_\ell f_\ell$ with "
            r"$\mu_\ell \in (2\delta, 3\delta)$; in particular every step below is a step of Definition 5.1:"
        )
    frag.extend(_sls_check(data, plan, opts, rep))
    return frag


def _sls_check(data: LabeledData, plan: list[dict], opts: LatexOptions, rep: Report) -> Fragment:

    frag = Fragment()
    names = r" $\to$ ".join(rf"${_label(s['label'])}$" for s in plan)
    frag.text(
        rf"Sequential linear separability (Definition 5.1) in the order {names}: for each step $\ell$, "
        r"$p_\ell = t_\ell\bar x + (1 - t_\ell)\bar x_{0,\ell}$ with $t_\ell \in (0,1)$ and the hyperplane "
        r"$H_\ell = \{x : \langle h_\ell, x - p_\ell\rangle = 0\}$ has class $\ell$ strictly on its negative "
        r"side and the later classes, the earlier base points and the barycenter strictly on its "
        r"positive side. Extreme values of $\langle h_\ell, x - p_\ell\rangle$:"
    )
    rows_all = data.X.tolist()
    rows, steps, ok_all = [], [], True
    for k, s in enumerate(plan):
        j = s["j"]
        if j is None:
            ok_all = False
            continue
        later = [r for r in plan[k + 1 :]]
        inside = exact_rows([rows_all[i] for i in data.class_indices[j]], data.M)
        out_rows = [rows_all[i] for r in later if r["j"] is not None for i in data.class_indices[r["j"]]]
        out_rows += [r["p"].entries() for r in plan[:k]] + [data.barycenter.entries()]
        outside = exact_rows(out_rows, data.M)
        sep = Separator(s["h"], s["c"])
        vin, vout = sep.values(inside), sep.values(outside)
        t = s["t"]
        on_segment = t is not None and 0 < t < 1 and s["p"] == t * data.barycenter + (1 - t) * data.mean(j)
        through = (s["h"].transpose() * s["p"])[0, 0] == s["c"]
        ok = sep.check(inside, outside) and on_segment and through
        ok_all &= ok
        steps.append(SLSStep(j, sep, t if t is not None else flint.fmpq(0), s["p"]))
        rows.append(
            [
                str(k + 1),
                rf"${_label(s['label'])}$",
                rf"${latex_number(t, opts) if t is not None else '?'}$",
                str(inside.nrows()),
                rf"${latex_number(max(vin), opts)}$",
                str(outside.nrows()),
                rf"${latex_number(min(vout), opts)}$",
                "yes" if ok else r"\textbf{no}",
            ]
        )
    frag.table(
        [
            r"$\ell$",
            "class",
            r"$t_\ell$",
            r"$N_\ell$",
            r"$\max_{X_{0,\ell}}$",
            "rest",
            r"$\min_{\mathrm{rest}}$",
            "holds",
        ],
        rows,
        "clrrrrrl",
    )
    cert_ok = (
        ok_all
        and len(steps) == data.Q
        and SLSCertificate(tuple(s.class_index for s in steps), tuple(steps)).check(data)
    )
    if cert_ok:
        frag.text(
            r"Every condition holds (re-checked exactly with \texttt{SLSCertificate.check} and "
            r"\texttt{Separator.check}): the data are sequentially linearly separable in this order."
        )
    else:
        rep.ok = False
        rep.problems.append("the SLS conditions recorded in the network do not hold for these data")
        frag.text(r"\textbf{The SLS conditions do not all hold for these data.}")
    return frag


def _order_labels(plan: list[dict]) -> str:
    return r" \to ".join(_label(s["label"]) for s in plan)


def _theorem(net, data, record, plan, opts, rep) -> Fragment:
    frag = Fragment()
    Q = len(plan)
    L = net.depth
    M = net.input_dim
    if not plan:
        frag.text(
            "No construction is recorded in the network, so there is no theorem to instantiate. The "
            "network is shown layer by layer below."
        )
        return frag
    counts = "; ".join(
        rf"${c.formula} = {c.value}$ {tex_escape(c.counts)} ({tex_escape(c.source)})" for c in record.parameter_counts()
    )
    if isinstance(record, ClusteredRecord):
        frag.text(
            r"\textbf{Proposition 4.1} (Chen \& Muñoz Ewald). If $16\delta^2 < \min_j\lvert\bar x_{0,j} - "
            r"\bar x\rvert^2$ (4.2) and $\max_j\theta_{*,j} < \pi$ (4.6), a network with $Q + 1$ layers "
            r"collapsing class $\ell$ at layer $\ell$ onto $p_\ell = \bar x_{0,\ell} + \mu_\ell f_\ell$, "
            r"$\mu_\ell \in (2\delta,3\delta)$, $f_\ell = (\bar x - \bar x_{0,\ell})/\lvert\bar x - \bar x_{0,\ell}\rvert$, "
            r"with output layer $W^{(Q+1)} = Y((X_0^{\mathrm{red}})^{(\tau,Q)})^+$, $b^{(Q+1)} = 0$, has zero loss."
        )
    else:
        frag.text(
            r"\textbf{Theorem 5.2} (Chen \& Muñoz Ewald). If the data are sequentially linearly separable "
            r"with base points $p_\ell$ and normals $h_\ell$, the network with $Q$ hidden ReLU layers of width "
            r"$M$ and cumulative parameters $W^{(\ell)} = W_{\theta_\ell}R_\ell$, $b^{(\ell)} = -W^{(\ell)}p_\ell$, "
            r"$W^{(Q+1)} = Y[p_1\cdots p_Q]^+$, $b^{(Q+1)} = 0$ has zero loss: the global minimum $C = 0$ is "
            r"attained."
        )
    if counts:
        frag.text("Parameter counts of the paper for these $M$ and $Q$: " + counts + ".")
    rational = record.cone == "rational"
    diagonal = rational and any(getattr(st.recipe, "diagonal", None) for st in record.steps)
    recipe = (
        r"W^{(\ell)} = s_\ell\left(\varepsilon_\ell " + ("D" if diagonal else "I") + r" + u h_\ell^\top\right)"
        if rational
        else r"W^{(\ell)} = W_{\theta_\ell}R_\ell,\quad W_{\theta} = \lambda I + (1-\lambda)\tfrac{1}{M}uu^\top,\quad "
        r"R_\ell = I - 2\tfrac{vv^\top}{v^\top v},\ v = h_\ell - s_\ell u"
    )
    frag.text(
        rf"\textbf{{Instantiated}} with $Q = {Q}$ classes in $\mathbb{{R}}^{{{M}}}$ collapsed in the order "
        rf"${_order_labels(plan)}$: $L = {L}$ layers of widths $({', '.join(map(str, net.widths))})$, "
        r"cumulative parameters"
    )
    frag.math(
        recipe
        + r",\qquad b^{(\ell)} = -W^{(\ell)}p_\ell\ (\ell = 1,\dots,"
        + str(Q)
        + r"),\qquad W^{("
        + str(Q + 1)
        + r")} = Y_\pi[p_1\cdots p_{"
        + str(Q)
        + r"}]^+,\quad b^{("
        + str(Q + 1)
        + r")} = 0,",
        wide=True,
    )
    if diagonal:
        frag.text(
            r"with $D = \operatorname{diag}(d)$ the recorded feature scaling: in the coordinates $x' = Dx$ the "
            r"layer is the rational cone $s_\ell(\varepsilon_\ell I + u h_\ell'^\top)$ with $h_\ell' = D^{-1}h_\ell$ "
            r"(the float-robust choice of the free parameters), so the proof \texttt{rational\_cone} applies "
            r"to the data $Dx$; it has the same sign pattern as $W_{\theta_\ell}R_\ell$ there."
        )
    if rational:
        frag.text(
            r"using the rational variant of the cone lemma ($\varepsilon_\ell I + uh_\ell^\top$ in place of "
            r"$W_{\theta_\ell}R_\ell$; it has the same sign pattern, see the proof \texttt{rational\_cone}); "
            r"the positive scale $s_\ell$ clears denominators and does not change $\tau$ "
            r"($\tau_{sW,sb} = \tau_{W,b}$). $Y_\pi$ lists the label columns in collapse order. Per layer:"
        )
    else:
        frag.text(
            r"with $\lambda_\ell \le \lambda(\theta_\ell,\theta_M)$ rational and a rational Householder "
            r"reflection $R_\ell$ (exactly orthogonal); the angles are float annotations, the signs are "
            r"certified exactly. $Y_\pi$ lists the label columns in collapse order. Per layer:"
        )
    cum = net.cumulative()
    shrink = isinstance(record, ClusteredRecord) and record.widths_shrink is not None
    if shrink:
        frag.text(
            rf"The hidden widths shrink (${', '.join(map(str, record.widths_shrink))}$): the layers are "
            r"$W_\ell = W^{(\ell)}(W^{(\ell-1)})^+$, so the cumulative parameters of the stored network are "
            r"the prescribed ones times projectors, and the proposition's argument has a gap there "
            r"(reference notes, section 6.2). The recipe is not compared; the signs and zero loss are certified by the "
            r"exact check of the last section."
        )
    rows = []
    for k, s in enumerate(plan):
        st: ConeStep = s["step"]
        W, b = cum[k]
        ref = st.recipe.matrix(st.normal)
        good = shrink or (ref is not None and _recipe_matches(W, ref) and b == -(W * s["p"]))
        if ref is None and not shrink:
            rep.ok = False
            rep.problems.append(
                f"layer {k + 1}: the network file does not record every parameter of the cone "
                "recipe, so the layer was not compared with it"
            )
        elif not good:
            rep.ok = False
            rep.problems.append(f"layer {k + 1}: the cumulative parameters do not match the recorded recipe")
        r = st.recipe
        if r.name == "rational":
            params = (
                rf"$\varepsilon = {_number(r.epsilon, opts)}$, "
                rf"$s = {_number(r.scale, opts)}$"
            )
        else:
            params = (
                rf"$\lambda = {_number(r.lam, opts)}$, "
                rf"$\theta \approx {_float(r.theta)}$, $\theta_{{\min}} \approx {_float(r.theta_min)}$"
            )
        extra = ""
        if st.mu_over_delta_squared is not None:
            extra = rf", $(\mu/\delta)^2 = {latex_number(st.mu_over_delta_squared, opts)}$"
        rows.append(
            [
                str(k + 1),
                rf"${_label(s['label'])}$",
                rf"${_number(st.t, opts)}$" + extra,
                params,
                "n/a" if shrink else "yes" if good else "?" if ref is None else r"\textbf{no}",
            ]
        )
    frag.table([r"$\ell$", "collapses", r"$t_\ell$", "cone parameters", "recipe matches"], rows, "clllc")
    return frag


def _number(v: flint.fmpq | None, opts: LatexOptions) -> str:
    """A recorded exact number, or ``?`` when an older file does not record it."""
    return "?" if v is None else latex_number(v, opts)


def _float(v: Any) -> str:
    try:
        return f"{float(v):.6f}"
    except (TypeError, ValueError):
        return "?"


def _recipe_matches(W: flint.fmpq_mat, ref: flint.fmpq_mat) -> bool:
    """``W^(ℓ)`` against the matrix ``ref`` of the recorded recipe (its first rows for shrinking widths)."""
    M = ref.ncols()
    m = W.nrows()
    if W.ncols() != M or m > M:
        return False
    # shrinking widths keep the first m rows: W^(l) = I(M, m) W
    return flint.fmpq_mat(m, M, [ref[i, j] for i in range(m) for j in range(M)]) == W


def _layers(net, data, plan, cert, opts) -> Fragment:

    frag = Fragment()
    cum = net.cumulative()
    checks = {c.layer: c for c in cert.layers} if cert is not None else {}
    for k, layer in enumerate(net.layers[:-1]):
        s = plan[k] if k < len(plan) else None
        head = f"Layer {k + 1}"
        if s is not None:
            head += rf": $\tau^{{({k + 1})}}$ collapses class ${_label(s['label'])}$"
        frag.heading(2, head)
        W, b = cum[k]
        frag.text(r"Cumulative parameters:")
        frag.extend(matrix_pair(f"W^{{({k + 1})}}", W, f"b^{{({k + 1})}}", b, opts))
        frag.text(r"Layerwise parameters (what the network stores):")
        frag.extend(matrix_pair(f"W_{{{k + 1}}}", layer.W, f"b_{{{k + 1}}}", layer.b, opts))
        square = W.nrows() == W.ncols() and W.rank() == W.nrows()
        if square:
            tau = TruncationMap(W, b)
            cone = tau.cone()
            frag.text(
                rf"The truncation map $\tau^{{({k + 1})}} = \tau_{{W^{{({k + 1})}},b^{{({k + 1})}}}}$ is the "
                r"identity on the forward cone $S_+ = \{p + Va : a \ge 0\}$ and constant on the backward cone "
                r"$S_- = \{p + Va : a \le 0\}$, with apex $p = -(W^{("
                + str(k + 1)
                + r")})^{-1}b^{("
                + str(k + 1)
                + r")}$ and edges the columns of $V = (W^{("
                + str(k + 1)
                + r")})^{-1}$:"
            )
            frag.extend(_cone_fragment(cone, opts, apex_name=f"p_{{{k + 1}}}", edge_name=f"V_{{{k + 1}}}", intro=False))
            if s is not None and cone.apex != s["p"]:
                frag.text(r"\textbf{Note:} the apex differs from the recorded base point.")
        if s is not None:
            frag.extend(matrix_fragment(f"h_{{{k + 1}}}", s["h"], opts))
        chk = checks.get(k + 1)
        if s is not None:
            frag.text(_what_it_does(k, s, chk, plan, data))
    return frag


def _what_it_does(k: int, s: dict, chk: Any, plan: list[dict], data: LabeledData | None) -> str:
    lab = _label(s["label"])
    n = k + 1
    earlier = ", ".join(rf"$p_{{{i + 1}}}$" for i in range(k))
    later = ", ".join(rf"${_label(r['label'])}$" for r in plan[k + 1 :])
    if chk is None or data is None:
        txt = (
            rf"\textbf{{What it does.}} Every point $x$ of class ${lab}$ has $W^{{({n})}}(x - p_{{{n}}}) \le 0$: the "
            rf"ReLU outputs $0$ and $\tau^{{({n})}}(x) = p_{{{n}}}$; the points of the later classes"
            + (f" ({later})" if later else "")
            + (f" and the earlier base points {earlier}" if earlier else "")
            + rf" have $W^{{({n})}}(x - p_{{{n}}}) \ge 0$ and are fixed. (Not re-checked: no data.)"
        )
        return txt
    fixed = ", ".join(tex_escape(x) for x in chk.fixed_base_points)
    txt = (
        rf"\textbf{{What it does}} (checked exactly). All {chk.collapsed_points} points of class ${lab}$ have "
        rf"$W^{{({n})}}(x - p_{{{n}}}) \le 0$, so the ReLU outputs the zero vector and $\tau^{{({n})}}$ maps the "
        rf"whole class onto $p_{{{n}}}$. "
    )
    if later:
        txt += (
            rf"The points of the later classes ({later}) have $W^{{({n})}}(x - p_{{{n}}}) \ge 0$: ReLU acts as "
            r"the identity and $\tau^{(" + str(n) + r")}$ fixes them. "
        )
    if earlier:
        txt += (
            rf"The classes collapsed earlier stay at their base points {earlier}"
            + (f" (checked for {fixed})" if fixed else "")
            + ". "
        )
    txt += (
        r"After this layer the classes collapsed so far sit at "
        + ", ".join(rf"$p_{{{i + 1}}}$" for i in range(n))
        + "."
    )
    return txt


def _output(net, data, record, plan, opts, rep) -> Fragment:

    frag = Fragment()
    cum = net.cumulative()
    L = net.depth
    W, b = cum[-1]
    last = net.layers[-1]
    frag.text(
        rf"The output layer is affine: $x^{{({L})}} = W^{{({L})}} x^{{(\tau,{L - 1})}} + b^{{({L})}}$ "
        r"(Proposition 3.2). Cumulative and layerwise parameters:"
    )
    frag.extend(matrix_pair(f"W^{{({L})}}", W, f"b^{{({L})}}", b, opts))
    frag.extend(matrix_pair(f"W_{{{L}}}", last.W, f"b_{{{L}}}", last.b, opts))
    shrink = isinstance(record, ClusteredRecord) and record.widths_shrink is not None
    if plan and not shrink:
        P = columns_matrix([s["p"] for s in plan])
        out = W * P + flint.fmpq_mat(
            W.nrows(), P.ncols(), [b[i, 0] for i in range(W.nrows()) for _ in range(P.ncols())]
        )
        frag.text(
            r"It maps the base points $P = [p_1\cdots p_Q]$ (the truncated class representatives) to the "
            r"labels in collapse order:"
        )
        frag.math(rf"W^{{({L})}}P + b^{{({L})}}u^\top = {_latex_small(out, opts)}", wide=True)
        if data is not None and all(s["j"] is not None for s in plan):
            try:
                targets = targets_for(net, data)
                want = flint.fmpq_mat(
                    out.nrows(), out.ncols(), [targets[s["j"]][r] for r in range(out.nrows()) for s in plan]
                )
                ok = want == out
            except (DataError, FormatError):
                ok = False
            frag.text(
                (
                    "These are exactly the targets $y_j$ of the classes: "
                    if ok
                    else r"\textbf{These are not the targets of the classes.} "
                )
                + ", ".join(rf"$p_{{{k + 1}}} \mapsto y_{{{_label(s['label'])}}}$" for k, s in enumerate(plan))
                + "."
            )
            if not ok:
                rep.ok = False
                rep.problems.append("the output layer does not map the base points to the labels")
    return frag


def _latex_small(A: flint.fmpq_mat, opts: LatexOptions) -> str:

    return latex_matrix(A, opts)
