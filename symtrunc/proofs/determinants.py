r"""The matrix determinant lemma for every size, as proof obligations of symbolic size.

``det(D + c dᵀ) = det(D) (1 + dᵀ D^{-1} c)`` for invertible ``D ∈ R^{n x n}`` and
``c, d ∈ R^n``. :func:`determinant_lemma` records two identities of matrix symbols of symbolic
size ``n`` (:mod:`~symtrunc.proofs.free_algebra`):

* the block factorization ``[[I, 0], [dᵀ, 1]] [[I + c dᵀ, c], [0, 1]] [[I, 0], [-dᵀ, 1]] =
  [[I, c], [0, 1 + dᵀc]]``, so ``det(I + c dᵀ) = 1 + dᵀc``;
* ``D + c dᵀ = D (I + (D^{-1}c) dᵀ)``.

The step from these identities to determinants uses the standard facts listed in
:data:`DETERMINANT_FACTS` (multiplicativity, block-triangular matrices), which the proofs that
call this list as assumptions.

Examples
--------
>>> import sympy
>>> from symtrunc.proofs._core import Prover
>>> from symtrunc.proofs.free_algebra import FreeAlgebra
>>> n = sympy.Symbol("n", positive=True, integer=True)
>>> A = FreeAlgebra()
>>> c, d = A.matrix("c", n, 1), A.matrix("d", n, 1)
>>> P = Prover("demo", "Demo", "claim")
>>> s = determinant_lemma(P, 2 * A.eye(n), c, d, n)
>>> s, [st.status for st in P.steps]
(<c' d>/2 + 1, ['proved', 'proved', 'proved', 'proved', 'proved'])
"""

from __future__ import annotations

from typing import Any

from symtrunc.proofs._core import Domain, Prover
from symtrunc.proofs.free_algebra import Elt, block_product

__all__ = ["DETERMINANT_FACTS", "determinant_lemma"]

DETERMINANT_FACTS = (
    "standard determinant facts: det(XY) = det(X) det(Y); a block-triangular matrix has the "
    "product of its diagonal blocks' determinants; det(c I_n) = c^n; det diag(d_j) = prod d_j"
)


def determinant_lemma(
    P: Prover, D: Elt, c: Elt, d: Elt, n: Any, *, names: tuple[str, str, str] = ("D", "c", "d")
) -> Any:
    """Record the obligations of ``det(D + c dᵀ) = det(D)(1 + dᵀD^{-1}c)`` and return the scalar
    ``1 + dᵀ D^{-1} c`` (a commutative sympy expression).

    ``D`` must be a single invertible word or a multiple of the identity; ``names`` are the
    LaTeX names of ``D``, ``c`` and ``d`` in the proof document.
    """
    A = D.alg
    I, one = A.eye(n), A.eye(1)
    zr, zc = A.zero(1, n), A.zero(n, 1)
    dom = Domain({n: "dimension"})
    left = [[I, zc], [d.T, one]]
    mid = [[I + c * d.T, c], [zr, one]]
    right = [[I, zc], [-d.T, one]]
    prod = block_product(block_product(left, mid), right)
    target = [[I, c], [zr, one + d.T * c]]
    Dn, cn, dn = names
    P.sketch.text(
        rf"\emph{{Matrix determinant lemma}} (for every size $n$), with $D = {Dn}$, $c = {cn}$, $d = {dn}$: "
        r"the block factorization"
    )
    P.sketch.math(
        r"\begin{bmatrix} I & 0\\ d^\top & 1\end{bmatrix}\begin{bmatrix} I + cd^\top & c\\ 0 & 1\end{bmatrix}"
        r"\begin{bmatrix} I & 0\\ -d^\top & 1\end{bmatrix} = \begin{bmatrix} I & c\\ 0 & 1 + d^\top c\end{bmatrix}"
    )
    P.sketch.text(
        r"is checked blockwise for matrix symbols of symbolic size; the outer factors have determinant $1$, "
        r"so $\det(I + cd^\top) = 1 + d^\top c$, and $D + cd^\top = D(I + (D^{-1}c)d^\top)$ gives "
        r"$\det(D + cd^\top) = \det D\,(1 + d^\top D^{-1}c)$."
    )
    for (i, j), label in zip(
        ((0, 0), (0, 1), (1, 0), (1, 1)), ("upper left", "upper right", "lower left", "lower right")
    ):
        P.identity(
            f"matrix determinant lemma, block factorization ($D = {Dn}$, $c = {cn}$, $d = {dn}$): {label} block",
            prod[i][j],
            target[i][j],
            dom,
        )
    Dinv = D.inv()
    P.identity(
        rf"${Dn} + {cn}{dn}^\top = ({Dn})\bigl(I + ({Dn})^{{-1}}{cn}\,{dn}^\top\bigr)$, so "
        rf"$\det({Dn} + {cn}{dn}^\top) = \det({Dn})\,\bigl(1 + {dn}^\top({Dn})^{{-1}}{cn}\bigr)$",
        D + c * d.T,
        D * (I + (Dinv * c) * d.T),
        dom,
    )
    return 1 + (d.T * Dinv * c).scalar()
