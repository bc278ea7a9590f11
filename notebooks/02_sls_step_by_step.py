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
# # Theorem 5.2 step by step
#
# A small 2-D example (the reference dossier's worked example): class `a` near $(5/2, 1/2)$,
# class `b` near $(1/2, 5/2)$. We follow the proof of Theorem 5.2 of Chen & Muñoz Ewald
# (arXiv 2405.07098) one layer at a time and draw every step exactly.

# %%
# %matplotlib inline
from IPython.display import Markdown, display

import symtrunc
from symtrunc.latex import to_markdown
from symtrunc.plot import plot_decision_regions, plot_step, plot_steps
from symtrunc.plot.polygon import Polygon, truncation_steps

data = symtrunc.LabeledData.from_arrays(
    [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
print(data.summary())
display(Markdown("class means $\\bar x_{0,j}$ (columns): " + to_markdown(data.means)))
display(Markdown("barycenter $\\bar x$: " + to_markdown(data.barycenter)))

# %% [markdown]
# ## 1. Sequential linear separability (Definition 5.1)
#
# `find_sls` searches an order. At step $j$ class $j$ must be strictly separated from the later
# classes, the earlier base points and the barycenter by a hyperplane $\langle h_j, x\rangle = c_j$.
# Every "yes" is a rational hyperplane checked exactly; every "no" is an exact overlap certificate.

# %%
cert = symtrunc.find_sls(data)
for k, step in enumerate(cert.steps, 1):
    print(f"step {k}: class {data.classes[step.class_index]!r}, normal h = {step.normal.entries()}, "
          f"t = {step.t}, base point p = {step.base_point.entries()}")

# %% [markdown]
# ## 2. The network
#
# We use the hyperplanes of the dossier ($h_1 = (-1, 1)$, $h_2 = (1, -1)$, $t = 3/4$): a member of
# the degenerate family of minimizers. `construct` checks the choice against Definition 5.1 and
# Lemma 3.4 and verifies the network.

# %%
net = symtrunc.construct(data, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])
display(Markdown(to_markdown(net)))

# %% [markdown]
# ## 3. Layer 1: class `a` collapses to $p_1$
#
# The cumulative parameters $(W^{(1)}, b^{(1)})$ define the truncation map
# $\tau(x) = (W^{(1)})^{+}\big(\sigma(W^{(1)}x + b^{(1)}) - b^{(1)}\big)$. On the backward cone
# $\{W^{(1)}x + b^{(1)} \le 0\}$ it is constant, equal to the apex $p_1 = -(W^{(1)})^{+} b^{(1)}$;
# on the forward cone it is the identity. The polygons below are computed by exact half-plane
# clipping.

# %%
box = Polygon.box(-1, 4, -1, 4)
steps = truncation_steps(net, data, box=box)
tau1 = symtrunc.TruncationMap(*net.cumulative()[0])
display(Markdown("$W^{(1)} = $ " + to_markdown(tau1.W) + " $b^{(1)} = $ " + to_markdown(tau1.b)))
display(Markdown("apex $p_1$ = " + to_markdown(tau1.cone().apex)))
print("backward cone ∩ box, exact vertices:", steps[0].backward.vertices)
plot_step(steps[0], data, box=box).figure

# %% [markdown]
# ## 4. Layer 2: class `b` collapses to $p_2$
#
# Class `a` now sits at $p_1$, which lies in the forward cone of layer 2 and is kept.

# %%
a_before = {(str(steps[1].before[0, i]), str(steps[1].before[1, i])) for i in data.class_indices[0]}
print("class a before layer 2:", a_before, "  p_1 =", tuple(map(str, steps[0].apex)))
plot_step(steps[1], data, box=box).figure

# %% [markdown]
# ## 5. The output layer and the decision regions
#
# $W^{(Q+1)} = Y\,[p_1\ p_2]^{+}$ maps the collapsed points to the labels. The decision regions of
# the whole network are computed exactly: the box is cut into the network's linear pieces and
# each piece into the parts where one output is largest.

# %%
plot_decision_regions(net, data, box=box).figure

# %% [markdown]
# ## 6. Everything at once, and the proof
#
# `plot_steps` draws all the panels (`symtrunc plot net.json data.csv -o steps.png` on the command
# line). The certificate lists what was proved for every layer.

# %%
fig = plot_steps(net, data, box=box)
print(symtrunc.verify(net, data).table())
fig
