"""Typed construction records (:mod:`symtrunc.records`): JSON round trips, files of the dict era,
recipes recomputed against the layers, immutability and malformed metadata.

``tests/data/construction_v1/*.json`` were written by symtrunc at commit 31d116e, when the
construction was a free-form dict; they must load into their record and be written back byte
for byte.
"""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import flint
import pytest

import symtrunc
from symtrunc.claims.configurations import build_configuration
from symtrunc.constructions.nonseparable import construct_nonseparable
from symtrunc.constructions.shallow_l2 import construct_shallow_local, construct_shallow_upper
from symtrunc.constructions.two_layer import construct_two_layer
from symtrunc.errors import FormatError
from symtrunc.io.json import dumps_network, load_network, loads_network
from symtrunc.io.trained import import_network
from symtrunc.latex.report import build_report
from symtrunc.network import ReLUNetwork
from symtrunc.records import (
    ClusteredRecord,
    ConfigurationRecord,
    DeepL2Record,
    ImportedRecord,
    NonseparableRecord,
    PaperRecipe,
    RationalRecipe,
    ShallowLocalRecord,
    ShallowUpperRecord,
    SLSRecord,
    TwoLayerRecord,
    UnrecognizedRecord,
    record_from_json,
)

FIXTURES = Path(__file__).parent / "data" / "construction_v1"
OLD_FILES = {
    "sls_rational": SLSRecord,
    "sls_paper": SLSRecord,
    "clustered_shrinking": ClusteredRecord,
    "clustered_paper": ClusteredRecord,
    "deep_l2": DeepL2Record,
    "nonseparable_cone": NonseparableRecord,
    "nonseparable_sls": NonseparableRecord,
    "shallow_upper": ShallowUpperRecord,
    "shallow_local": ShallowLocalRecord,
    "two_layer": TwoLayerRecord,
    "configuration": ConfigurationRecord,
    "imported": ImportedRecord,
}

SQUARES = symtrunc.LabeledData.from_arrays(
    [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb")
)
PAIRS = symtrunc.LabeledData.from_arrays([[10, 0, 0], [11, 0, 0], [0, 10, 0], [0, 11, 0]], list("aabb"))
DEEP = symtrunc.LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], list("aabb"))
SHALLOW = symtrunc.LabeledData.from_arrays([[4, 0], [6, 0], [0, 3], [1, 5], [-1, 4]], list("aabbb"))
THREE = symtrunc.LabeledData.from_arrays(
    [[12, 0, 0], [11, 1, 0], [0, 12, 0], [1, 11, 1], [0, 0, 12], [0, 1, 11]], list("aabbcc")
)
INNER = [[0, 0], [1, 0], [0, 1], [1, 1]]
OUTER = [[-3, -3], [5, -3], [-3, 5], [5, 5], [1, -6], [-6, 1]]
RINGS = symtrunc.LabeledData.from_arrays(INNER + OUTER, ["in"] * len(INNER) + ["out"] * len(OUTER), check=False)


def _imported(tmp: Path) -> ReLUNetwork:
    plain = ReLUNetwork.from_rows([([[1, 0], [0, 1]], ["1/2", "1/4"], "relu"), ([[1, 1]], [0], "identity")])
    symtrunc.export(plain, tmp / "net.npz", to="npz")
    return import_network(tmp / "net.npz", exact=False)


#: One network per record type, built by the current constructions.
BUILD = {
    "sls_rational": lambda tmp: symtrunc.construct(SQUARES, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"]),
    "sls_paper": lambda tmp: symtrunc.construct(SQUARES, cone="paper", order=["b", "a"]),
    "clustered_shrinking": lambda tmp: symtrunc.construct(PAIRS, "clustered", widths=[2, 2]),
    "clustered_paper": lambda tmp: symtrunc.construct(PAIRS, "clustered", cone="paper"),
    "deep_l2": lambda tmp: symtrunc.construct(DEEP, "deep_l2", layers=3),
    "nonseparable_cone": lambda tmp: construct_nonseparable(RINGS),
    "nonseparable_sls": lambda tmp: construct_nonseparable(RINGS, finish="sls"),
    "shallow_upper": lambda tmp: construct_shallow_upper(SHALLOW),
    "shallow_local": lambda tmp: construct_shallow_local(SHALLOW, bias=False),
    "two_layer": lambda tmp: construct_two_layer(THREE),
    "configuration": lambda tmp: build_configuration(DEEP, "01").network,
    "imported": _imported,
    "unrecognized": lambda tmp: ReLUNetwork.from_rows(
        [([[1, 0]], [0], "identity")], construction={"theorem": "my own", "method": "magic", "k": [1, {"a": 2}]}
    ),
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``fresh[name]``: the network of :data:`BUILD`, built once on first use."""
    built: dict[str, ReLUNetwork] = {}

    class Fresh:
        def __getitem__(self, name: str) -> ReLUNetwork:
            if name not in built:
                built[name] = BUILD[name](tmp_path_factory.mktemp(name))
            return built[name]

    return Fresh()


# --------------------------------------------------------------------------- JSON
@pytest.mark.parametrize("name", sorted(OLD_FILES) + ["unrecognized"])
def test_every_record_round_trips_through_json(fresh, name):
    net = fresh[name]
    rec = net.construction
    assert type(rec) is OLD_FILES.get(name, UnrecognizedRecord)
    doc = json.loads(json.dumps(rec.to_json()))
    back = record_from_json(doc)
    assert type(back) is type(rec) and back == rec
    assert back.to_json() == doc
    again = loads_network(dumps_network(net))
    assert again.construction == rec and dumps_network(again) == dumps_network(net)


@pytest.mark.parametrize("name", sorted(OLD_FILES))
def test_files_of_the_dict_era_load_and_are_written_back_byte_for_byte(name):
    path = FIXTURES / f"{name}.json"
    net = load_network(path)
    assert type(net.construction) is OLD_FILES[name]
    # the one key renamed since (issue 17): the dict era's "mu_over_delta" was the requested target
    old = path.read_text(encoding="utf-8").replace('"mu_over_delta":', '"mu_over_delta_target":')
    assert dumps_network(net) + "\n" == old


@pytest.mark.parametrize("name", sorted(OLD_FILES))
def test_the_constructions_still_write_the_dict_era_layout(fresh, name):
    old = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["construction"]
    new = fresh[name].construction.to_json()
    if name == "imported":
        old["imported_from"] = "net.npz"
        old["format"], old["dtype"] = "npz", "float64"
        old["rationalized"] = old["rationalized"].replace("float32", "float64")
    for step in old.get("steps", []):  # issue 17: the realised (μ/δ)² is recorded beside the target
        if "mu_over_delta" in step:
            target = step.pop("mu_over_delta")
            realised = [s for s in new["steps"] if s["class"] == step["class"]][0]["mu_over_delta_squared"]
            step["mu_over_delta_squared"], step["mu_over_delta_target"] = realised, target
    if "theta_star" in old.get("hypotheses", {}):  # a float diagnostic: equal up to the last bits
        o, n = old["hypotheses"]["theta_star"], new["hypotheses"]["theta_star"]
        assert all(a == b or abs(a - b) <= 1e-12 * abs(a) for a, b in zip(o, n, strict=True))
        old["hypotheses"] = {**old["hypotheses"], "theta_star": n}
    assert new == old and list(new) == list(old)  # same keys in the same order


def test_the_json_view_is_the_compatibility_mapping(fresh):
    rec = fresh["sls_rational"].construction
    assert rec["order"] == ["a", "b"] and "steps" in rec and "widths_shrink" not in rec
    assert rec.get("widths_shrink") is None and dict(rec) == rec.to_json()
    rec["steps"][0]["t"] = "1/2"  # a copy: the record does not change
    assert rec.steps[0].t == flint.fmpq(3, 4)


def test_records_are_immutable(fresh):
    rec = fresh["clustered_paper"].construction
    with pytest.raises(FrozenInstanceError):
        rec.theorem = "another"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rec.hypotheses["delta_squared"] = "0"  # type: ignore[index]
    assert isinstance(rec.steps, tuple) and isinstance(rec.label_matrix, tuple)


# --------------------------------------------------------------------------- recipes and counts
@pytest.mark.parametrize("name", ["sls_rational", "sls_paper", "clustered_paper", "deep_l2"])
def test_recorded_recipes_give_the_cumulative_weights(fresh, name):
    """W^(l) recomputed from the record equals the network's own cumulative weight (from its layers)."""
    net = fresh[name]
    rec = net.construction
    for k, step in enumerate(rec.steps):
        W, b = net.cumulative()[k]
        assert step.recipe.matrix(step.normal) == W
        assert b == -(W * step.p)
    assert isinstance(rec.steps[0].recipe, RationalRecipe if rec.cone == "rational" else PaperRecipe)


def test_a_missing_recipe_parameter_is_reported_not_guessed():
    doc = json.loads((FIXTURES / "sls_paper.json").read_text(encoding="utf-8"))
    for step in doc["construction"]["steps"]:
        del step["householder_s"]  # as in files written before the parameter was recorded
    net = loads_network(json.dumps(doc))
    assert net.construction.steps[0].recipe.matrix(net.construction.steps[0].normal) is None
    rep = build_report(net, SQUARES)
    assert not rep.ok and any("does not record every parameter" in p for p in rep.problems)


def _dense_count(net: ReLUNetwork) -> tuple[int, int]:
    """Weights and weights plus biases, from the layer shapes (independent of the record)."""
    weights = sum(len(layer.W.entries()) for layer in net.layers)
    return weights, weights + sum(len(layer.b.entries()) for layer in net.layers)


@pytest.mark.parametrize("name", ["sls_rational", "clustered_shrinking", "deep_l2"])
def test_paper_counts_match_the_layers_where_the_formula_applies(fresh, name):
    net = fresh[name]
    M, Q, L = net.input_dim, net.output_dim, net.depth - 1
    counts = {c.formula: c for c in net.construction.parameter_counts()}
    weights, total = _dense_count(net)
    if name == "sls_rational":
        assert counts["Q(M+2)"].value == Q * (M + 2) and counts["Q(M+2)"].kind == "description"
        assert counts["Q(M+1)^2"].value == Q * (M + 1) ** 2 == total
    elif name == "clustered_shrinking":  # widths straight down to Q: Corollary 4.2
        assert counts["Q(M+Q^2)"].value == Q * (M + Q * Q) == weights
        assert counts["Q(M+Q^2+Q+1)"].value == total
    else:
        assert counts["(L+1)Q(Q+1)"].value == (L + 1) * Q * (Q + 1) == total


def test_records_without_paper_counts(fresh):
    for name in ("two_layer", "shallow_upper", "nonseparable_sls", "imported", "unrecognized"):
        assert fresh[name].construction.parameter_counts() == ()


# --------------------------------------------------------------------------- malformed metadata
def _sls_doc() -> dict:
    return json.loads((FIXTURES / "sls_rational.json").read_text(encoding="utf-8"))


def _steps(d):
    return d["construction"]["steps"]


BAD = {
    "no base point": (lambda d: _steps(d)[0].pop("base_point"), "step 1: no 'base_point'"),
    "base point of another dimension": (lambda d: _steps(d)[1].__setitem__("base_point", ["1"]), "step 2"),
    "order and steps disagree": (lambda d: d["construction"].__setitem__("order", ["b", "a"]), "do not collapse"),
    "not a number": (lambda d: _steps(d)[0].__setitem__("t", "three"), "step 1: t"),
    "unknown cone": (lambda d: _steps(d)[0].__setitem__("cone", "round"), "unknown cone recipe"),
    "label matrix not square": (lambda d: d["construction"].__setitem__("label_matrix", [["1", "0"]]), "square"),
    "label matrix of another size": (lambda d: d["construction"].__setitem__("label_matrix", [["1"]]), "1 x 1"),
    "not an object": (lambda d: d.__setitem__("construction", [1]), "JSON object"),
    "theorem not text": (lambda d: d["construction"].__setitem__("theorem", 5), "theorem"),
    "two-layer without c": (lambda d: d.__setitem__("construction", {"method": "two_layer", "s": "2"}), "missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_metadata_is_a_format_error(case):
    edit, message = BAD[case]
    doc = _sls_doc()
    edit(doc)
    with pytest.raises(FormatError, match=message):
        loads_network(json.dumps(doc))


def test_records_are_checked_against_the_network(fresh):
    net = fresh["sls_rational"]
    other = replace(net.construction, label_matrix=((flint.fmpq(1),),))
    with pytest.raises(FormatError, match="label matrix is 1 x 1"):
        ReLUNetwork(net.layers, net.classes, other)
    with pytest.raises(FormatError, match="base points have 2 coordinates"):
        ReLUNetwork(fresh["clustered_paper"].layers[1:], net.classes, net.construction)
