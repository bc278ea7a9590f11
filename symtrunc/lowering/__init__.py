"""Lowering exact networks to fast float networks: structure detection, float layers, kernels."""

from symtrunc.lowering.float_network import FloatNetwork, FloatStructure, LayerStructure, detect_structure, lower

__all__ = ["FloatNetwork", "FloatStructure", "LayerStructure", "detect_structure", "lower"]
