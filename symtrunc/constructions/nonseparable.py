r"""Binary data that are not linearly separable (Muñoz Ewald, arXiv 2504.18710, Cor. 3.2 / Thm 3.3).

If a ``d_0``-simplex ``S = conv{s_0, ..., s_{d_0}}`` contains one class (the *inner* class) and
every point of the other class lies strictly outside it, lift ``ι(x) = (x, 0) ∈ R^{d_0+1}``, put a
cone over the lifted simplex with apex ``p = (g, η)`` (``g`` the centroid of ``S``, height
``η > 0``) and edges ``v_i = p - ι(s_i)``, and take ``W = [v_0 ... v_{d_0}]^{-1}``, ``b = -W p``
(Lemma 2.1). Writing ``ι(x) = p + Σ a_i v_i`` gives ``a_i = -κ_i`` with ``κ`` the barycentric
coordinates of ``x`` in ``S``, so

* the inner class lies in the backward cone and collapses to ``p``;
* an outer point has some ``κ_i < 0``; its image ``p + Σ_{a_i > 0} a_i v_i`` has last coordinate
  ``η (1 + Σ_{κ_i < 0} |κ_i|) > η``: the hyperplane ``z_{d_0+1} = η (1 + ã/2)``,
  ``ã = min_outer Σ_{κ_i<0} |κ_i|``, separates the truncated data (Prop. 3.1 / Cor. 3.2).

A second cone layer (:func:`~symtrunc.geometry.cones.rational_cone`, the SLS cone of
arXiv 2405.07098 Lemma 3.4) with apex ``q = p + (η ã/2) e_{d_0+1}`` on that hyperplane collapses
the outer class to ``q`` and fixes ``p``; an affine output layer maps ``p ↦ y_inner``,
``q ↦ y_outer``. The network ``R^{d_0} → R^{d_0+1} → R^{d_0+1} → R^2`` is Theorem 3.3's shape and is
verified exactly (zero loss) before it is returned.

``finish="sls"`` runs the CE24 Theorem 5.2 construction on the lifted truncated data instead. It
does not apply in general: its base points lie on segments towards the barycenter of the
truncated class means, which can lie inside the convex hull of the truncated outer class (a ring
around a disk with one far outlier is an example).

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> inner = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]
>>> outer = [[5, 0], [0, 5], [-5, 0], [0, -5], [4, 4], [-4, 4], [-4, -4], [4, -4]]
>>> d = LabeledData.from_arrays(inner + outer, ["in"] * 5 + ["out"] * 8, check=False)
>>> net = construct_nonseparable(d)
>>> net.widths
(2, 3, 3, 2)
>>> from symtrunc.verification.exact import verify
>>> verify(net, d).zero_loss
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import flint

from symtrunc.constructions.common import check_network
from symtrunc.constructions.sls import construct_sls
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import OverlapCertificate, strictly_separate
from symtrunc.exact.matrix import exact_rows, qmatrix
from symtrunc.exact.rational import to_q
from symtrunc.geometry.cones import rational_cone
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import NonseparableRecord, SLSRecord, as_rows, as_vector, cone_recipe_from_json

__all__ = [
    "EnclosingSimplex",
    "LiftedCone",
    "barycentric_coordinates",
    "check_simplex",
    "find_enclosing_simplex",
    "lift_cone",
    "construct_nonseparable",
    "THEOREM_NONSEPARABLE",
]

_HULL_TESTS = 16  # exact hull-membership tests when the search fails (one small LP each)

THEOREM_NONSEPARABLE = "Theorem 3.3 (Muñoz Ewald, arXiv 2504.18710): binary data with one class inside a simplex"


@dataclass(frozen=True)
class EnclosingSimplex:
    """A ``d_0``-simplex (vertices as rows, shape ``(d_0 + 1, d_0)``) containing the points of
    class ``inner`` (closed simplex) with every other point strictly outside."""

    vertices: flint.fmpq_mat
    inner: int

    @property
    def centroid(self) -> flint.fmpq_mat:
        """``g = (1/(d_0+1)) Σ s_i`` as a column."""
        n, d = self.vertices.nrows(), self.vertices.ncols()
        return flint.fmpq_mat(d, 1, [sum((self.vertices[i, k] for i in range(n)), flint.fmpq(0)) / n for k in range(d)])


def barycentric_coordinates(vertices: Any, points: Any) -> flint.fmpq_mat:
    """Barycentric coordinates ``κ`` (columns, shape ``(d_0 + 1, n)``) of points (rows) in a simplex.

    Raises
    ------
    HypothesisError
        If the vertices are affinely dependent (a degenerate simplex).

    >>> barycentric_coordinates([[0, 0], [1, 0], [0, 1]], [[1, 1]]).transpose()
    [-1, 1, 1]
    """
    S, X = qmatrix(vertices, name="simplex"), qmatrix(points, name="points")
    d = S.ncols()
    if S.nrows() != d + 1 or X.ncols() != d:
        raise DataError(f"a {d}-simplex needs {d + 1} vertices of dimension {d}, and points of dimension {d}")
    n = X.nrows()
    T = flint.fmpq_mat(d + 1, d + 1, [S[i, k] for k in range(d) for i in range(d + 1)] + [1] * (d + 1))
    if T.rank() < d + 1:
        raise HypothesisError("the simplex is degenerate: its vertices are affinely dependent")
    rhs = flint.fmpq_mat(d + 1, n, [X[i, k] for k in range(d) for i in range(n)] + [1] * n)
    return T.solve(rhs)


def check_simplex(data: LabeledData, vertices: Any, inner: int) -> EnclosingSimplex:
    """Check exactly that the simplex contains class ``inner`` and excludes the other points.

    Raises
    ------
    HypothesisError
        With certificate ``{"point", "class", "barycentric"}`` for the first offending point.

    >>> d = LabeledData.from_arrays([[1, 1], [9, 9], [5, 0]], ["i", "o", "o"], check=False)
    >>> check_simplex(d, [[0, 0], [4, 0], [0, 4]], 0).inner
    0
    >>> check_simplex(d, [[0, 0], [6, 0], [0, 6]], 0)
    Traceback (most recent call last):
    ...
    symtrunc.errors.HypothesisError: point 2 of class 'o' lies in the simplex (barycentric coordinates 1/6, 5/6, 0)
    """
    S = qmatrix(vertices, name="simplex")
    K = barycentric_coordinates(S, data.X)
    for i, j in enumerate(data.y):
        kappa = [K[r, i] for r in range(K.nrows())]
        bad = any(k < 0 for k in kappa) if j == inner else all(k >= 0 for k in kappa)
        if bad:
            where = "lies outside" if j == inner else "lies in"
            raise HypothesisError(
                f"point {i} of class {data.classes[j]!r} {where} the simplex (barycentric coordinates "
                f"{', '.join(map(str, kappa))})",
                {"point": i, "class": data.classes[j], "barycentric": [str(k) for k in kappa]},
            )
    return EnclosingSimplex(S, inner)


def _fans(d: int, tries: int, seed: int):
    """Facet normals ``n_0..n_d`` of (rounded, rotated) regular simplices; ``Σ n_i = 0`` exactly."""
    import numpy as np

    V = np.eye(d + 1) - 1.0 / (d + 1)
    basis = np.linalg.qr(np.vstack([np.ones(d + 1), np.eye(d + 1)[:d]]).T)[0][:, 1:]
    regular = V @ basis  # vertices of a regular simplex centred at 0, in R^d
    rng = np.random.default_rng(seed)
    for k in range(tries):
        R = np.eye(d) if k == 0 else np.linalg.qr(rng.standard_normal((d, d)))[0]
        N = -(regular @ R.T)
        head = [[flint.fmpq(int(round(v * 16)), 16) for v in row] for row in N[:d]]
        last = [-sum((row[c] for row in head), flint.fmpq(0)) for c in range(d)]
        fan = exact_rows(head + [last], d)
        if fan.rank() == d and flint.fmpq_mat(d, d, [v for r in head for v in r]).rank() == d:
            yield fan


def find_enclosing_simplex(data: LabeledData, inner: int, *, tries: int = 64, seed: int = 0) -> EnclosingSimplex:
    """Search a simplex around class ``inner`` that excludes the other class, exactly checked.

    For rounded facet normals ``n_i`` of rotated regular simplices (``Σ n_i = 0``), the offsets
    ``c_i = max_inner ⟨n_i, x⟩ + m/2`` (``m > 0`` the smallest excess of an outer point over the
    tight offsets) give the simplex ``{⟨n_i, x⟩ ≤ c_i}``; its vertices are computed exactly and the
    result is re-checked by :func:`check_simplex`.

    Raises
    ------
    HypothesisError
        If no orientation works. When an outer point lies in the convex hull of the inner class,
        no simplex exists and the certificate is the exact
        :class:`~symtrunc.exact.lp.OverlapCertificate` (only outer points inside every simplex
        tried can be such points; up to 16 of them are tested); otherwise the search is
        inconclusive (certificate ``None``): give a simplex yourself.

    >>> d = LabeledData.from_arrays([[0, 0], [1, 1], [9, 9], [-9, 0]], ["i", "i", "o", "o"], check=False)
    >>> find_enclosing_simplex(d, 0).vertices
    [135/13,    9/26]
    [  -9/2, -171/22]
    [  -9/2,  108/11]
    """
    d = data.M
    X = data.X.transpose()
    ins = [i for i, j in enumerate(data.y) if j == inner]
    outs = [i for i, j in enumerate(data.y) if j != inner]
    inside_all = set(outs)  # outer points inside every simplex tried: the only ones that can lie in conv(inner)
    for fan in _fans(d, tries, seed):
        V = fan * X
        tight = [max(V[r, i] for i in ins) for r in range(d + 1)]
        excess = [max(V[r, i] - tight[r] for r in range(d + 1)) for i in outs]
        worst = min(range(len(outs)), key=excess.__getitem__)
        if excess[worst] <= 0:
            inside_all &= {i for i, e in zip(outs, excess) if e <= 0}
            continue
        c = [t + excess[worst] / 2 for t in tight]
        verts = []
        for k in range(d + 1):
            idx = [r for r in range(d + 1) if r != k]
            A = flint.fmpq_mat(d, d, [fan[r, s] for r in idx for s in range(d)])
            verts.append(A.solve(flint.fmpq_mat(d, 1, [c[r] for r in idx])).entries())
        return check_simplex(data, exact_rows(verts, d), inner)
    rows_ = data.X.tolist()
    A = exact_rows([rows_[i] for i in ins], d)
    for i in sorted(inside_all)[:_HULL_TESTS]:
        cert = strictly_separate(A, exact_rows([rows_[i]], d))
        if isinstance(cert, OverlapCertificate):
            raise HypothesisError(
                f"no simplex can enclose class {data.classes[inner]!r}: point {i} of class "
                f"{data.classes[data.y[i]]!r} lies in its convex hull (exact convex weights attached)",
                cert,
            )
    raise HypothesisError(
        f"no simplex enclosing class {data.classes[inner]!r} and excluding the other class was found "
        f"among {tries} orientations (this is not a proof that none exists): give one with simplex="
    )


@dataclass(frozen=True)
class LiftedCone:
    """The first layer of Theorem 3.3: the cone over the lifted simplex.

    Attributes
    ----------
    simplex : EnclosingSimplex
    apex : flint.fmpq_mat
        ``p = (g, η)``, shape ``(d_0 + 1, 1)``.
    tau : TruncationMap
        ``τ_{W,b}`` on ``R^{d_0+1}`` with ``W = [p - ι(s_0) ... p - ι(s_{d_0})]^{-1}``, ``b = -W p``.
    """

    simplex: EnclosingSimplex
    apex: flint.fmpq_mat
    tau: TruncationMap

    def lifted(self, X: flint.fmpq_mat) -> flint.fmpq_mat:
        """``ι(x) = (x, 0)`` for points as rows, returned as columns ``(d_0 + 1, n)``."""
        n, d = X.nrows(), X.ncols()
        return flint.fmpq_mat(d + 1, n, [X[i, k] for k in range(d) for i in range(n)] + [0] * n)


def lift_cone(simplex: EnclosingSimplex, height: Any = 1) -> LiftedCone:
    """The cone of Cor. 3.2 over ``ι(S)`` with apex ``(centroid, height)``.

    >>> s = EnclosingSimplex(qmatrix([[0, 0], [4, 0], [0, 4]]), 0)
    >>> lc = lift_cone(s)
    >>> lc.apex.transpose(), lc.tau(lc.lifted(qmatrix([[1, 1]]))).transpose()
    ([4/3, 4/3, 1], [4/3, 4/3, 1])
    """
    eta = to_q(height)
    if eta <= 0:
        raise DataError(f"the apex height must be positive, got {eta}")
    S = simplex.vertices
    d = S.ncols()
    p = flint.fmpq_mat(d + 1, 1, simplex.centroid.entries() + [eta])
    V = flint.fmpq_mat(
        d + 1, d + 1, [(p[k, 0] - (S[i, k] if k < d else 0)) for k in range(d + 1) for i in range(d + 1)]
    )
    W = V.inv()
    return LiftedCone(simplex, p, TruncationMap(W, -(W * p)))


def _separation(cone: LiftedCone, Z: flint.fmpq_mat, outer: list[int]) -> flint.fmpq:
    """Height ``η (1 + ã/2)`` of the separating hyperplane ``z_{d_0+1} = const`` of Cor. 3.2."""
    eta = cone.apex[cone.apex.nrows() - 1, 0]
    last = Z.nrows() - 1
    a = min((Z[last, i] - eta) / eta for i in outer)
    return eta * (1 + a / 2)


def construct_nonseparable(
    data: Any,
    *,
    inner: Any = None,
    simplex: Any = None,
    height: Any = 1,
    tries: int = 64,
    finish: str = "cone",
) -> ReLUNetwork:
    """Build the Theorem 3.3 network for binary data with one class inside a simplex.

    Parameters
    ----------
    data : LabeledData or path
        Two classes in ``R^{d_0}``. Concentric data have dependent class means; build them with
        ``LabeledData.from_arrays(..., check=False)``.
    inner : label, optional
        The class inside the simplex (default: try each class).
    simplex : array-like, optional
        Vertices (rows, ``(d_0 + 1, d_0)``) of your own simplex, checked exactly; default: search
        (:func:`find_enclosing_simplex`).
    height : rational
        Apex height ``η > 0``.
    tries : int
        Orientations tried by the search.
    finish : {"cone", "sls"}
        After the lift: ``"cone"`` (Theorem 3.3's shape, one more cone layer; always applicable)
        or ``"sls"`` (the Theorem 5.2 construction of arXiv 2405.07098 on the lifted truncated
        data, one cone layer per class; needs those data to be SLS).

    Returns
    -------
    ReLUNetwork
        Widths ``(d_0, d_0 + 1, d_0 + 1, 2)`` (``"cone"``) or ``(d_0, d_0 + 1, d_0 + 1, d_0 + 1, 2)``
        (``"sls"``), verified exactly (zero loss).

    Raises
    ------
    HypothesisError
        If the data are not binary, the given simplex does not separate (certificate: the point
        and its barycentric coordinates), or none is found (certificate: convex weights when an
        outer point lies in the convex hull of the inner class), or ``finish="sls"`` and the lifted
        truncated data are not SLS (certificate from :func:`~symtrunc.geometry.separability.find_sls`).
    """

    data = load_data(data)
    parts = _lift_and_truncate(data, inner, simplex, height, tries)
    if finish == "cone":
        net = _network(data, *parts)
    elif finish == "sls":
        net = _network_sls(data, *parts[:2])
    else:
        raise DataError(f"unknown finish {finish!r}; use 'cone' or 'sls'")
    check_network(net, data)  # never hand out an unverified network
    return net


def _network(data: LabeledData, cone: LiftedCone, Z: flint.fmpq_mat, sep: flint.fmpq) -> ReLUNetwork:
    """Layers of Theorem 3.3 from the lifted cone, the truncated data and the separating height."""
    S = cone.simplex
    d = data.M
    outer = [i for i, j in enumerate(data.y) if j != S.inner]
    p = cone.apex
    q = flint.fmpq_mat(d + 1, 1, p.entries()[:d] + [sep])
    e = flint.fmpq_mat(d + 1, 1, [0] * d + [-1])
    second = rational_cone(
        q, e, exact_rows([p.entries()], d + 1), exact_rows([[Z[k, i] for k in range(d + 1)] for i in outer], d + 1)
    )
    W, b = cone.tau.W, cone.tau.b
    Wc, bc = second.W, second.b
    y_in = flint.fmpq_mat(2, 1, [data.Y[r, S.inner] for r in range(2)])
    y_out = flint.fmpq_mat(2, 1, [data.Y[r, 1 - S.inner] for r in range(2)])
    diff = p - q
    A = (y_in - y_out) * diff.transpose() / (diff.transpose() * diff)[0, 0]
    c = y_out - A * q
    W2 = Wc * W.inv()
    W3 = A * Wc.inv()
    layers = (
        Layer(flint.fmpq_mat(d + 1, d, [W[r, k] for r in range(d + 1) for k in range(d)]), b, "relu"),
        Layer(W2, bc - W2 * b, "relu"),
        Layer(W3, c - W3 * bc, "identity"),
    )
    record = NonseparableRecord(
        theorem=THEOREM_NONSEPARABLE,
        label_matrix=as_rows(data.Y),
        cone="rational",
        finish="cone",
        inner_class=data.classes[S.inner],
        simplex=as_rows(S.vertices),
        apex=as_vector(p),
        separating_height=sep,
        second_apex=as_vector(q),
        second_cone=cone_recipe_from_json(second.recipe, second.parameters),
    )
    return ReLUNetwork(layers, classes=data.classes, construction=record)


def _network_sls(data: LabeledData, cone: LiftedCone, Z: flint.fmpq_mat) -> ReLUNetwork:
    """The lift layer followed by the Theorem 5.2 network of the lifted truncated data."""

    try:
        lifted = LabeledData.from_arrays(
            Z.transpose(), [data.classes[j] for j in data.y], classes=data.classes, Y=data.Y
        )
    except DataError as err:
        raise HypothesisError(f"the lifted truncated data do not meet the SLS standing assumptions ({err})") from None
    sls = construct_sls(lifted)
    W, b = cone.tau.W, cone.tau.b
    d = data.M
    first = sls.layers[0]
    V = first.W * W.inv()  # the SLS network reads z = τ(ι x) = W^{-1}(h - b)
    layers = (
        Layer(flint.fmpq_mat(d + 1, d, [W[r, k] for r in range(d + 1) for k in range(d)]), b, "relu"),
        Layer(V, first.b - V * b, "relu"),
    ) + sls.layers[1:]
    lifted_record = cast(SLSRecord, sls.construction)
    record = NonseparableRecord(
        theorem=THEOREM_NONSEPARABLE + " + Theorem 5.2 (arXiv 2405.07098) on the lifted data",
        label_matrix=as_rows(data.Y),
        cone=lifted_record.cone,
        finish="sls",
        inner_class=data.classes[cone.simplex.inner],
        simplex=as_rows(cone.simplex.vertices),
        apex=as_vector(cone.apex),
        sls_on_lifted_data=lifted_record,
    )
    return ReLUNetwork(layers, classes=data.classes, construction=record)


def _lift_and_truncate(data: LabeledData, inner: Any, simplex: Any, height: Any, tries: int):
    """``(LiftedCone, τ∘ι(X) as columns, separating height)``, with the hypotheses checked."""
    if data.Q != 2:
        raise HypothesisError(f"Theorem 3.3 is for binary data; got {data.Q} classes")
    if inner is None:
        candidates = [0, 1]
    else:
        if inner not in data.classes:
            raise DataError(f"unknown class {inner!r}; the classes are {list(data.classes)}")
        candidates = [data.classes.index(inner)]
    errors = []
    for j in candidates:
        try:
            S = check_simplex(data, simplex, j) if simplex is not None else find_enclosing_simplex(data, j, tries=tries)
            break
        except HypothesisError as err:
            errors.append(err)
    else:
        if len(errors) == 1:
            raise errors[0]
        raise HypothesisError(
            "no class can be enclosed: " + "; ".join(map(str, errors)), [err.certificate for err in errors]
        )
    cone = lift_cone(S, height)
    Z = cone.tau(cone.lifted(data.X))
    outer = [i for i, j in enumerate(data.y) if j != S.inner]
    return cone, Z, _separation(cone, Z, outer)
