r"""Certified verification: a float64 filter with rigorous error bounds and an exact fallback.

:func:`verify_certified` proves the same statement as :func:`symtrunc.verify` (zero loss, and
the collapse structure when the layers have it) for any number of
points, streamed in chunks (:mod:`symtrunc.data.stream`), locally or on a Dask cluster. No claim
rests on an uncertified float comparison:

1. **Float filter.** Each chunk goes through the hidden layers in float64 together with a
   rigorous upper bound ``Ê`` of the float error of every pre-activation (point and neuron).
   A neuron whose float value satisfies ``|z̃| > Ê`` has a *certified sign*. If every neuron of a
   point is certified, its exact activation pattern is known; otherwise the point is
   **ambiguous** and is evaluated again in exact integer arithmetic
   (:mod:`symtrunc.exact.evaluate`). For the rational-cone networks, whose all-positive
   prefix maps are ``αI + 1gᵀ``, the points first go through the structured kernel
   (:mod:`~.kernel`: compiled with numba when installed, NumPy otherwise), which settles a
   point whose layers are certified all positive until one certified all negative, with no
   per-point pattern: the points are grouped by that layer. The rest go through the general
   filter.
2. **Exact affine map per pattern.** On a fixed activation pattern the network is one affine
   map; it is composed exactly in python-flint (0/1 masks between the exact layers, cached per
   process). When its linear part is zero (every point of the constructed networks collapses)
   the output is a constant, compared exactly with each point's target; otherwise the points'
   outputs are computed exactly.
3. **Invariants.** The certified signs are exact facts, so the construction's sign invariants
   (class of collapse layer ``l``: all pre-activations ``≤ 0`` at layer ``l``, every other point
   ``≥ 0``) are checked per pattern. Points that collapsed carry the zero activation vector,
   whose later pre-activations are computed exactly.


The modules: :mod:`~.bounds` (rigorous IEEE error bounds, rounding of maps and inputs),
:mod:`~.maps` (exact affine maps per pattern, per-process caches), :mod:`~.patterns` (exact
grouping of packed patterns), :mod:`~.kernel` (the structured kernel),
:mod:`~.float_filter` (the filter of one chunk),
:mod:`~.worker` (the picklable chunk worker: exact checks and fallback), :mod:`~.plan` (what a
run checks, what a chunk reports) and :mod:`~.driver` (:func:`verify_certified`).

Examples
--------
>>> import numpy as np, symtrunc
>>> X = np.array([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]])
>>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
>>> net = symtrunc.construct(symtrunc.LabeledData.from_arrays(X, y.tolist()))
>>> cert = verify_certified(net, X, labels=y)
>>> cert.zero_loss, cert.method, cert.extra["points_float_certified"] + cert.extra["points_exact"]
(True, 'certified', 8)
"""

from symtrunc.verification.certified.driver import verify_certified

__all__ = ["verify_certified"]
