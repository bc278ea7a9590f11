"""Convex reformulation of two-layer ReLU networks (Pilanci & Ergen 2020; Mishkin & Pilanci 2023).

Modules, in the order of the mathematics:

* :mod:`~symtrunc.convex.regression` exact regression data ``(X, y)``;
* :mod:`~symtrunc.convex.patterns` activation patterns (exact enumeration, sampling, Cover's count);
* :mod:`~symtrunc.convex.program` the convex program (C-ReLU / C-GReLU) and its scaling;
* :mod:`~symtrunc.convex.solvers` Clarabel (working sets built directly; the whole program
  through cvxpy on request) and NumPy FISTA;
* :mod:`~symtrunc.convex.mapping` two-layer networks and the solution mappings;
* :mod:`~symtrunc.convex.cones`, :mod:`~symtrunc.convex.radicals` exact cone projections and
  square roots;
* :mod:`~symtrunc.convex.certificate` rigorous duality-gap certificates;
* :mod:`~symtrunc.convex.planted` instances with exactly known optima;
* :mod:`~symtrunc.convex.optimal_set` the optimal polytope, its dimension, vertices, min-norm point;
* :mod:`~symtrunc.convex.pruning` optimal pruning (Algorithm 1) and approximate pruning;
* :mod:`~symtrunc.convex.minimal` a solver's solution pruned to a network whose minimality
  (independent activations) is proved exactly;
* :mod:`~symtrunc.convex.path` regularization paths;
* :mod:`~symtrunc.convex.sensitivity` ``dw/dλ`` at a unique, minimal optimum;
* :mod:`~symtrunc.convex.scnn_bridge` comparison with the authors' library ``scnn``.

Examples
--------
>>> from symtrunc.convex import RegressionData, ConvexProgram, solve, certify
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1]], [1, 2, 2, 0])
>>> cert = certify(solve(ConvexProgram.create(data, "0.5"), "fista"))
>>> cert.certified(1e-6), cert.global_
(True, True)
"""

from symtrunc.convex.certificate import (
    DualCertificate,
    OptimalityCertificate,
    certify,
    certify_network,
    certify_weights,
)
from symtrunc.convex.mapping import TwoLayerNetwork, from_network, to_network
from symtrunc.convex.minimal import MinimalityCertificate, MinimalPruning, prune_minimal
from symtrunc.convex.optimal_set import OptimalSet, exact_optimal_set, float_optimal_set
from symtrunc.convex.path import RegularizationPath, lambda_max, regularization_path
from symtrunc.convex.patterns import (
    ActivationPatterns,
    count_chambers,
    cover_count,
    enumerate_patterns,
    in_general_position,
    patterns_from_masks,
    sample_patterns,
)
from symtrunc.convex.planted import PlantedInstance, plant
from symtrunc.convex.program import ConvexProgram, ConvexSolution, lam_from_scnn, lam_to_scnn
from symtrunc.convex.pruning import (
    PruningResult,
    fits_independent,
    prune_approximate,
    prune_exact,
    prune_float,
    prune_network,
)
from symtrunc.convex.regression import RegressionData
from symtrunc.convex.sensitivity import weight_derivative
from symtrunc.convex.solvers import solve, solve_conic, solve_fista

__all__ = [
    "ActivationPatterns",
    "ConvexProgram",
    "ConvexSolution",
    "DualCertificate",
    "MinimalPruning",
    "MinimalityCertificate",
    "OptimalSet",
    "OptimalityCertificate",
    "PlantedInstance",
    "PruningResult",
    "RegressionData",
    "RegularizationPath",
    "TwoLayerNetwork",
    "certify",
    "certify_network",
    "certify_weights",
    "count_chambers",
    "cover_count",
    "enumerate_patterns",
    "exact_optimal_set",
    "fits_independent",
    "float_optimal_set",
    "from_network",
    "in_general_position",
    "lam_from_scnn",
    "lam_to_scnn",
    "lambda_max",
    "patterns_from_masks",
    "plant",
    "prune_approximate",
    "prune_exact",
    "prune_minimal",
    "prune_float",
    "prune_network",
    "regularization_path",
    "sample_patterns",
    "solve",
    "solve_conic",
    "solve_fista",
    "to_network",
    "weight_derivative",
]
