r"""Truncation maps: ``τ∘τ = τ``, identity on the forward cone, constant on the backward cone,
and scaling invariance ``τ_{DW,Db} = τ_{W,b}``.

Polyhedral form (Ewa25 Lemma 2.1): for invertible ``V`` (edges) and apex ``p`` put
``W = V^{-1}``, ``b = -W p``. Every ``x`` is ``p + V a`` for exactly one ``a ∈ R^n``. The proof
computes ``τ(x)`` from the definition for symbolic ``p``, ``V`` and ``a`` (``n = 2, 3``) on each
of the ``2^n`` sign pieces ``a_i = α_i ≥ 0`` or ``a_i = -β_i < 0``, where ``σ`` evaluates exactly.

>>> prove().status
'proved'
>>> prove("backward_identity").status
'failed'
"""

from __future__ import annotations

import itertools

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Algebra, Domain, ProofResult, Prover, latex, run_proof

NAME = "truncation_map"
ORDER = 1
TITLE = "Truncation maps: idempotence, forward and backward cones, scaling invariance"
CLAIM = (r"Let $V \in \mathbb{R}^{n\times n}$ be invertible, $p \in \mathbb{R}^n$, $W = V^{-1}$, $b = -Wp$ and "
         r"$\tau(x) = W^{-1}(\sigma(Wx + b) - b)$. Then $\tau\circ\tau = \tau$; $\tau(x) = x$ on the forward "
         r"cone $S_+ = \{p + Va : a \ge 0\}$; $\tau(x) = p$ on the backward cone $S_- = \{p + Va : a \le 0\}$; "
         r"$\tau(\mathbb{R}^n) \subset S_+$. For every invertible $W$, $b$ and positive diagonal $D$, "
         r"$\tau_{DW,Db} = \tau_{W,b}$. Checked for symbolic $p$, $V$, $W$, $b$, $D$ and $n = 2, 3$.")
VARIANTS = {
    "backward_identity": "tau is the identity on the backward cone (instead of constant p)",
    "leaky_idempotent": "tau o tau = tau also for the leaky rectifier max(z, z/2)",
    "signed_scaling": "tau_{DW,Db} = tau_{W,b} for every invertible diagonal D (d_1 of any sign)",
}


def _matrix(name: str, n: int, m: int | None = None) -> sympy.Matrix:
    m = n if m is None else m
    return sympy.Matrix(n, m, lambda i, j: sympy.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _vector(name: str, n: int, **assumptions) -> sympy.Matrix:
    return sympy.Matrix(n, 1, lambda i, j: sympy.Symbol(f"{name}_{i + 1}", **assumptions))


def _piece(pattern: tuple[int, ...]) -> sympy.Matrix:
    """``a_i = α_i ≥ 0`` (sign ``+``) or ``a_i = -β_i < 0`` (sign ``-``)."""
    return sympy.Matrix([sympy.Symbol(f"alpha_{i + 1}", nonnegative=True) if s > 0 else
                         -sympy.Symbol(f"beta_{i + 1}", positive=True) for i, s in enumerate(pattern)])


def _piece_kinds(a: sympy.Matrix) -> dict:
    return {s: ("nonnegative" if s.name.startswith("alpha") else "positive") for s in a.free_symbols}


def _label(pattern: tuple[int, ...]) -> str:
    return "(" + ", ".join("+" if s > 0 else "-" for s in pattern) + ")"


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _obligations(P: Prover, variant: str | None) -> None:
    leaky = variant == "leaky_idempotent"

    def sigma(z):
        return sympy.Max(z, z / 2) if leaky else sympy.Max(0, z)

    cones = variant in (None, "backward_identity", "leaky_idempotent")
    for n in ((2, 3) if cones else ()):
        V, p = _matrix("v", n), _vector("p", n, real=True)
        alphas = [sympy.Symbol(f"alpha_{i + 1}", nonnegative=True) for i in range(n)]
        betas = [sympy.Symbol(f"beta_{i + 1}", positive=True) for i in range(n)]
        A = Algebra(list(V) + list(p) + alphas + betas)
        dV, dp = A.mat(V), A.mat(p)
        dW = dV.inv()
        db = -(dW * dp)
        base_kinds = {s: "real" for s in list(V) + list(p)}

        def tau(x, A=A, dV=dV, dW=dW, db=db):
            z = dW * x + db
            return dV * (A.apply(z, sigma) - db), z

        for pattern in itertools.product((1, -1), repeat=n):
            a = _piece(pattern)
            da = A.mat(a)
            dom = Domain({**base_kinds, **_piece_kinds(a)}, nonzero=[V.det()])
            piece = _label(pattern)
            x = dp + dV * da
            tx, z = tau(x)
            P.identity(rf"$n = {n}$, piece {piece}: edge coordinates $Wx + b = a$ for $x = p + Va$", z, da, dom)
            P.identity(rf"$n = {n}$, piece {piece}: $\tau(p + Va) = p + V\sigma(a)$", tx,
                       dp + dV * A.apply(da, sigma), dom)
            if all(s > 0 for s in pattern):
                P.identity(rf"$n = {n}$: $\tau = \mathrm{{id}}$ on $S_+$", tx, x, dom)
            if all(s < 0 for s in pattern):
                target = x if variant == "backward_identity" else dp
                what = r"\tau = \mathrm{id}" if variant == "backward_identity" else r"\tau \equiv p"
                P.identity(rf"$n = {n}$: ${what}$ on $S_-$", tx, target, dom)
            if not leaky:
                P.sign(rf"$n = {n}$, piece {piece}: $W(\tau(x) - p) \ge 0$, i.e. $\tau(x) \in S_+$",
                       (dW * (tx - dp)).exact().sym(), ">=", dom)
            ttx, _ = tau(tx)
            P.identity(rf"$n = {n}$, piece {piece}: $\tau(\tau(x)) = \tau(x)$", ttx, tx, dom)

    # scaling invariance: parametrize x by z = Wx + b (a bijection for invertible W)
    for n in ((2, 3) if variant in (None, "signed_scaling") else ()):
        Wg, bg = _matrix("w", n), _vector("b", n, real=True)
        d = [sympy.Symbol(f"d_{i + 1}", positive=True) for i in range(n)]
        if variant == "signed_scaling":
            d[0] = sympy.Symbol("d_1", real=True, nonzero=True)
        alphas = [sympy.Symbol(f"alpha_{i + 1}", nonnegative=True) for i in range(n)]
        betas = [sympy.Symbol(f"beta_{i + 1}", positive=True) for i in range(n)]
        A = Algebra(list(Wg) + list(bg) + d + alphas + betas)
        dW, db, dD = A.mat(Wg), A.mat(bg), A.mat(sympy.diag(*d))
        dWinv = dW.inv()
        dDW = dD * dW
        dDWinv = dDW.inv()
        for pattern in itertools.product((1, -1), repeat=n):
            zv = _piece(pattern)
            kinds = {s: "real" for s in list(Wg) + list(bg)}
            kinds.update({s: ("positive" if s.is_positive else "nonzero") for s in d})
            kinds.update(_piece_kinds(zv))
            dom = Domain(kinds, nonzero=[Wg.det()])
            x = dWinv * (A.mat(zv) - db)
            # σ is applied in sympy; with d_i > 0 it evaluates, otherwise max(0, ·) atoms remain
            lhs = A.combine(lambda M, s, c: M * (s - c), dDWinv, A.apply(dDW * x + dD * db, sigma), dD * db)
            rhs = dWinv * (A.apply(dW * x + db, sigma) - db)
            P.identity(rf"$n = {n}$, piece {_label(pattern)} of $z = Wx + b$: "
                       r"$\tau_{DW,Db}(x) = \tau_{W,b}(x)$", lhs, rhs, dom)


def _sketch() -> Fragment:
    sketch = Fragment()
    sketch.text(r"\textbf{Proof sketch.} Since $V$ is invertible, $x \mapsto a = W(x - p)$ is a bijection "
                r"$\mathbb{R}^n \to \mathbb{R}^n$ and $Wx + b = W(x - p) = a$. Hence "
                r"$\tau(x) = V(\sigma(a) + Wp) = p + V\sigma(a)$: in the edge coordinates $a$ the truncation map "
                r"is the rectifier itself. On the piece where every $a_i \ge 0$, $\sigma(a) = a$ and $\tau(x) = x$; "
                r"where every $a_i \le 0$, $\sigma(a) = 0$ and $\tau(x) = p$; in general $\sigma(a) \ge 0$, so "
                r"$\tau(x) \in S_+$, and $\sigma\circ\sigma = \sigma$ gives $\tau\circ\tau = \tau$. The script "
                r"computes $\tau$ from its definition with $W = \operatorname{adj}(V)/\det V$ for fully symbolic "
                r"$p$ and $V$ ($n = 2, 3$) on each of the $2^n$ sign pieces $a_i = \alpha_i \ge 0$ or "
                r"$a_i = -\beta_i < 0$, where $\sigma$ evaluates exactly; together the pieces cover $\mathbb{R}^n$.")
    sketch.text(r"Scaling: with $z = Wx + b$ (a bijection for invertible $W$) and $D = \operatorname{diag}(d_i)$, "
                r"$d_i > 0$, one has $\sigma(d_i z_i) = d_i\sigma(z_i)$ (positive homogeneity, checked on each "
                r"sign piece of $z$), so $\tau_{DW,Db}(x) = W^{-1}D^{-1}(D\sigma(z) - Db) = \tau_{W,b}(x)$.")
    sketch.math(r"\tau(p + Va) = p + V\sigma(a), \qquad " + latex(sympy.Symbol("sigma")) +
                r"(d z) = d\,\sigma(z)\ (d > 0)")
    return sketch
