"""Exact geometry of the constructions: truncation maps, polyhedral cones, cone recipes and
sequential linear separability."""

from symtrunc.geometry.separability import NotSLSCertificate, SLSCertificate, SLSStep, find_sls
from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap

__all__ = ["NotSLSCertificate", "PolyhedralCone", "SLSCertificate", "SLSStep", "TruncationMap", "find_sls"]
