r"""The rational cone layer ``W = εI + u hᵀ``: determinant and sign lemma, in every dimension.

For ``d = x - p`` and ``g = ⟨h, d⟩`` the pre-activation is ``(W d)_i = ε d_i + g``. If
``g ≥ ε‖d‖_∞`` it is ``≥ 0`` (the point stays), if ``-g ≥ ε‖d‖_∞`` it is ``≤ 0`` (the point
collapses to ``p``); ``det W = ε^{M-1}(ε + ⟨h, u⟩)`` by the matrix determinant lemma
(:mod:`~symtrunc.proofs.determinants`). This is the construction's default ``cone="rational"``
recipe (:func:`symtrunc.geometry.cones.rational_cone`), with exact rational parameters.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("half_margin").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.determinants import DETERMINANT_FACTS, determinant_lemma
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "rational_cone"
ORDER = 4
TITLE = "The rational cone layer eps I + u h^T: determinant and sign lemma"
CLAIM = (
    r"Let $M \ge 1$, $\varepsilon > 0$, $h \in \mathbb{R}^M$, $W = \varepsilon I + uh^\top$, $d = x - p$ and "
    r"$g = \langle h, d\rangle$. Then $\det W = \varepsilon^{M-1}(\varepsilon + \langle h, u\rangle)$ "
    r"and $(Wd)_i = \varepsilon d_i + g$. If $g \ge \varepsilon\lVert d\rVert_\infty$ then $Wd \ge 0$; if "
    r"$-g \ge \varepsilon\lVert d\rVert_\infty$ then $Wd \le 0$. For a unit $h$ and "
    r"$\varepsilon \le \cos(\theta/2)$, every $d \in C_\theta[h]$ has $g \ge \varepsilon\lVert d\rVert_\infty$. "
    r"For every dimension $M$."
)
VARIANTS = {
    "half_margin": "W d >= 0 already when g >= (eps/2) ||d||_inf",
    "determinant": "det(eps I + u h^T) = eps^M + <h, u>",
}
ASSUMES = (DETERMINANT_FACTS,)


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    eps = sympy.Symbol("epsilon", positive=True)
    M = sympy.Symbol("M", positive=True, integer=True)
    A = FreeAlgebra()
    u, h, d, e = (A.matrix(s, M, 1) for s in ("u", "h", "d", "e_i"))
    A.relation(u.T * u, M * A.eye(1))
    A.relation(e.T * u, A.eye(1))
    A.relation(e.T * e, A.eye(1))
    dom = Domain({M: "dimension", eps: "positive"})
    # the determinant, by the matrix determinant lemma with D = εI, c = u, d = h
    factor = determinant_lemma(P, eps * A.eye(M), u, h, M, names=(r"\varepsilon I", "u", "h"))
    s = sympy.Symbol("s", real=True)  # s = ⟨h, u⟩
    lemma = eps**M * factor.subs((h.T * u).scalar(), s)
    claimed = eps**M + s if variant == "determinant" else eps ** (M - 1) * (eps + s)
    shown = r"\varepsilon^M + s" if variant == "determinant" else r"\varepsilon^{M-1}(\varepsilon + s)"
    P.identity(
        r"$\det(\varepsilon I)\,(1 + h^\top u/\varepsilon) = \varepsilon^M(1 + s/\varepsilon) = "
        + shown
        + r"$, $s = \langle h, u\rangle$",
        lemma,
        claimed,
        Domain({M: "dimension", eps: "positive", s: "real"}),
    )
    if variant == "determinant":
        return
    W = eps * A.eye(M) + u * h.T
    P.identity(
        r"component $i$: $e_i^\top Wd = \varepsilon d_i + \langle h, d\rangle$ (uses $e_i^\top u = 1$)",
        e.T * W * d,
        eps * (e.T * d) + h.T * d,
        dom,
    )
    # the sign lemma, one component at a time: d_i = ±δ, and the hypothesis ±g = c ε δ + r, r ≥ 0
    c = sympy.Rational(1, 2) if variant == "half_margin" else 1
    delta = sympy.Symbol("delta", nonnegative=True)
    deltap = sympy.Symbol("delta", positive=True)
    r = sympy.Symbol("r", nonnegative=True)
    for side, sgn in (("forward", 1), ("backward", -1)):
        for piece, di in ((r"d_i = \delta \ge 0", delta), (r"d_i = -\delta < 0", -deltap)):
            dl = di.free_symbols.pop()
            g = sgn * (c * eps * dl + r)  # sgn·g ≥ c ε |d_i|, r ≥ 0 the slack
            comp = eps * di + g
            rel = ">=" if sgn > 0 else "<="
            kinds = {
                eps: "positive",
                r: "nonnegative",
                dl: "nonnegative" if dl.is_nonnegative and not dl.is_positive else "positive",
            }
            le = r"\ge" if sgn > 0 else r"\le"
            minus = "" if sgn > 0 else "-"
            half = "" if c == 1 else r"\tfrac{1}{2}"
            P.sign(
                rf"{side} point, piece ${piece}$: $\varepsilon d_i + g {le} 0$ "
                rf"when ${minus}g \ge {half}\varepsilon\lvert d_i\rvert$",
                comp,
                rel,
                Domain(kinds),
            )
    # ‖d‖_∞ ≤ |d|: |d|² = d_i² + |d - d_i e_i|²
    di = (e.T * d).scalar()
    rest = d - di * e
    P.identity(
        r"$\lvert d\rvert^2 = d_i^2 + \lvert d - d_ie_i\rvert^2$, so $\lvert d_i\rvert \le \lvert d\rvert$ "
        r"and $\lVert d\rVert_\infty \le \lvert d\rvert$",
        d.T * d,
        di**2 * A.eye(1) + rest.T * rest,
        dom,
    )
    # on C_θ[h] (unit h): g ≥ |d| cos(θ/2) =: κ|d|, κ ≥ ε, |d| ≥ ‖d‖_∞  ⇒  g ≥ ε‖d‖_∞
    r1, r2, r3, ninf = sympy.symbols("r_1 r_2 r_3 N_infty", nonnegative=True)
    kappa = eps + r2
    norm = ninf + r3
    g = kappa * norm + r1
    P.sign(
        r"on $C_\theta[h]$: $g = \kappa\lvert d\rvert + r_1$ with $\kappa = \cos(\theta/2) = \varepsilon + r_2$ "
        r"and $\lvert d\rvert = \lVert d\rVert_\infty + r_3$ ($r_k \ge 0$) give $g - \varepsilon\lVert d\rVert_\infty \ge 0$",
        g - eps * ninf,
        ">=",
        Domain({eps: "positive", r1: "nonnegative", r2: "nonnegative", r3: "nonnegative", ninf: "nonnegative"}),
    )


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} $(\varepsilon I + uh^\top)d = \varepsilon d + \langle h, d\rangle u$, so "
        r"component $i$ only involves $d_i$ and $g$ (an identity of symbolic size $M$ with $e_i^\top u = 1$). "
        r"Split into the pieces $d_i = \delta \ge 0$ and "
        r"$d_i = -\delta < 0$ and write the hypothesis as $\pm g = \varepsilon\delta + r$ with a slack $r \ge 0$ "
        r"(it holds for $\lvert d_i\rvert = \delta \le \lVert d\rVert_\infty$). Then "
        r"$\varepsilon d_i + g \in \{2\varepsilon\delta + r,\ r\}$ on the forward side and "
        r"$\in \{-r,\ -2\varepsilon\delta - r\}$ on the backward side: polynomials with one-signed "
        r"coefficients in nonnegative variables, for a generic component $i$ of any dimension. The determinant "
        r"is the matrix determinant lemma (proved for symbolic size $M$ by a block factorization) with "
        r"$D = \varepsilon I$: $\det(\varepsilon I + uh^\top) = \varepsilon^M(1 + \langle h,u\rangle/\varepsilon)$. "
        r"For unit $h$ and $d \in C_\theta[h]$, $g = \lvert d\rvert\cos\angle(d,h) \ge \lvert d\rvert\cos(\theta/2) "
        r"\ge \varepsilon\lvert d\rvert \ge \varepsilon\lVert d\rVert_\infty$, so the layer contains the paper's "
        r"cone; with \texttt{truncation\_map} the layer fixes the forward points and collapses the backward "
        r"points to $p$ (Lemma 3.4 without radicals)."
    )
    return f
