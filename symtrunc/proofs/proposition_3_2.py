r"""Proposition 3.2: cumulative ⇄ layerwise parameters, and a network is truncation maps
followed by one affine map: ``x^(ℓ) = W^(ℓ) x^(τ,ℓ) + b^(ℓ)``, for every width and depth.

The induction step over the layers is proved for matrix symbols of symbolic sizes
(``W_ℓ ∈ R^{d_ℓ x d_{ℓ-1}}``, ``W^(ℓ-1) ∈ R^{d_{ℓ-1} x M}``; see
:mod:`~symtrunc.proofs.free_algebra`). The activation enters only as the uninterpreted vector
``σ(z)``, so the identities hold for every activation; surjectivity enters as
``W W^+ = I`` for ``W^+ = Wᵀ(WWᵀ)^{-1}``.

>>> prove().status, str(prove().scope)
('proved', 'all dimensions')
>>> prove("reversed_product").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.document import Fragment
from symtrunc.proofs._core import Domain, ProofResult, Prover, run_proof
from symtrunc.proofs.free_algebra import FreeAlgebra

NAME = "proposition_3_2"
ORDER = 2
TITLE = "Proposition 3.2: cumulative and layerwise parameters, networks as truncation maps"
CLAIM = (
    r"With $W^{(\ell)} = W_\ell W^{(\ell-1)}$ and $b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$ "
    r"($W^{(1)} = W_1$, $b^{(1)} = b_1$), for all widths $M = d_0 \ge d_1 \ge \dots \ge d_L$ and every depth $L$: "
    r"(i) $b^{(\ell)} = \sum_{k\le\ell} W_\ell\cdots W_{k+1} b_k$, and the layers are recovered by "
    r"$W_\ell = W^{(\ell)}(W^{(\ell-1)})^{+}$ (for surjective $W^{(\ell-1)}$; $(W^{(\ell-1)})^{-1}$ when it is "
    r"square), $b_\ell = b^{(\ell)} - W_\ell b^{(\ell-1)}$; (ii) for surjective $W$, "
    r"$W\tau_{W,b}(\xi) + b = \sigma(W\xi + b)$; if $x^{(\ell-1)} = W^{(\ell-1)}\xi + b^{(\ell-1)}$ then "
    r"$x^{(\ell)} = \sigma(W_\ell x^{(\ell-1)} + b_\ell) = W^{(\ell)}\tau_{W^{(\ell)},b^{(\ell)}}(\xi) + b^{(\ell)}$, "
    r"so by induction $x^{(\ell)} = W^{(\ell)} x^{(\tau,\ell)} + b^{(\ell)}$ (eq. 3.6) and "
    r"$x^{(L)} = W^{(L)} x^{(\tau,L-1)} + b^{(L)}$ (eq. 3.7), for every activation $\sigma$ and surjective "
    r"$W^{(\ell)}$."
)
VARIANTS = {
    "reversed_product": "the cumulative weights multiply in the other order, W^(l) = W^(l-1) W_l",
    "left_recovery": "the layers are recovered as W_l = (W^(l-1))^{-1} W^(l)",
}
ASSUMES: tuple[str, ...] = ()


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch, ASSUMES)


def _obligations(P: Prover, variant: str | None) -> None:
    _square_recovery(P, variant)
    if variant is None:
        _surjective(P)


def _square_recovery(P: Prover, variant: str | None) -> None:
    """Square invertible layers: ``W_ℓ = W^(ℓ) (W^(ℓ-1))^{-1}`` (the false variants change the order)."""
    n = sympy.Symbol("n", positive=True, integer=True)
    A = FreeAlgebra()
    Wl = A.matrix(r"W_{\ell}", n, n, invertible=True)
    C = A.matrix(r"W^{(\ell-1)}", n, n, invertible=True)
    dom = Domain({n: "dimension"})
    cum = C * Wl if variant == "reversed_product" else Wl * C
    rec = C.inv() * cum if variant == "left_recovery" else cum * C.inv()
    P.identity(
        r"square invertible layers: $W^{(\ell)}(W^{(\ell-1)})^{-1} = W_\ell W^{(\ell-1)}(W^{(\ell-1)})^{-1} "
        r"= W_\ell$",
        rec,
        Wl,
        dom,
    )


def _surjective(P: Prover) -> None:
    M = sympy.Symbol("M", positive=True, integer=True)
    d0 = sympy.Symbol(r"d_{\ell-1}", positive=True, integer=True)
    d1 = sympy.Symbol(r"d_{\ell}", positive=True, integer=True)
    dk = sympy.Symbol("d_k", positive=True, integer=True)
    A = FreeAlgebra()
    Wl = A.matrix(r"W_{\ell}", d1, d0)
    C = A.matrix(r"W^{(\ell-1)}", d0, M)  # cumulative weights of layer ℓ-1 (surjective)
    beta = A.matrix(r"b^{(\ell-1)}", d0, 1)
    bl = A.matrix(r"b_{\ell}", d1, 1)
    xi = A.matrix(r"\xi", M, 1)  # x^(τ,ℓ-1), the input after ℓ-1 truncations
    sz = A.matrix(r"\sigma(z)", d1, 1)  # the activation of z = W^(ℓ) ξ + b^(ℓ), uninterpreted
    Pi = A.matrix(r"\Pi_{\ell-1,k}", d0, dk)  # W_{ℓ-1} ⋯ W_{k+1}
    bk = A.matrix(r"b_k", dk, 1)
    dom = Domain({M: "dimension", d0: "dimension", d1: "dimension", dk: "dimension"})
    cW, cb = Wl * C, Wl * beta + bl  # W^(ℓ), b^(ℓ)
    # (i) closed form of b^(ℓ): the summand k < ℓ of W_ℓ b^(ℓ-1) is the summand k of b^(ℓ)
    P.identity(
        r"closed form, induction step: the summand $k<\ell$ of $W_\ell b^{(\ell-1)}$ is "
        r"$W_\ell(\Pi_{\ell-1,k}b_k) = (W_\ell\Pi_{\ell-1,k})b_k = \Pi_{\ell,k}b_k$",
        Wl * (Pi * bk),
        (Wl * Pi) * bk,
        dom,
    )
    # (i) recovery with the pseudo-inverse of a surjective W^(ℓ-1)
    Cplus = C.T * (C * C.T).inv()
    P.identity(
        r"$W^{(\ell)}(W^{(\ell-1)})^{+} = W_\ell$ for $(W^{(\ell-1)})^{+} = "
        r"(W^{(\ell-1)})^\top\bigl(W^{(\ell-1)}(W^{(\ell-1)})^\top\bigr)^{-1}$",
        cW * Cplus,
        Wl,
        dom,
    )
    P.identity(r"$b^{(\ell)} - W_\ell b^{(\ell-1)} = b_\ell$", cb - Wl * beta, bl, dom)
    # (ii) one layer: W τ_{W,b}(ξ) + b = σ(Wξ + b) for surjective W (W W^+ = I)
    W = A.matrix("W", d1, M)
    b = A.matrix("b", d1, 1)
    Wplus = W.T * (W * W.T).inv()
    P.identity(
        r"one layer: $W\tau_{W,b}(\xi) + b = WW^{+}(\sigma(z) - b) + b = \sigma(z)$, $z = W\xi + b$",
        W * (Wplus * (sz - b)) + b,
        sz,
        dom,
    )
    # (ii) the induction step
    pre = Wl * (C * xi + beta) + bl
    P.identity(
        r"induction step: $W_\ell x^{(\ell-1)} + b_\ell = W^{(\ell)}\xi + b^{(\ell)} =: z$ "
        r"for $x^{(\ell-1)} = W^{(\ell-1)}\xi + b^{(\ell-1)}$ (also the output layer, eq. 3.7)",
        pre,
        cW * xi + cb,
        dom,
    )
    cWplus = cW.T * (cW * cW.T).inv()
    tau = cWplus * (sz - cb)  # τ_{W^(ℓ),b^(ℓ)}(ξ)
    P.identity(
        r"induction step: $W^{(\ell)}\tau_{W^{(\ell)},b^{(\ell)}}(\xi) + b^{(\ell)} = \sigma(z) = x^{(\ell)}$ "
        r"for surjective $W^{(\ell)} = W_\ell W^{(\ell-1)}$",
        cW * tau + cb,
        sz,
        dom,
    )


def _sketch() -> Fragment:
    f = Fragment()
    f.text(
        r"\textbf{Proof sketch.} Induction on $\ell$. \emph{Closed form:} with "
        r"$\Pi_{\ell,k} = W_\ell\cdots W_{k+1}$ ($\Pi_{\ell,\ell} = I$), $b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell "
        r"= \sum_{k<\ell} W_\ell\Pi_{\ell-1,k}b_k + b_\ell = \sum_{k\le\ell}\Pi_{\ell,k}b_k$ by distributivity over "
        r"the finite sum and associativity (checked for a generic summand). \emph{Recovery:} "
        r"$W^{(\ell)}(W^{(\ell-1)})^{+} = W_\ell W^{(\ell-1)}(W^{(\ell-1)})^\top(W^{(\ell-1)}(W^{(\ell-1)})^\top)^{-1} "
        r"= W_\ell$. \emph{Network:} if $x^{(\ell-1)} = W^{(\ell-1)}\xi + b^{(\ell-1)}$ then "
        r"$W_\ell x^{(\ell-1)} + b_\ell = W^{(\ell)}\xi + b^{(\ell)} =: z$, and"
    )
    f.math(
        r"W^{(\ell)}\tau_{W^{(\ell)},b^{(\ell)}}(\xi) + b^{(\ell)} = W^{(\ell)}(W^{(\ell)})^{+}"
        r"\left(\sigma(z) - b^{(\ell)}\right) + b^{(\ell)} = \sigma(z) = x^{(\ell)}"
    )
    f.text(
        r"because $W^{(\ell)}(W^{(\ell)})^{+} = I$ for surjective $W^{(\ell)}$. Every identity is checked for "
        r"matrix symbols of symbolic sizes $d_\ell \times d_{\ell-1}$, $d_{\ell-1}\times M$, so it holds for all "
        r"widths, and the step $\ell-1 \to \ell$ is generic, so for all depths. The activation enters only "
        r"through the vector $\sigma(z)$, kept as an uninterpreted symbol: the identities hold for every "
        r"activation. The output layer has no activation and the same computation gives "
        r"$x^{(L)} = W^{(L)}x^{(\tau,L-1)} + b^{(L)}$."
    )
    return f
