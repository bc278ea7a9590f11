r"""Theorem 5.2: the induction over layers, for symbolic data under the strict sign hypotheses.

Cumulative parameters ``W^(ℓ) = C_ℓ`` (generic invertible), ``b^(ℓ) = -C_ℓ p_ℓ``; layers recovered
by ``W_ℓ = C_ℓ C_{ℓ-1}^{-1}``, ``b_ℓ = b^(ℓ) - W_ℓ b^(ℓ-1)``; output ``W^(Q+1) = Y P^+``,
``b^(Q+1) = 0`` with ``P = [p_1 … p_Q]``. Everything (``C_ℓ``, ``p_ℓ``, ``Y``, the data point ``ξ``)
is symbolic; the sign hypotheses ``C_ℓ(ξ - p_ℓ) ≤ 0`` (class ``ℓ``) and ``≥ 0`` (the rest) are
what the cone lemma provides.

>>> prove().status
'proved'
>>> prove("bias_sign").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Algebra, Domain, ProofResult, Prover, symbolic_matrix, symbolic_vector, run_proof

NAME = "theorem_5_2"
ORDER = 5
TITLE = "Theorem 5.2: the layer induction and zero loss for symbolic data"
CLAIM = (r"Let $C_1,\dots,C_Q \in \mathbb{R}^{M\times M}$ be invertible, $p_1,\dots,p_Q \in \mathbb{R}^M$ with "
         r"$P = [p_1\cdots p_Q]$ of rank $Q$, $Y \in \mathbb{R}^{Q\times Q}$, and take the cumulative parameters "
         r"$W^{(\ell)} = C_\ell$, $b^{(\ell)} = -C_\ell p_\ell$ ($\ell \le Q$), $W^{(Q+1)} = YP^+$, $b^{(Q+1)} = 0$, "
         r"with the layers of Proposition 3.2. Suppose the strict sign hypotheses: for each layer $\ell$, "
         r"$C_\ell(\xi - p_\ell) \le 0$ for the current representative $\xi$ of every point of class $\ell$ and "
         r"$\ge 0$ for every other current representative. Then after layer $\ell$ the hidden activation of a "
         r"point is $C_\ell(\xi_\ell - p_\ell)$ with $\xi_\ell = p_j$ for classes $j \le \ell$ and $\xi_\ell = x$ "
         r"otherwise, and the network maps every point of class $j$ to $y_j$ (zero loss). Checked for symbolic "
         r"data, parameters and labels with $M = Q = 2$, $M = Q = 3$ and $M = 3, Q = 2$.")
VARIANTS = {
    "bias_sign": "the cumulative biases are b^(l) = +W^(l) p_l",
    "transposed_labels": "the output layer is W^(Q+1) = Y^T P^+",
}


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _obligations(P: Prover, variant: str | None) -> None:
    _relu_on_signs(P)
    for M, Q in ((2, 2), (3, 3), (3, 2)):
        _network(P, M, Q, variant)


def _relu_on_signs(P: Prover) -> None:
    """``σ(s) = s`` for ``s ≥ 0`` and ``σ(s) = 0`` for ``s ≤ 0`` (what the sign hypotheses feed in)."""
    s_pos = sympy.Symbol("s", nonnegative=True)
    s_neg = sympy.Symbol("s", nonpositive=True)
    P.fact(r"$\sigma(s) = s$ if $s \ge 0$ and $\sigma(s) = 0$ if $s \le 0$",
           sympy.Max(0, s_pos) == s_pos and sympy.Max(0, s_neg) == 0,
           "sympy evaluates $\\max(0, s)$ on sign-definite symbols")


def _network(P: Prover, M: int, Q: int, variant: str | None) -> None:
    letters = "abc"[:Q]
    pletters = "pqr"[:Q]
    Cs = [symbolic_matrix(c, M, M) for c in letters]                 # C_l = W^(l) has entries a_ij, b_ij, c_ij
    ps = [symbolic_vector(c, M) for c in pletters]                   # p_1, p_2, p_3 have entries p_i, q_i, r_i
    Y = symbolic_matrix("y", Q, Q)
    xi = symbolic_vector("x", M)
    syms = [s for Mx in Cs + ps + [Y, xi] for s in Mx]
    A = Algebra(syms)
    Pm = sympy.Matrix.hstack(*ps)
    dom = Domain({s: "real" for s in syms}, nonzero=[C.det() for C in Cs] + [(Pm.T * Pm).det()])
    dC = [A.mat(C) for C in Cs]
    dp = [A.mat(p) for p in ps]
    dx = A.mat(xi)
    sgn = 1 if variant == "bias_sign" else -1
    cb = [dC[k] * dp[k] * sgn for k in range(Q)]          # b^(l) = -C_l p_l
    # layers (Proposition 3.2)
    Ws, bs = [dC[0]], [cb[0]]
    for k in range(1, Q):
        Wk = dC[k] * dC[k - 1].inv()
        Ws.append(Wk)
        bs.append(cb[k] - Wk * cb[k - 1])
    tag = f"$M = {M}, Q = {Q}$"
    # layer 1 and the induction step ℓ-1 → ℓ, for a generic representative ξ
    P.identity(rf"{tag}, $\ell = 1$: $W_1 x + b_1 = C_1(x - p_1)$", Ws[0] * dx + bs[0], dC[0] * (dx - dp[0]), dom)
    for k in range(1, Q):
        prev = dC[k - 1] * (dx - dp[k - 1])              # x^(ℓ-1) = C_{ℓ-1}(ξ - p_{ℓ-1})
        P.identity(rf"{tag}, $\ell = {k + 1}$: $W_\ell\, C_{{\ell-1}}(\xi - p_{{\ell-1}}) + b_\ell = C_\ell(\xi - p_\ell)$",
                   Ws[k] * prev + bs[k], dC[k] * (dx - dp[k]), dom)
    # a collapsed class has activation 0 = C_ℓ(p_ℓ - p_ℓ), i.e. its representative becomes p_ℓ
    for k in range(Q):
        P.identity(rf"{tag}, $\ell = {k + 1}$: the zero activation equals $C_\ell(p_\ell - p_\ell)$",
                   dC[k] * (dp[k] - dp[k]), A.mat(sympy.zeros(M, 1)), dom)
    # output layer: W^(Q+1) = Y P^+ ; W_{Q+1} = W^(Q+1) C_Q^{-1}, b_{Q+1} = -W_{Q+1} b^(Q)
    dP = A.mat(Pm)
    dY = A.mat(Y.T if variant == "transposed_labels" else Y)
    Pplus = dP.inv() if M == Q else (dP.T() * dP).inv() * dP.T()
    Wout = dY * Pplus
    WL = Wout * dC[-1].inv()
    bL = -(WL * cb[-1])
    last = dC[-1] * (dx - dp[-1])
    P.identity(rf"{tag}: output $W_{{Q+1}}\, C_Q(\xi - p_Q) + b_{{Q+1}} = W^{{(Q+1)}}\xi$",
               WL * last + bL, Wout * dx, dom)
    for j in range(Q):
        P.identity(rf"{tag}: $W^{{(Q+1)}} p_{j + 1} = y_{j + 1}$ (class {j + 1} is mapped to its label)",
                   Wout * dp[j], A.mat(Y[:, j]), dom)


def _sketch() -> Fragment:
    f = Fragment()
    f.text(r"\textbf{Proof sketch.} By Proposition 3.2 the pre-activation of layer $\ell$ is "
           r"$W_\ell x^{(\ell-1)} + b_\ell$. \emph{Induction hypothesis:} $x^{(\ell-1)} = C_{\ell-1}(\xi - p_{\ell-1})$, "
           r"where $\xi$ is the point's representative after $\ell-1$ truncations. The script checks the "
           r"rational identity")
    f.math(r"W_\ell\,C_{\ell-1}(\xi - p_{\ell-1}) + b_\ell = C_\ell(\xi - p_\ell)")
    f.text(r"for symbolic $C_\ell$, $p_\ell$ and $\xi$. By the sign hypothesis this vector is $\le 0$ for "
           r"class $\ell$, so $\sigma$ returns $0 = C_\ell(p_\ell - p_\ell)$: the representative becomes $p_\ell$; "
           r"for every other point (later classes and the collapsed points $p_j$, $j < \ell$) it is $\ge 0$ and "
           r"$\sigma$ acts as the identity: the representative is unchanged. After $Q$ layers every point of "
           r"class $j$ is represented by $p_j$, and the output layer gives "
           r"$W_{Q+1}C_Q(p_j - p_Q) + b_{Q+1} = W^{(Q+1)}p_j = YP^+p_j = y_j$ since $P^+P = I$ "
           r"(rank $P = Q$; see \texttt{base\_points}). The sign hypotheses are exactly what the cone lemma "
           r"(\texttt{cone\_lemma}, \texttt{rational\_cone}) delivers for sequentially linearly separable data: "
           r"the forward cone of layer $\ell$ contains $\{p_i\}_{i<\ell} \cup \bigcup_{i>\ell} X_{0,i}$ and the "
           r"backward cone contains $X_{0,\ell}$.")
    return f
