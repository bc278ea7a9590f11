"""The exact claims tester (``check_claims``) and ``symtrunc claims``."""

import json
from fractions import Fraction

import pytest
from l2_data import clustered_l2_data

from symtrunc.cli import main
from symtrunc.errors import DataError
from symtrunc.verify.claims import VERDICTS, Claim, check_claims, claims_table, deep_claims


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
    by = {(c.claim.split(" (")[0] if c.claim.startswith("degenerate local") else c.claim, c.configuration): c
          for c in claims}
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
    assert summary.paper_value == "3" and summary.exact_value == "1"


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
    assert [c.verdict for c in claims] == ["fails"]
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
