"""symtrunc: exact deep-learning theory for ReLU networks.

Build the explicit zero-loss networks of Chen & Muñoz Ewald (arXiv 2405.07098) with exact
rational weights, and prove that they interpolate the data.

>>> import symtrunc
>>> net = symtrunc.construct(symtrunc.load_wine())
>>> symtrunc.verify(net, symtrunc.load_wine()).zero_loss
True
"""

from symtrunc.classifier import TruncationClassifier
from symtrunc.constructions import METHODS, construct
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.datasets import load_wine
from symtrunc.errors import (
    DataError,
    FormatError,
    HypothesisError,
    SymtruncError,
    UncertifiedError,
    VerificationError,
)
from symtrunc.explanation import explain
from symtrunc.io.export import export
from symtrunc.io.json import load_network, save_network
from symtrunc.io.trained import import_network
from symtrunc.latex.printer import to_latex
from symtrunc.lowering.float_network import FloatNetwork, lower
from symtrunc.latex.report import write_report
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.geometry.separability import find_sls
from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap
from symtrunc.verification import Certificate, costs, verify
from symtrunc.claims.record import Claim
from symtrunc.claims.testers import check_claims
from symtrunc.loss import OutputFit, optimal_output_layer

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "Certificate",
    "Claim",
    "FloatNetwork",
    "DataError",
    "FormatError",
    "HypothesisError",
    "LabeledData",
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
