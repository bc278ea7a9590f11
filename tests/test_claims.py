"""The exact claims tester (``check_claims``) and ``symtrunc claims``."""

import json
from fractions import Fraction

import pytest
from exact_reference import assert_interpolates
from synthetic import clustered_l2_data

from symtrunc.claims.record import VERDICTS, Claim
from symtrunc.claims.testers import check_claims, claims_table, deep_claims
from symtrunc.cli.app import main
from symtrunc.errors import DataError


def _write_csv(data, path):
    rows = [",".join([str(v) for v in r] + [str(data.classes[j])]) for r, j in zip(data.X.tolist(), data.y)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def deep_q2():
    d = clustered_l2_data(2, 4, seed=11)
    return d, deep_claims(d, probes=1)


def test_deep_verdicts(deep_q2):
    _, claims = deep_q2
    by = {
        (c.claim.split(" (")[0] if c.claim.startswith("degenerate local") else c.claim, c.configuration): c
        for c in claims
    }
    assert by[("A Thm 2.3 (2.57): min C_N = 0 for L = Q", "00")].verdict == "holds"
    assert by[("A Thm 2.3: degenerate (two admissible μ both give C_N = 0)", "00")].verdict == "holds"
    assert by[("degenerate local minimum, not global", "11")].verdict == "holds"
    for s in ("01", "10"):
        c = by[("degenerate local minimum, not global", s)]
        assert c.verdict == "fails" and "descent" in c.witness and c.witness["critical"] is False
    # D1: (2.71) is the bias-free minimum, not the minimum over the whole output layer
    assert by[("(2.71) = min C_N over the output layer (with bias)", "11")].verdict == "fails"
    assert by[("(2.71) = min C_N with cumulative output bias 0 (D1 reading)", "11")].verdict == "holds"
    summary = by[("A: 2^Q - 1 non-global degenerate local minima (Thm 2.5)", "")]
    assert summary.verdict == "fails" and summary.witness["failing"] == ["01", "10"]
    assert summary.witness["not_local_minimum"] == ["01", "10"] and summary.witness["global_minimum"] == []
    assert summary.paper_value == "3" and summary.exact_value == "1"


def test_count_claim_counts_a_global_minimum_as_a_local_minimum():
    """Two points per class: the mixed s reach C_N = 0 (global, hence local, minima). The aggregate
    must agree with the per-configuration records and not call them "not a local minimum"."""
    claims = deep_claims(clustered_l2_data(2, 2, seed=0), probes=0)
    per = {c.configuration: c for c in claims if c.claim.startswith("degenerate local minimum")}
    for s in ("01", "10"):  # per-configuration: C_N = 0 exactly, a global minimum
        assert per[s].exact_value == "0" and per[s].witness["verdict"] == "global minimum"
    assert per["11"].verdict == "holds"
    count = claims[-1]
    assert count.claim == "A: 2^Q - 1 non-global degenerate local minima (Thm 2.5)"
    assert count.verdict == "fails" and count.exact_value == "1"  # one non-global local minimum (s = 11)
    w = count.witness
    assert w["global_minimum"] == ["01", "10"] and w["not_local_minimum"] == []
    assert w["local_minima"] == 3 and w["non_global_local_minima"] == 1 and w["failing"] == ["01", "10"]
    assert "not a local minimum" not in w["summary"]
    assert "global minimum (C_N = 0, so a local minimum, but not a non-global one): s = 01, 10" in w["summary"]
    # the records agree: every s the aggregate calls a global minimum has C_N = 0 in its own record
    assert all(per[s].exact_value == "0" for s in w["global_minimum"])
    assert all(per[s].witness["verdict"] == "not a local minimum" for s in w["not_local_minimum"])


def test_json_records_are_exact_strings(deep_q2):
    _, claims = deep_q2
    for c in claims:
        rec = json.loads(json.dumps(c.to_json()))
        assert set(rec) == {"claim", "configuration", "paper_value", "exact_value", "verdict", "witness"}
        assert rec["verdict"] in VERDICTS
        for key in ("paper_value", "exact_value"):
            assert rec[key] is None or isinstance(rec[key], str)


def test_m_not_q_is_not_applicable():
    d = clustered_l2_data(2, 3, seed=0, M=3)
    claims = check_claims(d, families=("deep",))
    assert len(claims) == 1 and claims[0].verdict == "not applicable"
    assert "M = Q" in claims[0].witness["summary"]


def test_unclustered_hypotheses_fail_with_reason():
    d = clustered_l2_data(2, 3, seed=0, spread=Fraction(3))
    claims = check_claims(d, families=("deep",))
    assert [c.verdict for c in claims] == ["not applicable"]
    assert "(2.14) fails" in claims[0].witness["summary"] and claims[0].witness["condition_2_14"] is False


def test_bad_c0_reported_not_crashing():
    claims = check_claims(clustered_l2_data(2, 3, seed=0), families=("deep",), c0="1/4")
    assert claims[0].verdict == "not applicable" and "1/4" in claims[0].witness["summary"]


def test_all_families_gathered():
    d = clustered_l2_data(2, 3, seed=4)
    claims = check_claims(d, probes=1)
    text = " ".join(c.claim for c in claims)
    assert "A Thm 2.3" in text and "shallow" in text and "two hidden layers" in text
    assert all(c.verdict in VERDICTS for c in claims)


def test_unknown_family_and_bad_verdict():
    with pytest.raises(DataError, match="family"):
        check_claims(clustered_l2_data(2, 2, seed=0), families=("deeep",))
    with pytest.raises(ValueError, match="verdict"):
        Claim("x", "", None, None, "maybe")


def test_table_abbreviates_long_values():
    c = Claim("v", "1", "sqrt(123456789012345678901234567)/1000000000000000", "1/3", "fails", {"summary": "w"})
    text = claims_table([c])
    assert "≈" in text and "1/3" in text and "fails" in text


def test_cli_table_and_json(tmp_path, capsys):
    path = _write_csv(clustered_l2_data(2, 3, seed=4), tmp_path / "d.csv")
    assert main(["claims", path, "--family", "deep", "--probes", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("claim") and "holds" in out and "fails" in out
    assert main(["claims", path, "--family", "deep", "--probes", "1", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["claim"].startswith("A Thm 2.3") and all(r["verdict"] in VERDICTS for r in records)


def test_cli_bad_input(tmp_path, capsys):
    assert main(["claims", str(tmp_path / "missing.csv")]) == 2
    path = _write_csv(clustered_l2_data(2, 3, seed=4), tmp_path / "d.csv")
    assert main(["claims", path, "--probes", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "probes" in err


RING = [
    "0,0,in",
    "1,0,in",
    "0,1,in",
    "-1,0,in",
    "0,-1,in",
    "5,0,out",
    "0,5,out",
    "-5,0,out",
    "0,-5,out",
    "4,4,out",
    "-4,4,out",
    "-4,-4,out",
    "4,-4,out",
]


def test_cli_concentric_data_json_format(tmp_path, capsys):
    """Concentric data (dependent class means) are read; only the non-separable family applies."""
    path = tmp_path / "ring.csv"
    path.write_text("\n".join(RING) + "\n")
    assert main(["claims", str(path), "--json", "--strict"]) == 0  # nothing fails
    captured = capsys.readouterr()
    records = json.loads(captured.out)  # progress went to stderr, stdout is pure JSON
    assert "nonseparable" in captured.err and "record(s)" in captured.err
    for rec in records:
        assert list(rec) == ["claim", "configuration", "paper_value", "exact_value", "verdict", "witness"]
        assert rec["configuration"] == "" and isinstance(rec["witness"], dict) and "summary" in rec["witness"]
    verdicts = [r["verdict"] for r in records]
    assert verdicts.count("holds") == 3 and verdicts.count("not applicable") == 3
    assert [r["exact_value"] for r in records if r["claim"].startswith("Thm 3.3")] == ["0"]
    assert all("standing assumptions" in r["witness"]["summary"] for r in records if r["verdict"] == "not applicable")


def test_cli_strict_exit_code_and_quiet(tmp_path, capsys):
    path = _write_csv(clustered_l2_data(2, 3, seed=4), tmp_path / "d.csv")
    assert main(["claims", path, "--family", "deep", "--probes", "0", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["claims", path, "--family", "deep", "--probes", "0", "-q", "--strict"]) == 1  # Thm 2.5 fails


def test_configuration_subset_and_limit(tmp_path, capsys):
    d = clustered_l2_data(2, 3, seed=4)
    only = deep_claims(d, probes=0, configurations=["11"])
    assert {c.configuration for c in only} == {"00", "11", ""}  # Thm 2.3 claims use s = 00
    count = only[-1]
    assert count.verdict == "undecided" and count.exact_value == "1 (of 1 tested)"
    mixed = deep_claims(d, probes=0, configurations=["01", "11"])
    assert mixed[-1].verdict == "fails" and mixed[-1].witness["failing"] == ["01"]
    with pytest.raises(DataError, match="bits"):
        deep_claims(d, configurations=["012"])
    with pytest.raises(DataError, match="2\\^2 = 4 configurations"):
        check_claims(d, families=("deep",), max_configurations=3)
    path = _write_csv(d, tmp_path / "d.csv")
    assert main(["claims", path, "--family", "deep", "--max-configurations", "2"]) == 2
    err = capsys.readouterr().err
    assert "--configurations" in err and "Traceback" not in err
    assert main(["claims", path, "--family", "deep", "--configurations", "1"]) == 2
    assert main(["claims", path, "--family", "deep", "--configurations", "11", "-q", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["configuration"] for r in records} == {"00", "11", ""}


def test_cli_construct_nonseparable(tmp_path, capsys):
    ring = tmp_path / "ring.csv"
    ring.write_text("\n".join(RING) + "\n")
    out = tmp_path / "net.json"
    assert main(["construct", str(ring), "--method", "nonseparable", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "inner:     class 'in'" in text and "verified:  zero loss, exactly" in text
    from symtrunc.data.labeled import LabeledData
    from symtrunc.io.json import load_network
    from symtrunc.verification.exact import verify

    net, ring_data = load_network(out), LabeledData.from_csv(ring, check=False)
    verify(net, ring_data)  # raises unless zero loss
    assert_interpolates(net, ring_data)
    assert main(["construct", str(ring), "--method", "nonseparable", "--cone", "paper", "-o", str(out)]) == 2
    three = _write_csv(clustered_l2_data(3, 2, seed=0), tmp_path / "three.csv")
    assert main(["construct", three, "--method", "nonseparable", "-o", str(out)]) == 1
    inside = tmp_path / "inside.csv"  # each class has a point in the hull of the other: no simplex
    inside.write_text("0,0,in\n4,0,in\n0,4,in\n3,3,in\n1,1,out\n10,0,out\n0,10,out\n-3,-3,out\n")
    assert main(["construct", str(inside), "--method", "nonseparable", "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "paper" in err[0] and "binary" in err[1] and "convex hull" in err[2]


def test_cli_bad_options_are_usage_errors(tmp_path, capsys):
    path = _write_csv(clustered_l2_data(2, 3, seed=4), tmp_path / "d.csv")
    for bad in (
        ["--c0", "abc"],
        ["--theta-star", "1/0"],
        ["--max-configurations", "0"],
        ["--configurations", ","],
        ["--configurations", "11,2"],
        ["--family", "deeep"],
    ):
        assert main(["claims", path, "-q", *bad]) == 2, bad
    err = capsys.readouterr().err
    assert "--c0: not a number" in err and "Traceback" not in err
    one = tmp_path / "one.csv"
    one.write_text("1,2,a\n3,4,a\n")
    assert main(["claims", str(one)]) == 2 and "at least 2 classes" in capsys.readouterr().err
