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
# # Export to ONNX, PyTorch, safetensors, JAX and npz — and back, exactly
#
# An exact network is rounded to float64 (or float32) once, correctly, and written in the format
# your tools read. Every file also carries the exact rationals, so `import_network` gets the exact
# network back, and refuses a file whose floats were edited after export.

# %%
import importlib.util
import tempfile
from pathlib import Path

import numpy as np

import symtrunc
from symtrunc.exact.matrix import to_float

data = symtrunc.load_wine()
net = symtrunc.construct(data)
X = to_float(data.X)                           # the Wine features as float64, shape (178, 13)
exact_out = to_float(net.forward(data.X))      # exact outputs, rounded at the end
out_dir = Path(tempfile.mkdtemp())
print(net.widths)

# %% [markdown]
# ## ONNX (runs in onnxruntime)

# %%
report = symtrunc.export(net, out_dir / "wine.onnx")
print(report.format, report.dtype, "largest weight rounding error:", float(report.max_weight_error))
if importlib.util.find_spec("onnxruntime"):
    import onnxruntime as ort

    session = ort.InferenceSession(str(out_dir / "wine.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {session.get_inputs()[0].name: X})[0]
    print("max |onnx - exact| =", np.abs(onnx_out - exact_out).max())
    print("same predictions:", (onnx_out.argmax(1) == exact_out.argmax(1)).all())

# %% [markdown]
# ## safetensors and PyTorch
#
# The keys follow `nn.Sequential(Linear, ReLU, ...)`: `0.weight`, `0.bias`, `2.weight`, ...

# %%
symtrunc.export(net, out_dir / "wine.safetensors")
if importlib.util.find_spec("torch"):
    import torch
    from safetensors.torch import load_file

    from symtrunc.io.torch import to_torch

    model = to_torch(net)                      # nn.Sequential with float64 weights
    model.load_state_dict(load_file(out_dir / "wine.safetensors"))
    with torch.no_grad():
        torch_out = model(torch.from_numpy(X)).numpy()
    print(model)
    print("max |torch - exact| =", np.abs(torch_out - exact_out).max())
    symtrunc.export(net, out_dir / "wine.pt", to="torch")
    print("state dict keys:", list(torch.load(out_dir / "wine.pt", weights_only=True))[:4])

# %% [markdown]
# ## JAX-style trees and plain npz

# %%
symtrunc.export(net, out_dir / "wine_jax.npz", to="jax")
z = np.load(out_dir / "wine_jax.npz")
print(sorted(k for k in z.files if k.startswith("params/"))[:2])
_ = symtrunc.export(net, out_dir / "wine.npz", to="npz")

# %% [markdown]
# ## Back to exact
#
# Every format stores the exact rationals, so importing gives back the very same network —
# and the exact verifier proves zero loss again.

# %%
for name in ["wine.onnx", "wine.safetensors", "wine_jax.npz", "wine.npz"]:
    back = symtrunc.import_network(out_dir / name)
    print(f"{name:18s} exact copy: {back.layers == net.layers}")
print("zero loss after the round trip:", symtrunc.verify(back, data).zero_loss)

# %% [markdown]
# A network trained elsewhere (floats only) is read exactly too: every float is the binary
# fraction it stores, and `explain` shows what each layer does to the classes.

# %%
floats_only = symtrunc.import_network(out_dir / "wine.onnx", exact=False)
print(symtrunc.explain(floats_only, data).to_text())
