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
# # Convex training of two-layer ReLU networks: certificates, optimal sets, pruning, paths
#
# `symtrunc.convex` implements the convex reformulation of Pilanci & Ergen (2020) and the
# optimal-set theory of Mishkin & Pilanci, *Optimal Sets and Solution Paths of ReLU Networks*
# (ICML 2023). The non-convex problem
# $\min \tfrac12\|\sum_j (XW_{1j})_+ w_{2j} - y\|^2 + \tfrac\lambda2\sum_j(\|W_{1j}\|^2 + w_{2j}^2)$
# equals the convex group lasso over activation patterns $D_i = \mathrm{diag}(1[Xg_i \ge 0])$
# $$\min_{w}\ \tfrac12\Big\|\sum_b Z_b w_b - y\Big\|^2 + \lambda \sum_b \|w_b\|_2
# \quad\text{s.t. } w_b \in K_b,$$
# with $Z_{(i,\pm)} = \pm D_i X$ and cones $K_i = \{w : (2D_i - I)Xw \ge 0\}$.
# (scnn, the authors' library, uses $\lambda_{\text{scnn}} = \lambda / n$.)

# %%
# %matplotlib inline
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from symtrunc.convex import (
    ConvexProgram,
    RegressionData,
    certify,
    certify_network,
    cover_count,
    enumerate_patterns,
    exact_optimal_set,
    float_optimal_set,
    lambda_max,
    plant,
    prune_exact,
    prune_float,
    regularization_path,
    solve_conic,
    solve_fista,
    to_network,
)

data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1], [-1, 2], [3, 1]],
                                  [1, 2, 2, 0, "0.5", -1], bias=True)   # explicit ones column
pats = enumerate_patterns(data)
print(len(pats), "non-zero patterns;", pats.chambers, "chambers; Cover's count", cover_count(data.n, data.d))

# %% [markdown]
# ## Fit and certificate
# The solver's answer is a float proposal. The certificate turns it into a theorem: exact
# rational primal value (weights repaired into the cones), an exactly dual-feasible point
# and an exact gap bound. Because *all* patterns were enumerated, the bound holds against
# every two-layer ReLU network of any width.

# %%
prog = ConvexProgram.create(data, "0.3")
sol = solve_conic(prog)
cert = certify(sol)
cert.check(prog)
print("objective", sol.objective, "active blocks", len(sol.active))
print(cert.statement())
net = to_network(prog, sol.weights)
print("network objective", net.objective(data, prog.lam), "width", net.width)
# the NumPy FISTA path (exact prox) on the gated-ReLU program of the same patterns, p*_GReLU <= p*_ReLU
gated = ConvexProgram(data, pats, prog.lam_sq, gated=True)
g_fista, g_conic = solve_fista(gated, tol=1e-9), solve_conic(gated)
print("gated: FISTA", g_fista.objective, "Clarabel", g_conic.objective, "<= ReLU", sol.objective)

# %% [markdown]
# A worse network is refused: its certified gap is large.

# %%
bad = to_network(prog, sol.weights * 0.9)
print(certify_network(prog, bad).statement())

# %% [markdown]
# ## Planted instances and the exact optimal set
# A planted instance has an exactly known optimum (reference §C). On the octagon the optimal
# set is a 3-dimensional polytope; its vertices are the minimal networks.

# %%
octagon = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]
inst = plant(octagon, [1] * 8)
print("lambda^2 =", inst.program.lam_sq, " p* =", inst.optimal_value)
print(certify(solve_conic(inst.program)).statement())
S = exact_optimal_set(inst.program, inst.weights)
print("E:", len(S.blocks), "blocks in", S.n_directions, "directions; dim =", S.dimension, "unique:", S.unique)
verts = S.vertices()
print(len(verts), "vertices; min-norm alpha:", S.min_norm_alpha())

# %% [markdown]
# ## Optimal pruning (Algorithm 1), exactly
# Fit and penalty are preserved *exactly* (the penalty identity is decided in
# $\mathbb{Q}(\sqrt{m})$), and the result has linearly independent activations.

# %%
res = prune_exact(inst.program, inst.weights)
print(len(inst.alphas), "->", len(res.active), "blocks; fit kept:", res.fit_preserved,
      "penalty kept:", res.penalty_preserved, "steps:", len(res.steps))
fl = prune_float(prog, sol.weights)
print("float pruning on the fitted model:", len(sol.active), "->", len(fl.active), "blocks")
print("optimal set of the fitted model (floats): dim", float_optimal_set(sol).dimension)

# %% [markdown]
# ## Regularization path
# From $\lambda_{\max}$ (exact: $\lambda_{\max}^2$ is rational, and $w = 0$ is optimal from there
# on) downwards; the checks test concavity of $p^*(\lambda)$, the derivative
# $p^{*\prime}(\lambda) = \sum_b\|w_b\|$ and the Lipschitz continuity of the fit. The default
# solver (Clarabel) starts each $\lambda$ afresh; `method="fista"` warm-starts every $\lambda$ from
# the previous solution (fewer iterations, shown on the gated program). `min_norm=True` adds the
# min-norm optimal solution (a float computation) at each $\lambda$.

# %%
print("lambda_max^2 =", lambda_max(prog)[0])
path = regularization_path(prog, n_lams=12, min_norm=True)
path.check()
print(path.table())
print("min-norm ||W||_F:", [round(float(np.linalg.norm(p.min_norm)), 4) for p in path.points])

# %% [markdown]
# The path as pictures: $p^*(\lambda)$ with short tangents of slope $\sum_b\|w_b\|$ (concave: the
# tangents lie above the curve); the block norms $\|w_b\|$ of the min-norm optimal solution, which
# is unique (the solver's own solution need not be, see the optimal set above), showing which
# neurons are active at which $\lambda$ below $\lambda_{\max}$; and the fit $\|\hat y - y\|$, Lipschitz
# in $\lambda$. The solver values are floats; the exact statement at one $\lambda$ is the
# certificate above.

# %%
lams = np.array([p.lam for p in path.points])
norms = np.array([np.linalg.norm(p.min_norm, axis=1) for p in path.points])    # rows: λ, columns: blocks
fig = Figure(figsize=(12, 3.8), layout="constrained")
ax1, ax2, ax3 = fig.subplots(1, 3)
ax1.plot(lams, [p.objective for p in path.points], "o-", color="#1f77b4", ms=4, label="$p^*(\\lambda)$")
for p in path.points:
    h = 0.2 * p.lam
    ax1.plot([p.lam - h, p.lam + h], [p.objective - h * p.derivative, p.objective + h * p.derivative], color="#ff7f0e",
             lw=1.5, label="slope $\\sum_b \\|w_b\\|$" if p is path.points[0] else None)
ax1.axvline(path.lam_max, color="#7f7f7f", ls="--", lw=0.8, label="$\\lambda_{\\max}$")
ax1.set_xlabel("$\\lambda$")
ax1.set_title("optimal value and its derivative")
ax1.legend(fontsize=8, frameon=False)
for b in np.flatnonzero(norms.max(axis=0) > 1e-6):
    ax2.plot(lams, norms[:, b], ".-", lw=1, ms=4, label=f"block {b}")
ax2.axvline(path.lam_max, color="#7f7f7f", ls="--", lw=0.8)
ax2.set_xscale("log")
ax2.set_xlabel("$\\lambda$ (log scale)")
ax2.set_title("min-norm solution: block norms $\\|w_b\\|$")
ax2.legend(fontsize=6, frameon=False, ncols=2)
ax3.plot(lams, [np.linalg.norm(p.fit - path.y) for p in path.points], "o-", color="#2ca02c", ms=4)
ax3.axvline(path.lam_max, color="#7f7f7f", ls="--", lw=0.8)
ax3.set_xlabel("$\\lambda$")
ax3.set_ylabel("$\\|\\hat y - y\\|$")
ax3.set_title("the fit along the path")
display(fig)

# %%
gated = ConvexProgram(prog.data, prog.patterns, prog.lam_sq, gated=True)
warm = regularization_path(gated, n_lams=6, method="fista", tol=1e-9)
cold = regularization_path(gated, n_lams=6, method="fista", tol=1e-9, warm_start=False)
print("FISTA iterations, warm vs cold starts:", sum(p.iterations for p in warm.points),
      sum(p.iterations for p in cold.points))
