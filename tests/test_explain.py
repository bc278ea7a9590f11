"""Tests of :mod:`symtrunc.explain`: the truncation-map view of constructed and trained networks."""

from __future__ import annotations

import argparse
import json

import flint
import numpy as np
import pytest

import symtrunc
from symtrunc.cli import io as cli_io
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.matrix import column
from symtrunc.explanation import Explanation, explain
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.io.trained import import_network


@pytest.fixture(scope="module")
def wine():
    data = symtrunc.load_wine()
    return data, symtrunc.construct(data)


def _regions_from_preactivations(net, data):
    """Regions read off the network's own exact pre-activations (Lemma 2.1: a = W x^(τ) + b)."""
    A, s = data.integer_points
    out = []
    for k, values, _scale in net.integer_pass(A, s):
        if net.layers[k].activation != "relu":
            continue
        m = net.layers[k].W.nrows()
        pre = [[values[r * data.N + i] for r in range(m)] for i in range(data.N)]
        out.append(["forward" if min(c) >= 0 else "backward" if max(c) <= 0 else "face" for c in pre])
    return out


def test_wine_collapses_one_class_per_layer(wine):
    data, net = wine
    ex = explain(net, data)
    order = net.construction["order"]
    assert len(ex.layers) == len(order) == 3
    for l, layer in enumerate(ex.layers):
        by_label = {c.label: c for c in layer.classes}
        collapsed = by_label[order[l]]
        assert collapsed.backward == collapsed.points and collapsed.collapsed and collapsed.reach <= 0
        for later in order[l + 1 :]:
            c = by_label[later]
            assert c.forward == c.points and c.unchanged and c.floor >= 0 and c.reach > 0
        for earlier in order[:l]:  # collapsed points p_i stay on the forward side (SLS)
            assert by_label[earlier].unchanged
    assert ex.collapse_order() == [[c] for c in order]


def test_wine_regions_match_preactivations_and_prop_3_2(wine):
    data, net = wine
    ex = explain(net, data)
    assert [list(layer.regions) for layer in ex.layers] == _regions_from_preactivations(net, data)
    # Proposition 3.2: x^(L) = W^(L) x^(τ,L-1) + b^(L)
    WL, bL = net.cumulative()[-1]
    X = ex.layers[-1].truncated
    B = flint.fmpq_mat(WL.nrows(), data.N, [v for v in bL.entries() for _ in range(data.N)])
    assert (WL * X + B).transpose() == net.forward(data)


def test_first_layer_cone_agrees_with_truncation_map(wine):
    data, net = wine
    ex = explain(net, data)
    W1, b1 = net.cumulative()[0]
    cone = TruncationMap(W1, b1).cone()
    assert ex.layers[0].apex == cone.apex and ex.layers[0].edges == cone.edges
    X = data.X.transpose()
    for i in range(0, data.N, 17):
        assert cone.region(column(X, i)) == ex.layers[0].regions[i]


def test_text_and_dict(wine):
    data, net = wine
    ex = explain(net, data)
    text = ex.to_text()
    assert "layer 3: 13 ReLU neurons on R^13" in text and "collapsed" in text
    assert text.count("cultivar_1") == 3
    d = json.loads(json.dumps(ex.to_dict()))
    assert d["format"] == "symtrunc.explanation"
    c = d["layers"][0]["classes"][0]
    assert c["status"] == "collapsed" and flint.fmpq(*map(int, c["reach"].split("/"))) < 0
    assert isinstance(ex, Explanation) and ex.layers[0].cone().apex == ex.layers[0].apex


def _random_float_net(tmp_path, widths, seed, via="npz"):
    rng = np.random.default_rng(seed)
    layers = [
        (
            rng.normal(size=(widths[k + 1], widths[k])).astype(np.float32),
            rng.normal(size=widths[k + 1]).astype(np.float32),
        )
        for k in range(len(widths) - 1)
    ]
    if via == "onnx":
        pytest.importorskip("onnx")
        from onnx import TensorProto, helper, numpy_helper

        nodes, inits, prev = [], [], "x"
        for k, (W, b) in enumerate(layers):
            inits += [numpy_helper.from_array(W, f"w{k}"), numpy_helper.from_array(b, f"b{k}")]
            nodes.append(helper.make_node("Gemm", [prev, f"w{k}", f"b{k}"], [f"z{k}"], transB=1))
            prev = f"z{k}"
            if k < len(layers) - 1:
                nodes.append(helper.make_node("Relu", [prev], [f"h{k}"]))
                prev = f"h{k}"
        graph = helper.make_graph(
            nodes,
            "trained",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", widths[0]])],
            [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["N", widths[-1]])],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 10
        path = tmp_path / "trained.onnx"
        path.write_bytes(model.SerializeToString())
    else:
        path = tmp_path / "trained.npz"
        np.savez(path, **{f"{n}{k}": a for k, (W, b) in enumerate(layers) for n, a in (("W", W), ("b", b))})
    net = import_network(path)
    X = rng.normal(size=(40, widths[0]))
    data = LabeledData.from_arrays(X, (X[:, 0] > 0).astype(int).tolist(), check=False)
    return net, data


@pytest.mark.parametrize(
    "widths,via,lifted",
    [
        ((4, 4, 3, 2), "npz", [False, False]),
        ((4, 4, 3, 2), "onnx", [False, False]),
        ((2, 5, 3, 2), "npz", [True, False]),  # widening first layer: Lemma 2.2
        ((3, 6, 6, 2), "onnx", [True, False]),
    ],
)
def test_trained_float_networks(tmp_path, widths, via, lifted):
    net, data = _random_float_net(tmp_path, widths, seed=sum(widths), via=via)
    ex = explain(net, data)
    assert [layer.lifted for layer in ex.layers] == lifted
    assert [list(layer.regions) for layer in ex.layers] == _regions_from_preactivations(net, data)
    for layer in ex.layers:
        assert sum(c.forward + c.backward + c.face for c in layer.classes) == data.N
        # Lemma 2.1: the truncated points satisfy W τ(x) + b = σ(W x + b) ≥ 0
        X = layer.truncated
        B = flint.fmpq_mat(layer.width, data.N, [v for v in layer.b.entries() for _ in range(data.N)])
        assert all(v >= 0 for v in (layer.W * X + B).entries())
    if not any(lifted):  # Proposition 3.2 on the output
        WL, bL = net.cumulative()[-1]
        X = ex.layers[-1].truncated
        B = flint.fmpq_mat(WL.nrows(), data.N, [v for v in bL.entries() for _ in range(data.N)])
        assert (WL * X + B).transpose() == net.forward(data)
    assert "ReLU neurons" in ex.to_text()


def test_bottleneck_then_wider_is_refused(tmp_path):
    net, data = _random_float_net(tmp_path, (4, 2, 3, 2), seed=1)
    with pytest.raises(HypothesisError, match=r"layer 2: the cumulative weight matrix W\^\(2\) \(3x4\) has rank 2"):
        explain(net, data)


def test_dimension_mismatch(wine):
    _, net = wine
    with pytest.raises(DataError, match="dimension 2 but the network expects 13"):
        explain(net, LabeledData.from_arrays([[2, 0], [0, 2]], ["a", "b"]))


def test_cli_explain(tmp_path, capsys, wine):
    data, net = wine
    symtrunc.save_network(net, tmp_path / "net.json")
    from symtrunc.datasets import wine_path

    p = argparse.ArgumentParser(prog="symtrunc")
    sub = p.add_subparsers()
    cli_io.register(sub)
    args = p.parse_args(["explain", str(tmp_path / "net.json"), str(wine_path()), "--json", str(tmp_path / "ex.json")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "layer 1: 13 ReLU neurons on R^13" in out and "cultivar_3" in out
    d = json.loads((tmp_path / "ex.json").read_text())
    assert [c["status"] for c in d["layers"][0]["classes"]] == ["collapsed", "unchanged", "unchanged"]
