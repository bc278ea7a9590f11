"""A seeded gradient-descent experiment whose limits the tool classifies exactly.

Claim tested (Cheridito, Jentzen & Rossmannek, abstract): non-global local minima occur only
because of dead neurons. Every GD limit is snapped to an exact point and classified; every
exact non-global local minimum must have only inactive or dead-like semi-inactive neurons and
loss α²/12, and every critical limit must be a global minimum, such a local minimum or a saddle.
"""

from __future__ import annotations

import collections

import flint
import pytest

from symtrunc.landscape import Target, check_certificate, classify
from symtrunc.landscape.training import gradient_descent, random_start, snap


@pytest.mark.slow
def test_gradient_descent_limits_are_classified():
    t = Target(1, 0)
    verdicts = collections.Counter()
    for width in (1, 2):
        for seed in range(6):
            w, b, v, c = gradient_descent(*random_start(width, seed), t, steps=800, lr=0.2, grid=1024)
            phi = snap(w, b, v, c, t)
            r = classify(phi, t)
            verdicts[r.verdict] += 1
            if r.critical:
                assert r.verdict in ("global_min", "local_min", "saddle")
                assert check_certificate(phi, t, None, r.verdict, r.certificate)
            if r.verdict == "local_min":
                assert r.loss == flint.fmpq(1, 12)
                assert all(n.kind == "inactive" or (n.kind == "semi-inactive" and not n.degenerate) for n in r.neurons)
                assert not any(n.kind in ("active", "semi-active") for n in r.neurons)
    assert verdicts["global_min"] >= 1 and verdicts["local_min"] >= 1, verdicts
