"""symtrunc: exact deep-learning theory for ReLU networks.

Build the explicit zero-loss networks of Chen & Muñoz Ewald (arXiv 2405.07098) with exact
rational weights, and prove that they interpolate the data.

>>> import symtrunc
>>> net = symtrunc.construct(symtrunc.load_wine())
>>> symtrunc.verify(net, symtrunc.load_wine()).zero_loss
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from symtrunc.errors import (
    DataError,
    FormatError,
    HypothesisError,
    MissingDependencyError,
    SymtruncError,
    UncertifiedError,
    VerificationError,
)

#: Public names and the modules defining them. They are imported on first use, so that
#: ``import symtrunc.X`` and ``symtrunc --help`` do not load every stage (sympy, the
#: constructions, the exporters, ...).
_LAZY = {
    "TruncationClassifier": "symtrunc.classifier",
    "METHODS": "symtrunc.constructions",
    "construct": "symtrunc.constructions",
    "LabeledData": "symtrunc.data.labeled",
    "load_data": "symtrunc.data.labeled",
    "load_wine": "symtrunc.datasets",
    "explain": "symtrunc.explanation",
    "export": "symtrunc.io.export",
    "load_network": "symtrunc.io.json",
    "save_network": "symtrunc.io.json",
    "import_network": "symtrunc.io.trained",
    "to_latex": "symtrunc.latex.objects",
    "FloatNetwork": "symtrunc.lowering.float_network",
    "lower": "symtrunc.lowering.float_network",
    "write_report": "symtrunc.latex.report",
    "Layer": "symtrunc.network",
    "ReLUNetwork": "symtrunc.network",
    "find_sls": "symtrunc.geometry.separability",
    "PolyhedralCone": "symtrunc.geometry.truncation",
    "TruncationMap": "symtrunc.geometry.truncation",
    "Certificate": "symtrunc.verification",
    "costs": "symtrunc.verification",
    "verify": "symtrunc.verification",
    "Claim": "symtrunc.claims.record",
    "check_claims": "symtrunc.claims.testers",
    "OutputFit": "symtrunc.loss",
    "optimal_output_layer": "symtrunc.loss",
}

if TYPE_CHECKING:
    from symtrunc.claims.record import Claim
    from symtrunc.claims.testers import check_claims
    from symtrunc.classifier import TruncationClassifier
    from symtrunc.constructions import METHODS, construct
    from symtrunc.data.labeled import LabeledData, load_data
    from symtrunc.datasets import load_wine
    from symtrunc.explanation import explain
    from symtrunc.geometry.separability import find_sls
    from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap
    from symtrunc.io.export import export
    from symtrunc.io.json import load_network, save_network
    from symtrunc.io.trained import import_network
    from symtrunc.latex.objects import to_latex
    from symtrunc.latex.report import write_report
    from symtrunc.loss import OutputFit, optimal_output_layer
    from symtrunc.lowering.float_network import FloatNetwork, lower
    from symtrunc.network import Layer, ReLUNetwork
    from symtrunc.verification import Certificate, costs, verify


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'symtrunc' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)  # lazy: start-up time
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public surface only (``__all__``, ``__version__``), as tab completion shows it."""
    return sorted([*__all__, "__version__"])


__version__ = "0.2.0"

__all__ = [
    "METHODS",
    "Certificate",
    "Claim",
    "FloatNetwork",
    "DataError",
    "FormatError",
    "HypothesisError",
    "LabeledData",
    "MissingDependencyError",
    "OutputFit",
    "Layer",
    "PolyhedralCone",
    "ReLUNetwork",
    "SymtruncError",
    "TruncationClassifier",
    "TruncationMap",
    "UncertifiedError",
    "VerificationError",
    "__version__",
    "check_claims",
    "construct",
    "costs",
    "explain",
    "export",
    "import_network",
    "lower",
    "optimal_output_layer",
    "find_sls",
    "load_data",
    "load_network",
    "load_wine",
    "save_network",
    "to_latex",
    "write_report",
    "verify",
]
