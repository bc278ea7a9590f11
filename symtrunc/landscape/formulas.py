r"""LaTeX (or Markdown) of the landscape formulas for one network: realization, loss, gradient,
neuron types and the verdict with its certificate, built with :mod:`symtrunc.latex`.

Examples
--------
>>> from symtrunc.landscape.params import ShallowParams, Target
>>> phi = ShallowParams.from_values([1], [-1], [1], "1/2")
>>> tex = landscape_fragment(phi, Target(1, 0)).render("latex")
>>> print(tex.splitlines()[1])
\[ N^{\varphi}(x) = \sigma\left(x - 1\right) + \frac{1}{2} \]
>>> r"dx = \frac{1}{12}" in tex
True
"""

from __future__ import annotations

import sympy

from symtrunc.exact.rational import q_to_sympy
from symtrunc.landscape.critical import Classification, classify
from symtrunc.landscape.objective import hessian
from symtrunc.landscape.params import Interval, ShallowParams, Target, default_interval
from symtrunc.landscape.piecewise import pieces, residual
from symtrunc.landscape.quadratic_forms import inertia
from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.objects import to_latex
from symtrunc.latex.printer import latex_matrix, latex_number, relu

__all__ = ["landscape_fragment", "realization_expression"]


_MATH = {
    "φ": r"\varphi",
    "σ": r"\sigma",
    "α": r"\alpha",
    "β": r"\beta",
    "ε": r"\varepsilon",
    "κ": r"\kappa",
    "Σ": r"\Sigma",
    "∫": r"\int",
    "≠": r"\neq",
    "≥": r"\geq",
    "≤": r"\leq",
    "²": r"^2",
    "⁴": r"^4",
    "ᵀ": r"^\top",
    "δ": r"\delta",
    "μ": r"\mu",
    "·": r"\cdot",
    "→": r"\to",
    "−": "-",
    "₊": r"_+",
    "₋": r"_-",
    "₀": r"_0",
}


def _text(s: str) -> str:
    r"""Text with the Greek letters and symbols of the notes as inline math (pdflatex-safe).

    >>> print(_text("σ'(0) := 0 and v w α ≠ 0"))
    $\sigma$'(0) := 0 and v w $\alpha$ $\neq$ 0
    """
    return "".join(f"${_MATH[ch]}$" if ch in _MATH else tex_escape(ch) for ch in s)


def realization_expression(phi: ShallowParams, x: sympy.Symbol) -> sympy.Expr:
    """N^φ(x) as a sympy expression (ReLU as :class:`symtrunc.latex.relu`; small networks only).

    >>> import sympy
    >>> realization_expression(ShallowParams.from_values([2], [-1], [3], 0), sympy.Symbol("x"))
    3*relu(2*x - 1)
    """
    act = phi.activation
    out = q_to_sympy(phi.c)
    for w, b, v in zip(phi.w, phi.b, phi.v):
        z = q_to_sympy(w) * x + q_to_sympy(b)
        if act.name == "relu":
            s = relu(z)
        elif act.name == "leaky_relu":
            s = q_to_sympy(act.slope) * z + (1 - q_to_sympy(act.slope)) * relu(z)
        else:
            s = z**2
        out += q_to_sympy(v) * s
    return out


def landscape_fragment(
    phi: ShallowParams, target: Target, interval: Interval | None = None, result: Classification | None = None
) -> Fragment:
    """The formulas of the landscape analysis of φ as a :class:`symtrunc.latex.Fragment`."""
    iv = default_interval(interval)
    res = result if result is not None else classify(phi, target, iv)
    x = sympy.Symbol("x")
    n = latex_number
    f = Fragment()
    act = phi.activation
    slope = rf", negative slope ${n(act.slope)}$" if act.name == "leaky_relu" else ""
    conv = rf", $\sigma'(0) := {n(act.derivative_at_zero)}$" if act.has_kink else ""
    f.text(
        rf"Network with $N = {phi.width}$ hidden neurons, activation \texttt{{{tex_escape(act.name)}}}{slope}{conv}."
    )
    f.math(r"N^{\varphi}(x) = " + to_latex(realization_expression(phi, x)))
    fx = q_to_sympy(target.alpha) * x + q_to_sympy(target.beta)
    f.math(rf"f(x) = {to_latex(fx)}, \qquad x \sim \mathrm{{Unif}}[{n(iv.lo)}, {n(iv.hi)}]")
    rows = []
    for P in pieces(phi, iv):
        r = residual(phi, target, P)
        N_ = sum((q_to_sympy(c) * x**k for k, c in enumerate(r)), sympy.Integer(0)) + fx
        rows.append([f"$[{n(P.lo)}, {n(P.hi)}]$", f"${to_latex(sympy.expand(N_))}$"])
    f.table(["piece", r"$N^{\varphi}(x)$"], rows)
    scale = "" if iv.length == 1 else rf"\frac{{1}}{{{n(iv.length)}}}"
    f.math(
        rf"\mathcal{{L}}(\varphi) = {scale}\int_{{{n(iv.lo)}}}^{{{n(iv.hi)}}}"
        rf"\big(N^{{\varphi}}(x) - f(x)\big)^2\,dx = {n(res.loss)}"
    )
    names = phi.coordinate_names()
    f.math(
        r"\nabla\mathcal{L}(\varphi) = \big("
        + ", ".join(
            rf"\partial_{{{nm[0]}_{{{nm[1:]}}}}} = {n(g)}" if nm != "c" else rf"\partial_c = {n(g)}"
            for nm, g in zip(names, res.gradient)
        )
        + r"\big)"
    )
    if res.critical and phi.width <= 4:
        H = hessian(phi, target, iv)
        pos, neg, zero = inertia(H)
        kind = (
            ""
            if res.smooth.twice_differentiable
            else r"\text{(one-sided; } \mathcal{L} \text{ is not } C^2 \text{ here)}\ "
        )
        f.math(
            rf"{kind}\nabla^2\mathcal{{L}}(\varphi) = {latex_matrix(H)},\quad "
            rf"\text{{inertia }}(n_+, n_-, n_0) = ({pos}, {neg}, {zero})",
            wide=True,
        )
    f.table(
        ["neuron", "type", r"$z_{lo}$", r"$z_{hi}$", "role"],
        [
            [str(t.index), _text(t.label()), f"${n(t.z_lo)}$", f"${n(t.z_hi)}$", _text(r)]
            for t, r in zip(res.neurons, res.roles)
        ],
    )
    f.text(
        f"Verdict: \\textbf{{{res.verdict.replace('_', ' ')}}}"
        f" (differentiable: {'yes' if res.smooth.differentiable else 'no'})."
    )
    cert = res.certificate
    if cert.get("kind") == "descent_ray":
        u = ", ".join(n(sympy.Rational(s)) for s in cert["direction"])
        p = sum(
            (sympy.Rational(c) * sympy.Symbol("varepsilon") ** k for k, c in enumerate(cert["polynomial"])),
            sympy.Integer(0),
        )
        f.math(
            rf"u = ({u}),\quad \mathcal{{L}}(\varphi+\varepsilon u) - \mathcal{{L}}(\varphi) = {to_latex(p)}"
            rf"\ \ (0 < \varepsilon \le {n(sympy.Rational(cert['epsilon0']))})"
        )
    elif cert.get("kind") == "negative_curvature":
        f.math(rf"u^\top H u = {n(sympy.Rational(cert['uHu']))} < 0")
    elif cert.get("kind") == "dead_neuron_local_min":
        f.table(
            ["condition", "holds"], [[_text(c["condition"]), "yes" if c["holds"] else "no"] for c in cert["conditions"]]
        )
    if res.one_sided:
        f.math(
            r"\text{one-sided derivatives: }"
            + ", ".join(
                rf"D_{{{'+' if k[-1] == '+' else '-'}e_{{{k[0]}_{{{k[1:-1]}}}}}}}\mathcal{{L}} = {n(x)}"
                for k, x in res.one_sided.items()
            )
        )
    for note in res.notes:
        f.text("Note: " + _text(note))
    return f
