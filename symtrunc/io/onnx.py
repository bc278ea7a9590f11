"""ONNX export and import (needs the ``onnx`` package: ``pip install "symtrunc[onnx]"``).

Export writes one ``Gemm`` node per layer with ``transB=1`` (weights stored ``(out, in)``, the
torch layout; initializers named like an ``nn.Sequential`` state dict: ``0.weight``,
``0.bias``, ``2.weight``, ...) and a ``Relu`` after every hidden layer. The graph maps input
``x`` of shape ``(N, d_0)`` to output ``y`` of shape ``(N, d_L)``. It is built with the ``onnx``
package alone (no torch), with opset 17 and IR version 10 (current onnxruntime refuses the IR
14 that onnx 1.23 writes by default) and passes ``onnx.checker.check_model(full_check=True)``.
The exact network JSON is stored in the model's ``metadata_props`` under
``"symtrunc.network"``.

Running an exported file with onnxruntime::

    import numpy as np, onnxruntime as ort
    sess = ort.InferenceSession("net.onnx", providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": X.astype(np.float64)})[0]     # X: (N, d_0)

Import accepts chains of ``Gemm`` (any ``transB``, ``alpha``, ``beta``; ``transA=0``),
``MatMul`` + ``Add`` with constant weights, ``Relu``, ``Identity`` and ``Dropout`` nodes, as
written by ``torch.onnx.export`` for ``nn.Sequential(Linear, ReLU, ...)``. Each ``Gemm``/``MatMul``
starts a layer; it is a ReLU layer if a ``Relu`` follows, else an identity layer (so consecutive
affine nodes stay separate layers, as in the exported network). Any other operator raises a
:class:`~symtrunc.errors.FormatError` naming it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import FormatError, require
from symtrunc.io._common import (
    EXACT_KEY,
    FLOAT_CERT_KEY,
    ExportReport,
    atomic_write,
    bias_name,
    exact_json,
    finish,
    first_line,
    layer_keys,
    rationalize,
    report,
)
from symtrunc.lowering.float_network import ExportLayers, export_layers
from symtrunc.network import ReLUNetwork

__all__ = ["OPSET", "IR_VERSION", "to_model", "save", "load"]

OPSET = 17
IR_VERSION = 10


def _onnx() -> Any:
    return require("onnx", "onnx", "ONNX export and import")


def _producer_version() -> str:
    try:
        return version("symtrunc")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def to_model(
    network: ReLUNetwork,
    dtype: str = "float64",
    *,
    exact: bool = True,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> tuple[Any, Any]:
    """The checked ``onnx.ModelProto`` of ``network`` and the exact maximal rounding error
    (``certificate``: JSON of the float certificate, stored under :data:`FLOAT_CERT_KEY`;
    ``floats``: the float layers, default the plain roundings in ``dtype``)."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    floats = export_layers(network, dtype) if floats is None else floats
    dtype = floats.dtype.name
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    nodes, inits, prev = [], [], "x"
    depth = len(floats.layers)
    for k, ((W, b, act), (wk, bk)) in enumerate(zip(floats.layers, layer_keys(floats))):
        inits += [
            numpy_helper.from_array(np.ascontiguousarray(W), name=wk),
            numpy_helper.from_array(np.ascontiguousarray(b), name=bk),
        ]
        last = k == depth - 1
        z = "y" if last and act == "identity" else f"z{k}"
        nodes.append(helper.make_node("Gemm", [prev, wk, bk], [z], name=f"linear_{k}", transB=1))
        prev = z
        if act == "relu":
            h = "y" if last else f"h{k}"
            nodes.append(helper.make_node("Relu", [z], [h], name=f"relu_{k}"))
            prev = h
    graph = helper.make_graph(
        nodes,
        "symtrunc_relu_network",
        [helper.make_tensor_value_info("x", elem, ["N", network.input_dim])],
        [helper.make_tensor_value_info("y", elem, ["N", network.output_dim])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="symtrunc",
        producer_version=_producer_version(),
    )
    model.ir_version = IR_VERSION
    model.doc_string = (
        f"Exact ReLU network {' -> '.join(map(str, network.widths))} exported by symtrunc "
        f"({dtype}); the exact rationals are in metadata_props[{EXACT_KEY!r}]."
    )
    props = {EXACT_KEY: exact_json(network, floats.factors)} if exact else {}
    if certificate is not None:
        props[FLOAT_CERT_KEY] = certificate
    if props:
        helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model, floats.max_weight_error


def save(
    network: ReLUNetwork,
    path: str | Path,
    dtype: str = "float64",
    *,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> ExportReport:
    """Write the float layers ``floats`` of ``network`` as an ONNX file (atomically)."""
    floats = export_layers(network, dtype) if floats is None else floats
    model, _ = to_model(network, certificate=certificate, floats=floats)
    return report(network, atomic_write(path, model.SerializeToString()), "onnx", floats)


# ---------------------------------------------------------------------------- import
_AFFINE = {"Gemm", "MatMul", "Add"}
_PASS = {"Identity", "Dropout"}


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read an ONNX ``Gemm``/``MatMul``/``Add``/``Relu`` chain as an exact network."""
    onnx = _onnx()
    from onnx import numpy_helper

    p = Path(path)
    data = p.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf DecodeError and friends
        raise FormatError(f"not a valid ONNX model ({first_line(e)})") from None
    graph = model.graph
    if not graph.node or not graph.output:
        raise FormatError("not an ONNX model (no graph nodes or outputs; corrupt or truncated file?)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # onnx.checker.ValidationError
        raise FormatError(f"invalid ONNX model ({first_line(e)})") from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise FormatError(
            "weights stored in external data files are not supported; save the model with all tensors inside the file"
        )

    consts: dict[str, np.ndarray] = {}
    try:
        for t in graph.initializer:
            consts[t.name] = numpy_helper.to_array(t)
    except Exception as e:
        raise FormatError(f"cannot read initializer tensors ({first_line(e)})") from None
    inputs = [i.name for i in graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise FormatError(f"expected one graph input, found {len(inputs)} ({', '.join(inputs) or 'none'})")
    if len(graph.output) != 1:
        raise FormatError(f"expected one graph output, found {len(graph.output)}")

    cur = inputs[0]

    def const(name: str, node: Any) -> np.ndarray:
        if name not in consts:
            raise FormatError(
                f"node {node.name or node.op_type!r} ({node.op_type}): input {name!r} is not a "
                "constant; only chains with constant weights can be imported"
            )
        return consts[name]

    # one layer per Gemm/MatMul node: {"W": (name, W (out, in), alpha), "C": (C, beta), "adds": [...], "act"}
    groups: list[dict[str, Any]] = []
    for node in graph.node:
        op = node.op_type
        label = f"{op} node {node.name!r}" if node.name else f"{op} node"
        if node.domain not in ("", "ai.onnx"):
            raise FormatError(
                f"unsupported operator {node.domain}.{op} ({label}); symtrunc imports Gemm/MatMul+Add/Relu chains only"
            )
        if op == "Constant":
            a = _attrs(node)
            if "value" not in a:
                raise FormatError(f"unsupported Constant node {node.name!r} (only tensor values)")
            consts[node.output[0]] = numpy_helper.to_array(a["value"])
            continue
        if op not in _AFFINE and op not in _PASS and op != "Relu":
            raise FormatError(
                f"unsupported operator {op!r} ({label}); symtrunc imports "
                "Gemm/MatMul+Add/Relu chains of fully connected ReLU networks only"
            )
        data_inputs = [i for i in node.input if i and i not in consts]
        if data_inputs != [cur]:
            raise FormatError(
                f"{label} does not continue the chain (inputs {list(node.input)}); only "
                "sequential Gemm/MatMul+Add/Relu graphs can be imported"
            )
        cur = node.output[0]
        if op in _PASS:
            continue
        if op == "Relu":
            if not groups:
                raise FormatError(f"{label} is not preceded by a Gemm/MatMul layer")
            groups[-1]["act"] = "relu"  # Relu(Relu(z)) = Relu(z)
            continue
        a = _attrs(node)
        if op == "Add":
            if not groups or groups[-1]["act"] == "relu":
                raise FormatError(
                    f"{label} adds a bias where no Gemm/MatMul output is pending (only x W + b layers can be imported)"
                )
            other = node.input[1] if node.input[0] == data_inputs[0] else node.input[0]
            groups[-1]["adds"].append((other, const(other, node)))
            continue
        if node.input[0] != data_inputs[0]:
            raise FormatError(
                f"{label}: only {op}(x, W{', b' if op == 'Gemm' else ''}) with the data first is supported"
            )
        B = const(node.input[1], node)
        if B.ndim != 2:
            raise FormatError(f"{label}: weight {node.input[1]!r} has shape {B.shape}, expected a matrix")
        if op == "Gemm":
            if a.get("transA", 0):
                raise FormatError(f"{label}: Gemm with transA=1 is not supported")
            W = B if a.get("transB", 0) else B.T
            C = const(node.input[2], node) if len(node.input) > 2 and node.input[2] else None
            groups.append(
                {
                    "W": (node.input[1], W, float(a.get("alpha", 1.0))),
                    "C": (C, float(a.get("beta", 1.0))),
                    "adds": [],
                    "act": "identity",
                }
            )
        else:  # MatMul
            groups.append({"W": (node.input[1], B.T, 1.0), "C": (None, 1.0), "adds": [], "act": "identity"})
    if cur != graph.output[0].name:
        raise FormatError(f"the graph output {graph.output[0].name!r} is not the end of the chain")
    if not groups:
        raise FormatError("no Gemm or MatMul layer found")

    arrays = [_layer(g) for g in groups]
    exact_text = None
    for prop in model.metadata_props:
        if prop.key == EXACT_KEY:
            exact_text = prop.value
    return finish(exact_text, arrays, exact=exact, path=p, fmt="onnx")


def _layer(g: dict[str, Any]) -> tuple[str, Any, Any, str]:
    """One layer ``(name, W, b, activation)``: float arrays when the node is a plain ``x W^T + b``
    (so exported files round-trip bit for bit), exact ``fmpq_mat`` when ``alpha``/``beta`` scale it
    or several biases are added."""
    name, W, alpha = g["W"]
    C, beta = g["C"]
    biases = ([C] if C is not None else []) + [c for _, c in g["adds"]]
    out = W.shape[0]
    if alpha == 1.0 and beta == 1.0 and len(biases) <= 1:
        return name, W, (_bias_shape(biases[0], out, name) if biases else None), g["act"]
    Wq = rationalize(W, name) * flint.fmpq(*alpha.as_integer_ratio())
    bq = flint.fmpq_mat(out, 1)
    if C is not None:
        bq = rationalize(_bias_shape(C, out, name), bias_name(name)) * flint.fmpq(*beta.as_integer_ratio())
    for cname, c in g["adds"]:
        bq = bq + rationalize(_bias_shape(c, out, cname), cname)
    return name, Wq, bq, g["act"]


def _bias_shape(C: np.ndarray, out: int, name: str) -> np.ndarray:
    C = np.asarray(C)
    if C.size == 1:
        return np.full(out, C.reshape(-1)[0])
    if C.ndim == 2 and C.shape[0] == 1:
        C = C.reshape(-1)
    if C.ndim != 1 or C.shape[0] != out:
        raise FormatError(f"wrong shapes: bias for {name!r} has shape {C.shape}, expected ({out},)")
    return C
