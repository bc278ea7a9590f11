r"""The L² identities of the reference notes (papers_chen_ewald_L2.md §1.6, D1), for every number
of classes ``Q`` and every number of points ``N``.

With truncated data ``τ(X_0) = X^red(E + Δ_1)`` (``E`` the class indicator, ``Δ_1`` the
deviations in barycentric coordinates) and ``Δ_2 = Δ_1 N^{-1} Δ_1ᵀ``, ``B = Δ_2(1 + Δ_2)^{-1}``:

* with the cumulative output bias forced to ``0``: ``min_U ‖U(E + Δ_1) - YE‖²_N = Tr(Y B Yᵀ)``,
  the value of CE23a eq. (2.54)/(2.71), attained at ``U* = Y(1 + Δ_2)^{-1}``;
* with a free bias ``c``: ``min_{U,c} = Tr(Y B Yᵀ) - |Y B u|²/(uᵀ B u)`` (if ``uᵀBu > 0``), so the
  paper's value is the minimum only under ``b^(L+1) = 0`` (discrepancy D1).

Every identity is one of matrix symbols of symbolic sizes ``Q`` and ``N``, with traces
(:mod:`~symtrunc.proofs.free_algebra`); ``G = 1 + Δ_2`` is a symbol with the relation
``Δ_2 = G - I``. The false variants are refuted at ``Q = 2`` with exact counterexamples.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("affine_is_paper").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.algebra import Algebra
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "l2_identities"
ORDER = 7
TITLE = "L2 identities (D1): the output least squares with and without the bias"
CLAIM = (
    r"Let $E$ be the $Q\times N$ class indicator, $N^{-1} = \operatorname{diag}(1/N_j)$ per column, "
    r"$\Delta_1$ deviations with zero class sums, $\Delta_2 = \Delta_1N^{-1}\Delta_1^\top$, "
    r"$G = 1 + \Delta_2$, $B = \Delta_2G^{-1}$ and $f(U,c) = \lVert U(E+\Delta_1) + cu_N^\top - YE\rVert_{N}^2$. "
    r"Then (i) $f(U,c) = \lVert U + cu^\top - Y\rVert_F^2 + \operatorname{Tr}(U\Delta_2U^\top)$ and $\Delta_2 \succeq 0$; "
    r"(ii) $\min_U f(U,0) = \operatorname{Tr}(YBY^\top) = \lVert Y\Delta_2^{1/2}G^{-1/2}\rVert_{HS}^2$, attained at "
    r"$U^* = YG^{-1}$; (iii) $B$ is symmetric positive semidefinite; (iv) if $u^\top Bu > 0$, "
    r"$\min_{U,c} f(U,c) = \operatorname{Tr}(YBY^\top) - \lvert YBu\rvert^2/(u^\top Bu)$. For every $Q$, "
    r"every $N$ and all class sizes $N_j$."
)
VARIANTS = {
    "affine_is_paper": "with a free output bias the minimum is still Tr(Y B Y^T) (the paper's value)",
    "wrong_optimizer": "the zero-bias minimizer is U* = Y",
}
ASSUMES = (
    "the symmetric square roots of Delta_2 and of G^{-1} commute (functions of one symmetric matrix, "
    "spectral theorem); used only for the form ||Y Delta_2^{1/2} G^{-1/2}||_HS^2 of the value",
)


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    if variant is not None:
        _refute_at(P, 2, variant)
        return
    _class_sums(P)
    _reduction(P)
    _minima(P)
    _square_roots(P)


def _class_sums(P: Prover) -> None:
    """The facts behind ``E N^{-1} Eᵀ = I`` and ``E N^{-1} Δ_1ᵀ = 0``, for a class of ``N_j`` points."""
    Nj = sympy.Symbol("N_j", positive=True, integer=True)
    k, l = sympy.symbols("k l", integer=True)
    S = sympy.Symbol("S", real=True)  # S = Σ_k x_k (one coordinate)
    dom = Domain({Nj: "dimension", S: "real"})
    P.identity(
        r"$(EN^{-1}E^\top)_{jj} = \sum_{k=1}^{N_j} 1/N_j = 1$ (and $0$ off the diagonal: a column of $E$ "
        r"has one entry $1$)",
        sympy.Sum(1 / Nj, (k, 1, Nj)).doit(),
        1,
        dom,
    )
    P.identity(
        r"zero class sums: $\sum_k (x_k - \bar x_j) = S - \sum_{l=1}^{N_j} S/N_j = 0$, $S = \sum_k x_k$, "
        r"so $EN^{-1}\Delta_1^\top = 0$",
        S - sympy.Sum(S / Nj, (l, 1, Nj)).doit(),
        0,
        dom,
    )


def _reduction(P: Prover) -> None:
    """(i) from the data: ``f(U, c) = ‖U + cuᵀ - Y‖² + Tr(U Δ_2 Uᵀ)``, for symbolic ``Q`` and ``N``."""
    Q = sympy.Symbol("Q", positive=True, integer=True)
    N = sympy.Symbol("N", positive=True, integer=True)
    A = FreeAlgebra()
    E, D1 = A.matrix("E", Q, N), A.matrix(r"\Delta_1", Q, N)
    S = A.matrix("N^{-1/2}", N, N, symmetric=True)  # N^{-1} = S S, S = diag(1/√N_j) per column
    U, Y = A.matrix("U", Q, Q), A.matrix("Y", Q, Q)
    c, uQ, uN = A.matrix("c", Q, 1), A.matrix("u", Q, 1), A.matrix("u_N", N, 1)
    Ninv = S * S
    A.relation(E * S * S * E.T, A.eye(Q))  # E N^{-1} Eᵀ = I
    A.relation(E * S * S * D1.T, A.zero(Q, Q))  # E N^{-1} Δ_1ᵀ = 0
    A.relation(uN, E.T * uQ)  # every column of E has one entry 1
    dom = Domain({Q: "dimension", N: "dimension"})
    R = U * (E + D1) + c * uN.T - Y * E
    D2 = D1 * Ninv * D1.T
    K = U + c * uQ.T - Y
    P.identity(
        r"(i) $f(U,c) = \operatorname{Tr}(RN^{-1}R^\top) = \lVert U + cu^\top - Y\rVert_F^2 + "
        r"\operatorname{Tr}(U\Delta_2U^\top)$ for $R = U(E + \Delta_1) + cu_N^\top - YE$ "
        r"(uses $EN^{-1}E^\top = I$, $EN^{-1}\Delta_1^\top = 0$, $u_N = E^\top u$)",
        (R * Ninv * R.T).trace(),
        (K * K.T).trace() + (U * D2 * U.T).trace(),
        dom,
    )
    z = A.matrix("z", 1, Q)
    w = z * D1 * S
    P.identity(
        r"(i) $z\Delta_2z^\top = \lvert z\Delta_1N^{-1/2}\rvert^2 \ge 0$: $\Delta_2$ is a Gram matrix",
        z * D2 * z.T,
        w * w.T,
        dom,
    )


def _minima(P: Prover) -> None:
    """(ii)–(iv) for symbolic ``Q``, with ``G`` a symmetric invertible symbol and ``Δ_2 = G - I``."""
    Q = sympy.Symbol("Q", positive=True, integer=True)
    A = FreeAlgebra()
    G = A.matrix("G", Q, Q, symmetric=True, invertible=True)
    D2 = A.matrix(r"\Delta_2", Q, Q, symmetric=True)
    A.relation(D2, G - A.eye(Q))
    U, Y = A.matrix("U", Q, Q), A.matrix("Y", Q, Q)
    x, u = A.matrix("x", Q, 1), A.matrix("u", Q, 1)
    a, y = A.matrix("a", 1, Q), A.matrix("y", 1, Q)
    c = sympy.Symbol("c", real=True)
    dom = Domain({Q: "dimension", c: "real"})
    Gi = G.inv()
    B = D2 * Gi

    def f0(V):
        """``f(V, 0) = ‖V - Y‖² + Tr(V Δ_2 Vᵀ)`` (from (i))."""
        return ((V - Y) * (V - Y).T).trace() + (V * D2 * V.T).trace()

    Ustar = Y * Gi
    P.identity(
        r"(ii) $f(U,0) = \operatorname{Tr}(UGU^\top) - 2\operatorname{Tr}(UY^\top) + \operatorname{Tr}(YY^\top)$",
        f0(U),
        (U * G * U.T).trace() - 2 * (U * Y.T).trace() + (Y * Y.T).trace(),
        dom,
    )
    P.identity(
        r"(ii) $f(U,0) - f(U^*,0) = \operatorname{Tr}\bigl((U - U^*)G(U - U^*)^\top\bigr)$, $U^* = YG^{-1}$",
        f0(U) - f0(Ustar),
        ((U - Ustar) * G * (U - Ustar).T).trace(),
        dom,
    )
    v = A.matrix("v", Q, 1)
    P.identity(
        r"(ii) $v^\top Gv = \lvert v\rvert^2 + v^\top\Delta_2v$: $G \succ 0$ as $\Delta_2 \succeq 0$, so $U^*$ "
        r"is the minimizer",
        v.T * G * v,
        v.T * v + v.T * D2 * v,
        dom,
    )
    P.identity(r"(ii) $f(U^*,0) = \operatorname{Tr}(YBY^\top)$", f0(Ustar), (Y * B * Y.T).trace(), dom)
    P.identity(r"(iii) $\Delta_2G^{-1} = G^{-1}\Delta_2$ ($B$ is symmetric)", B, Gi * D2, dom)
    z = Gi * x
    P.identity(
        r"(iii) $x^\top Bx = z^\top\Delta_2z + \lvert\Delta_2z\rvert^2$ with $z = G^{-1}x$ "
        r"($B \succeq 0$ since $\Delta_2 \succeq 0$)",
        x.T * B * x,
        z.T * D2 * z + (D2 * z).T * (D2 * z),
        dom,
    )
    # (iv) one output row: f_r(a, c) = |a + c uᵀ - y|² + a Δ₂ aᵀ
    r = a + c * u.T - y
    fr = r * r.T + a * D2 * a.T
    w = y - c * u.T
    astar = w * Gi
    P.identity(
        r"(iv) $f_r(a,c) = (a - a^*)G(a - a^*)^\top + (y - cu^\top)B(y - cu^\top)^\top$, "
        r"$a^* = (y - cu^\top)G^{-1}$",
        fr,
        (a - astar) * G * (a - astar).T + w * B * w.T,
        dom,
    )
    uBu, yBu = (u.T * B * u).scalar(), (y * B * u).scalar()
    P.identity(
        r"(iv) $(u^\top Bu)\,(y - cu^\top)B(y - cu^\top)^\top = (u^\top Bu\,c - yBu)^2 + (u^\top Bu)(yBy^\top) "
        r"- (yBu)^2$: for $u^\top Bu > 0$ the minimum over $c$ is $yBy^\top - (yBu)^2/(u^\top Bu)$",
        uBu * (w * B * w.T),
        ((uBu * c - yBu) ** 2 - yBu**2) * A.eye(1) + uBu * (y * B * y.T),
        dom,
    )


def _square_roots(P: Prover) -> None:
    """(ii) ``Tr(Y B Yᵀ) = ‖Y Δ_2^{1/2} G^{-1/2}‖²`` given that the two square roots commute (assumed)."""
    Q = sympy.Symbol("Q", positive=True, integer=True)
    A = FreeAlgebra()
    H = A.matrix(r"\Delta_2^{1/2}", Q, Q, symmetric=True)
    K = A.matrix(r"G^{-1/2}", Q, Q, symmetric=True)
    Y = A.matrix("Y", Q, Q)
    A.relation(K * H, H * K)  # the assumption: functions of Δ_2 commute
    B = H * H * K * K  # B = Δ_2 G^{-1}
    V = Y * H * K
    P.identity(
        r"(ii) $\operatorname{Tr}(YBY^\top) = \lVert Y\Delta_2^{1/2}G^{-1/2}\rVert_{HS}^2$ for "
        r"$B = \Delta_2^{1/2}\Delta_2^{1/2}G^{-1/2}G^{-1/2}$ (square roots commute: assumed)",
        (Y * B * Y.T).trace(),
        (V * V.T).trace(),
        Domain({Q: "dimension"}),
    )


def _refute_at(P: Prover, Q: int, variant: str) -> None:
    """The false variants, at an explicit size ``Q`` with symbolic entries (exact counterexamples)."""
    d = {}
    for i in range(Q):
        for j in range(i, Q):
            d[i, j] = d[j, i] = sympy.Symbol(f"d_{i + 1}{j + 1}", real=True)
    D2s = sympy.Matrix(Q, Q, lambda i, j: d[i, j])
    dsyms = sorted(set(d.values()), key=str)
    U = sympy.Matrix(Q, Q, lambda i, j: sympy.Symbol(f"U_{i + 1}{j + 1}", real=True))
    Y = sympy.Matrix(Q, Q, lambda i, j: sympy.Symbol(f"y_{i + 1}{j + 1}", real=True))
    a = sympy.Matrix(1, Q, lambda i, j: sympy.Symbol(f"a_{j + 1}", real=True))
    yr = sympy.Matrix(1, Q, lambda i, j: sympy.Symbol(f"y_{j + 1}", real=True))
    c = sympy.Symbol("c", real=True)
    syms = dsyms + list(U) + list(Y) + list(a) + list(yr) + [c]
    A = Algebra(syms)
    D2, dU, dY, da, dy = (A.mat(M) for M in (D2s, U, Y, a, yr))
    G = A.eye(Q) + D2
    B = D2 * G.inv()
    Gs = sympy.eye(Q) + D2s
    kinds = {s: "real" for s in syms}
    psd = [D2s[i, i] for i in range(Q)] + [D2s.det()]
    tag = f"$Q = {Q}$"
    if variant == "wrong_optimizer":

        def f0(V):
            return (V * G * V.T()).trace() - (V * dY.T()).trace() * 2 + (dY * dY.T()).trace()

        def samples(rng):
            for k in (1, 2, 5):
                yield {
                    **{s: 0 for s in U},
                    **{s: (k if s.name[-2] == s.name[-1] else 0) for s in dsyms},
                    **{s: (1 if s.name[-2] == s.name[-1] else 0) for s in Y},
                }

        P.sign(
            rf"{tag}: $f(U,0) \ge f(Y,0)$ for every $U$ (i.e. $U^* = Y$)",
            (f0(dU) - f0(dY)).sym()[0, 0],
            ">=",
            Domain(kinds, conditions=psd, nonzero=[Gs.det()], samples=samples),
            at=f"Q = {Q}",
        )
        return
    r = da + A.mat(sympy.ones(1, Q)) * c - dy
    fr = r * r.T() + da * D2 * da.T()
    P.sign(
        rf"{tag}: $f_r(a,c) \ge yBy^\top$ for all $a, c$ (the paper's value is the minimum)",
        (fr - dy * B * dy.T()).sym()[0, 0],
        ">=",
        Domain(kinds, conditions=psd, nonzero=[Gs.det()], samples=_optimal_points(Q, d, a, yr, c)),
        at=f"Q = {Q}",
    )


def _optimal_points(Q, d, a, yr, c):
    """Candidate points ``(a*, c*)``: the affine optimum for a few exact ``Δ_2``, ``y``."""

    def gen(rng):
        for diag in ([1] + [0] * (Q - 1), list(range(1, Q + 1))):
            D = sympy.diag(*diag)
            y = sympy.Matrix(1, Q, [1] + [0] * (Q - 1))
            G = sympy.eye(Q) + D
            B = D * G.inv()
            u = sympy.ones(Q, 1)
            uBu = (u.T * B * u)[0, 0]
            cs = (y * B * u)[0, 0] / uBu
            ast = (y - cs * u.T) * G.inv()
            point = {d[i, j]: D[i, j] for i in range(Q) for j in range(Q)}
            point.update({a[k]: ast[k] for k in range(Q)})
            point.update({yr[k]: y[k] for k in range(Q)})
            point[c] = cs
            yield point

    return gen


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} (i) Expand $\lVert R\rVert_N^2 = \operatorname{Tr}(RN^{-1}R^\top)$ for "
        r"$R = (U + cu^\top - Y)E + U\Delta_1$ and use $EN^{-1}E^\top = I$ (each class has $N_j$ columns of weight "
        r"$1/N_j$), $EN^{-1}\Delta_1^\top = 0$ (zero class sums) and $u_N = E^\top u$: an identity of matrix "
        r"symbols of symbolic sizes $Q\times N$ with traces (cyclic and transposition invariance). (ii) "
        r"Completing the square,"
    )
    f.math(
        r"f(U,0) = \operatorname{Tr}\bigl((U - U^*)G(U - U^*)^\top\bigr) + \operatorname{Tr}(YBY^\top),"
        r"\qquad U^* = YG^{-1},"
    )
    f.text(
        r"and $G = 1 + \Delta_2 \succ 0$ because $\Delta_2$ is a Gram matrix; $B = \Delta_2G^{-1} = "
        r"G^{-1}\Delta_2$ (with the relation $\Delta_2 = G - I$ both are $I - G^{-1}$), and with the commuting "
        r"square roots $B = \Delta_2^{1/2}G^{-1}\Delta_2^{1/2}$, so "
        r"$\operatorname{Tr}(YBY^\top) = \lVert Y\Delta_2^{1/2}G^{-1/2}\rVert_{HS}^2$: the value of "
        r"CE23a (2.54)/(2.71). (iv) Row by row, minimizing over $a$ for fixed $c$ leaves "
        r"$(y - cu^\top)B(y - cu^\top)^\top$, a quadratic in $c$ with leading coefficient $u^\top Bu \ge 0$; its "
        r"minimum is $yBy^\top - (yBu)^2/(u^\top Bu)$. Summing over rows, the minimum with a free output bias is"
    )
    f.math(
        r"V_{\mathrm{aff}}^2 = \operatorname{Tr}(YBY^\top) - \frac{\lvert YBu\rvert^2}{u^\top Bu} "
        r"\le \operatorname{Tr}(YBY^\top),"
    )
    f.text(
        r"with equality iff $YBu = 0$: the paper's value is the minimum only under the constraint "
        r"$b^{(L+1)} = 0$ (discrepancy D1 of the reference notes). Every identity holds for matrix symbols of "
        r"symbolic size $Q$ (and $N$), so for every number of classes and points."
    )
    return f
