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
# # symtrunc in five minutes
#
# symtrunc builds the explicit zero-loss ReLU networks of Chen & Muñoz Ewald,
# *Interpretable global minima of deep ReLU neural networks on sequentially separable data*
# (arXiv 2405.07098), with **exact rational** weights, and then **proves** in exact arithmetic
# that the network maps every training point to its label.
#
# This notebook: load data, construct, verify, look at the network, use it as a classifier and
# draw what each layer does.

# %%
# %matplotlib inline
import symtrunc

data = symtrunc.load_wine()          # UCI Wine: 178 points in R^13, 3 cultivars (embedded)
print(data.summary())

# %% [markdown]
# ## Construct and verify
#
# `construct` finds an order in which the classes can be peeled off one by one (sequential linear
# separability, Definition 5.1), builds one hidden layer per class (Theorem 5.2) and verifies the
# result before returning it. `verify` produces the certificate: zero loss and every layer
# invariant, checked exactly.

# %%
net = symtrunc.construct(data)
cert = symtrunc.verify(net, data)
print("collapse order:", net.construction["order"])
print("widths:", net.widths, "| parameters:", net.parameter_count().total)
print(cert.table())

# %% [markdown]
# Every weight is an exact rational number (a python-flint `fmpq_mat`, layout `(out, in)`):

# %%
W = net.layers[0].W
print(W.nrows(), "x", W.ncols(), "first row, first entries:", W.tolist()[0][:3])

# %% [markdown]
# ## The same thing as a scikit-learn style classifier
#
# `TruncationClassifier` wraps `construct` + `verify` behind `fit` / `predict` / `score`.
# Learned attributes end in `_`.

# %%
import numpy as np

from symtrunc.classifier import TruncationClassifier

X = np.array([[float(v) for v in row] for row in data.X.tolist()])
y = np.array([data.classes[j] for j in data.y])
clf = TruncationClassifier().fit(X, y)
print(clf, "| order:", clf.order_, "| training accuracy:", clf.score(X, y))
print("zero loss proved:", clf.certificate_.zero_loss)

# %% [markdown]
# ## What each layer does
#
# Each hidden layer is a *truncation map*: it keeps the points in a forward cone, collapses a
# backward cone (one class) onto the cone's apex, the base point $p_l$. For data in more than two
# dimensions the picture lives in the plane through the barycenter $\bar x$ and two class means.

# %%
from symtrunc.plot import plot_steps

plot_steps(net, data, ncols=2)

# %% [markdown]
# The same table as text, straight from the exact cones (`symtrunc explain` on the command line):

# %%
print(symtrunc.explain(net, data).to_text())
