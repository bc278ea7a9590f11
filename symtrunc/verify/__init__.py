"""Exact verification: zero loss, layer invariants, costs."""

from symtrunc.verify.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verify.costs import costs
from symtrunc.verify.exact import verify

__all__ = ["Certificate", "Counterexample", "LayerCheck", "costs", "verify"]
