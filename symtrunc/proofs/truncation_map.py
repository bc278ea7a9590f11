r"""Truncation maps: ``τ∘τ = τ``, identity on the forward cone, constant on the backward cone,
and scaling invariance ``τ_{DW,Db} = τ_{W,b}``, in every dimension.

Polyhedral form (Ewa25 Lemma 2.1): for invertible ``V`` (edges) and apex ``p`` put
``W = V^{-1}``, ``b = -W p``. Every ``x`` is ``p + V a`` for exactly one ``a``. The matrix
identities are proved for matrix symbols ``V, p, a`` of symbolic size ``n``
(:mod:`~symtrunc.proofs.free_algebra`); the activation enters only through the vector
``σ(a)``, and its componentwise facts (``σ(a_i) = a_i`` for ``a_i ≥ 0``, ...) are scalar
statements about a generic component ``i``, so the proof covers every ``n``.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("backward_identity").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "truncation_map"
ORDER = 1
TITLE = "Truncation maps: idempotence, forward and backward cones, scaling invariance"
CLAIM = (
    r"Let $n \ge 1$, $V \in \mathbb{R}^{n\times n}$ be invertible, $p \in \mathbb{R}^n$, $W = V^{-1}$, "
    r"$b = -Wp$ and $\tau(x) = W^{-1}(\sigma(Wx + b) - b)$ with $\sigma$ the rectifier. Then "
    r"$\tau(p + Va) = p + V\sigma(a)$; $\tau\circ\tau = \tau$; $\tau(x) = x$ on the forward "
    r"cone $S_+ = \{p + Va : a \ge 0\}$; $\tau(x) = p$ on the backward cone $S_- = \{p + Va : a \le 0\}$; "
    r"$\tau(\mathbb{R}^n) \subset S_+$. For every invertible $W$, every $b$ and every positive diagonal $D$, "
    r"$\tau_{DW,Db} = \tau_{W,b}$. For every dimension $n$."
)
VARIANTS = {
    "backward_identity": "tau is the identity on the backward cone (instead of constant p)",
    "leaky_idempotent": "tau o tau = tau also for the leaky rectifier max(z, z/2)",
    "signed_scaling": "tau_{DW,Db} = tau_{W,b} for every invertible diagonal D (d_i of any sign)",
}
ASSUMES: tuple[str, ...] = ()


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    leaky = variant == "leaky_idempotent"

    def sigma(z):
        return sympy.Max(z, z / 2) if leaky else sympy.Max(0, z)

    if variant != "signed_scaling":
        _componentwise(P, sigma, variant)
        _cones(P, variant)
    if variant in (None, "signed_scaling"):
        _scaling(P, sigma, variant)


def _componentwise(P: Prover, sigma, variant: str | None) -> None:
    """The rectifier on the two sign pieces of a generic component ``a_i``."""
    alpha = sympy.Symbol("alpha", nonnegative=True)  # a_i = α ≥ 0
    beta = sympy.Symbol("beta", positive=True)  # a_i = -β < 0
    dom = Domain({alpha: "nonnegative", beta: "positive"})
    pieces = ((r"a_i = \alpha \ge 0", alpha), (r"a_i = -\beta < 0", -beta))
    if variant == "leaky_idempotent":  # that variant claims idempotence only
        for piece, a in pieces:
            P.identity(rf"component ${piece}$: $\sigma(\sigma(a_i)) = \sigma(a_i)$", sigma(sigma(a)), sigma(a), dom)
        return
    P.identity(
        r"component $a_i = \alpha \ge 0$: $\sigma(a_i) = a_i$ (so $\sigma(a) = a$ on $S_+$)", sigma(alpha), alpha, dom
    )
    if variant == "backward_identity":
        P.identity(
            r"component $a_i = -\beta < 0$: $\sigma(a_i) = a_i$ (so $\tau = \mathrm{id}$ on $S_-$)",
            sigma(-beta),
            -beta,
            dom,
        )
    else:
        P.identity(
            r"component $a_i = -\beta < 0$, or $a_i = 0$: $\sigma(a_i) = 0$ (so $\sigma(a) = 0$ on $S_-$)",
            sigma(-beta),
            0,
            dom,
        )
    for piece, a in pieces:
        P.identity(rf"component ${piece}$: $\sigma(\sigma(a_i)) = \sigma(a_i)$", sigma(sigma(a)), sigma(a), dom)
        P.sign(rf"component ${piece}$: $\sigma(a_i) \ge 0$", sigma(a), ">=", dom)


def _cones(P: Prover, variant: str | None) -> None:
    n = sympy.Symbol("n", positive=True, integer=True)
    A = FreeAlgebra()
    V = A.matrix("V", n, n, invertible=True)
    p, a = A.matrix("p", n, 1), A.matrix("a", n, 1)
    sa = A.matrix(r"\sigma(a)", n, 1)  # the rectifier applied to a (uninterpreted vector)
    dom = Domain({n: "dimension"})
    W = V.inv()
    b = -(W * p)

    def tau(x_sigma):
        """``τ`` at a point whose edge coordinates are rectified to ``x_sigma``."""
        return W.inv() * (x_sigma - b)

    x = p + V * a
    P.identity(r"edge coordinates: $Wx + b = a$ for $x = p + Va$", W * x + b, a, dom)
    P.identity(r"$\tau(p + Va) = W^{-1}(\sigma(a) - b) = p + V\sigma(a)$", tau(sa), p + V * sa, dom)
    P.identity(r"on $S_+$ ($\sigma(a) = a$): $\tau(x) = x$", tau(a), x, dom)
    if variant != "backward_identity":
        P.identity(r"on $S_-$ ($\sigma(a) = 0$): $\tau(x) = p$", tau(A.zero(n, 1)), p, dom)
    if variant != "leaky_idempotent":
        P.identity(r"$W(\tau(x) - p) = \sigma(a)$, which is $\ge 0$: $\tau(x) \in S_+$", W * (tau(sa) - p), sa, dom)
    P.identity(
        r"edge coordinates of $\tau(x)$: $W\tau(x) + b = \sigma(a)$, so "
        r"$\tau(\tau(x)) = p + V\sigma(\sigma(a)) = p + V\sigma(a) = \tau(x)$",
        W * tau(sa) + b,
        sa,
        dom,
    )


def _scaling(P: Prover, sigma, variant: str | None) -> None:
    d = sympy.Symbol("d", real=True, nonzero=True) if variant == "signed_scaling" else sympy.Symbol("d", positive=True)
    alpha = sympy.Symbol("alpha", nonnegative=True)
    beta = sympy.Symbol("beta", positive=True)
    dom = Domain({d: "nonzero" if variant == "signed_scaling" else "positive", alpha: "nonnegative", beta: "positive"})
    rel = r"\ne" if variant == "signed_scaling" else ">"
    for piece, z in ((r"z_i = \alpha \ge 0", alpha), (r"z_i = -\beta < 0", -beta)):
        P.identity(
            rf"component ${piece}$, $d_i {rel} 0$: "
            r"$\sigma(d_iz_i) = d_i\sigma(z_i)$ (so $\sigma(Dz) = D\sigma(z)$)",
            sigma(d * z),
            d * sigma(z),
            dom,
        )
    n = sympy.Symbol("n", positive=True, integer=True)
    A = FreeAlgebra()
    W = A.matrix("W", n, n, invertible=True)
    D = A.matrix("D", n, n, invertible=True)
    b, x = A.matrix("b", n, 1), A.matrix("x", n, 1)
    sz = A.matrix(r"\sigma(z)", n, 1)  # σ(z) for z = Wx + b
    ndom = Domain({n: "dimension"})
    z = W * x + b
    P.identity(r"$(DW)x + Db = Dz$ with $z = Wx + b$", (D * W) * x + D * b, D * z, ndom)
    P.identity(
        r"$\tau_{DW,Db}(x) = (DW)^{-1}(D\sigma(z) - Db) = W^{-1}(\sigma(z) - b) = \tau_{W,b}(x)$",
        (D * W).inv() * (D * sz - D * b),
        W.inv() * (sz - b),
        ndom,
    )


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} Since $V$ is invertible, $x \mapsto a = W(x - p)$ is a bijection of "
        r"$\mathbb{R}^n$ and $Wx + b = W(x - p) = a$. Hence"
    )
    f.math(r"\tau(p + Va) = V\bigl(\sigma(a) + Wp\bigr) = p + V\sigma(a):")
    f.text(
        r"in the edge coordinates $a$ the truncation map is the rectifier itself. The script checks these "
        r"identities for matrix symbols $V$, $p$, $a$ of symbolic size $n$, with the vector $\sigma(a)$ "
        r"kept as an uninterpreted symbol, using only $VV^{-1} = V^{-1}V = I$. The rectifier acts "
        r"componentwise, so its properties are scalar statements about a generic component $a_i$, checked on "
        r"the two pieces $a_i = \alpha \ge 0$ and $a_i = -\beta < 0$: $\sigma(a_i) = a_i$ on the first, "
        r"$\sigma(a_i) = 0$ on the second, $\sigma(a_i) \ge 0$ and $\sigma(\sigma(a_i)) = \sigma(a_i)$ on both. "
        r"Therefore $\tau = \mathrm{id}$ on $S_+$ ($\sigma(a) = a$), $\tau \equiv p$ on $S_-$ ($\sigma(a) = 0$), "
        r"$W(\tau(x) - p) = \sigma(a) \ge 0$, and since the edge coordinates of $\tau(x)$ are $\sigma(a)$, "
        r"$\tau(\tau(x)) = p + V\sigma(\sigma(a)) = \tau(x)$."
    )
    f.text(
        r"Scaling: with $z = Wx + b$ and $D = \operatorname{diag}(d_i)$, $d_i > 0$, one has "
        r"$(DW)x + Db = Dz$ and $\sigma(d_iz_i) = d_i\sigma(z_i)$ (positive homogeneity, on both sign pieces of "
        r"$z_i$), so $\tau_{DW,Db}(x) = (DW)^{-1}(D\sigma(z) - Db) = W^{-1}D^{-1}D(\sigma(z) - b) = "
        r"\tau_{W,b}(x)$ for every $n$."
    )
    return f
