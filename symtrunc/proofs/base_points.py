r"""Linear independence of the base points ``p_j = t_j x̄ + (1 - t_j) x̄_{0,j}`` (reference §3.6),
for every number of classes ``Q`` and every dimension ``M``.

``[p_1 … p_Q] = X_0^red Aᵀ`` with ``A = diag(1 - t_j) + (1/Q) t uᵀ``, and by the matrix determinant
lemma (:mod:`~symtrunc.proofs.determinants`) ``det A = Π_j (1 - t_j) · (1 + (1/Q) Σ_j t_j/(1 - t_j))
> 0`` for ``t ∈ (0, 1)^Q``. So the base points are linearly independent whenever the class means
are (the step Theorem 5.2 uses without proof).

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("closed_interval").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.determinants import DETERMINANT_FACTS, determinant_lemma
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "base_points"
ORDER = 6
TITLE = "Linear independence of the base points p_j (matrix-determinant argument)"
CLAIM = (
    r"Let $1 \le Q \le M$, let the class means $\bar x_{0,1},\dots,\bar x_{0,Q} \in \mathbb{R}^M$ be linearly "
    r"independent, $\bar x = \frac1Q\sum_j \bar x_{0,j}$ and $p_j = t_j\bar x + (1-t_j)\bar x_{0,j}$ with "
    r"$t_j \in (0,1)$. Then $[p_1\cdots p_Q] = X_0^{\mathrm{red}}A^\top$ with "
    r"$A = \operatorname{diag}(1-t_j) + \frac1Q tu^\top$, "
    r"$\det A = \prod_j(1-t_j)\bigl(1 + \frac1Q\sum_j \frac{t_j}{1-t_j}\bigr) > 0$, and the $p_j$ are "
    r"linearly independent. For every $Q$ and $M$."
)
VARIANTS = {
    "closed_interval": "the base points stay independent for t_j in (0, 1] (t_j = 1 allowed)",
    "no_barycenter_weight": "det A = prod_j (1 - t_j) (dropping the rank-one term)",
}
ASSUMES = (DETERMINANT_FACTS,)


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    if variant == "no_barycenter_weight":
        _determinant_at(P, 2)
        return
    Q = sympy.Symbol("Q", positive=True, integer=True)
    M = sympy.Symbol("M", positive=True, integer=True)
    tj = sympy.Symbol("t_j", real=True)
    A = FreeAlgebra()
    X = A.matrix(r"X_0^{\mathrm{red}}", M, Q)  # the class means as columns
    u, t, e = A.matrix("u", Q, 1), A.matrix("t", Q, 1), A.matrix("e_j", Q, 1)
    D = A.matrix("D", Q, Q, symmetric=True, invertible=True)  # D = diag(1 - t_j)
    A.relation(t.T * e, tj * A.eye(1))  # t_j = tᵀ e_j
    A.relation(D * e, (1 - tj) * e)  # D e_j = (1 - t_j) e_j
    A.relation(D.inv() * e, e / (1 - tj))  # D^{-1} e_j = e_j / (1 - t_j)
    dom = Domain({Q: "dimension", M: "dimension", tj: "real"}, nonzero=[1 - tj])
    P.identity(
        r"$D(e_j/(1 - t_j)) = e_j$ for $D = \operatorname{diag}(1 - t_k)$, i.e. "
        r"$D^{-1}e_j = e_j/(1-t_j)$",
        D * (e / (1 - tj)),
        e,
        dom,
    )
    xbar = X * u / Q
    Pm = xbar * t.T + X * D  # column j: t_j x̄ + (1 - t_j) x̄_{0,j}
    P.identity(
        r"column $j$ of $\bar x t^\top + X_0^{\mathrm{red}}D$ is $p_j = t_j\bar x + (1-t_j)\bar x_{0,j}$ "
        r"($\bar x = \frac1Q X_0^{\mathrm{red}}u$, $\bar x_{0,j} = X_0^{\mathrm{red}}e_j$)",
        Pm * e,
        tj * xbar + (1 - tj) * (X * e),
        dom,
    )
    At = D + u * t.T / Q  # Aᵀ (D is symmetric)
    P.identity(r"$[p_1\cdots p_Q] = X_0^{\mathrm{red}}A^\top$ with $A = D + \frac1Q tu^\top$", Pm, X * At, dom)
    factor = determinant_lemma(P, D, t / Q, u, Q, names=("D", "t/Q", "u"))  # det A = det D (1 + uᵀD^{-1}t/Q)
    P.identity(
        r"entry $j$ of $D^{-1}t$: $e_j^\top D^{-1}t = t_j/(1-t_j)$, so "
        r"$u^\top D^{-1}t = \sum_j t_j/(1-t_j)$",
        e.T * D.inv() * t,
        tj / (1 - tj) * A.eye(1),
        dom,
    )
    P.identity(
        r"$[p_1\cdots p_Q]^\top[p_1\cdots p_Q] = A\,(X_0^{\mathrm{red}\top}X_0^{\mathrm{red}})\,A^\top$, so "
        r"$\det(P^\top P) = (\det A)^2\det(X_0^{\mathrm{red}\top}X_0^{\mathrm{red}}) \ne 0$ when $\det A \ne 0$",
        Pm.T * Pm,
        At.T * (X.T * X) * At,
        dom,
    )
    # positivity on the parameter box, for a generic j: t_j = s_j/(1+s_j), s_j > 0 (t_j = 1/(1+s_j), s_j ≥ 0 for (0, 1])
    if variant == "closed_interval":
        s = sympy.Symbol("s_j", nonnegative=True)
        tsub, box, kind = 1 / (1 + s), r"(0,1]", "nonnegative"
    else:
        s = sympy.Symbol("s_j", positive=True)
        tsub, box, kind = s / (1 + s), r"(0,1)", "positive"
    sdom = Domain({s: kind})
    P.sign(rf"$t_j = {sympy.latex(tsub)} \in {box}$: $t_j > 0$", tsub, ">", sdom)
    P.sign(rf"$t_j = {sympy.latex(tsub)}$: $1 - t_j > 0$, so $\det D = \prod_j(1 - t_j) > 0$", 1 - tsub, ">", sdom)
    P.sign(
        rf"$t_j = {sympy.latex(tsub)}$: $t_j/(1 - t_j) > 0$, so $\sum_j t_j/(1-t_j) > 0$", tsub / (1 - tsub), ">", sdom
    )
    detD, S = sympy.Symbol(r"\det D", positive=True), sympy.Symbol("S", positive=True)
    lemma = detD * factor.subs((u.T * D.inv() * t).scalar(), S)
    P.sign(
        r"$\det A = \det D\,(1 + S/Q) > 0$ for $\det D > 0$, $S = \sum_j t_j/(1-t_j) > 0$",
        lemma,
        ">",
        Domain({detD: "positive", S: "positive", Q: "dimension"}),
    )


def _determinant_at(P: Prover, Q: int) -> None:
    """The false variant: ``det A = Π(1 - t_j)``, checked for explicit symbols at one size."""
    t = sympy.symbols(f"t_1:{Q + 1}", real=True)
    A = sympy.diag(*[1 - tj for tj in t]) + sympy.Matrix(t) * sympy.ones(1, Q) / Q
    P.identity(
        rf"$Q = {Q}$: $\det A = \prod_j(1 - t_j)$",
        A.det(),
        sympy.prod([1 - tj for tj in t]),
        Domain({tj: "real" for tj in t}),
        at=f"Q = {Q}",
    )


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} $p_j = (1-t_j)\bar x_{0,j} + \frac{t_j}{Q}\sum_i \bar x_{0,i}$, so "
        r"$[p_1\cdots p_Q] = \bar x t^\top + X_0^{\mathrm{red}}D = X_0^{\mathrm{red}}A^\top$ with "
        r"$D = \operatorname{diag}(1-t_j)$ and $A = D + \frac1Q tu^\top$ (identities of matrix symbols of symbolic "
        r"sizes $M \times Q$, using only $De_j = (1-t_j)e_j$ and $t^\top e_j = t_j$ for a generic column $j$). "
        r"The matrix determinant lemma, proved for symbolic size $Q$ by a block factorization, gives "
        r"$\det A = \det D\,(1 + \frac1Q u^\top D^{-1}t)$ with $u^\top D^{-1}t = \sum_j t_j/(1-t_j)$. "
        r"With the bijection $t_j = s_j/(1+s_j)$, $s_j > 0$, of $(0,\infty)$ onto $(0,1)$, every factor "
        r"$1 - t_j = 1/(1+s_j)$ and every summand $t_j/(1-t_j) = s_j$ is positive:"
    )
    f.math(r"\det A = \det D\Bigl(1 + \frac1Q\sum_j s_j\Bigr) > 0.")
    f.text(
        r"Hence $P^\top P = A(X_0^{\mathrm{red}\top}X_0^{\mathrm{red}})A^\top$ is invertible and "
        r"$\operatorname{rank}[p_1\cdots p_Q] = Q$. At $t_j = 1$ for all $j$ every $p_j$ is the barycenter, "
        r"which is why the interval must be open at $1$."
    )
    return f
