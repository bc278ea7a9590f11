"""The front door of the construction engine: :func:`construct`.

Examples
--------
>>> import symtrunc
>>> data = symtrunc.LabeledData.from_arrays(
...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
>>> net = symtrunc.construct(data)
>>> net.widths, net.construction.order
((2, 2, 2, 2), ('a', 'b'))
>>> symtrunc.verify(net, data).zero_loss
True
"""

from __future__ import annotations

from typing import Any

from symtrunc.constructions.clustered import construct_clustered
from symtrunc.constructions.deep_l2 import deep_l2_network
from symtrunc.constructions.float_robust import construct_float_robust
from symtrunc.constructions.nonseparable import construct_nonseparable
from symtrunc.constructions.sls import construct_sls
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError
from symtrunc.network import ReLUNetwork

__all__ = ["construct", "METHODS"]

METHODS = ("sls", "clustered", "deep_l2", "nonseparable")


def construct(data: Any, method: str = "sls", **options: Any) -> ReLUNetwork:
    """Build an exactly verified zero-loss ReLU network for labeled data.

    Parameters
    ----------
    data : LabeledData, path (.csv/.npz) or array
        See :func:`symtrunc.data.labeled.load_data`.
    method : {"sls", "clustered", "deep_l2", "nonseparable"}
        ``"sls"``: Theorem 5.2 (sequentially linearly separable data; order, hyperplanes and
        base points found automatically). ``"clustered"``: Proposition 4.1. ``"deep_l2"``:
        Theorem 2.3 of arXiv 2309.10639 (``M = Q``). ``"nonseparable"``: Theorem 3.3 of
        arXiv 2504.18710 (binary data, one class inside a simplex; a path is read without the
        standing-assumption check, since concentric data have dependent class means).
    **options
        Passed to :func:`~symtrunc.constructions.sls.construct_sls` (``order``, ``cone``,
        ``normals``, ``t``, ``angles``, ``epsilon``, ``max_nodes``), or with ``robust="float32"``
        (or ``"float64"``) to :func:`~symtrunc.constructions.float_robust.construct_float_robust`
        (``order``, ``max_nodes``): the same theorem with its free parameters chosen so that the
        network evaluated in that float type keeps its margins (power-of-two coordinates,
        max-margin normals in the float-error norm, short integers); or
        :func:`~symtrunc.constructions.clustered.construct_clustered` (``cone``, ``mu``,
        ``widths``, ``check_hypotheses``) or
        :func:`~symtrunc.constructions.deep_l2.construct_deep_l2` (``cone``, ``layers``, ``t``,
        ``c0``, ``theta_star``) or
        :func:`~symtrunc.constructions.nonseparable.construct_nonseparable` (``inner``,
        ``simplex``, ``height``, ``tries``, ``finish``; ``cone`` may only be ``"rational"``, the
        cone that construction uses).

    Returns
    -------
    ReLUNetwork
        Already verified: zero loss, and for ``"sls"``, ``"clustered"`` and ``"deep_l2"`` the
        layer invariants (one class collapsed per hidden layer); exactly, or from
        :data:`~symtrunc.constructions.common.CERTIFIED_FROM` points by the certified method
        (float filter with rigorous bounds, exact fallback: the same statement, proved).

    Raises
    ------
    HypothesisError
        If the data violate the theorem's hypotheses (carries the exact certificate).
    DataError
        If the data are malformed.
    """
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    robust = options.pop("robust", None)
    if robust is not None and method != "sls":
        raise DataError(f"robust={robust!r} applies to method 'sls' (Theorem 5.2), not {method!r}")
    data = load_data(data, check=method != "nonseparable")
    _check_size(data)
    if method == "nonseparable":
        return _nonseparable(data, **options)
    if method == "sls":
        if robust is None:
            return construct_sls(data, **options)
        return _robust(data, robust, **options)
    if method == "clustered":
        return construct_clustered(data, **options)
    return deep_l2_network(data, **options)


def _robust(data: Any, robust: str, *, cone: str = "rational", **options: Any) -> ReLUNetwork:
    """``robust=...``: the float-robust choice of the free parameters (rational cone, found normals).

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
    >>> construct(d, robust="float32").construction.hyperplanes
    'robust float32'
    >>> construct(d, robust="float32", t=["1/2", "1/2"])
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: robust='float32' chooses the normals, t and epsilon itself; it does not take t
    """
    if cone != "rational":
        raise DataError(f"robust={robust!r} uses the rational cone, not cone={cone!r}")
    given = [k for k in ("normals", "t", "angles", "epsilon") if options.get(k) is not None]
    if given:
        raise DataError(f"robust={robust!r} chooses the normals, t and epsilon itself; it does not take {given[0]}")
    return construct_float_robust(data, robust, **{k: v for k, v in options.items() if v is not None})


MAX_WEIGHTS = 10_000_000
"""Largest ``Q·M²`` (about the number of exact weights: ``Q`` hidden layers of ``M x M``) that
:func:`construct` builds; wider data are refused at once (``M = 1000, Q = 2`` takes about a minute,
and time grows faster than ``M²``)."""


def _check_size(data: Any) -> None:
    """Refuse data whose network is hopelessly large, before any work.

    >>> from symtrunc.data.labeled import LabeledData
    >>> _check_size(LabeledData.from_arrays([[1] + [0] * 2999, [0, 1] + [0] * 2998], ["a", "b"]))
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: data in R^3000 with 2 classes: the network would have about 18,000,000 exact weights (2 hidden layers of 3000 x 3000), more than symtrunc builds (MAX_WEIGHTS = 10,000,000); reduce the dimension first (the 2 points span at most 2 dimensions)
    """
    M, Q, N = data.M, data.Q, data.N
    if Q * M * M > MAX_WEIGHTS:
        raise DataError(
            f"data in R^{M} with {Q} classes: the network would have about {Q * M * M:,} exact weights "
            f"({Q} hidden layers of {M} x {M}), more than symtrunc builds (MAX_WEIGHTS = {MAX_WEIGHTS:,}); "
            f"reduce the dimension first (the {N} points span at most {min(N, M)} dimensions)"
        )


def _nonseparable(data: Any, cone: str | None = None, **options: Any) -> ReLUNetwork:
    """Theorem 3.3 of arXiv 2504.18710; its second layer is always the rational cone.

    >>> from symtrunc.data.labeled import LabeledData
    >>> pts = [[0, 0], [1, 0], [0, 1], [5, 0], [0, 5], [-5, -5]]
    >>> ring = LabeledData.from_arrays(pts, list("iiiooo"), check=False)
    >>> construct(ring, "nonseparable").widths
    (2, 3, 3, 2)
    >>> construct(ring, "nonseparable", cone="paper")
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: no 'paper' cone recipe for the nonseparable construction (it uses the rational cone)
    """

    if cone not in (None, "rational"):
        raise DataError(f"no {cone!r} cone recipe for the nonseparable construction (it uses the rational cone)")
    return construct_nonseparable(data, **options)
