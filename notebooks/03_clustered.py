# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Clustered data (Proposition 4.1) and the degenerate family of minimizers
#
# Proposition 4.1 of Chen & Muñoz Ewald (arXiv 2405.07098) builds a zero-loss network for data
# whose classes are small clusters far from each other. Its hypotheses are decided exactly:
#
# * (4.2) $16\,\delta^2 < \min_j |\bar x_{0,j} - \bar x|^2$ (clusters small compared with their
#   distance to the barycenter);
# * (4.6) every other cluster's $4\delta$-ball lies ahead of $\bar x_{0,j}$ in the direction
#   $f_j$ of the barycenter.
#
# Both are compared after squaring, so no square roots are needed.

# %%
# %matplotlib inline
from IPython.display import Markdown, display

import symtrunc
from symtrunc.constructions.clustered import check_clustered
from symtrunc.latex import to_markdown
from symtrunc.plot import plot_steps
from symtrunc.plot.polygon import Polygon

noise = [(0, 0), (1, 0), (0, 1), (1, 1), ("1/2", "1/2")]
X, y = [], []
for label, (cx, cy) in {"north": (1, 12), "east": (12, 1)}.items():
    for dx, dy in noise:
        X.append([symtrunc.exact.rational.to_q(cx) + symtrunc.exact.rational.to_q(dx),
                  symtrunc.exact.rational.to_q(cy) + symtrunc.exact.rational.to_q(dy)])
        y.append(label)
data = symtrunc.LabeledData.from_arrays(X, y)
hyp = check_clustered(data)
print(data.summary())
print("δ² =", hyp.delta_squared, "| |x̄_j - x̄|² =", [str(v) for v in hyp.distances_squared])
print("(4.2):", hyp.condition_4_2, "| (4.6):", hyp.condition_4_6)

# %% [markdown]
# ## The network of Proposition 4.1
#
# Layer $l$ collapses class $l$ to $p_l = \bar x_{0,l} + \mu_l f_l$ with $\mu_l \in (2\delta, 3\delta)$
# (default $\mu = 5\delta/2$, made rational).

# %%
net = symtrunc.construct(data, method="clustered")
print([(s.label, s.base_point, s.mu_over_delta_target, s.mu_over_delta_squared) for s in net.construction.steps])
print(symtrunc.verify(net, data).table())
box = Polygon.box(-2, 16, -2, 16)
plot_steps(net, data, box=box)

# %% [markdown]
# ## The degenerate family
#
# The minimizers are far from unique. With `method="sls"` every admissible choice of the
# hyperplane normals $h_l$ and of the positions $t_l \in (0, 1)$ of the base points on the
# segments $[\bar x_{0,l}, \bar x]$ gives another exact global minimizer (zero loss). Each choice is
# checked against Definition 5.1 and Lemma 3.4; an inadmissible one is refused with the point
# that violates it.

# %%
members = {}
for h, t in [((-1, 1), "1/4"), ((-1, 1), "3/4"), ((-2, 1), "1/2"), ((-1, 3), "1/2")]:
    members[(h, t)] = symtrunc.construct(data, normals=[list(h), [-v for v in h]], t=[t, t])
for (h, t), member in members.items():
    c = symtrunc.verify(member, data).costs
    print(f"h_1 = {h}, t = {t}: base points {[s['base_point'] for s in member.construction['steps']]}, "
          f"cost C_N = {c['class_weighted']}")

# %% [markdown]
# Two members of the family, drawn with the same box: different cones and base points, the same
# (zero) loss.

# %%
plot_steps(members[((-1, 1), "1/4")], data, box=box)

# %%
plot_steps(members[((-1, 3), "1/2")], data, box=box)

# %% [markdown]
# An inadmissible choice: a hyperplane that does not separate the first class from the rest.

# %%
try:
    symtrunc.construct(data, normals=[[1, 0], [-1, 0]], t=["1/2", "1/2"])
except symtrunc.HypothesisError as e:
    print("refused:", e)

# %% [markdown]
# The formulas of one member:

# %%
display(Markdown(to_markdown(members[((-1, 1), "3/4")])))
