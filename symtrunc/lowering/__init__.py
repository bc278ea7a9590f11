"""Lowering exact networks to fast float networks: structure detection, float layers, kernels,
and certificates of what the floats do on given points."""

from symtrunc.lowering.float_certificate import FloatCertificate, certify_floats
from symtrunc.lowering.float_network import FloatNetwork, FloatStructure, float_layers, lower
from symtrunc.lowering.structure import LayerStructure, detect_structure

__all__ = [
    "FloatCertificate",
    "FloatNetwork",
    "FloatStructure",
    "LayerStructure",
    "certify_floats",
    "detect_structure",
    "float_layers",
    "lower",
]
