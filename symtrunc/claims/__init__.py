"""Exact testers of the papers' claims (the L² family) and local-minimality tests."""

from symtrunc.claims.record import Claim
from symtrunc.claims.testers import check_claims, claims_table

__all__ = ["Claim", "check_claims", "claims_table"]
