r"""LaTeX and Markdown for every symtrunc object, and the registry of object printers.

:func:`to_latex` turns numbers, exact matrices, sympy expressions and the library's objects
(data summaries, networks, truncation maps, cones, separating hyperplanes, SLS steps,
certificates, proof results) into LaTeX. Numbers, matrices and expressions give a math-mode
string (no ``$``); composite objects give a text-mode fragment (paragraphs, displayed
equations, tables) that needs only ``amsmath`` in the preamble. :func:`to_markdown` renders
the same fragments for notebooks (KaTeX-friendly ``$``/``$$`` math and pipe tables).
Options (:class:`~symtrunc.latex.printer.LatexOptions`) choose how the rectifier is written and
how large matrices and long numbers are abbreviated.

The library's own types are printed by the ``*_fragment`` functions of this module, chosen by
class name (as sympy's ``_print_<Class>``), so that this module imports none of the types it
prints. Extend the printer for new objects with :func:`register_latex` (or give the class a
``__symtrunc_latex__(options)`` method); :func:`claims_table` renders a list of claims (e.g.
the L² claims of Chen & Muñoz Ewald) as a table.

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> to_latex(qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]))
'\\begin{bmatrix}\\frac{7}{6} & -\\frac{5}{6}\\\\-\\frac{5}{6} & \\frac{7}{6}\\end{bmatrix}'
>>> x = sympy.Symbol("x")
>>> to_latex(relu(x - sympy.Rational(5, 4)))
'\\sigma\\left(x - \\frac{5}{4}\\right)'
>>> to_latex(sympy.Max(0, 2 * x), relu="ReLU")
'\\operatorname{ReLU}\\left(2 x\\right)'
>>> to_latex(sympy.sqrt(8) / 3)
'\\frac{2 \\sqrt{2}}{3}'
>>> to_latex(qmatrix([["4330986295811/804288000000"]]))
'\\begin{bmatrix}5.38486\\ldots\\end{bmatrix}'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import flint
import sympy

from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.printer import (
    LatexOptions,
    as_fraction,
    latex_label,
    latex_matrix,
    latex_number,
    matrix_fragment,
    relu,
)

__all__ = [
    "certificate_fragment",
    "claims_table",
    "clustered_fragment",
    "cone_fragment",
    "data_fragment",
    "network_expression",
    "network_fragment",
    "register_latex",
    "separator_fragment",
    "sls_certificate_fragment",
    "step_fragment",
    "to_latex",
    "to_markdown",
    "truncation_fragment",
]


# ----------------------------------------------------------------------------- registry
_HANDLERS: dict[type, Callable[[Any, LatexOptions], Fragment | str]] = {}


def register_latex(cls: type) -> Callable:
    """Decorator: register ``func(obj, options) -> Fragment | str`` as the printer of ``cls``.

    >>> class Claim:
    ...     pass
    >>> @register_latex(Claim)
    ... def _claim(obj, options):
    ...     return Fragment().text("a claim")
    >>> to_latex(Claim())
    'a claim'
    """

    def deco(func: Callable[[Any, LatexOptions], Fragment | str]) -> Callable:
        _HANDLERS[cls] = func
        return func

    return deco


def _handler(obj: Any) -> Callable | None:
    for klass in type(obj).__mro__:
        if klass in _HANDLERS:
            return _HANDLERS[klass]
        if klass.__module__.startswith("symtrunc.") and klass.__name__ in _BUILTIN:
            return _BUILTIN[klass.__name__]
    return None


def _fragment(obj: Any, opts: LatexOptions) -> Fragment | str:
    h = _handler(obj)
    if h is not None:
        return h(obj, opts)
    if hasattr(obj, "__symtrunc_latex__"):
        return obj.__symtrunc_latex__(opts)
    if isinstance(obj, flint.fmpq_mat | flint.fmpz_mat | sympy.MatrixBase):
        return latex_matrix(obj, opts)
    if as_fraction(obj) is not None:
        return latex_number(obj, opts)
    if isinstance(obj, sympy.Basic):
        return opts.printer().doprint(obj)
    if isinstance(obj, float):
        return repr(obj)
    raise TypeError(f"no LaTeX printer for {type(obj).__name__}; register one with register_latex")


def to_latex(obj: Any, **options: Any) -> str:
    """LaTeX for ``obj``.

    Parameters
    ----------
    obj : number, fmpq_mat, sympy expression, LabeledData, ReLUNetwork, TruncationMap,
        PolyhedralCone, SLSStep, SLSCertificate, Separator, Certificate, ClusteredHypotheses,
        ProofResult, or any registered type
    **options
        :class:`LatexOptions` fields: ``relu``, ``full``, ``max_rows``, ``max_cols``,
        ``max_digits``, ``digits``.

    Returns
    -------
    str
        Math-mode LaTeX for numbers, matrices and expressions; a text-mode fragment
        (paragraphs, ``\\[ \\]`` displays, ``tabular``) for composite objects.
    """
    out = _fragment(obj, LatexOptions.coerce(options))
    return out.render("latex") if isinstance(out, Fragment) else out


def to_markdown(obj: Any, **options: Any) -> str:
    """Markdown with KaTeX-friendly math for ``obj`` (see :func:`to_latex`).

    >>> from symtrunc.exact.matrix import qvector
    >>> print(to_markdown(qvector([1, "1/2"])))
    $$\\begin{bmatrix}1\\\\\\frac{1}{2}\\end{bmatrix}$$
    """
    out = _fragment(obj, LatexOptions.coerce(options))
    return out.render("markdown") if isinstance(out, Fragment) else f"$${out}$$"


def claims_table(
    claims: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], *, title: str | None = None
) -> Fragment:
    r"""A table of claims (one row per mapping): ``columns`` is ``[(key, header), ...]``.

    Values that are exact numbers are printed exactly; strings are escaped unless they
    start with ``$`` (inline math). Meant for the L² claims tables.

    >>> f = claims_table([{"id": "I7", "value": flint.fmpq(1, 2), "status": "true"}],
    ...                  [("id", "claim"), ("value", "value"), ("status", "status")])
    >>> print(f.render("markdown"))
    | claim | value | status |
    |---|---|---|
    | I7 | $\frac{1}{2}$ | true |
    """
    frag = Fragment()
    if title:
        frag.text(title)
    rows = []
    for c in claims:
        row = []
        for key, _ in columns:
            v = c.get(key, "")
            if isinstance(v, str):
                row.append(v if v.startswith("$") else tex_escape(v))
            elif isinstance(v, bool):
                row.append("yes" if v else "no")
            else:
                row.append(f"${_fragment(v, LatexOptions())}$")
        rows.append(row)
    frag.table([tex_escape(h) for _, h in columns], rows)
    return frag


# ----------------------------------------------------------------------------- the objects
def _col(A: flint.fmpq_mat, j: int) -> flint.fmpq_mat:
    return flint.fmpq_mat(A.nrows(), 1, [A[i, j] for i in range(A.nrows())])


def data_fragment(data: Any, opts: LatexOptions) -> Fragment:
    """Summary of :class:`~symtrunc.data.labeled.LabeledData`: class counts, the class means
    ``X_0^red``, their barycenter and the exact ``δ²``."""
    frag = Fragment()
    counts = ", ".join(rf"${latex_label(c)}$: {n}" for c, n in zip(data.classes, data.counts))
    frag.text(rf"${data.N}$ points in $\mathbb{{R}}^{{{data.M}}}$, $Q = {data.Q}$ classes ({counts}).")
    frag.text(
        r"Class means $\bar x_{0,j} = \frac{1}{N_j}\sum_i x_{0,j,i}$ as the columns of "
        r"$X_0^{\mathrm{red}}$, their barycenter $\bar x = \frac{1}{Q}\sum_j \bar x_{0,j}$ "
        r"and the largest squared distance $\delta^2$ of a point from its class mean:"
    )
    frag.extend(matrix_fragment(r"X_0^{\mathrm{red}}", data.means, opts))
    frag.extend(matrix_fragment(r"\bar x", data.barycenter, opts))
    d2 = data.delta_squared
    delta = sympy.sqrt(sympy.Rational(int(d2.p), int(d2.q)))
    delta_tex = (
        opts.printer().doprint(delta)
        if len(str(delta)) <= 40 or opts.full
        else (rf"\sqrt{{\delta^2}} \approx {float(delta):.6g}")
    )
    frag.math(rf"\delta^2 = {latex_number(d2, opts)}, \qquad \delta = {delta_tex}", wide=True)
    if data.Y != flint.fmpq_mat(data.Q, data.Q, [int(i == j) for i in range(data.Q) for j in range(data.Q)]):
        frag.extend(matrix_fragment("Y", data.Y, opts))
    return frag


def _linear_form(W: flint.fmpq_mat, b: flint.fmpq_mat, xs: Sequence[Any]) -> list[Any]:
    out = []
    for i in range(W.nrows()):
        e = sympy.Rational(int(b[i, 0].p), int(b[i, 0].q))
        for k in range(W.ncols()):
            w = W[i, k]
            if w != 0:
                e += sympy.Rational(int(w.p), int(w.q)) * xs[k]
        out.append(e)
    return out


def network_expression(network: Any) -> list[Any]:
    """The network as explicit sympy expressions in ``x_1..x_M`` (ReLU as :class:`relu`).

    Meant for small networks (the expression grows with depth and width).

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, -1]], ["1/2"], "relu"), ([[2]], [0], "identity")])
    >>> network_expression(net)
    [2*relu(x_1 - x_2 + 1/2)]
    """
    xs: list[Any] = list(sympy.symbols(f"x_1:{network.input_dim + 1}"))
    h = xs
    for layer in network.layers:
        z = _linear_form(layer.W, layer.b, h)
        h = [relu(e) for e in z] if layer.activation == "relu" else z
    return h


def _is_small(network: Any) -> bool:
    return network.input_dim <= 3 and max(network.widths) <= 3 and network.depth <= 4


def network_fragment(net: Any, opts: LatexOptions) -> Fragment:
    """A :class:`~symtrunc.network.ReLUNetwork`: its equations, layerwise and cumulative parameters
    and, for small networks, the explicit expression."""
    frag = Fragment()
    L = net.depth
    s = opts.sigma
    frag.text(
        rf"A ReLU network with $L = {L}$ layers and widths "
        rf"$({', '.join(map(str, net.widths))})$:"
    )
    frag.math(
        rf"x^{{(\ell)}} = {s}\left(W_\ell\, x^{{(\ell-1)}} + b_\ell\right),\ \ell = 1,\dots,{L - 1},"
        rf"\qquad x^{{({L})}} = W_{{{L}}}\, x^{{({L - 1})}} + b_{{{L}}}"
    )
    if net.classes:
        frag.text("Output order of the classes: " + ", ".join(rf"${latex_label(c)}$" for c in net.classes) + ".")
    frag.text(r"\textbf{Layerwise parameters} $(W_\ell, b_\ell)$:")
    for k, layer in enumerate(net.layers, 1):
        frag.extend(matrix_fragment(f"W_{{{k}}}", layer.W, opts))
        frag.extend(matrix_fragment(f"b_{{{k}}}", layer.b, opts))
    frag.text(
        r"\textbf{Cumulative parameters} $W^{(\ell)} = W_\ell W^{(\ell-1)}$, "
        r"$b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$ (then "
        r"$x^{(\ell)} = W^{(\ell)} x^{(\tau,\ell)} + b^{(\ell)}$, Proposition 3.2):"
    )
    for k, (W, b) in enumerate(net.cumulative(), 1):
        frag.extend(matrix_fragment(f"W^{{({k})}}", W, opts))
        frag.extend(matrix_fragment(f"b^{{({k})}}", b, opts))
    if _is_small(net):
        printer = opts.printer()
        outs = network_expression(net)
        body = r"\\".join(printer.doprint(e) for e in outs)
        frag.text("Explicitly:")
        frag.math(rf"x^{{({L})}}(x) = \begin{{bmatrix}}{body}\end{{bmatrix}}", wide=True)
    return frag


def _opening_angle(edges: flint.fmpq_mat) -> tuple[Any, float] | None:
    """``(exact sympy angle or None, float)`` of the largest circular cone about the equiangular axis."""
    n, m = edges.nrows(), edges.ncols()
    if n != m or n < 2 or edges.rank() < n:
        return None
    W = edges.inv()
    if n == 2:
        v1, v2 = _col(edges, 0), _col(edges, 1)
        dot = (v1.transpose() * v2)[0, 0]
        n1 = (v1.transpose() * v1)[0, 0]
        n2 = (v2.transpose() * v2)[0, 0]
        q = sympy.Rational(int(dot.p), int(dot.q)) / sympy.sqrt(
            sympy.Rational(int(n1.p), int(n1.q)) * sympy.Rational(int(n2.p), int(n2.q))
        )
        exact = sympy.acos(q)
        return exact, float(exact.evalf(20))
    norms = [math.sqrt(float(sum((W[i, k] ** 2 for k in range(n)), flint.fmpq(0)))) for i in range(n)]
    d = [sum(norms[i] * float(edges[r, i]) for i in range(n)) for r in range(n)]
    dn = math.sqrt(sum(x * x for x in d))
    return None, 2 * math.asin(min(1.0, 1 / dn))


def cone_fragment(
    cone: Any, opts: LatexOptions, *, apex_name: str = "p", edge_name: str = "V", intro: bool = True
) -> Fragment:
    """A :class:`~symtrunc.geometry.truncation.PolyhedralCone` (apex, edges) and its opening angle;
    ``apex_name``/``edge_name`` are the math-mode names used, ``intro=False`` omits the
    introductory sentence and the definition of ``S_±``."""
    frag = Fragment()
    n, m = cone.edges.nrows(), cone.edges.ncols()
    if intro:
        frag.text(
            rf"Polyhedral cone with apex ${apex_name}$ and edges $v_1,\dots,v_{{{m}}}$ "
            rf"(the columns of ${edge_name}$) in $\mathbb{{R}}^{{{n}}}$:"
        )
    frag.extend(matrix_fragment(apex_name, cone.apex, opts))
    frag.extend(matrix_fragment(edge_name, cone.edges, opts))
    if intro:
        frag.math(rf"S_\pm = \left\{{ {apex_name} + {edge_name} a : \pm a \ge 0 \right\}}")
    ang = _opening_angle(cone.edges)
    if ang is None:
        frag.text("The cone is not full-dimensional, so it has no opening angle.")
    else:
        exact, val = ang
        deg = math.degrees(val)
        if exact is not None:
            frag.text("Opening angle (the angle between the two edges):")
            frag.math(
                rf"\theta = {opts.printer().doprint(exact)} \approx {val:.6f} "
                rf"\ (\approx {deg:.4f}^\circ)",
                wide=True,
            )
        else:
            frag.text(
                r"Opening angle of the largest circular cone $C_\theta[d]$ about the equiangular "
                r"axis $d = \sum_i \lvert w_i\rvert\, v_i$ ($w_i$ the rows of "
                rf"${edge_name}^{{-1}}$) inside $S_+$, $\theta = 2\arcsin(1/\lvert d\rvert)$:"
            )
            frag.math(rf"\theta \approx {val:.6f}\ (\approx {deg:.4f}^\circ)")
    return frag


def truncation_fragment(tau: Any, opts: LatexOptions) -> Fragment:
    """A :class:`~symtrunc.geometry.truncation.TruncationMap`: ``τ_{W,b}``, its parameters and cones."""
    frag = Fragment()
    s = opts.sigma
    W = tau.W
    square = W.nrows() == W.ncols() and W.rank() == W.nrows()
    inv = "^{-1}" if square else "^{+}"
    frag.text(r"Truncation map (Definition 3.1):")
    frag.math(rf"\tau_{{W,b}}(x) = W{inv}\left({s}(Wx + b) - b\right)")
    frag.extend(matrix_fragment("W", W, opts))
    frag.extend(matrix_fragment("b", tau.b, opts))
    cone = tau.cone()
    frag.extend(cone_fragment(cone, opts, apex_name="p", edge_name=f"W{inv}"))
    if square:
        frag.text(
            r"$\tau_{W,b}$ is the identity on the forward cone $S_+$, maps the backward cone "
            r"$S_-$ to the apex $p = -W^{-1} b$, and projects every other point onto a face of $S_+$."
        )
    else:
        frag.text(
            r"$\tau_{W,b}$ equals $W^+W$ on the forward cone $S_+$ and maps the backward cone "
            r"$S_-$ to $W^+W p$."
        )
    return frag


def separator_fragment(sep: Any, opts: LatexOptions) -> Fragment:
    """A :class:`~symtrunc.exact.lp.Separator`: the hyperplane's normal and offset."""
    frag = Fragment()
    frag.text(
        r"Separating hyperplane $H = \{x : \langle h, x\rangle = c\}$: "
        r"$\langle h, a\rangle < c$ on the first set and $\langle h, b\rangle > c$ on the second, with"
    )
    frag.extend(matrix_fragment("h", sep.normal, opts))
    frag.math(rf"c = {latex_number(sep.offset, opts)}")
    return frag


def step_fragment(step: Any, opts: LatexOptions) -> Fragment:
    """An :class:`~symtrunc.geometry.separability.SLSStep`: base point, normal and hyperplane."""
    frag = Fragment()
    j = step.class_index
    frag.text(
        rf"SLS step for class index ${j}$: the hyperplane through the base point "
        rf"$p = t\,\bar x + (1 - t)\,\bar x_{{0,{j}}}$, $t = {latex_number(step.t, opts)}$, "
        r"with normal $h$ pointing away from the class:"
    )
    frag.math(r"H = \{x : \langle h, x - p\rangle = 0\}")
    frag.extend(matrix_fragment("h", step.normal, opts))
    frag.extend(matrix_fragment("p", step.base_point, opts))
    frag.math(rf"\langle h, p\rangle = {latex_number(step.separator.offset, opts)}")
    return frag


def sls_certificate_fragment(cert: Any, opts: LatexOptions) -> Fragment:
    """An :class:`~symtrunc.geometry.separability.SLSCertificate`: the collapse order and every step."""
    frag = Fragment()
    frag.text(
        "Sequential linear separability (Definition 5.1), collapse order "
        + r" $\to$ ".join(f"${j}$" for j in cert.order)
        + ":"
    )
    for k, step in enumerate(cert.steps, 1):
        frag.heading(3, f"Step {k}")
        frag.extend(step_fragment(step, opts))
    return frag


def certificate_fragment(cert: Any, opts: LatexOptions) -> Fragment:
    """A zero-loss :class:`~symtrunc.verification.Certificate`: per-layer table and exact costs."""
    frag = Fragment()
    inv = "; every layer invariant of the construction holds as well" if cert.invariants_checked else ""
    frag.text(
        rf"\textbf{{Zero-loss certificate}} (exact arithmetic): all ${cert.n_points}$ points in "
        rf"$\mathbb{{R}}^{{{cert.input_dim}}}$ ({cert.n_classes} classes) are mapped exactly to "
        rf"their labels{inv}. Widths $({', '.join(map(str, cert.widths))})$."
    )
    if cert.theorem:
        frag.text(rf"Construction: {tex_escape(cert.theorem)}.")
    rows = []
    for r in cert.layers:
        fixed = ", ".join(tex_escape(x) for x in r.fixed_base_points) or "--"
        coll = "--" if r.collapses is None else tex_escape(r.collapses)
        rows.append([str(r.layer), r.kind, coll, str(r.collapsed_points), str(r.identity_points), fixed])
    frag.table(
        ["layer", "kind", "collapses", r"points $\le 0$", r"points $\ge 0$", "base points fixed"], rows, "rllrrl"
    )
    names = {
        "half_squared": r"\tfrac{1}{2}\lVert X^{(L)} - Y^{\mathrm{ext}}\rVert_F^2",
        "class_weighted": r"C_N",
        "class_weighted_sqrt": r"\sqrt{C_N}",
        "mean_squared": r"\tfrac{1}{N} \lVert X^{(L)} - Y^{\mathrm{ext}}\rVert_F^2",
    }
    costs = []
    for k, v in cert.costs.items():
        name = names.get(k) or r"\text{" + tex_escape(k) + "}"
        costs.append(f"{name} = {_cost_value(v)}")
    if costs:
        frag.math(r",\qquad ".join(costs), wide=True)
    return frag


def _cost_value(v: Any) -> str:
    if isinstance(v, str):
        try:
            return latex_number(Fraction(v))
        except ValueError:
            return rf"\text{{{tex_escape(v)}}}"
    return latex_number(v)


def clustered_fragment(hyp: Any, opts: LatexOptions) -> Fragment:
    """:class:`~symtrunc.constructions.clustered.ClusteredHypotheses`: (4.2) and (4.6), decided exactly."""
    frag = Fragment()
    ok = {True: r"holds", False: r"\textbf{fails}"}
    frag.text(r"Hypotheses of Proposition 4.1, evaluated exactly (squared distances, no roots):")
    frag.math(
        rf"\delta^2 = {latex_number(hyp.delta_squared, opts)}, \qquad "
        rf"\min_j \lvert \bar x_{{0,j}} - \bar x\rvert^2 = {latex_number(min(hyp.distances_squared), opts)}",
        wide=True,
    )
    frag.text(
        rf"(4.2) $16\,\delta^2 < \min_j \lvert \bar x_{{0,j}} - \bar x\rvert^2$: {ok[hyp.condition_4_2]}. "
        rf"(4.6) $\max_j \theta_{{*,j}} < \pi$: {ok[hyp.condition_4_6]}."
    )
    thetas = [t for t in hyp.theta_star if t is not None]
    if thetas:
        frag.text(
            r"Angles $\theta_{*,j}$ (float annotations): "
            + ", ".join(
                rf"$\theta_{{*,{j + 1}}} \approx {t:.4f}$" if t is not None else rf"$\theta_{{*,{j + 1}}}$ undefined"
                for j, t in enumerate(hyp.theta_star)
            )
            + "."
        )
    return frag


#: Printers of the library's own types, dispatched on the class name (as sympy's
#: ``_print_<Class>``), so this module imports none of the types it prints.
_BUILTIN: dict[str, Callable[[Any, LatexOptions], Fragment | str]] = {
    "LabeledData": data_fragment,
    "ReLUNetwork": network_fragment,
    "TruncationMap": truncation_fragment,
    "PolyhedralCone": lambda c, o: cone_fragment(c, o),
    "Separator": separator_fragment,
    "SLSStep": step_fragment,
    "SLSCertificate": sls_certificate_fragment,
    "Certificate": certificate_fragment,
    "ClusteredHypotheses": clustered_fragment,
}
