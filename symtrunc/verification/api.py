"""The public :func:`verify`: exact verification, or the certified float filter with exact fallback.

It sits above both methods (:mod:`symtrunc.verification.exact` and
:mod:`symtrunc.verification.certified`), so that neither imports the other.

Examples
--------
>>> import symtrunc
>>> data = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
>>> net = symtrunc.construct(data)
>>> verify(net, data).zero_loss, verify(net, data, method="certified").method
(True, 'certified')
>>> verify(net, data, method="fast")
Traceback (most recent call last):
...
symtrunc.errors.DataError: unknown verification method 'fast'; use 'exact' or 'certified'
"""

from __future__ import annotations

from typing import Any

from symtrunc.errors import DataError
from symtrunc.network import ReLUNetwork
from symtrunc.verification.certificate import Certificate
from symtrunc.verification.certified import verify_certified
from symtrunc.verification.exact import verify as verify_exact

__all__ = ["verify"]


def verify(
    network: ReLUNetwork,
    data: Any,
    *,
    invariants: bool = True,
    label_matrix: Any = None,
    method: str = "exact",
    **options: Any,
) -> Certificate:
    """Prove that ``network`` maps every training point to its label.

    Parameters
    ----------
    network : ReLUNetwork
    data : LabeledData or path
        With ``method="certified"``: anything :func:`symtrunc.data.stream.open_source` accepts
        (arrays with ``labels=``, ``.npy``/``.npz``/``.csv`` files, shard patterns, dask arrays).
    invariants : bool
        Also prove the collapse structure when the layers have it (read off the layers,
        :mod:`symtrunc.verification.collapse`; metadata stored with the network are never read).
    label_matrix : array-like or mapping, optional
        The targets (:func:`~symtrunc.verification.targets.class_targets`; must be invertible):
        column ``j`` is the target of the data's class ``j``, or ``{label: vector}``. Default:
        the data's label matrix, one-hot in the network's output order.
    method : {"exact", "certified"}
        ``"exact"``: exact integer arithmetic on every point
        (:func:`symtrunc.verification.exact.verify`). ``"certified"``: a float64 filter with
        rigorous error bounds and exact fallback, streamed in chunks
        (:func:`symtrunc.verification.certified.verify_certified`; same guarantee, much faster on
        many points).
    **options
        For ``method="certified"``: ``labels``, ``chunk_size``, ``client``, ``timeout``, ``progress``, ``tuning``,
        ``digests``.

    Returns
    -------
    Certificate

    Raises
    ------
    VerificationError
        With ``.counterexample`` (:class:`~symtrunc.verification.certificate.Counterexample`):
        the first failing point, layer, neuron and exact value.
    DataError
        If the data do not fit the network (dimension, unknown labels), or an unknown method.
    FormatError
        If the network lists a class twice or a wrong number of classes.
    TypeError
        Options given with ``method="exact"``.
    """
    if method == "certified":
        return verify_certified(network, data, invariants=invariants, label_matrix=label_matrix, **options)
    if method != "exact":
        raise DataError(f"unknown verification method {method!r}; use 'exact' or 'certified'")
    if options:
        raise TypeError(f"verify() got unexpected keyword argument(s) for method='exact': {', '.join(sorted(options))}")
    return verify_exact(network, data, invariants=invariants, label_matrix=label_matrix)
