"""Exact verification: zero loss, layer invariants, costs; certified (float filter + exact) verification."""

from symtrunc.loss import costs
from symtrunc.verification.api import verify
from symtrunc.verification.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verification.certified import verify_certified
from symtrunc.verification.recheck import read_certificate, recheck_certificate

__all__ = [
    "Certificate",
    "Counterexample",
    "LayerCheck",
    "costs",
    "read_certificate",
    "recheck_certificate",
    "verify",
    "verify_certified",
]
