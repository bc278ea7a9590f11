"""Exact verification: zero loss, layer invariants, costs; certified (float filter + exact) verification."""

from symtrunc.verify.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verify.certified import verify_certified
from symtrunc.verify.costs import costs
from symtrunc.verify.exact import verify

__all__ = ["Certificate", "Counterexample", "LayerCheck", "costs", "verify", "verify_certified"]
