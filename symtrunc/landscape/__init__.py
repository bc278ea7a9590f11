r"""Landscape of shallow networks for affine targets (Cheridito, Jentzen & Rossmannek).

Exact true loss, generalized gradient, Hessian, neuron types and critical-point
classification with exact certificates, for N^φ(x) = c + Σ_j v_j σ(w_j x + b_j) on [lo, hi]
with the uniform measure and f(x) = αx + β; generators of critical points of every kind;
exact loss and gradient for input dimension d > 1 (:mod:`~symtrunc.landscape.multivariate`).

Examples
--------
>>> from symtrunc.landscape import ShallowParams, Target, classify, sawtooth
>>> classify(sawtooth(Target(1, 0), 4), Target(1, 0)).verdict
'saddle'
"""

from symtrunc.landscape.activations import ACTIVATIONS, Activation
from symtrunc.landscape.certificates import (
    check_descent_ray,
    check_negative_curvature,
    descent_ray,
    negative_curvature,
)
from symtrunc.landscape.critical import (
    VERDICTS,
    Classification,
    check_certificate,
    classify,
)
from symtrunc.landscape.generators import (
    b0_saddle,
    global_minimum,
    sawtooth,
    sawtooth_loss,
)
from symtrunc.landscape.multivariate import MultiParams, box_gradient, box_loss
from symtrunc.landscape.neurons import NeuronType, neuron_types
from symtrunc.landscape.objective import (
    directional_derivative,
    gradient,
    hessian,
    is_differentiable,
    is_twice_differentiable,
    loss,
    smoothness,
)
from symtrunc.landscape.params import (
    Interval,
    ShallowParams,
    Target,
    load_params,
    params_from_dict,
)
from symtrunc.landscape.quadratic_forms import inertia, negative_direction

__all__ = [
    "ACTIVATIONS",
    "VERDICTS",
    "Activation",
    "Classification",
    "Interval",
    "MultiParams",
    "NeuronType",
    "ShallowParams",
    "Target",
    "b0_saddle",
    "box_gradient",
    "box_loss",
    "check_certificate",
    "check_descent_ray",
    "check_negative_curvature",
    "classify",
    "descent_ray",
    "directional_derivative",
    "global_minimum",
    "gradient",
    "hessian",
    "inertia",
    "is_differentiable",
    "is_twice_differentiable",
    "load_params",
    "loss",
    "negative_curvature",
    "negative_direction",
    "neuron_types",
    "params_from_dict",
    "sawtooth",
    "sawtooth_loss",
    "smoothness",
]
