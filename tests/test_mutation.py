"""Mutation testing of the verifier: every single edit of a network file is rejected or harmless.

An edit of the JSON file of a verified network (each number moved by ±ε = 10^-12 or negated,
each activation flipped, each metadata field changed or removed) must either be rejected
(reading the file or verifying it raises) or leave a network that still maps every training
point exactly to the one-hot target of its label, in the output order the file's class list
names. The second case is checked here by an independent exact forward pass (Python integers,
written below), never by asking symtrunc. An edit of metadata only (the ``construction``
record) must not change the certificate at all: verification reads the layers and the class
list, nothing else.

The worked example (8 points) is mutated exhaustively in all three modes (exact, exact without
invariants, certified); the Wine data every activation edit and metadata edit (samples of the
latter in the two other modes) and a fixed sample of the number edits, and every edit in every
mode in the ``slow`` variant. :func:`mutation_counts` returns the
tally of each run.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from fractions import Fraction
from math import lcm
from typing import Any

import pytest
from exact_reference import fraction_forward  # tests/ is on sys.path

import symtrunc
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import SymtruncError, VerificationError
from symtrunc.io.json import loads_network, network_to_dict
from symtrunc.network import ReLUNetwork

EPS = Fraction(1, 10**12)
MODES = ("exact", "no-invariants", "certified")

#: Wine in the default mode in the quick run; the two other modes under ``-m slow`` (CI runs all)
WINE_MODES = [MODES[0], *(pytest.param(m, marks=pytest.mark.slow) for m in MODES[1:])]

Edit = tuple[str, Callable[[dict], None]]


# ------------------------------------------------------------------------- independent reference
def integer_forward(layers: list[dict], X: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact outputs from the file's layers: each layer as integers over one common denominator,
    each point as integers over one scale (ReLU keeps the sign of a positively scaled value)."""
    int_layers = []
    for L in layers:
        W = [[Fraction(v) for v in row] for row in L["W"]]
        b = [Fraction(v) for v in L["b"]]
        D = lcm(*(v.denominator for row in W for v in row), *(v.denominator for v in b))
        int_layers.append(
            ([[int(v * D) for v in row] for row in W], [int(v * D) for v in b], D, L.get("activation", "relu"))
        )
    out = []
    for x in X:
        s = lcm(*(v.denominator for v in x))
        h, scale = [int(v * s) for v in x], s  # x = h / scale
        for A, c, D, activation in int_layers:
            z = [sum(a * v for a, v in zip(row, h)) + ci * scale for row, ci in zip(A, c)]
            h, scale = ([max(v, 0) for v in z] if activation == "relu" else z), scale * D
        out.append([Fraction(v, scale) for v in h])
    return out


def interpolates(doc: dict, data: LabeledData, X: list[list[Fraction]]) -> bool:
    """Does the network of ``doc`` map every point to the one-hot target of its label, in the
    output order of the file's class list (the data's class order when the file lists none)?"""
    classes = list(doc.get("classes") or data.classes)
    outputs = integer_forward(doc["layers"], X)
    for out, j in zip(outputs, data.y):
        label = data.classes[j]
        if label not in classes or out != [Fraction(int(r == classes.index(label))) for r in range(len(out))]:
            return False
    return True


# ----------------------------------------------------------------------------------- the edits
def number_edits(doc: dict) -> Iterator[Edit]:
    """Each weight and bias: +ε, -ε, and its negative (when that differs)."""
    for k, L in enumerate(doc["layers"]):
        cells = [("W", i, j) for i in range(len(L["W"])) for j in range(len(L["W"][0]))]
        cells += [("b", i, None) for i in range(len(L["b"]))]
        for name, i, j in cells:
            value = Fraction(L[name][i] if j is None else L[name][i][j])
            changes = [("+eps", value + EPS), ("-eps", value - EPS)] + ([("neg", -value)] if value else [])
            for how, new in changes:
                yield f"layer {k + 1} {name}[{i}{'' if j is None else f',{j}'}] {how}", _setter(k, name, i, j, new)


def _setter(k: int, name: str, i: int, j: int | None, new: Fraction) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        if j is None:
            d["layers"][k][name][i] = str(new)
        else:
            d["layers"][k][name][i][j] = str(new)

    return edit


def activation_edits(doc: dict) -> Iterator[Edit]:
    """Each layer's activation flipped (relu <-> identity) or removed (the reader's default is relu)."""
    for k, L in enumerate(doc["layers"]):
        other = "identity" if L["activation"] == "relu" else "relu"
        yield (
            f"layer {k + 1} activation -> {other}",
            lambda d, k=k, other=other: d["layers"][k].__setitem__("activation", other),
        )
        if L["activation"] != "relu":
            yield f"layer {k + 1} activation removed", lambda d, k=k: d["layers"][k].pop("activation")


def _changed(value: Any) -> Any:
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        try:
            return str(Fraction(value) + 1)
        except ValueError:
            return value + "?"
    if isinstance(value, list):
        return value[::-1] if len(value) > 1 and value[::-1] != value else value + value[:1] or ["?"]
    if isinstance(value, dict):
        return {}
    return "?"


def metadata_edits(doc: dict) -> Iterator[Edit]:
    """Every top-level field but the layers, and every field of the construction record (nested
    objects and lists of objects too): removed, and changed."""

    def walk(path: tuple, value: Any) -> Iterator[Edit]:
        if isinstance(value, dict):
            for key in value:
                yield from walk(path + (key,), value[key])
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, v in enumerate(value):
                yield from walk(path + (i,), v)
        if path:
            where = "/".join(map(str, path))
            yield f"{where} removed", lambda d, p=path: _parent(d, p).pop(p[-1])
            yield f"{where} changed", lambda d, p=path, v=value: _parent(d, p).__setitem__(p[-1], _changed(v))
            if isinstance(value, list) and value and not isinstance(value[0], (dict, list)):
                yield (
                    f"{where}[0] changed",
                    lambda d, p=path, v=value: _parent(d, p)[p[-1]].__setitem__(0, _changed(v[0])),
                )

    for key in doc:
        if key != "layers":
            yield from walk((key,), doc[key])
    if doc.get("classes"):
        first = doc["classes"][0]
        yield "classes: first label repeated", lambda d: d["classes"].__setitem__(-1, first)
        yield "classes: first label renamed", lambda d: d["classes"].__setitem__(0, f"{first}x")


def _parent(d: Any, path: tuple) -> Any:
    for key in path[:-1]:
        d = d[key]
    return d


# ---------------------------------------------------------------------------------- the runner
def _verify(net: ReLUNetwork, data: LabeledData, mode: str):
    if mode == "exact":
        return symtrunc.verify(net, data)
    if mode == "no-invariants":
        return symtrunc.verify(net, data, invariants=False)
    return symtrunc.verify(net, data, method="certified")


def mutation_counts(net: ReLUNetwork, data: LabeledData, edits: list[Edit], mode: str) -> Counter:
    """Apply each edit to the network's file, read it and verify it; check every outcome.

    Returns the tally: ``"rejected on reading"``, ``"rejected by verify"`` (a counterexample; its
    value is checked against the reference), ``"refused input"`` (another error of the family),
    ``"kept, still interpolates"`` (checked independently), ``"metadata only, same certificate"``.
    """
    doc = network_to_dict(net)
    X = [[Fraction(str(v)) for v in row] for row in data.X.tolist()]
    baseline = _verify(net, data, mode)
    tally: Counter = Counter()
    for name, edit in edits:
        d = copy.deepcopy(doc)
        edit(d)
        if d == doc:  # not an edit after all (e.g. reversing a palindrome)
            continue
        tally["tried"] += 1
        try:
            mutated = loads_network(json.dumps(d))
        except SymtruncError:
            tally["rejected on reading"] += 1
            continue
        try:
            cert = _verify(mutated, data, mode)
        except VerificationError as e:
            c = e.counterexample
            assert c.check == "zero loss" and c.layer == len(d["layers"]), (name, str(e))
            got = integer_forward(d["layers"], [X[c.point]])[0][c.neuron]
            assert str(got) == c.value != c.expected, (name, str(e))
            tally["rejected by verify"] += 1
            continue
        except SymtruncError:
            tally["refused input"] += 1
            continue
        assert interpolates(d, data, X), f"{mode}: '{name}' verifies but does not interpolate"
        if d["layers"] == doc["layers"] and d.get("classes") == doc.get("classes"):
            # metadata only: verification never reads them, so the certificate is the same
            same = {k: v for k, v in cert.to_dict().items() if k != "extra"}
            assert same == {k: v for k, v in baseline.to_dict().items() if k != "extra"}, name
            tally["metadata only, same certificate"] += 1
        else:
            tally["kept, still interpolates"] += 1
    return tally


def _check(tally: Counter) -> None:
    assert tally["tried"] == sum(v for k, v in tally.items() if k != "tried")
    assert tally["rejected by verify"] > 0 and tally["tried"] > 0


# ------------------------------------------------------------------------------------------ tests
@pytest.fixture(scope="module")
def wine() -> tuple[LabeledData, ReLUNetwork]:
    data = symtrunc.load_wine()
    return data, symtrunc.construct(data)


def test_the_reference_is_the_definition(worked_net, worked_data, wine):
    for net, data in ((worked_net, worked_data), (wine[1], wine[0])):
        X = [[Fraction(str(v)) for v in row] for row in data.X.tolist()]
        assert integer_forward(network_to_dict(net)["layers"], X) == fraction_forward(net, data.X)
        assert interpolates(network_to_dict(net), data, X)


@pytest.mark.parametrize("mode", MODES)
def test_worked_example_every_single_edit(worked_net, worked_data, mode):
    doc = network_to_dict(worked_net)
    edits = [*number_edits(doc), *activation_edits(doc), *metadata_edits(doc)]
    tally = mutation_counts(worked_net, worked_data, edits, mode)
    _check(tally)
    # a hidden ReLU turned into the identity changes the function on the data: always rejected
    # (a ReLU on the output is harmless here: the one-hot outputs are >= 0)
    hidden = [e for e in activation_edits(doc) if not e[0].startswith(f"layer {worked_net.depth} ")]
    flips = mutation_counts(worked_net, worked_data, hidden, mode)
    assert flips["rejected by verify"] == flips["tried"] == worked_net.depth - 1


@pytest.mark.parametrize("mode", WINE_MODES)
def test_wine_activation_edits(wine, mode):
    data, net = wine
    tally = mutation_counts(net, data, list(activation_edits(network_to_dict(net))), mode)
    _check(tally)
    assert tally["rejected by verify"] == net.depth - 1  # each hidden ReLU turned into the identity


@pytest.mark.parametrize(
    ("mode", "sample"),
    [
        ("exact", None),
        pytest.param("no-invariants", 12, marks=pytest.mark.slow),
        pytest.param("certified", 12, marks=pytest.mark.slow),
    ],
)
def test_wine_metadata_edits(wine, mode, sample):
    data, net = wine
    edits = list(metadata_edits(network_to_dict(net)))
    if sample:
        edits = random.Random(14).sample(edits, sample)
    tally = mutation_counts(net, data, edits, mode)
    assert tally["tried"] == sum(v for k, v in tally.items() if k != "tried") == len(edits)
    if not sample:  # only the class list removed is a kept change: the outputs stay in the data's order
        assert tally["kept, still interpolates"] == 1 and tally["metadata only, same certificate"] > 40


@pytest.mark.parametrize("mode", WINE_MODES)
def test_wine_sample_of_number_edits(wine, mode):
    data, net = wine
    edits = list(number_edits(network_to_dict(net)))
    tally = mutation_counts(net, data, random.Random(14).sample(edits, 12), mode)
    _check(tally)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "sample"), [("exact", None), ("no-invariants", 150), ("certified", 150)])
def test_wine_every_single_edit(wine, mode, sample):
    """Every single edit in the default mode; a large sample in the two others (CI time: the
    exhaustive run takes minutes per mode, and the three modes agreed edit for edit when run in full)."""
    data, net = wine
    doc = network_to_dict(net)
    edits = [*number_edits(doc), *metadata_edits(doc)]
    if sample:
        edits = random.Random(15).sample(edits, sample)
    tally = mutation_counts(net, data, edits, mode)
    _check(tally)
