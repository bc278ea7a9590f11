r"""Proposition 3.2: cumulative ⇄ layerwise parameters, and a network is truncation maps
followed by one affine map: ``x^(ℓ) = W^(ℓ) x^(τ,ℓ) + b^(ℓ)``.

The activation is an *uninterpreted* function ``σ`` applied componentwise, so the identities
hold for every activation; only ``W^(ℓ) (W^(ℓ))^+ = I`` (surjectivity) is used.

>>> prove().status
'proved'
>>> prove("reversed_product").status
'failed'
"""

from __future__ import annotations

import sympy

from symtrunc.latex.printer import Fragment
from symtrunc.proofs._core import Algebra, Domain, ProofResult, Prover, symbolic_matrix, symbolic_vector, run_proof

NAME = "proposition_3_2"
ORDER = 2
TITLE = "Proposition 3.2: cumulative and layerwise parameters, networks as truncation maps"
CLAIM = (r"With $W^{(\ell)} = W_\ell W^{(\ell-1)}$ and $b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$ "
         r"($W^{(1)} = W_1$, $b^{(1)} = b_1$): (i) $b^{(\ell)} = \sum_{k\le\ell} W_\ell\cdots W_{k+1} b_k$ and "
         r"the layers are recovered by $W_\ell = W^{(\ell)}(W^{(\ell-1)})^{-1}$, "
         r"$b_\ell = b^{(\ell)} - W_\ell b^{(\ell-1)}$; (ii) if $x^{(\ell-1)} = W^{(\ell-1)}\xi + b^{(\ell-1)}$ then "
         r"$x^{(\ell)} = \sigma(W_\ell x^{(\ell-1)} + b_\ell) = W^{(\ell)}\tau_{W^{(\ell)},b^{(\ell)}}(\xi) + b^{(\ell)}$, "
         r"so by induction $x^{(\ell)} = W^{(\ell)} x^{(\tau,\ell)} + b^{(\ell)}$ (eq. 3.6) and "
         r"$x^{(L)} = W^{(L)} x^{(\tau,L-1)} + b^{(L)}$ (eq. 3.7), for every activation $\sigma$ and surjective "
         r"$W^{(\ell)}$. Checked for symbolic $2\times 2$ and $3\times 3$ layers (three layers) and for a "
         r"$2\times 3$ layer.")
VARIANTS = {
    "reversed_product": "the cumulative weights multiply in the other order, W^(l) = W^(l-1) W_l",
    "left_recovery": "the layers are recovered as W_l = (W^(l-1))^{-1} W^(l)",
}


def prove(variant: str | None = None) -> ProofResult:
    """Run the proof (or a deliberately false variant)."""
    return run_proof(NAME, TITLE, CLAIM, variant, _obligations, _sketch)


def _obligations(P: Prover, variant: str | None) -> None:
    sigma = sympy.Function("sigma")
    for n in (2, 3):
        L = 3
        Ws = [symbolic_matrix(c, n, n) for c in "abc"]          # W_1, W_2, W_3 have entries a_ij, b_ij, c_ij
        bs = [symbolic_vector(c, n) for c in "rst"]             # b_1, b_2, b_3 have entries r_i, s_i, t_i
        xi = symbolic_vector("xi", n)
        syms = [s for M in Ws + bs + [xi] for s in M]
        A = Algebra(syms)
        dom = Domain({s: "real" for s in syms}, nonzero=[W.det() for W in Ws])
        dW = [A.mat(W) for W in Ws]
        db = [A.mat(b) for b in bs]
        # cumulative parameters by the recursion
        cW, cb = [dW[0]], [db[0]]
        for k in range(1, L):
            cW.append(cW[-1] * dW[k] if variant == "reversed_product" else dW[k] * cW[-1])
            cb.append(dW[k] * cb[-1] + db[k])
        # (i) closed form of b^(l)
        closed = db[0]
        for k in range(1, L):
            closed = dW[k] * closed + db[k]
        explicit = db[L - 1]
        for k in range(L - 1):
            prod = A.eye(n)
            for j in range(L - 1, k, -1):
                prod = prod * dW[j]
            explicit = explicit + prod * db[k]
        P.identity(rf"$n = {n}$: $b^{{({L})}} = \sum_k W_{L}\cdots W_{{k+1}} b_k$", cb[-1], explicit, dom)
        # (i) recovery of the layers
        for k in range(1, L):
            if variant == "left_recovery":
                Wk = cW[k - 1].inv() * cW[k]
            else:
                Wk = cW[k] * cW[k - 1].inv()
            bk = cb[k] - Wk * cb[k - 1]
            P.identity(rf"$n = {n}$: $W^{{({k + 1})}}(W^{{({k})}})^{{-1}} = W_{{{k + 1}}}$", Wk, dW[k], dom)
            P.identity(rf"$n = {n}$: $b^{{({k + 1})}} - W_{{{k + 1}}} b^{{({k})}} = b_{{{k + 1}}}$", bk, db[k], dom)
        # (ii) the induction step: arguments of σ agree, then W (W)^{-1} = I
        for k in range(1, L):
            prev = cW[k - 1] * A.mat(xi) + cb[k - 1]            # x^(l-1) = W^(l-1) ξ + b^(l-1)
            arg_layer = dW[k] * prev + db[k]                     # W_l x^(l-1) + b_l
            arg_cum = cW[k] * A.mat(xi) + cb[k]                  # W^(l) ξ + b^(l)
            P.identity(rf"$n = {n}$, $\ell = {k + 1}$: $W_\ell x^{{(\ell-1)}} + b_\ell = W^{{(\ell)}}\xi + b^{{(\ell)}}$",
                       arg_layer, arg_cum, dom)
        # base case and step: W τ_{W,b}(ξ) + b = σ(Wξ + b) for generic invertible W (σ uninterpreted)
        Wg, bg = symbolic_matrix("g", n, n), symbolic_vector("h", n)
        g_syms = list(Wg) + list(bg) + list(xi)
        z = (Wg * xi + bg).applyfunc(sympy.expand)
        sz = z.applyfunc(sigma)
        tau = Wg.adjugate() * (sz - bg) / Wg.det()
        P.identity(rf"$n = {n}$: $W\tau_{{W,b}}(\xi) + b = \sigma(W\xi + b)$ for invertible $W$",
                   Wg * tau + bg, sz, Domain({s: "real" for s in g_syms}, nonzero=[Wg.det()]))
    # surjective, non-square layer: W W^+ = I with W^+ = W^T (W W^T)^{-1}
    Wr, br, xr = symbolic_matrix("g", 2, 3), symbolic_vector("h", 2), symbolic_vector("xi", 3)
    syms = list(Wr) + list(br) + list(xr)
    A = Algebra(syms)
    dWr = A.mat(Wr)
    pinv = dWr.T() * (dWr * dWr.T()).inv()
    G = (Wr * Wr.T).det()
    dom = Domain({s: "real" for s in syms}, nonzero=[G])
    P.identity(r"$2\times 3$: $W W^+ = I$ for $W^+ = W^\top(WW^\top)^{-1}$", dWr * pinv, A.eye(2), dom)
    z = (Wr * xr + br).applyfunc(sympy.expand)
    sz = z.applyfunc(sigma)
    tau = pinv.sym() * (sz - br)
    P.identity(r"$2\times 3$: $W\tau_{W,b}(\xi) + b = \sigma(W\xi + b)$ (with $W^+$)", Wr * tau + br, sz, dom)


def _sketch() -> Fragment:
    f = Fragment()
    f.text(r"\textbf{Proof sketch.} Unrolling $b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$ gives the closed form, "
           r"and $W^{(\ell)}(W^{(\ell-1)})^{-1} = W_\ell W^{(\ell-1)}(W^{(\ell-1)})^{-1} = W_\ell$. For the "
           r"induction step, if $x^{(\ell-1)} = W^{(\ell-1)}\xi + b^{(\ell-1)}$ then "
           r"$W_\ell x^{(\ell-1)} + b_\ell = W^{(\ell)}\xi + b^{(\ell)} =: z$, and")
    f.text(r"(Symbols: $W_1, W_2, W_3$ have entries $a_{ij}, b_{ij}, c_{ij}$ and $b_1, b_2, b_3$ entries "
           r"$r_i, s_i, t_i$.)")
    f.math(r"W^{(\ell)}\tau_{W^{(\ell)},b^{(\ell)}}(\xi) + b^{(\ell)} = W^{(\ell)}(W^{(\ell)})^{+}"
           r"\left(\sigma(z) - b^{(\ell)}\right) + b^{(\ell)} = \sigma(z) = x^{(\ell)}")
    f.text(r"because $W^{(\ell)}(W^{(\ell)})^{+} = I$ for surjective $W^{(\ell)}$. The activation enters only "
           r"through $\sigma(z)$, so the script keeps $\sigma$ uninterpreted (an undefined sympy function applied "
           r"componentwise): the identities hold for every activation. The output layer has no activation and "
           r"the same computation gives $x^{(L)} = W^{(L)}x^{(\tau,L-1)} + b^{(L)}$.")
    return f
