"""Tests of :mod:`symtrunc.io.json`: exact, versioned JSON for networks."""

from __future__ import annotations

import copy
import json
import re
from fractions import Fraction
from math import gcd

import flint
import pytest
from exact_reference import assert_interpolates, fractions_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symtrunc
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import FormatError, SymtruncError
from symtrunc.io.json import (
    FORMAT_NETWORK,
    FORMAT_VERSION,
    dumps_network,
    load_network,
    loads_network,
    network_from_dict,
    network_to_dict,
    save_network,
)
from symtrunc.network import ReLUNetwork

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOP_KEYS = {"format", "version", "input_dim", "output_dim", "classes", "layers", "construction"}
NUMBER = re.compile(r"^-?(0|[1-9]\d*)(/[1-9]\d*)?$")

_NOISE = [(1, 0, 0), (-1, 0, 0), (0, 1, -1), (0, -1, 1)]
CLUSTERS = LabeledData.from_arrays(
    [[v + 10 * (k == j) for k, v in enumerate(n)] for j in range(3) for n in _NOISE],
    [c for c in "abc" for _ in _NOISE],
)


# --------------------------------------------------------------------------- helpers
def assert_same_network(a: ReLUNetwork, b: ReLUNetwork) -> None:
    assert a == b
    assert a.classes == b.classes
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert la.activation == lb.activation
        assert la.W == lb.W and la.b == lb.b
        assert fractions_of(la.W) == fractions_of(lb.W)
        assert fractions_of(la.b) == fractions_of(lb.b)


def tiny() -> ReLUNetwork:
    return ReLUNetwork.from_rows(
        [([[1, "-1/2"], [0, 3]], ["1/3", -2], "relu"), ([["5/7", 1]], [0], "identity")], classes=("a",)
    )


def tiny_dict() -> dict:
    return network_to_dict(tiny())


def all_numbers(doc: dict):
    for layer in doc["layers"]:
        for row in layer["W"]:
            yield from row
        yield from layer["b"]


@pytest.fixture(scope="module")
def constructed(worked_data, worked_net) -> dict[str, ReLUNetwork]:
    return {
        "sls-rational": worked_net,
        "sls-paper": symtrunc.construct(worked_data, cone="paper"),
        "clustered": symtrunc.construct(CLUSTERS, "clustered"),
        "clustered-paper": symtrunc.construct(CLUSTERS, "clustered", cone="paper"),
        "wine": symtrunc.construct(symtrunc.load_wine()),
    }


NAMES = ["sls-rational", "sls-paper", "clustered", "clustered-paper", "wine"]


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", NAMES)
def test_round_trip_string(constructed, name):
    net = constructed[name]
    text = dumps_network(net)
    back = loads_network(text)
    assert_same_network(back, net)
    assert back.construction == net.construction
    assert back.construction.to_json() == json.loads(json.dumps(net.construction.to_json()))
    assert dumps_network(back) == text  # stable


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_file(constructed, name, tmp_path):
    net = constructed[name]
    path = tmp_path / "net.json"
    save_network(net, path)
    assert path.read_text(encoding="utf-8").endswith("\n")
    back = load_network(path)
    assert_same_network(back, net)
    assert back.construction == net.construction
    save_network(back, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", ["sls-rational", "clustered", "wine"])
def test_loaded_network_still_verifies(constructed, name, worked_data):
    data = {"sls-rational": worked_data, "clustered": CLUSTERS, "wine": symtrunc.load_wine()}[name]
    back = loads_network(dumps_network(constructed[name]))
    assert symtrunc.verify(back, data).invariants_checked
    assert_interpolates(back, data)


def test_path_as_str(tmp_path):
    path = str(tmp_path / "n.json")
    save_network(tiny(), path)
    assert_same_network(load_network(path), tiny())


@pytest.mark.parametrize("name", NAMES)
def test_layout(constructed, name):
    net = constructed[name]
    doc = json.loads(dumps_network(net))
    assert set(doc) == TOP_KEYS
    assert doc["format"] == FORMAT_NETWORK == "symtrunc.network"
    assert doc["version"] == FORMAT_VERSION == 1
    assert doc["input_dim"] == net.input_dim
    assert doc["output_dim"] == net.output_dim
    assert doc["classes"] == list(net.classes)
    assert isinstance(doc["construction"], dict)
    assert doc["construction"]["theorem"]
    assert len(doc["layers"]) == net.depth
    for k, layer in enumerate(doc["layers"]):
        assert set(layer) == {"W", "b", "activation"}
        assert layer["activation"] == ("identity" if k == net.depth - 1 else "relu")
        assert len(layer["W"]) == len(layer["b"]) == net.widths[k + 1]
        assert all(len(row) == net.widths[k] for row in layer["W"])
    for v in all_numbers(doc):
        assert isinstance(v, str)
        assert NUMBER.match(v), v
        if "/" in v:
            p, q = map(int, v.split("/"))
            assert q > 1 and gcd(p, q) == 1, v


def test_number_strings_exact():
    doc = tiny_dict()
    assert doc["layers"][0]["W"] == [["1", "-1/2"], ["0", "3"]]
    assert doc["layers"][0]["b"] == ["1/3", "-2"]
    assert doc["layers"][1]["W"] == [["5/7", "1"]]
    assert doc["layers"][1]["b"] == ["0"]
    assert doc["classes"] == ["a"]
    assert doc["construction"] == {}


def test_integer_json_numbers_accepted():
    doc = tiny_dict()
    doc["layers"][0]["W"] = [[1, "-1/2"], [0, 3]]
    doc["layers"][0]["b"] = ["1/3", -2]
    doc["layers"][1]["b"] = [0]
    back = loads_network(json.dumps(doc))
    assert_same_network(back, tiny())


def test_equivalent_spellings_accepted():
    doc = tiny_dict()
    doc["layers"][0]["W"] = [["2/2", "-2/4"], ["0/5", "+3"]]
    doc["layers"][0]["b"] = [" 1 / 3 ", "-2"]
    assert_same_network(loads_network(json.dumps(doc)), tiny())


def test_big_numbers_exact():
    big = Fraction(3**200 + 1, 2**190)
    net = ReLUNetwork.from_rows([([[big, -big]], [Fraction(-1, 10**50)], "identity")])
    back = loads_network(dumps_network(net))
    assert_same_network(back, net)
    assert fractions_of(back.layers[0].W) == [[big, -big]]


def test_integer_classes_round_trip():
    net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, 0], "identity")], classes=(1, 2))
    back = loads_network(dumps_network(net))
    assert back.classes == (1, 2)


def test_no_classes_round_trip():
    net = ReLUNetwork.from_rows([([[1, 0]], [0], "identity")])
    back = loads_network(dumps_network(net))
    assert back.classes == ()
    assert_same_network(back, net)


def test_optional_keys_may_be_missing():
    doc = tiny_dict()
    for key in ("input_dim", "output_dim", "classes", "construction"):
        del doc[key]
    del doc["layers"][0]["activation"]  # defaults to relu
    back = network_from_dict(doc)
    assert back.classes == ()
    assert back.layers[0].activation == "relu"
    assert back.layers == tiny().layers


# --------------------------------------------------------------------------- hypothesis
_fractions = st.builds(Fraction, st.integers(-50, 50), st.integers(1, 12))


@st.composite
def networks(draw):
    widths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    spec = []
    for k in range(len(widths) - 1):
        o, i = widths[k + 1], widths[k]
        W = [[draw(_fractions) for _ in range(i)] for _ in range(o)]
        b = [draw(_fractions) for _ in range(o)]
        act = "identity" if k == len(widths) - 2 else draw(st.sampled_from(["relu", "identity"]))
        spec.append((W, b, act))
    classes = ()
    if draw(st.booleans()):
        classes = tuple(
            draw(
                st.lists(
                    st.one_of(st.text("abcxyz_", min_size=1, max_size=4), st.integers(-5, 5)),
                    min_size=widths[-1],
                    max_size=widths[-1],
                    unique=True,
                )
            )
        )
    return spec, classes


@FAST
@given(networks())
def test_random_networks_round_trip(case):
    spec, classes = case
    net = ReLUNetwork.from_rows(spec, classes=classes)
    text = dumps_network(net)
    back = loads_network(text)
    assert_same_network(back, net)
    for layer, (W, b, act) in zip(back.layers, spec):
        assert fractions_of(layer.W) == W
        assert fractions_of(layer.b) == [[v] for v in b]
        assert layer.activation == act
    doc = json.loads(text)
    assert set(doc) == TOP_KEYS
    assert all(isinstance(v, str) and NUMBER.match(v) for v in all_numbers(doc))
    assert loads_network(dumps_network(back)) == net


# --------------------------------------------------------------------------- errors
def _edit(f):
    doc = tiny_dict()
    f(doc)
    return doc


BAD = {
    "ragged_W": (lambda d: d["layers"][0].__setitem__("W", [["1", "2"], ["3"]]), "ragged"),
    "bias_too_long": (lambda d: d["layers"][0]["b"].append("1"), "bias"),
    "bias_too_short": (lambda d: d["layers"][0]["b"].pop(), "bias"),
    "shapes_do_not_chain": (lambda d: d["layers"][1].__setitem__("W", [["1", "2", "3"]]), "layer 2"),
    "bad_activation": (lambda d: d["layers"][0].__setitem__("activation", "sigmoid"), "activation"),
    "classes_count": (lambda d: d.__setitem__("classes", ["a", "b"]), "classes"),
    "input_dim": (lambda d: d.__setitem__("input_dim", 3), "input_dim"),
    "output_dim": (lambda d: d.__setitem__("output_dim", 2), "output_dim"),
    "x_over_y": (lambda d: d["layers"][0]["W"][0].__setitem__(0, "x/y"), "not a number"),
    "word": (lambda d: d["layers"][1]["b"].__setitem__(0, "one"), "not a number"),
    "zero_denominator": (lambda d: d["layers"][0]["b"].__setitem__(0, "1/0"), "zero denominator"),
    "nan_string": (lambda d: d["layers"][0]["b"].__setitem__(0, "NaN"), "finite"),
    "null_entry": (lambda d: d["layers"][0]["W"][1].__setitem__(1, None), "not a number"),
    "boolean_entry": (lambda d: d["layers"][0]["W"][1].__setitem__(1, True), "boolean"),
    "missing_layers": (lambda d: d.pop("layers"), "layers"),
    "empty_layers": (lambda d: d.__setitem__("layers", []), "layers"),
    "layers_not_list": (lambda d: d.__setitem__("layers", {"W": []}), "layers"),
    "layer_not_object": (lambda d: d["layers"].__setitem__(0, [["1"]]), "layer 1"),
    "layer_without_W": (lambda d: d["layers"][1].pop("W"), "layer 2"),
    "layer_without_b": (lambda d: d["layers"][0].pop("b"), "layer 1"),
    "W_not_nested": (lambda d: d["layers"][0].__setitem__("W", 5), "layer 1"),
    "W_empty": (lambda d: d["layers"][0].__setitem__("W", []), "layer 1"),
    "b_number": (lambda d: d["layers"][0].__setitem__("b", 5), "layer 1"),
    "wrong_format": (lambda d: d.__setitem__("format", "symtrunc.certificate"), "not a symtrunc network"),
    "missing_format": (lambda d: d.pop("format"), "not a symtrunc network"),
    "version_99": (lambda d: d.__setitem__("version", 99), "version 99"),
    "version_string": (lambda d: d.__setitem__("version", "1"), "version"),
    "missing_version": (lambda d: d.pop("version"), "version"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_format_errors(case):
    edit, phrase = BAD[case]
    doc = _edit(edit)
    with pytest.raises(FormatError) as info:
        loads_network(json.dumps(doc))
    msg = str(info.value)
    assert phrase in msg
    assert "\n" not in msg
    with pytest.raises(FormatError):
        network_from_dict(copy.deepcopy(doc))


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"symtrunc.network"', "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"format": "other"}', "format is 'other'"),
    ],
)
def test_format_errors_text(text, phrase):
    with pytest.raises(FormatError, match=re.escape(phrase)):
        loads_network(text)


def test_format_error_is_value_error():
    with pytest.raises(ValueError):
        loads_network("{}")
    assert issubclass(FormatError, SymtruncError)


def test_load_missing_file(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        load_network(tmp_path / "nope.json")


def test_load_directory(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        load_network(tmp_path)


def test_load_not_utf8(tmp_path):
    p = tmp_path / "bin.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError):
        load_network(p)


def test_load_not_json_file(tmp_path):
    p = tmp_path / "n.json"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(FormatError, match="not valid JSON"):
        load_network(p)


# --------------------------------------------------------------------------- regressions
# network_from_dict validates the types of "classes", "construction", "W" and "b".
def _two_outputs() -> dict:
    net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, 0], "identity")], classes=("a", "b"))
    return network_to_dict(net)


def _with(doc: dict, f) -> dict:
    f(doc)
    return doc


BAD_TYPES = {
    # tuple(5): TypeError escapes (CLI: traceback)
    "classes_number": lambda: _with(tiny_dict(), lambda d: d.__setitem__("classes", 5)),
    # a string is split into characters: "ab" becomes the classes ('a', 'b')
    "classes_string": lambda: _with(_two_outputs(), lambda d: d.__setitem__("classes", "ab")),
    # a list is stored as the metadata; .get() later raises AttributeError (info, verify)
    "construction_list": lambda: _with(tiny_dict(), lambda d: d.__setitem__("construction", [1])),
    # a string bias is iterated character by character: "12" -> [1, 2]
    "b_string": lambda: _with(tiny_dict(), lambda d: d["layers"][0].__setitem__("b", "12")),
    # string rows are iterated character by character: ["10", "03"] -> [[1, 0], [0, 3]]
    "W_string_rows": lambda: _with(tiny_dict(), lambda d: d["layers"][0].__setitem__("W", ["10", "03"])),
}


@pytest.mark.parametrize("case", sorted(BAD_TYPES))
def test_regression_unchecked_types(case):
    with pytest.raises(FormatError):
        loads_network(json.dumps(BAD_TYPES[case]()))


def test_regression_json_float_is_read_as_exact_decimal():
    text = json.dumps(tiny_dict()).replace('"5/7"', "0.1")
    net = loads_network(text)
    assert net.layers[1].W[0, 0] == flint.fmpq(1, 10)
