# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
# ---

# %% [markdown]
# # Testing the L² claims of Chen & Muñoz Ewald exactly
#
# Paper A (arXiv 2309.10639) builds, for clustered data with input dimension `M = Q`, an explicit
# deep ReLU network with **zero** class-weighted cost `C_N` (Theorem 2.3), and claims that switching
# each of its `Q` truncation layers between *collapse* and *identity* gives `2^Q − 1` further
# degenerate **local** minima with the value (2.71)/(2.85) (Theorems 2.4–2.5).
#
# symtrunc builds every one of these networks with exact rational weights and tests each claim
# exactly: values by exact least squares, local minimality by the exact gradient of the cost
# after refitting the output layer (the network is piecewise affine in its parameters' region).

# %%
import random
from fractions import Fraction

import symtrunc
from symtrunc.claims.testers import check_claims, claims_table

rng = random.Random(2)
X, y = [], []
for j in range(3):                      # Q = 3 clusters in R^3 around 10·e_j + 1
    for _ in range(5):
        X.append([Fraction(10 if k == j else 0) + 1 + Fraction(rng.randint(-8, 8), 16) for k in range(3)])
        y.append(f"class{j}")
data = symtrunc.LabeledData.from_arrays(X, y)
print(data.summary())

# %% [markdown]
# ## Theorem 2.3: the global minimizer
# The hypotheses (δ < c₀ min|x̄_j − x̄| with c₀ < 1/4, the cone angles θ_{*,j} < π, the interval
# (2δ√Q, D) for |μ|) are decided exactly or with certified arb intervals.

# %%
from symtrunc.constructions.deep_l2 import construct_deep_l2, degeneracy

res = construct_deep_l2(data)
print("hypotheses:", res.hypotheses.to_json())
print("mu:", res.mu)
print("tau(X0) = X0bar[mu]:", res.tau_matches, " costs:", res.costs)
a, b = degeneracy(data)
print("two admissible mu, both zero cost:", a.mu != b.mu, a.costs["class_weighted"], b.costs["class_weighted"])

# %% [markdown]
# ## The configurations s ∈ {0,1}^Q
# For each configuration: the paper's value, the true minimum over the output layer (with bias),
# the bound ‖YΔ₁‖, and the exact local-minimality verdict.

# %%
from symtrunc.claims.configurations import configurations
from symtrunc.claims.minimality import local_minimality

for conf in configurations(data):
    rep = local_minimality(conf.network, data, probes=2)
    print(conf.bits, f"paper² ≈ {float(conf.paper):.3e}  true min² ≈ {float(conf.affine):.3e}",
          f"‖YΔ₁‖² ≈ {float(conf.bound):.3e}  ->", rep.verdict)

# %% [markdown]
# ## The full claims report
# (`symtrunc claims DATA` prints the same table; `--json` gives the exact records.)

# %%
claims = check_claims(data, probes=2)
print(claims_table(claims, width=160))

# %% [markdown]
# ## Reading the verdicts
# `holds` / `fails` (with an exact witness), `undecided` (the exact test neither proves nor refutes
# the claim) and `not applicable` (the data do not meet a family's hypotheses; the witness says why).
# A failing local-minimality claim carries an exact descent step: re-evaluate it independently.

# %%
from collections import Counter

print(Counter(c.verdict for c in claims))
mixed = next(c for c in claims if c.claim.startswith("degenerate local minimum") and c.verdict == "fails")
print(mixed.configuration, mixed.witness["summary"])
from symtrunc.exact.rational import to_q

before, after = to_q(mixed.witness["value_squared"]), to_q(mixed.witness["descent"]["value_after"])
print("exact decrease > 0:", after < before, f" C_N² ≈ {float(before):.6g} -> {float(after):.6g}")

# %% [markdown]
# ## Non-separable binary data (arXiv 2504.18710)
# Concentric data have dependent class means, so build them with `check=False`; the deep,
# shallow and two-layer families are then "not applicable" and the simplex-lift construction
# attains zero loss exactly.

# %%
inner = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]
outer = [[5, 0], [0, 5], [-5, 0], [0, -5], [4, 4], [-4, 4], [-4, -4], [4, -4]]
ring = symtrunc.LabeledData.from_arrays(inner + outer, ["in"] * 5 + ["out"] * 8, check=False)
print(claims_table(check_claims(ring), width=160))
