r"""Lemma 3.4 (cone lemma): the shrink matrix ``W_θ = λI + (1-λ)uuᵀ/n`` and the orthant.

For symbolic ``λ`` and ``T = tan(θ/2)`` (so ``θ ∈ (0, π)`` is symbolic) and ``n = 2, 3``: if
``λ ≤ λ(θ, θ_n)`` then ``W_θ`` maps the cone ``C_θ[u]`` into the positive orthant. The proof is an
exact certificate per component: ``α² - λ²y_i² = α² g₂ + κλ² g₁ + λ² Σ d_k ℓ_k²`` with the
hypotheses ``g₁ ≥ 0`` (cone) and ``g₂ ≥ 0`` (shrink bound) and ``d_k ≥ 0``.

>>> prove().status
'proved'
>>> prove("double_lambda").status
'failed'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, latex, psd_decomposition, run_proof

NAME = "cone_lemma"
ORDER = 3
TITLE = "Lemma 3.4: the shrink matrix W_theta maps the cone C_theta[u] into the positive orthant"
CLAIM = (r"Let $u = (1,\dots,1)^\top \in \mathbb{R}^n$, $\theta_n = 2\arccos\sqrt{(n-1)/n}$, "
         r"$\lambda(\theta,\theta_n) = \tan(\theta_n/2)/\tan(\theta/2)$ if $\theta > \theta_n$ and $1$ otherwise. "
         r"(i) For every orthogonal $\tilde R$ with $\tilde R e_1 = u/\lvert u\rvert$, "
         r"$W_\theta := \tilde R\operatorname{diag}(1,\lambda,\dots,\lambda)\tilde R^\top = \lambda I + (1-\lambda)uu^\top/n$ "
         r"($n = 2, 3, 4$); $W_\theta u = u$ and $W_\theta y = \lambda y$ for $y \perp u$. "
         r"(ii) $\tan(\theta_n/2) = 1/\sqrt{n-1}$. (iii) If $0 < \lambda \le \lambda(\theta,\theta_n)$ and "
         r"$0 < \theta < \pi$ then $W_\theta\, C_\theta[u] \subset \mathbb{R}^n_+$ and "
         r"$W_\theta\, C_\theta[-u] \subset \mathbb{R}^n_-$, for symbolic $\theta$ and $\lambda$, $n = 2, 3$.")
VARIANTS = {
    "double_lambda": "W_theta maps C_theta[u] into the orthant already when lambda <= 2 lambda(theta, theta_n)",
    "no_normalization": "W_theta = lambda I + (1 - lambda) u u^T (without the factor 1/n)",
}


def _perp_basis(n: int) -> list[sympy.Matrix]:
    """Rational orthogonal basis of ``u^⊥``: ``e_1 - e_2``, ``e_1 + e_2 - 2e_3``, ..."""
    out = []
    for k in range(1, n):
        v = [1] * k + [-k] + [0] * (n - k - 1)
        out.append(sympy.Matrix(v))
    return out


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _shrink(lam, n: int, variant: str | None) -> sympy.Matrix:
    u = sympy.ones(n, 1)
    factor = 1 if variant == "no_normalization" else sympy.Rational(1, n)
    return lam * sympy.eye(n) + (1 - lam) * factor * (u * u.T)


def _obligations(P: Prover, variant: str | None) -> None:
    lam = sympy.Symbol("lambda", positive=True)
    T = sympy.Symbol("T", positive=True)  # T = tan(θ/2), θ ∈ (0, π)
    # (i) the representation of W_θ, for a generic R̃ (then R̃R̃ᵀ = I, R̃e_1 = u/√n)
    for n in (2, 3, 4):
        Rt = sympy.Matrix(n, n, lambda i, j: sympy.Symbol(f"r_{i + 1}{j + 1}", real=True))
        diag = sympy.diag(1, *([lam] * (n - 1)))
        r1 = Rt[:, 0]
        dom = Domain({**{s: "real" for s in Rt}, lam: "positive"})
        P.identity(rf"$n = {n}$: $\tilde R\operatorname{{diag}}(1,\lambda,\dots)\tilde R^\top = "
                   r"\lambda\tilde R\tilde R^\top + (1-\lambda) r_1 r_1^\top$ (generic $\tilde R$)",
                   Rt * diag * Rt.T, lam * Rt * Rt.T + (1 - lam) * r1 * r1.T, dom)
        u = sympy.ones(n, 1)
        unit = u / sympy.sqrt(n)
        P.identity(rf"$n = {n}$: with $\tilde R\tilde R^\top = I$, $r_1 = u/\sqrt{{{n}}}$ this is "
                   r"$\lambda I + (1-\lambda)uu^\top/n$",
                   lam * sympy.eye(n) + (1 - lam) * unit * unit.T, _shrink(lam, n, variant),
                   Domain({lam: "positive"}))
        W = _shrink(lam, n, None)
        ys = sympy.symbols(f"y_1:{n}", real=True)
        y = sympy.Matrix(list(ys) + [-sum(ys)])
        dom = Domain({lam: "positive", **{s: "real" for s in ys}})
        P.identity(rf"$n = {n}$: $W_\theta u = u$", W * u, u, dom)
        P.identity(rf"$n = {n}$: $W_\theta y = \lambda y$ for $y \perp u$", W * y, lam * y, dom)
    # (ii) tan(θ_n / 2) = 1/√(n-1)
    for n in (2, 3, 4):
        theta_n = 2 * sympy.acos(sympy.sqrt(n - 1) / sympy.sqrt(n))
        P.identity(rf"$n = {n}$: $\tan(\theta_{{{n}}}/2) = 1/\sqrt{{{n - 1}}}$", sympy.tan(theta_n / 2),
                   1 / sympy.sqrt(n - 1), Domain({}))
    # λ ≤ λ(θ, θ_n)  ⇒  g₂ = 1 - (n-1) λ² T² ≥ 0, on both branches of λ(θ, θ_n)
    k, m = sympy.symbols("k m", nonnegative=True)
    for n in (2, 3):
        kinds = Domain({k: "nonnegative", m: "nonnegative"})
        # θ > θ_n: λ = κ λ(θ,θ_n) = κ/(√(n-1) T) with κ = 1/(1+k) ∈ (0, 1]
        lam1 = 1 / ((1 + k) * sympy.sqrt(n - 1) * T)
        g2 = 1 - (n - 1) * lam1**2 * T**2
        P.sign(rf"$n = {n}$, $\theta > \theta_n$: $\lambda \le \lambda(\theta,\theta_n) \Rightarrow "
               r"1 - (n-1)\lambda^2T^2 \ge 0$", g2, ">=", Domain({k: "nonnegative", T: "positive"}))
        # θ ≤ θ_n: λ ≤ 1 and T ≤ tan(θ_n/2) = 1/√(n-1)
        lam2, T2 = 1 / (1 + k), 1 / (sympy.sqrt(n - 1) * (1 + m))
        P.sign(rf"$n = {n}$, $\theta \le \theta_n$: $\lambda \le 1 \Rightarrow 1 - (n-1)\lambda^2T^2 \ge 0$",
               1 - (n - 1) * lam2**2 * T2**2, ">=", kinds)
    # (iii) the orthant, by an exact certificate per component
    alpha = sympy.Symbol("alpha", nonnegative=True)
    factor = 4 if variant == "double_lambda" else 1
    for n in (2, 3):
        basis = _perp_basis(n)
        betas = sympy.symbols(f"beta_1:{n}", real=True)
        u = sympy.ones(n, 1)
        y = sum((b * e for b, e in zip(betas, basis)), sympy.zeros(n, 1))
        x = alpha * u + y
        W = _shrink(lam, n, variant)
        g1 = n * alpha**2 * T**2 - (y.T * y)[0, 0]                 # x ∈ C_θ[u]: |y| ≤ tan(θ/2) ⟨x,u⟩/|u|
        g2 = 1 - sympy.Rational(n - 1, factor) * lam**2 * T**2     # λ ≤ λ(θ,θ_n) (false variant: 2λ(θ,θ_n))
        kinds = {alpha: "nonnegative", lam: "positive", T: "positive", **{b: "real" for b in betas}}
        dom = Domain(kinds, conditions=[g1, g2, (n - 1) * T**2 - 1], samples=_samples(n, alpha, lam, T, betas))
        Wx = (W * x).applyfunc(sympy.expand)
        P.identity(rf"$n = {n}$: $W_\theta(\alpha u + y) = \alpha u + \lambda y$", Wx, alpha * u + lam * y,
                   Domain(kinds))
        for i in range(n):
            c = Wx[i]
            P.implied_sign(rf"$n = {n}$: component {i + 1} of $W_\theta x$ is $\ge 0$ on $C_\theta[u]$",
                           c, ">=", dom, _certificate(c, alpha, lam, T, g1, g2, betas, y[i]))
        P.identity(rf"$n = {n}$: $W_\theta(-x) = -W_\theta x$ (backward cone into $\mathbb{{R}}^n_-$)",
                   W * (-x), -(W * x), Domain(kinds))


def _certificate(c, alpha, lam, T, g1, g2, betas, yi):
    """Exact certificate for ``c = α + λ y_i ≥ 0`` from ``g1, g2 ≥ 0``; returns detail or ``None``."""

    def check() -> str | None:
        if sympy.expand(c - (alpha + lam * yi)) != 0:
            return None
        target = sympy.expand(alpha**2 - lam**2 * yi**2)
        a2g2 = sympy.expand(alpha**2 * g2)
        c2 = a2g2.coeff(alpha, 2).coeff(lam, 2).coeff(T, 2)
        c1 = sympy.expand(lam**2 * g1).coeff(alpha, 2).coeff(lam, 2).coeff(T, 2)
        kappa = -c2 / c1
        if kappa < 0:
            return None
        rest = sympy.expand((target - a2g2 - kappa * lam**2 * g1) / lam**2)
        if rest.free_symbols - set(betas):
            return None
        dec = psd_decomposition(rest, list(betas))
        if dec is None:
            return None
        sos = sum((d * l**2 for d, l in dec), sympy.S.Zero)
        if sympy.expand(target - (a2g2 + kappa * lam**2 * g1 + lam**2 * sos)) != 0:
            return None
        shown = " + ".join(rf"{latex(d)}\left({latex(l)}\right)^2" for d, l in dec) or "0"
        return (rf"$\alpha^2 - \lambda^2 y_i^2 = \alpha^2 g_2 + {latex(kappa)}\,\lambda^2 g_1 + "
                rf"\lambda^2\left({shown}\right)$ with $y_i = {latex(yi)}$; so $\alpha \ge \lambda\lvert y_i\rvert$ "
                r"and $\alpha + \lambda y_i \ge 0$.")

    return check


def _samples(n, alpha, lam, T, betas):
    """Candidate points for a counterexample: α = 1, T > 1/√(n-1), λ large, y on a grid."""

    def gen(rng) -> Iterator[dict]:
        grid = [sympy.Rational(k, 4) for k in range(-8, 9)]
        for Tv in (sympy.Integer(2), sympy.Integer(1), sympy.Integer(3)):
            for cv in (2, sympy.Rational(7, 5), 1):
                for bs in itertools.product(grid, repeat=n - 1):
                    yield {alpha: 1, T: Tv, lam: cv / Tv, **dict(zip(betas, bs))}

    return gen


def _sketch() -> Fragment:
    f = Fragment()
    f.text(r"\textbf{Proof sketch.} (i) $\operatorname{diag}(1,\lambda,\dots,\lambda) = \lambda I + "
           r"(1-\lambda)e_1e_1^\top$, hence $\tilde R\operatorname{diag}(\dots)\tilde R^\top = \lambda\tilde R\tilde R^\top + "
           r"(1-\lambda)(\tilde Re_1)(\tilde Re_1)^\top = \lambda I + (1-\lambda)uu^\top/n$; the first equality is "
           r"checked for a fully symbolic $\tilde R$, so no orthogonal matrix has to be built. "
           r"(ii) $\tan(\arccos c) = \sqrt{1-c^2}/c$.")
    f.text(r"(iii) Put $T = \tan(\theta/2) \in (0,\infty)$ and write $x = \alpha u + y$ with $y \perp u$. Then "
           r"$x \in C_\theta[u]$ iff $\alpha \ge 0$ and $g_1 := n\alpha^2T^2 - \lvert y\rvert^2 \ge 0$, and "
           r"$\lambda \le \lambda(\theta,\theta_n)$ implies $g_2 := 1 - (n-1)\lambda^2T^2 \ge 0$ on both branches "
           r"(checked by sign arguments after the substitutions $\lambda = \lambda(\theta,\theta_n)/(1+k)$, resp. "
           r"$\lambda = 1/(1+k)$, $T = \tan(\theta_n/2)/(1+m)$ with $k, m \ge 0$). With $y$ in the rational "
           r"orthogonal basis $e_1 - e_2,\ e_1 + e_2 - 2e_3$ of $u^\perp$, component $i$ of $W_\theta x = \alpha u + "
           r"\lambda y$ is $\alpha + \lambda y_i$, and an exact identity")
    f.math(r"\alpha^2 - \lambda^2 y_i^2 = \alpha^2 g_2 + \tfrac{n-1}{n}\lambda^2 g_1 + "
           r"\lambda^2\Bigl(\tfrac{n-1}{n}\lvert y\rvert^2 - y_i^2\Bigr)")
    f.text(r"holds, where the last bracket is a positive semidefinite quadratic form in $y \in u^\perp$ "
           r"(exact sum of squares). So $\alpha \ge \lambda\lvert y_i\rvert$ and $(W_\theta x)_i \ge 0$. Linearity "
           r"gives $W_\theta C_\theta[-u] \subset \mathbb{R}^n_-$. For a cone $p + C_\theta[h]$ the rotation $R$ "
           r"with $Rh = u/\lvert u\rvert$ maps $x - p$ into $C_\theta[u]$, so $W(x - p) \ge 0$ on the forward and "
           r"$\le 0$ on the backward cone, and \texttt{truncation\_map} gives $\tau = \mathrm{id}$, resp. "
           r"$\tau \equiv p$ there.")
    return f
