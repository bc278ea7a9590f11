"""Exact verification: zero loss, layer invariants, costs; certified (float filter + exact) verification."""

from symtrunc.verification.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verification.certified import verify_certified
from symtrunc.loss import costs
from symtrunc.verification.exact import verify

__all__ = ["Certificate", "Counterexample", "LayerCheck", "costs", "verify", "verify_certified"]
