r"""Theorem 5.2: sequential linear separability gives a zero-loss network, in every dimension.

The geometric core (strict separation ⇒ the sign pattern of every layer) is proved for the
rational-cone recipe of :func:`symtrunc.geometry.cones.rational_cone`,
``W^(ℓ) = C_ℓ = c(ε I + u h_ℓᵀ)`` with ``0 < ε ≤ ε*_ℓ``; the layer induction and the output
layer ``Y P^+ p_j = y_j`` are identities of matrix symbols of symbolic sizes ``M`` and ``Q``
(:mod:`~symtrunc.proofs.free_algebra`) for a generic layer ``ℓ``; the sign arguments are about a
generic component of a generic point.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("bias_sign").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.determinants import DETERMINANT_FACTS, determinant_lemma
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "theorem_5_2"
ORDER = 5
TITLE = "Theorem 5.2: the layer induction, the sign pattern of every layer, and zero loss"
CLAIM = (
    r"Let $1 \le Q \le M$ and let the data be sequentially linearly separable (Definition 5.1) in the order "
    r"$1,\dots,Q$ with base points $p_\ell$ and normals $h_\ell$: $\langle h_\ell, x - p_\ell\rangle < 0$ for "
    r"$x \in X_{0,\ell}$ and $> 0$ for $x \in F_\ell = \{p_i\}_{i<\ell}\cup\bigcup_{i>\ell}X_{0,i}$. Let "
    r"$P = [p_1\cdots p_Q]$ have rank $Q$ (true for base points on the open segments, \texttt{base\_points}) "
    r"and $Y \in \mathbb{R}^{Q\times Q}$. \emph{Rational-cone recipe:} $C_\ell = c_\ell(\varepsilon_\ell I + "
    r"uh_\ell^\top)$ with $c_\ell > 0$, $\varepsilon_\ell \ne -\langle h_\ell, u\rangle$ and "
    r"$0 < \varepsilon_\ell \le \varepsilon^*_\ell = \min\{\lvert\langle h_\ell, x - p_\ell\rangle\rvert/m_\ell(x) : "
    r"x \in F_\ell\cup X_{0,\ell},\ m_\ell(x) > 0\}$, where $m_\ell(x) = \max_i \mp(x - p_\ell)_i$ (upper sign on "
    r"$F_\ell$); cumulative parameters $W^{(\ell)} = C_\ell$, $b^{(\ell)} = -C_\ell p_\ell$ ($\ell \le Q$), "
    r"$W^{(Q+1)} = YP^+$, $b^{(Q+1)} = 0$, with the layers of Proposition 3.2. Then "
    r"(a) \emph{geometric core:} $\varepsilon^*_\ell > 0$, $C_\ell$ is invertible, $C_\ell(x - p_\ell) \ge 0$ for "
    r"$x \in F_\ell$ and $\le 0$ for $x \in X_{0,\ell}$; (b) after layer $\ell$ the hidden activation of a point "
    r"is $C_\ell(\xi_\ell - p_\ell)$ with $\xi_\ell = p_j$ for classes $j \le \ell$ and $\xi_\ell = x$ otherwise; "
    r"(c) the network maps every point of class $j$ to $y_j$ (zero loss). For every $M$ and $Q$. (For the paper's "
    r"recipe $W^{(\ell)} = W_\theta R_\ell$, $R_\ell$ maps $p_\ell + C_\theta[\pm h_\ell]$ onto "
    r"$C_\theta[\pm u]$ and Lemma 3.4, \texttt{cone\_lemma}, gives the same sign pattern provided the points lie "
    r"in those cones; that hypothesis is checked exactly when a network is constructed, not proved here.)"
)
VARIANTS = {
    "bias_sign": "the cumulative biases are b^(l) = +W^(l) p_l",
    "transposed_labels": "the output layer is W^(Q+1) = Y^T P^+",
    "epsilon_doubled": "the sign pattern holds already for eps <= 2 eps* (twice the rational-cone bound)",
}
ASSUMES = (DETERMINANT_FACTS,)


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    if variant in (None, "epsilon_doubled"):
        _geometric_core(P, variant)
    if variant == "epsilon_doubled":
        return
    _relu_on_signs(P)
    _induction(P, variant)
    if variant is None:
        _paper_rotation(P)


def _geometric_core(P: Prover, variant: str | None) -> None:
    """Strict separation ⇒ the sign pattern of layer ℓ, for the rational-cone recipe."""
    M = sympy.Symbol("M", positive=True, integer=True)
    c, eps = sympy.Symbol("c", positive=True), sympy.Symbol("epsilon", positive=True)
    A = FreeAlgebra()
    u, h, d, e = (A.matrix(s, M, 1) for s in ("u", r"h_{\ell}", "d", "e_i"))
    A.relation(e.T * u, A.eye(1))
    C = c * (eps * A.eye(M) + u * h.T)
    if variant is None:
        P.identity(
            r"(a) component $i$ of $C_\ell d$, $d = x - p_\ell$: $e_i^\top C_\ell d = c(\varepsilon d_i + g)$, "
            r"$g = \langle h_\ell, d\rangle$",
            e.T * C * d,
            c * (eps * (e.T * d) + h.T * d),
            Domain({M: "dimension", c: "positive", eps: "positive"}),
        )
        factor = determinant_lemma(P, c * eps * A.eye(M), c * u, h, M, names=(r"c\varepsilon I", "cu", r"h_\ell"))
        s = sympy.Symbol("s", real=True)  # s = ⟨h_ℓ, u⟩
        P.identity(
            r"(a) $\det C_\ell = (c\varepsilon)^M(1 + s/\varepsilon) = c^M\varepsilon^{M-1}(\varepsilon + s)$, "
            r"$s = \langle h_\ell, u\rangle$: nonzero for $\varepsilon \ne -s$ ($C_\ell$ invertible)",
            (c * eps) ** M * factor.subs((h.T * u).scalar(), s),
            c**M * eps ** (M - 1) * (eps + s),
            Domain({M: "dimension", c: "positive", eps: "positive", s: "real"}),
        )
    # the bound: each point with m > 0 contributes |g|/m > 0 (strict separation); a minimum of finitely many
    G, m = sympy.Symbol("G", positive=True), sympy.Symbol("m", positive=True)  # G = |g| > 0
    P.sign(
        r"(a) strict separation: every term $\lvert g\rvert/m$ of $\varepsilon^*_\ell$ is $> 0$ "
        r"($\lvert g\rvert > 0$, $m > 0$; a minimum of finitely many positive numbers)",
        G / m,
        ">",
        Domain({G: "positive", m: "positive"}),
    )
    a, k, mu = sympy.symbols("a k mu", nonnegative=True)
    kinds = {c: "positive", G: "positive", m: "positive", a: "nonnegative", k: "nonnegative", mu: "nonnegative"}
    dom = Domain(kinds)
    top = 2 if variant == "epsilon_doubled" else 1
    eps_b = top * (G / m) / (1 + k)  # 0 < ε ≤ (top·) |g|/m
    bound = r"2\lvert g\rvert/m" if top == 2 else r"\lvert g\rvert/m"
    # forward point x ∈ F_ℓ: g = G > 0, m = max_i(-d_i)
    P.sign(
        rf"(a) $x \in F_\ell$, $m > 0$: $d_i = -m + a$, $a \ge 0$, $\varepsilon = {bound}/(1+k)$ "
        r"$\Rightarrow c(\varepsilon d_i + g) \ge 0$",
        c * (eps_b * (-m + a) + G),
        ">=",
        dom,
    )
    P.sign(
        r"(a) $x \in F_\ell$, $m \le 0$: $d_i = \mu + a$ with $\mu = -m \ge 0$, $a \ge 0$ "
        r"$\Rightarrow c(\varepsilon d_i + g) > 0$ for every $\varepsilon > 0$",
        c * (eps * (mu + a) + G),
        ">",
        Domain({**kinds, eps: "positive"}),
    )
    # backward point x ∈ X_{0,ℓ}: g = -G < 0, m = max_i d_i
    P.sign(
        rf"(a) $x \in X_{{0,\ell}}$, $m > 0$: $d_i = m - a$, $a \ge 0$, $\varepsilon = {bound}/(1+k)$ "
        r"$\Rightarrow c(\varepsilon d_i + g) \le 0$",
        c * (eps_b * (m - a) - G),
        "<=",
        dom,
    )
    P.sign(
        r"(a) $x \in X_{0,\ell}$, $m \le 0$: $d_i = -(\mu + a)$ $\Rightarrow c(\varepsilon d_i + g) < 0$ "
        r"for every $\varepsilon > 0$",
        c * (-eps * (mu + a) - G),
        "<",
        Domain({**kinds, eps: "positive"}),
    )


def _relu_on_signs(P: Prover) -> None:
    """``σ(s) = s`` for ``s ≥ 0`` and ``σ(s) = 0`` for ``s ≤ 0`` (what the sign pattern feeds in)."""
    s = sympy.Symbol("s", nonnegative=True)
    dom = Domain({s: "nonnegative"})
    P.identity(r"(b) a component $s \ge 0$ of the pre-activation: $\sigma(s) = s$", sympy.Max(0, s), s, dom)
    P.identity(r"(b) a component $-s \le 0$: $\sigma(-s) = 0$", sympy.Max(0, -s), 0, dom)


def _induction(P: Prover, variant: str | None) -> None:
    M = sympy.Symbol("M", positive=True, integer=True)
    Q = sympy.Symbol("Q", positive=True, integer=True)
    A = FreeAlgebra()
    C1, Cp, Cl = (A.matrix(s, M, M, invertible=True) for s in ("C_1", r"C_{\ell-1}", r"C_{\ell}"))
    p1, pp, pl = (A.matrix(s, M, 1) for s in ("p_1", r"p_{\ell-1}", r"p_{\ell}"))
    x, xi = A.matrix("x", M, 1), A.matrix(r"\xi", M, 1)
    dom = Domain({M: "dimension", Q: "dimension"})
    sgn = 1 if variant == "bias_sign" else -1
    # layer 1: W_1 = C_1, b_1 = b^(1) = ∓C_1 p_1
    P.identity(r"(b) layer $1$: $W_1x + b_1 = C_1(x - p_1)$", C1 * x + sgn * (C1 * p1), C1 * (x - p1), dom)
    # step ℓ-1 → ℓ: W_ℓ = C_ℓ C_{ℓ-1}^{-1}, b_ℓ = b^(ℓ) - W_ℓ b^(ℓ-1)
    cbp, cbl = sgn * (Cp * pp), sgn * (Cl * pl)
    Wl = Cl * Cp.inv()
    bl = cbl - Wl * cbp
    P.identity(
        r"(b) step $\ell-1 \to \ell$: $W_\ell\,C_{\ell-1}(\xi - p_{\ell-1}) + b_\ell = C_\ell(\xi - p_\ell)$ "
        r"($W_\ell = C_\ell C_{\ell-1}^{-1}$, $b_\ell = b^{(\ell)} - W_\ell b^{(\ell-1)}$)",
        Wl * (Cp * (xi - pp)) + bl,
        Cl * (xi - pl),
        dom,
    )
    P.identity(
        r"(b) a collapsed point: the zero activation is $C_\ell(p_\ell - p_\ell)$ (representative $p_\ell$)",
        Cl * (pl - pl),
        A.zero(M, 1),
        dom,
    )
    # output layer: W^(Q+1) = Y P^+, P^+ = (PᵀP)^{-1}Pᵀ; p_j = P e_j, y_j = Y e_j
    Pm, Y = A.matrix("P", M, Q), A.matrix("Y", Q, Q)
    CQ, pQ = A.matrix("C_Q", M, M, invertible=True), A.matrix("p_Q", M, 1)
    ej = A.matrix("e_j", Q, 1)
    Pplus = (Pm.T * Pm).inv() * Pm.T
    Wout = (Y.T if variant == "transposed_labels" else Y) * Pplus
    WL = Wout * CQ.inv()
    bL = -(WL * (sgn * (CQ * pQ)))  # b_{Q+1} = 0 - W_{Q+1} b^(Q)
    P.identity(
        r"(c) output layer: $W_{Q+1}\,C_Q(\xi - p_Q) + b_{Q+1} = W^{(Q+1)}\xi$ "
        r"($W_{Q+1} = W^{(Q+1)}C_Q^{-1}$, $b_{Q+1} = -W_{Q+1}b^{(Q)}$)",
        WL * (CQ * (xi - pQ)) + bL,
        Wout * xi,
        dom,
    )
    P.identity(
        r"(c) $W^{(Q+1)}p_j = YP^+Pe_j = Ye_j = y_j$ for $P^+ = (P^\top P)^{-1}P^\top$ (rank $P = Q$)",
        Wout * (Pm * ej),
        Y * ej,
        dom,
    )


def _paper_rotation(P: Prover) -> None:
    """The paper's recipe: an orthogonal ``R`` with ``R h = u/√M`` maps the cones about ``h`` onto those about ``u``."""
    M = sympy.Symbol("M", positive=True, integer=True)
    A = FreeAlgebra()
    R = A.matrix("R", M, M)
    h, u, d = A.matrix("h", M, 1), A.matrix("u", M, 1), A.matrix("d", M, 1)
    A.relation(R.T * R, A.eye(M))
    A.relation(R * h, u / sympy.sqrt(M))
    dom = Domain({M: "dimension"})
    P.identity(
        r"paper's recipe: $R^\top u = R^\top(\sqrt M\,Rh) = \sqrt M\,h$ for $R^\top R = I$, $Rh = u/\sqrt M$",
        R.T * (sympy.sqrt(M) * (R * h)),
        sympy.sqrt(M) * h,
        dom,
    )
    A.relation(R.T * u, sympy.sqrt(M) * h)
    P.identity(
        r"paper's recipe: $\langle Rd, u/\sqrt M\rangle = d^\top R^\top u/\sqrt M = \langle d, h\rangle$",
        (R * d).T * (u / sympy.sqrt(M)),
        d.T * h,
        dom,
    )
    P.identity(
        r"paper's recipe: $\lvert Rd\rvert^2 = \lvert d\rvert^2$ (so $\angle(Rd, u) = \angle(d, h)$ for unit $h$)",
        (R * d).T * (R * d),
        d.T * d,
        dom,
    )


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} \emph{(a) Geometric core.} Component $i$ of $C_\ell(x - p_\ell)$ is "
        r"$c(\varepsilon d_i + g)$ with $d = x - p_\ell$ and $g = \langle h_\ell, d\rangle$. Strict separation makes "
        r"$\lvert g\rvert > 0$ at every one of the finitely many points, so $\varepsilon^*_\ell > 0$. For "
        r"$x \in F_\ell$ ($g > 0$, $m = \max_i(-d_i)$) write $d_i = -m + a$, $a \ge 0$, and $\varepsilon = "
        r"(g/m)/(1+k)$, $k \ge 0$: then $c(\varepsilon d_i + g) = c\bigl(g\tfrac{k}{1+k} + \tfrac{g}{m}\tfrac{a}{1+k}\bigr)"
        r" \ge 0$; if $m \le 0$ every $d_i \ge 0$ and the component is positive. The backward class is the mirror "
        r"image. The matrix determinant lemma gives $\det C_\ell = c^M\varepsilon^{M-1}(\varepsilon + \langle h_\ell, u"
        r"\rangle) \ne 0$. This is exactly what \texttt{symtrunc.geometry.cones.rational\_cone} computes."
    )
    f.text(
        r"\emph{(b) Layer induction.} By Proposition 3.2 the pre-activation of layer $\ell$ is "
        r"$W_\ell x^{(\ell-1)} + b_\ell$. \emph{Induction hypothesis:} $x^{(\ell-1)} = C_{\ell-1}(\xi - p_{\ell-1})$, "
        r"where $\xi$ is the point's representative after $\ell-1$ truncations: $p_j$ for classes $j < \ell$, the "
        r"point itself for classes $j \ge \ell$; these are exactly the sets $F_\ell$ and $X_{0,\ell}$ of step $\ell$ of "
        r"Definition 5.1. The identity"
    )
    f.math(r"W_\ell\,C_{\ell-1}(\xi - p_{\ell-1}) + b_\ell = C_\ell(\xi - p_\ell)")
    f.text(
        r"holds for matrix symbols of symbolic size $M$ and a generic layer $\ell$. By (a) this vector is "
        r"$\le 0$ for class $\ell$, so $\sigma$ returns $0 = C_\ell(p_\ell - p_\ell)$: the representative becomes "
        r"$p_\ell$; on $F_\ell$ it is $\ge 0$ and $\sigma$ acts as the identity: the representative is unchanged. "
        r"\emph{(c)} After $Q$ layers every point of class $j$ is represented by $p_j$, and the output layer gives "
        r"$W_{Q+1}C_Q(p_j - p_Q) + b_{Q+1} = W^{(Q+1)}p_j = YP^+Pe_j = y_j$ since $P^+P = I$ "
        r"(rank $P = Q$; \texttt{base\_points})."
    )
    return f
