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
# # The loss landscape of shallow networks for affine targets
#
# `symtrunc.landscape` implements, in exact rational arithmetic, the setting of Cheridito,
# Jentzen & Rossmannek, *Landscape analysis for shallow neural networks: complete
# classification of critical points for affine target functions* (J. Nonlinear Sci. 2022):
# a network $N^\varphi(x) = c + \sum_j v_j\,\sigma(w_j x + b_j)$ with scalar input, an affine
# target $f(x) = \alpha x + \beta$ and the true loss
# $\mathcal L(\varphi) = \frac{1}{hi-lo}\int_{lo}^{hi} (N^\varphi - f)^2\,dx$.
# Every number below is an exact fraction; every verdict comes with an exact certificate.

# %%
# %matplotlib inline
from IPython.display import display
from matplotlib.figure import Figure

from symtrunc.landscape import (
    Activation,
    Interval,
    ShallowParams,
    Target,
    b0_saddle,
    check_certificate,
    classify,
    global_minimum,
    gradient,
    hessian,
    inertia,
    loss,
    neuron_types,
    sawtooth,
    sawtooth_loss,
    smoothness,
)

f = Target(1, 0)                                    # f(x) = x on [0, 1]
phi = ShallowParams.from_values(w=[1, -2], b=["-1/2", 1], v=[3, "1/2"], c="-1/4")
print("loss     ", loss(phi, f))
print("gradient ", dict(zip(phi.coordinate_names(), map(str, gradient(phi, f)))))

# %% [markdown]
# ## Neuron types
# Types are decided from the pre-activations $z_{lo}, z_{hi}$ at the interval ends.

# %%
net = ShallowParams.from_values([1, -1, 0, 2, 1, 0], [-2, 0, 0, -1, 0, 1], [5, 1, 1, 0, 1, 0], "1/2")
for t in neuron_types(net):
    print(t.index, t.label())

# %% [markdown]
# ## A saddle and its certificate
# The sawtooth critical point with $k = 2$ knots has loss $\alpha^2/972$. The certificate is a
# ray $\varphi + \varepsilon u$ along which the loss is an exact polynomial in $\varepsilon$
# with a negative lowest coefficient, plus a concrete rational step that lowers the loss.

# %%
saddle = sawtooth(f, 2)
res = classify(saddle, f)
print(res.verdict, res.loss, "k =", res.k)
cert = res.certificate
print("direction u:", cert["direction"])
print("L(φ+εu) - L(φ) =", " + ".join(f"({c}) ε^{i}" for i, c in enumerate(cert["polynomial"]) if c != "0"))
print("step", cert["step"], "→ loss", cert["loss_at_step"], "<", cert["loss"])
print("re-checked:", check_certificate(saddle, f, None, res.verdict, res.certificate))
print("Hessian inertia (n+, n-, n0):", inertia(hessian(saddle, f)))
for c, ok in res.theorem_checks:
    print("  Theorem R:", c, ok)

# %% [markdown]
# ## Generators: critical points of every kind

# %%
g = Target("-3/2", "1/5")
iv = Interval(-1, 2)
examples = {
    "global minimum": global_minimum(g, iv, width=3),
    "all-dead local minimum": sawtooth(g, 0, iv, dead=2, deadlike=1),
    "B_0 saddle (semi-inactive)": b0_saddle(g, iv, "semi-inactive"),
    "B_0 saddle (w = b = 0)": b0_saddle(g, iv, "degenerate-zero"),
    "B_2 saddle, split + flat + dead": sawtooth(g, 2, iv, split=2, flat=True, dead=1),
    "B_4 saddle": sawtooth(g, 4, iv),
}
for name, p in examples.items():
    r = classify(p, g, iv)
    print(f"{name:34s} N={p.width}  L={r.loss!s:10s} {r.verdict:11s} certificate: {r.certificate['kind']}")
print("α²(hi-lo)²/(12(k+1)⁴) for k = 0, 2, 4:", [str(sawtooth_loss(g, k, iv)) for k in (0, 2, 4)])

# %% [markdown]
# ## The loss along the certificates
# Each saddle's certificate is a ray $\varphi + \varepsilon u$ with an exact polynomial
# $L(\varphi + \varepsilon u) - L(\varphi)$ for $0 \le \varepsilon \le \varepsilon_0$ whose lowest
# coefficient is negative, and a rational step (the star) with a lower loss. The dots are an
# independent exact re-evaluation of the loss at rational $\varepsilon$ (also at negative
# $\varepsilon$, where the certificate says nothing); the line is the certificate's polynomial. The
# global minimum is shown along a random rational direction: the loss only grows.

# %%
import random

from symtrunc.exact.rational import to_q

panels = {"sawtooth k = 2 on [0, 1]": (saddle, f, Interval(0, 1))}
panels.update({name: (p, g, iv) for name, p in examples.items() if name != "all-dead local minimum"})
fig = Figure(figsize=(11, 5.2), layout="constrained")
axes = fig.subplots(2, 3).ravel()
for ax, (name, (p, target, interval)) in zip(axes, panels.items()):
    r = classify(p, target, interval)
    cert = r.certificate
    if cert["kind"] == "descent_ray":
        u, step, eps0 = cert["direction"], to_q(cert["step"]), to_q(cert["epsilon0"])
        poly = [to_q(c) for c in cert["polynomial"]]
    else:                                   # the global minimum: a random rational direction
        rnd = random.Random(1)
        u, step, eps0, poly = [f"{rnd.randint(-4, 4)}/4" for _ in p.vector()], to_q("1/4"), None, None
    base = loss(p, target, interval)
    grid = [step * k / 8 for k in range(-8, 17)]
    ax.plot([float(e) for e in grid], [float(loss(p.shifted(u, e), target, interval) - base) for e in grid], ".",
            color="#1f77b4", label="exact $L(\\varphi+\\varepsilon u) - L(\\varphi)$")
    if poly is not None:
        top = min(eps0, grid[-1])
        fine = [top * k / 200 for k in range(201)]
        ax.plot([float(e) for e in fine], [float(sum(c * e**i for i, c in enumerate(poly))) for e in fine], "-",
                color="#ff7f0e", lw=1.2, label="certificate polynomial, $0 \\leq \\varepsilon \\leq \\varepsilon_0$")
        ax.plot(float(step), float(to_q(cert["loss_at_step"]) - base), "*", ms=13, color="#d62728",
                label="certified step")
    ax.axhline(0, color="#7f7f7f", lw=0.8, ls="--")
    ax.set_title(f"{name}\n{r.verdict}, L = {r.loss}", fontsize=9)
    ax.set_xlabel("ε", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(style="sci", scilimits=(-3, 3))
axes[0].legend(fontsize=7, frameon=False)
display(fig)

# %% [markdown]
# Where the loss is not differentiable (a neuron with $w = b = 0$), the tool says so and uses
# the generalized gradient with the chosen convention for $\sigma'(0)$:

# %%
p = b0_saddle(f, kind="degenerate-zero")
print(smoothness(p, f))
print("σ'(0) = 0:", classify(p, f).verdict)
r1 = classify(ShallowParams(p.w, p.b, p.v, p.c, Activation.relu(1)), f)
print("σ'(0) = 1:", r1.verdict, r1.certificate)

# %% [markdown]
# ## Gradient descent and the classification of its limits
# Float GD (NumPy, seeded) is run from random starts; each limit is snapped to an exact point
# (inner weights rounded, outer weights exactly optimal) and classified exactly. Non-global
# local minima appear only with dead neurons.

# %%
import collections

from symtrunc.landscape.training import gradient_descent, random_start, snap

counts = collections.Counter()
for width in (1, 2):
    for seed in range(5):
        w, b, v, c = gradient_descent(*random_start(width, seed), f, steps=600, lr=0.2, grid=1024)
        r = classify(snap(w, b, v, c, f), f)
        counts[r.verdict] += 1
        if r.verdict == "local_min":
            print(f"N={width} seed={seed}: local min, L = {r.loss}, neurons:", [t.kind for t in r.neurons])
print(dict(counts))

# %% [markdown]
# ## Input dimension d = 2
# Exact loss and gradient over a box, by exact integration over the cells of the hyperplane
# arrangement (no classification is claimed for d > 1).

# %%
from symtrunc.landscape.multivariate import MultiParams, box_gradient, box_loss

phi2 = MultiParams.from_values(W=[[1, 2], [-1, 1]], b=["-1/2", "1/3"], v=[2, -1], c="1/4")
print("loss", box_loss(phi2, alpha=[1, -2], beta="1/3", lo=[0, 0], hi=[1, 1]))
print("gradient", [str(x) for x in box_gradient(phi2, alpha=[1, -2], beta="1/3", lo=[0, 0], hi=[1, 1])])
