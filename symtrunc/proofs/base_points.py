r"""Linear independence of the base points ``p_j = t_j x̄ + (1 - t_j) x̄_{0,j}`` (reference §3.6).

``[p_1 … p_Q] = X_0^red Aᵀ`` with ``A = diag(1 - t_j) + (1/Q) t uᵀ``, and by the matrix-determinant
lemma ``det A = Π_j (1 - t_j) · (1 + (1/Q) Σ_j t_j/(1 - t_j)) > 0`` for ``t ∈ (0, 1)^Q``. So the base
points are linearly independent whenever the class means are (the step Theorem 5.2 uses
without proof).

>>> prove().status
'proved'
>>> prove("closed_interval").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof

NAME = "base_points"
ORDER = 6
TITLE = "Linear independence of the base points p_j (matrix-determinant argument)"
CLAIM = (r"Let the class means $\bar x_{0,1},\dots,\bar x_{0,Q} \in \mathbb{R}^M$ be linearly independent, "
         r"$\bar x = \frac1Q\sum_j \bar x_{0,j}$ and $p_j = t_j\bar x + (1-t_j)\bar x_{0,j}$ with $t_j \in (0,1)$. "
         r"Then $[p_1\cdots p_Q] = X_0^{\mathrm{red}}A^\top$ with $A = \operatorname{diag}(1-t_j) + \frac1Q tu^\top$, "
         r"$\det A = \prod_j(1-t_j)\bigl(1 + \frac1Q\sum_j \frac{t_j}{1-t_j}\bigr) > 0$, and the $p_j$ are "
         r"linearly independent. Checked for symbolic means and $t$ with $Q = 2, 3, 4$.")
VARIANTS = {
    "closed_interval": "the base points stay independent for t_j in (0, 1] (t_j = 1 allowed)",
    "no_barycenter_weight": "det A = prod_j (1 - t_j) (dropping the rank-one term)",
}


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _obligations(P: Prover, variant: str | None) -> None:
    for Q in (2, 3, 4):
        M = Q
        t = sympy.symbols(f"t_1:{Q + 1}", real=True)
        X = sympy.Matrix(M, Q, lambda i, j: sympy.Symbol(f"m_{i + 1}{j + 1}", real=True))
        means = [X[:, j] for j in range(Q)]
        xbar = sum(means, sympy.zeros(M, 1)) / Q
        Pm = sympy.Matrix.hstack(*[t[j] * xbar + (1 - t[j]) * means[j] for j in range(Q)])
        A = sympy.diag(*[1 - tj for tj in t]) + sympy.Matrix(t) * sympy.ones(1, Q) / Q
        kinds = {**{s: "real" for s in t}, **{s: "real" for s in X}}
        P.identity(rf"$Q = {Q}$: $[p_1\cdots p_Q] = X_0^{{\mathrm{{red}}}}A^\top$", Pm, X * A.T, Domain(kinds))
        prod = sympy.prod([1 - tj for tj in t])
        formula = prod if variant == "no_barycenter_weight" else \
            prod * (1 + sum(tj / (1 - tj) for tj in t) / Q)
        P.identity(rf"$Q = {Q}$: matrix-determinant lemma for $\det A$", A.det(), formula,
                   Domain({s: "real" for s in t}, nonzero=[1 - tj for tj in t]))
        # positivity of det A on the parameter box: t = s/(1+s), s > 0  (t = 1/(1+s), s ≥ 0 for (0, 1])
        if variant == "closed_interval":
            s = sympy.symbols(f"s_1:{Q + 1}", nonnegative=True)
            sub = {tj: 1 / (1 + sj) for tj, sj in zip(t, s)}
            box, kind = r"(0,1]", "nonnegative"
        else:
            s = sympy.symbols(f"s_1:{Q + 1}", positive=True)
            sub = {tj: sj / (1 + sj) for tj, sj in zip(t, s)}
            box, kind = r"(0,1)", "positive"
        P.sign(rf"$Q = {Q}$: $\det A > 0$ for $t \in {box}^{{{Q}}}$", A.det().xreplace(sub), ">",
               Domain({sj: kind for sj in s}))
        if Q <= 3:
            P.identity(rf"$Q = {Q}$, $M = Q$: $\det[p_1\cdots p_Q] = \det X_0^{{\mathrm{{red}}}}\det A$",
                       Pm.det(), X.det() * A.det(), Domain(kinds))


def _sketch() -> Fragment:
    f = Fragment()
    f.text(r"\textbf{Proof sketch.} $p_j = (1-t_j)\bar x_{0,j} + \frac{t_j}{Q}\sum_i \bar x_{0,i}$, so "
           r"$[p_1\cdots p_Q] = X_0^{\mathrm{red}}A^\top$ with $A_{ji} = (1-t_j)\delta_{ji} + t_j/Q$, i.e. "
           r"$A = D + \frac1Q tu^\top$, $D = \operatorname{diag}(1-t_j)$. The matrix-determinant lemma gives "
           r"$\det A = \det D\,(1 + \frac1Q u^\top D^{-1}t)$. With the bijection $t_j = s_j/(1+s_j)$, "
           r"$s_j > 0$, of $(0,\infty)$ onto $(0,1)$:")
    f.math(r"\det A = \frac{1 + \frac1Q\sum_j s_j}{\prod_j (1 + s_j)} > 0")
    f.text(r"(positive coefficients, positive constant term). Hence $A$ is invertible and "
           r"$\operatorname{rank}[p_1\cdots p_Q] = \operatorname{rank}X_0^{\mathrm{red}} = Q$. At $t_j = 1$ for all "
           r"$j$ every $p_j$ is the barycenter, which is why the interval must be open at $1$.")
    return f
