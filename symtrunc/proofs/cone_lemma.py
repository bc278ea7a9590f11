r"""Lemma 3.4 (cone lemma): the shrink matrix ``W_θ = λI + (1-λ)uuᵀ/n`` maps the cone
``C_θ[u]`` into the positive orthant, in every dimension ``n ≥ 2``.

The vector identities are proved for matrix symbols of symbolic size ``n``
(:mod:`~symtrunc.proofs.free_algebra`, with ``uᵀu = n``, ``eᵢᵀu = 1``, ``eᵢᵀeᵢ = 1``). The
orthant statement is reduced by symmetry to a two-variable inequality: for a component ``i``
write ``y = β v + z`` with ``v = eᵢ - u/n`` and ``z ⊥ u, eᵢ``; then ``yᵢ = β(n-1)/n`` and
``|y|² = β²(n-1)/n + |z|²``, and ``α ≥ λ|yᵢ|`` follows from the exact certificate
``α² - λ²yᵢ² = α² g₂ + (n-1)/n λ² g₁ + (n-1)/n λ² |z|²`` with the hypotheses ``g₁ ≥ 0`` (cone)
and ``g₂ ≥ 0`` (shrink bound), an identity of rational functions in ``α, β, λ, T, n, |z|²``.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("double_lambda").status
'failed'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, latex, run_proof
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "cone_lemma"
ORDER = 3
TITLE = "Lemma 3.4: the shrink matrix W_theta maps the cone C_theta[u] into the positive orthant"
CLAIM = (
    r"Let $n \ge 2$, $u = (1,\dots,1)^\top \in \mathbb{R}^n$, $\theta_n = 2\arccos\sqrt{(n-1)/n}$, "
    r"$\lambda(\theta,\theta_n) = \tan(\theta_n/2)/\tan(\theta/2)$ if $\theta > \theta_n$ and $1$ otherwise. "
    r"(i) For every orthogonal $\tilde R$ with $\tilde R e_1 = u/\lvert u\rvert$, "
    r"$W_\theta := \tilde R\operatorname{diag}(1,\lambda,\dots,\lambda)\tilde R^\top = \lambda I + (1-\lambda)uu^\top/n$; "
    r"$W_\theta u = u$ and $W_\theta y = \lambda y$ for $y \perp u$. "
    r"(ii) $\tan(\theta_n/2) = 1/\sqrt{n-1}$. (iii) If $0 < \lambda \le \lambda(\theta,\theta_n)$ and "
    r"$0 < \theta < \pi$ then $W_\theta\, C_\theta[u] \subset \mathbb{R}^n_+$ and "
    r"$W_\theta\, C_\theta[-u] \subset \mathbb{R}^n_-$. For symbolic $\theta$, $\lambda$ and every $n \ge 2$."
)
VARIANTS = {
    "double_lambda": "W_theta maps C_theta[u] into the orthant already when lambda <= 2 lambda(theta, theta_n)",
    "no_normalization": "W_theta = lambda I + (1 - lambda) u u^T (without the factor 1/n)",
}
ASSUMES: tuple[str, ...] = ()

_n = sympy.Symbol("n", positive=True, integer=True)


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    n = _n
    lam = sympy.Symbol("lambda", positive=True)
    alpha = sympy.Symbol("alpha", nonnegative=True)
    A = FreeAlgebra()
    u, e, e1 = A.matrix("u", n, 1), A.matrix("e_i", n, 1), A.matrix("e_1", n, 1)
    y = A.matrix("y", n, 1)
    Rt = A.matrix(r"\tilde R", n, n)
    for rel in (
        (u.T * u, n * A.eye(1)),
        (e.T * e, A.eye(1)),
        (e.T * u, A.eye(1)),
        (e1.T * e1, A.eye(1)),
        (u.T * y, A.zero(1, 1)),
        (Rt.T * Rt, A.eye(n)),
        (Rt * Rt.T, A.eye(n)),
        (Rt * e1, u / sympy.sqrt(n)),
    ):
        A.relation(*rel)
    factor = 1 if variant == "no_normalization" else 1 / n
    W = lam * A.eye(n) + (1 - lam) * factor * (u * u.T)

    def ones(rng) -> Iterator[dict]:
        for k in (2, 3):
            yield {n: k, lam: sympy.Rational(1, 2), "u": sympy.ones(k, 1)}

    dom = Domain({n: "dimension", lam: "positive", alpha: "nonnegative"}, conditions=[n - 2], samples=ones)
    # (i) the shrink matrix
    P.identity(r"$W_\theta u = u$ (uses $u^\top u = n$)", W * u, u, dom)
    P.identity(r"$W_\theta y = \lambda y$ for $y \perp u$", W * y, lam * y, dom)
    P.identity(
        r"$\tilde R\bigl(\lambda I + (1-\lambda)e_1e_1^\top\bigr)\tilde R^\top = \lambda I + (1-\lambda)uu^\top/n$ "
        r"for orthogonal $\tilde R$ with $\tilde Re_1 = u/\sqrt n$ "
        r"($\operatorname{diag}(1,\lambda,\dots,\lambda) = \lambda I + (1-\lambda)e_1e_1^\top$)",
        Rt * (lam * A.eye(n) + (1 - lam) * (e1 * e1.T)) * Rt.T,
        W,
        dom,
    )
    # (ii) tan(θ_n/2)² = (1 - c²)/c² with c = cos(θ_n/2) = √((n-1)/n); θ_n/2 ∈ (0, π/2) so tan > 0
    c2 = (n - 1) / n
    P.identity(
        r"$\tan^2(\theta_n/2) = (1 - c^2)/c^2 = 1/(n-1)$ for $c = \cos(\theta_n/2) = \sqrt{(n-1)/n}$",
        (1 - c2) / c2,
        1 / (n - 1),
        Domain({n: "dimension"}, conditions=[n - 2]),
    )
    _shrink_bound(P)
    _orthant(P, A, W, u, e, y, lam, alpha, variant)


def _shrink_bound(P: Prover) -> None:
    """``λ ≤ λ(θ, θ_n)`` implies ``g₂ = 1 - (n-1)λ²T² ≥ 0`` on both branches of ``λ(θ, θ_n)``."""
    n, T = _n, sympy.Symbol("T", positive=True)
    k, m = sympy.symbols("k m", nonnegative=True)
    lam1 = 1 / ((1 + k) * sympy.sqrt(n - 1) * T)  # θ > θ_n: λ = λ(θ,θ_n)/(1+k)
    P.sign(
        r"$\theta > \theta_n$: $\lambda = \lambda(\theta,\theta_n)/(1+k)$, $k \ge 0$ $\Rightarrow$ "
        r"$g_2 = 1 - (n-1)\lambda^2T^2 \ge 0$",
        1 - (n - 1) * lam1**2 * T**2,
        ">=",
        Domain({k: "nonnegative", T: "positive", n: "dimension"}, conditions=[n - 2]),
    )
    lam2, T2 = 1 / (1 + k), 1 / (sympy.sqrt(n - 1) * (1 + m))  # θ ≤ θ_n: λ ≤ 1, T ≤ 1/√(n-1)
    P.sign(
        r"$\theta \le \theta_n$: $\lambda = 1/(1+k)$, $T = \tan(\theta_n/2)/(1+m)$ $\Rightarrow$ "
        r"$g_2 = 1 - (n-1)\lambda^2T^2 \ge 0$",
        1 - (n - 1) * lam2**2 * T2**2,
        ">=",
        Domain({k: "nonnegative", m: "nonnegative", n: "dimension"}, conditions=[n - 2]),
    )


def _orthant(P: Prover, A: FreeAlgebra, W, u, e, y, lam, alpha, variant: str | None) -> None:
    n, T = _n, sympy.Symbol("T", positive=True)
    dom = Domain({n: "dimension", lam: "positive", alpha: "nonnegative"}, conditions=[n - 2])
    x = alpha * u + y
    yi = (e.T * y).scalar()
    # the cone in coordinates: every x is αu + y with α = ⟨x, u⟩/n and y ⊥ u
    x0 = A.matrix("x", n, 1)
    P.identity(
        r"every $x$ is $\alpha u + y$ with $\alpha = \langle x, u\rangle/n$: "
        r"$u^\top\bigl(x - \tfrac{\langle x, u\rangle}{n}u\bigr) = 0$",
        u.T * (x0 - ((u.T * x0).scalar() / n) * u),
        A.zero(1, 1),
        dom,
    )
    P.identity(r"$\langle x, u\rangle = n\alpha$ for $x = \alpha u + y$", (x.T * u), n * alpha * A.eye(1), dom)
    P.identity(r"$\lvert x\rvert^2 = n\alpha^2 + \lvert y\rvert^2$", x.T * x, n * alpha**2 * A.eye(1) + y.T * y, dom)
    Ysq = sympy.Symbol("Y", nonnegative=True)  # |y|²
    P.identity(
        r"with $\cos^2(\theta/2) = 1/(1+T^2)$: $\cos^2\angle(x,u) \ge \cos^2(\theta/2)$ iff "
        r"$g_1 := n\alpha^2T^2 - \lvert y\rvert^2 \ge 0$, since "
        r"$(1+T^2)\,n\alpha^2 - (n\alpha^2 + \lvert y\rvert^2) = g_1$",
        (1 + T**2) * n * alpha**2 - (n * alpha**2 + Ysq),
        n * alpha**2 * T**2 - Ysq,
        Domain({n: "dimension", alpha: "nonnegative", T: "positive", Ysq: "nonnegative"}),
    )
    P.identity(
        r"component $i$: $e_i^\top W_\theta x = \alpha + \lambda y_i$", e.T * W * x, (alpha + lam * yi) * A.eye(1), dom
    )
    # the symmetry reduction: y = βv + z, v = e_i - u/n, z ⊥ u, z_i = 0
    v = e - u / n
    P.identity(r"$v = e_i - u/n$: $v^\top u = 0$", v.T * u, A.zero(1, 1), dom)
    P.identity(r"$e_i^\top v = (n-1)/n$", e.T * v, (n - 1) / n * A.eye(1), dom)
    P.identity(r"$v^\top v = (n-1)/n$", v.T * v, (n - 1) / n * A.eye(1), dom)
    beta = n / (n - 1) * yi
    z = y - beta * v
    P.identity(r"$z = y - \beta v$ with $\beta = \frac{n}{n-1}y_i$: $z^\top u = 0$", z.T * u, A.zero(1, 1), dom)
    P.identity(r"$z_i = e_i^\top z = 0$", e.T * z, A.zero(1, 1), dom)
    P.identity(
        r"$\lvert y\rvert^2 = \beta^2\frac{n-1}{n} + \lvert z\rvert^2$",
        y.T * y,
        beta**2 * (n - 1) / n * A.eye(1) + z.T * z,
        dom,
    )
    # the two-variable inequality in (α, β), with ζ = |z|² ≥ 0 and the parameters λ, T, n
    b, zeta = sympy.Symbol("beta", real=True), sympy.Symbol("zeta", nonnegative=True)
    yi_b = b * (n - 1) / n
    g1 = n * alpha**2 * T**2 - (b**2 * (n - 1) / n + zeta)
    g2 = 1 - (n - 1) * lam**2 * T**2 / (4 if variant == "double_lambda" else 1)
    kinds = {alpha: "nonnegative", b: "real", zeta: "nonnegative", lam: "positive", T: "positive", n: "dimension"}
    cdom = Domain(kinds, conditions=[g1, g2, n - 2], samples=_samples(alpha, b, zeta, lam, T))
    P.implied_sign(
        r"component $i$ of $W_\theta x$ is $\ge 0$ on $C_\theta[u]$: $\alpha + \lambda y_i \ge 0$ "
        r"given $g_1 \ge 0$, $g_2 \ge 0$ (two variables $\alpha$, $\beta$; $\zeta = \lvert z\rvert^2 \ge 0$)",
        alpha + lam * yi_b,
        ">=",
        cdom,
        _certificate(alpha, lam, n, yi_b, g1, g2, zeta),
    )
    P.identity(
        r"$W_\theta(-x) = -W_\theta x$ (so $W_\theta C_\theta[-u] \subset \mathbb{R}^n_-$)", W * (-x), -(W * x), dom
    )


def _certificate(alpha, lam, n, yi, g1, g2, zeta):
    """``α² - λ²yᵢ² = α² g₂ + κλ² g₁ + κλ² ζ`` with ``κ = (n-1)/n ≥ 0``: returns its LaTeX or ``None``."""

    def check() -> str | None:
        kappa = (n - 1) / n
        rest = alpha**2 - lam**2 * yi**2 - (alpha**2 * g2 + kappa * lam**2 * g1 + kappa * lam**2 * zeta)
        if sympy.cancel(sympy.expand(rest)) != 0:
            return None
        return (
            rf"$\alpha^2 - \lambda^2 y_i^2 = \alpha^2 g_2 + {latex(kappa)}\,\lambda^2 g_1 + "
            rf"{latex(kappa)}\,\lambda^2\zeta$ (multipliers $\alpha^2$, $\frac{{n-1}}{{n}}\lambda^2 \ge 0$, "
            r"$\zeta = \lvert z\rvert^2 \ge 0$), so $\alpha^2 \ge \lambda^2y_i^2$, "
            r"$\alpha \ge \lambda\lvert y_i\rvert$ and $\alpha + \lambda y_i \ge 0$."
        )

    return check


def _samples(alpha, b, zeta, lam, T):
    """Candidate points for a counterexample: α = 1, z = 0, n = 2, 3, T and λ large, β on a grid."""

    def gen(rng) -> Iterator[dict]:
        grid = [sympy.Rational(k, 2) for k in range(-8, 9)]
        for nv, Tv, lv, bv in itertools.product((2, 3), (2, 1), (1, sympy.Rational(1, 2)), grid):
            yield {_n: nv, alpha: 1, zeta: 0, T: Tv, lam: lv, b: bv}

    return gen


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} (i) $\operatorname{diag}(1,\lambda,\dots,\lambda) = \lambda I + "
        r"(1-\lambda)e_1e_1^\top$, hence $\tilde R\operatorname{diag}(\dots)\tilde R^\top = \lambda\tilde R\tilde R^\top + "
        r"(1-\lambda)(\tilde Re_1)(\tilde Re_1)^\top = \lambda I + (1-\lambda)uu^\top/n$: an identity of matrix "
        r"symbols of symbolic size $n$ under $\tilde R\tilde R^\top = \tilde R^\top\tilde R = I$, "
        r"$\tilde Re_1 = u/\sqrt n$, $u^\top u = n$, so no orthogonal matrix has to be built. "
        r"(ii) $\tan^2 = (1 - \cos^2)/\cos^2$ and $\theta_n/2 \in (0, \pi/2)$."
    )
    f.text(
        r"(iii) Put $T = \tan(\theta/2) \in (0,\infty)$ and write $x = \alpha u + y$ with $y \perp u$. Then "
        r"$x \in C_\theta[u]$ iff $\alpha \ge 0$ and $g_1 := n\alpha^2T^2 - \lvert y\rvert^2 \ge 0$, and "
        r"$\lambda \le \lambda(\theta,\theta_n)$ implies $g_2 := 1 - (n-1)\lambda^2T^2 \ge 0$ on both branches "
        r"(sign arguments after the substitutions $\lambda = \lambda(\theta,\theta_n)/(1+k)$, resp. "
        r"$\lambda = 1/(1+k)$, $T = \tan(\theta_n/2)/(1+m)$ with $k, m \ge 0$). Component $i$ of "
        r"$W_\theta x$ is $\alpha + \lambda y_i$. \emph{Symmetry reduction to two variables:} with "
        r"$v = e_i - u/n$, $\beta = \frac{n}{n-1}y_i$ and $z = y - \beta v$ one has $z \perp u$, $z_i = 0$, "
        r"$y_i = \beta\frac{n-1}{n}$ and $\lvert y\rvert^2 = \beta^2\frac{n-1}{n} + \lvert z\rvert^2$ (identities "
        r"of symbolic size $n$). So the claim for component $i$ is an inequality in $\alpha$ and $\beta$, with "
        r"the slack $\zeta = \lvert z\rvert^2 \ge 0$ and the parameters $\lambda$, $T$, $n$, and the exact identity"
    )
    f.math(r"\alpha^2 - \lambda^2 y_i^2 = \alpha^2 g_2 + \tfrac{n-1}{n}\lambda^2 g_1 + \tfrac{n-1}{n}\lambda^2\zeta")
    f.text(
        r"(a rational-function identity in $\alpha, \beta, \lambda, T, n, \zeta$) proves "
        r"$\alpha \ge \lambda\lvert y_i\rvert$, i.e. $(W_\theta x)_i \ge 0$, for every $n \ge 2$ and every $i$. "
        r"Linearity gives $W_\theta C_\theta[-u] \subset \mathbb{R}^n_-$. For a cone $p + C_\theta[h]$ the "
        r"rotation $R$ with $Rh = u/\lvert u\rvert$ maps $x - p$ into $C_\theta[u]$, so $W(x - p) \ge 0$ on the "
        r"forward and $\le 0$ on the backward cone, and \texttt{truncation\_map} gives $\tau = \mathrm{id}$, "
        r"resp. $\tau \equiv p$ there."
    )
    return f
