r"""The rational cone layer ``W = εI + u hᵀ``: determinant and sign lemma.

For ``d = x - p`` and ``g = ⟨h, d⟩`` the pre-activation is ``(W d)_i = ε d_i + g``. If
``g ≥ ε‖d‖_∞`` it is ``≥ 0`` (the point stays), if ``-g ≥ ε‖d‖_∞`` it is ``≤ 0`` (the point
collapses to ``p``); ``det W = ε^{M-1}(ε + ⟨h, u⟩)``. This is the construction's default
``cone="rational"`` recipe, with exact rational parameters.

>>> prove().status
'proved'
>>> prove("half_margin").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof

NAME = "rational_cone"
ORDER = 4
TITLE = "The rational cone layer eps I + u h^T: determinant and sign lemma"
CLAIM = (r"Let $\varepsilon > 0$, $h \in \mathbb{R}^M$, $W = \varepsilon I + uh^\top$, $d = x - p$ and "
         r"$g = \langle h, d\rangle$. Then $\det W = \varepsilon^{M-1}(\varepsilon + \langle h, u\rangle)$ "
         r"($M = 2, 3, 4$) and $(Wd)_i = \varepsilon d_i + g$ ($M = 2, 3, 4$). If "
         r"$g \ge \varepsilon\lVert d\rVert_\infty$ then $Wd \ge 0$; if $-g \ge \varepsilon\lVert d\rVert_\infty$ "
         r"then $Wd \le 0$ (every $M$: the statement is per component). For a unit $h$ and "
         r"$\varepsilon \le \cos(\theta/2)$, every $d \in C_\theta[h]$ has $g \ge \varepsilon\lVert d\rVert_\infty$.")
VARIANTS = {
    "half_margin": "W d >= 0 already when g >= (eps/2) ||d||_inf",
    "determinant": "det(eps I + u h^T) = eps^M + <h, u>",
}


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _obligations(P: Prover, variant: str | None) -> None:
    eps = sympy.Symbol("epsilon", positive=True)
    for M in (2, 3, 4):
        h = sympy.Matrix(sympy.symbols(f"h_1:{M + 1}", real=True))
        d = sympy.Matrix(sympy.symbols(f"d_1:{M + 1}", real=True))
        u = sympy.ones(M, 1)
        W = eps * sympy.eye(M) + u * h.T
        kinds = {eps: "positive", **{s: "real" for s in list(h) + list(d)}}
        hu = sum(h)
        claimed = eps**M + hu if variant == "determinant" else eps ** (M - 1) * (eps + hu)
        P.identity(rf"$M = {M}$: $\det(\varepsilon I + uh^\top) = \varepsilon^{{M-1}}(\varepsilon + \langle h,u\rangle)$",
                   W.det(), claimed, Domain(kinds))
        g = (h.T * d)[0, 0]
        P.identity(rf"$M = {M}$: $(Wd)_i = \varepsilon d_i + \langle h, d\rangle$", W * d,
                   eps * d + g * u, Domain(kinds))
    # the sign lemma, one component at a time: d_i = ±δ, and the hypothesis g = c ε δ + r, r ≥ 0
    c = sympy.Rational(1, 2) if variant == "half_margin" else 1
    delta = sympy.Symbol("delta", nonnegative=True)
    deltap = sympy.Symbol("delta", positive=True)
    r = sympy.Symbol("r", nonnegative=True)
    for side, sgn in (("forward", 1), ("backward", -1)):
        for piece, di in ((r"d_i = \delta \ge 0", delta), (r"d_i = -\delta < 0", -deltap)):
            dl = di.free_symbols.pop()
            g = sgn * (c * eps * dl + r)             # sgn·g ≥ c ε |d_i|, r ≥ 0 the slack
            comp = eps * di + g
            rel = ">=" if sgn > 0 else "<="
            kinds = {eps: "positive", r: "nonnegative", dl: "nonnegative" if dl.is_nonnegative and not dl.is_positive
                     else "positive"}
            le = r"\ge" if sgn > 0 else r"\le"
            minus = "" if sgn > 0 else "-"
            half = "" if c == 1 else r"\tfrac{1}{2}"
            P.sign(rf"{side} point, piece ${piece}$: $\varepsilon d_i + g {le} 0$ "
                   rf"when ${minus}g \ge {half}\varepsilon\lvert d_i\rvert$", comp, rel, Domain(kinds))
    # |d|_∞ ≤ |d|: |d|² - d_i² is a sum of squares; and g ≥ |d| cos(θ/2) ≥ ε|d| on C_θ[h]
    for M in (2, 3, 4):
        ds = sympy.symbols(f"d_1:{M + 1}", real=True)
        form = sum(v**2 for v in ds) - ds[0] ** 2
        P.sum_of_squares(rf"$M = {M}$: $\lvert d\rvert^2 - d_1^2 \ge 0$ (so $\lVert d\rVert_\infty \le \lvert d\rvert$)",
                         form, list(ds), Domain({s: "real" for s in ds}))


def _sketch() -> Fragment:
    f = Fragment()
    f.text(r"\textbf{Proof sketch.} $(\varepsilon I + uh^\top)d = \varepsilon d + \langle h, d\rangle u$, so "
           r"component $i$ only involves $d_i$ and $g$. Split into the pieces $d_i = \delta \ge 0$ and "
           r"$d_i = -\delta < 0$ and write the hypothesis as $\pm g = \varepsilon\delta + r$ with a slack $r \ge 0$ "
           r"(it holds for $\lvert d_i\rvert = \delta \le \lVert d\rVert_\infty$). Then "
           r"$\varepsilon d_i + g \in \{2\varepsilon\delta + r,\ r\}$ on the forward side and "
           r"$\in \{-r,\ -2\varepsilon\delta - r\}$ on the backward side: polynomials with one-signed "
           r"coefficients in nonnegative variables. The determinant is the matrix-determinant lemma "
           r"$\det(\varepsilon I + uh^\top) = \varepsilon^M(1 + \langle h,u\rangle/\varepsilon)$. For unit $h$ and "
           r"$d \in C_\theta[h]$, $g = \lvert d\rvert\cos\angle(d,h) \ge \lvert d\rvert\cos(\theta/2) \ge "
           r"\varepsilon\lvert d\rvert \ge \varepsilon\lVert d\rVert_\infty$, so the layer contains the paper's "
           r"cone; with \texttt{truncation\_map} the layer fixes the forward points and collapses the backward "
           r"points to $p$ (Lemma 3.4 without radicals).")
    return f
